"""thesis.robust: attacks, regularizers, translation flips, tiny training runs, CLI and bad input."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import wgm_kernels
from thesis.robust.__main__ import main
from thesis.robust.attacks import fgsm, ifgsm
from thesis.robust.metrics import count_flips, translation_flips
from thesis.robust.models import SoftplusCNN
from thesis.robust.regularizers import regularized_loss
from thesis.robust.training import RobustConfig, load_classifier, train_classifier


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model_and_batch():
    torch.manual_seed(0)
    m = SoftplusCNN(1, width=4, size=12).eval()
    x = torch.rand(16, 1, 12, 12)
    y = torch.randint(10, (16,))
    return m, x, y


@pytest.mark.parametrize("eps", [8 / 255, 25 / 255])
def test_attacks_increase_loss_and_respect_ball(model_and_batch, eps):
    m, x, y = model_and_batch
    clean = F.cross_entropy(m(x), y).item()
    for xa in (fgsm(m, x, y, eps), ifgsm(m, x, y, eps, alpha=2 / 255, steps=5)):
        assert float((xa - x).abs().max()) <= eps + 1e-6
        assert float(xa.min()) >= 0.0 and float(xa.max()) <= 1.0
        assert F.cross_entropy(m(xa), y).item() > clean
    # I-FGSM at least as strong as FGSM here (several steps of the same sign ascent)
    assert F.cross_entropy(m(ifgsm(m, x, y, eps, alpha=eps / 4, steps=8)), y).item() >= \
        F.cross_entropy(m(fgsm(m, x, y, eps)), y).item() - 1e-4
    assert torch.equal(fgsm(m, x, y, 0.0), x)


def test_attack_bad_input(model_and_batch):
    m, x, y = model_and_batch
    with pytest.raises(ValueError, match="eps"):
        fgsm(m, x, y, -0.1)
    with pytest.raises(ValueError, match="eps"):
        ifgsm(m, x, y, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        ifgsm(m, x, y, 0.1, alpha=0.0)
    with pytest.raises(ValueError, match="steps"):
        ifgsm(m, x, y, 0.1, steps=0)


def test_regularizers_values_and_gradients(model_and_batch):
    m, x, y = model_and_batch
    ce_ref = F.cross_entropy(m(x), y)
    tot, ce, r = regularized_loss(m, x, y, "none")
    assert tot.item() == pytest.approx(ce_ref.item()) and r.item() == 0.0
    # Euclidean: η² mean ‖∇_x ℓ_i‖² with per-example gradients computed one by one
    per = []
    for i in range(len(x)):
        xi = x[i:i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(m(xi), y[i:i + 1]), xi)
        per.append(g)
    g_all = torch.cat(per)
    tot, ce, r = regularized_loss(m, x, y, "l2", 2.0)
    assert r.item() == pytest.approx(2.0 * g_all.flatten(1).pow(2).sum(1).mean().item(), rel=1e-4)
    # Wasserstein: the package operator on the same gradients
    tot, ce, r = regularized_loss(m, x, y, "wgm", 3.0, radius=2)
    ref = 3.0 * wgm_kernels.wasserstein_grad_norm_sq(x, g_all, radius=2).mean()
    assert r.item() == pytest.approx(ref.item(), rel=1e-4)
    assert tot.item() == pytest.approx(ce_ref.item() + r.item(), rel=1e-5)
    # penalty gradient reaches the model's weights
    m.zero_grad()
    r.backward()
    assert float(m.net[0].weight.grad.norm()) > 0
    tot, ce, r = regularized_loss(m, x[:4], y[:4], "wgm_tikhonov", 1.0, radius=1)
    ref = wgm_kernels.wasserstein_tikhonov(m, x[:4], y[:4], "ce", radius=1)
    assert r.item() == pytest.approx(ref.item(), rel=1e-5) and r.item() > 0


def test_regularizer_bad_input(model_and_batch):
    m, x, y = model_and_batch
    with pytest.raises(ValueError, match="reg"):
        regularized_loss(m, x, y, "l1", 1.0)
    with pytest.raises(ValueError, match="eta2"):
        regularized_loss(m, x, y, "l2", -1.0)
    with pytest.raises(ValueError, match="metric options"):
        regularized_loss(m, x, y, "l2", 1.0, radius=2)
    for bad in (dict(reg="l1"), dict(eta2=-1.0), dict(radius=0), dict(epochs=0), dict(n_train=4500)):
        with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
            RobustConfig(**bad).validate()


def test_count_and_translation_flips():
    np.testing.assert_array_equal(count_flips([[1, 1, 2, 2, 1], [3, 3, 3, 3, 3], [0, 1, 0, 1, 0]]), [2, 0, 4])

    class Quadrant(torch.nn.Module):
        """Class 1 when the image's mass centre is in the left half, else 0 (a 2-logit classifier)."""

        def forward(self, z):
            w = torch.arange(z.shape[-1], dtype=z.dtype)
            mass = z.sum((1, 2)).clamp_min(1e-9)
            cx = (z.sum((1, 2)) * w).sum(-1) / mass.sum(-1)
            left = (cx < (z.shape[-1] - 1) / 2).to(z.dtype)
            return torch.stack([1 - left, left], 1)

    X = torch.zeros(2, 1, 8, 8)
    X[0, 0, 3:5, 1] = 1.0
    X[1, 0, 3:5, 6] = 1.0
    flips = translation_flips(Quadrant(), X, "horizontal", max_shift=8)
    # an empty image has cx = 0 -> class 1. Image 0 (column 1 + s), s = -8..8: empty (1) for s <= -2, left (1)
    # for -1..2, right (0) for 3..6, empty (1) for s >= 7 -> 2 flips; image 1 (column 6 + s) likewise 2.
    assert flips.tolist() == [2, 2]
    assert translation_flips(Quadrant(), X, "vertical", max_shift=3).tolist() == [0, 0]
    with pytest.raises(ValueError, match="max_shift"):
        translation_flips(Quadrant(), X, "vertical", max_shift=0)


def test_tiny_training_deterministic_and_regularizers_differ(tmp_path):
    base = dict(n_train=64, n_test=32, width=4, epochs=1, batch=32, seed=0)
    w = {}
    for reg, eta2 in (("none", 0.0), ("l2", 1.0), ("wgm", 1.0)):
        res = train_classifier(RobustConfig(reg=reg, eta2=eta2, **base), str(tmp_path / reg), progress=False)
        h = res["history"]
        assert np.isfinite(h["loss"]).all() and (h["reg"][0] > 0) == (reg != "none")
        w[reg] = torch.cat([p.detach().flatten() for p in res["model"].parameters()])
    assert float((w["l2"] - w["wgm"]).abs().max()) > 1e-6 and float((w["none"] - w["wgm"]).abs().max()) > 1e-6
    again = train_classifier(RobustConfig(reg="wgm", eta2=1.0, **base), None, progress=False)
    assert torch.equal(torch.cat([p.detach().flatten() for p in again["model"].parameters()]), w["wgm"])
    cfg, model, _ = load_classifier(str(tmp_path / "wgm" / "checkpoint.pt"))
    assert cfg.reg == "wgm" and torch.equal(torch.cat([p.flatten() for p in model.parameters()]), w["wgm"])


def test_cli_train_evaluate(tmp_path):
    main(["train", "--quick", "--reg", "wgm", "--eta2", "0.01", "--epochs", "1", "--n-train", "128", "--n-test", "16",
          "--out-root", str(tmp_path)])
    runs = sorted(str(p) for p in tmp_path.glob("quick_*"))
    assert len(runs) == 1
    main(["evaluate", *runs, "--out", str(tmp_path / "ev"), "--n-flip", "4", "--max-shift", "2"])
    rows = json.loads((tmp_path / "ev" / "table.json").read_text())
    r = rows[0]
    assert r["reg"] == "wgm" and 0 <= r["natural"] <= r["fgsm_25"] + 1e-9 <= 100 + 1e-9
    assert 0 <= r["flips_horizontal"] <= 4
    assert (tmp_path / "ev" / "robustness.png").exists()
    with pytest.raises(ValueError, match="checkpoint"):
        main(["evaluate", str(tmp_path / "ev")])
    with pytest.raises(SystemExit):
        main(["train", "--reg", "l1"])
    with pytest.raises(SystemExit):
        main(["train", "--reg", "l2", "--eta2", "-1"])


def test_divergence_is_flagged_not_silent():
    cfg = RobustConfig(reg="l2", eta2=1e12, n_train=64, n_test=16, width=2, epochs=2, batch=32, lr=10.0)
    h = train_classifier(cfg, None, progress=False)["history"]
    assert h["diverged"] is True and len(h["loss"]) < 2

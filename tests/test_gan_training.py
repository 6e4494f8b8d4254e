"""Tiny end-to-end WGAN-GP / WWGAN runs: finite losses, active penalty, different critics, bad input, CLI."""
import json

import pytest
import torch

from thesis.gan.__main__ import main
from thesis.gan.models import Critic, Generator
from thesis.gan.penalties import gradient_penalty
from thesis.gan.training import GANConfig, load_checkpoint, train_gan



pytestmark = pytest.mark.usefixtures("one_thread")


TINY = dict(dim=4, iters=2, n_critic=2, batch=8, n_test=100)


def test_models_shapes_and_no_critic_batchnorm():
    G, D = Generator(3, 32, dim=4, nz=16), Critic(3, 32, dim=4)
    with torch.no_grad():
        x = G(torch.randn(5, 16))
    assert x.shape == (5, 3, 32, 32) and float(x.abs().max()) <= 1.0
    assert D(x).shape == (5,)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in D.modules())
    with pytest.raises(ValueError, match="size"):
        Critic(1, 28)
    with pytest.raises(ValueError, match="channels"):
        Generator(0)


@pytest.mark.parametrize("penalty", ["l2", "wgm"])
def test_penalty_gradient_reaches_critic(penalty):
    torch.manual_seed(0)
    D = Critic(1, 16, dim=4)
    real, fake = torch.rand(6, 1, 16, 16) * 2 - 1, torch.rand(6, 1, 16, 16) * 2 - 1
    kw = {} if penalty == "l2" else dict(stencil="diamond", radius=2, alpha=1.0)
    gp = gradient_penalty(penalty, D, real, fake, lam=10.0, **kw)
    assert torch.isfinite(gp) and gp.item() > 0
    gp.backward()
    grads = {n: p.grad for n, p in D.named_parameters()}
    # every weight gets a penalty gradient (biases of the last layer cannot: ∇_x D does not depend on them)
    assert all(float(g.norm()) > 1e-8 for n, g in grads.items() if n.endswith("weight"))
    # lam scales the penalty linearly (same interpolates under the same seed)
    torch.manual_seed(1)
    a = gradient_penalty(penalty, D, real, fake, lam=1.0, **kw)
    torch.manual_seed(1)
    b = gradient_penalty(penalty, D, real, fake, lam=3.0, **kw)
    assert b.item() == pytest.approx(3 * a.item(), rel=1e-5)


def test_wgm_penalty_is_the_package_operator():
    import wgm_kernels

    torch.manual_seed(0)
    D = Critic(1, 16, dim=4)
    real, fake = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(4, 1, 16, 16) * 2 - 1
    torch.manual_seed(3)
    ours = gradient_penalty("wgm", D, real, fake, lam=2.0, radius=1)
    torch.manual_seed(3)
    ref = wgm_kernels.wgm_gradient_penalty(D, real, fake, lam=2.0, radius=1, value_range=(-1.0, 1.0))
    assert ours.item() == pytest.approx(ref.item(), rel=1e-6)


def test_penalty_bad_input():
    D = Critic(1, 16, dim=4)
    x = torch.zeros(2, 1, 16, 16)
    with pytest.raises(ValueError, match="penalty"):
        gradient_penalty("l1", D, x, x)
    with pytest.raises(ValueError, match="lam"):
        gradient_penalty("l2", D, x, x, lam=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty("l2", D, x, x[:1])
    with pytest.raises(ValueError, match="metric options"):
        gradient_penalty("l2", D, x, x, radius=2)
    for bad in (dict(penalty="l1"), dict(lam=-1.0), dict(iters=0), dict(radius=0), dict(alpha=-1.0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            GANConfig(**{**TINY, **bad}).validate()


def test_tiny_runs_finite_deterministic_and_penalties_differ(tmp_path):
    runs = {p: train_gan(GANConfig(penalty=p, seed=0, **TINY), str(tmp_path / p), progress=False)
            for p in ("l2", "wgm")}
    for r in runs.values():
        h = r["history"]
        assert all(torch.isfinite(torch.tensor(h[k])).all() for k in ("d_loss", "wdist", "gp", "g_loss"))
        assert min(h["gp"]) > 0 and len(h["critic_step_s"]) == TINY["iters"] * TINY["n_critic"]
        assert h["seconds_per_epoch"] > 0
    # same seed, same init and batches: only the penalty differs, so the critics differ
    w_l2 = torch.cat([p.detach().flatten() for p in runs["l2"]["D"].parameters()])
    w_w = torch.cat([p.detach().flatten() for p in runs["wgm"]["D"].parameters()])
    assert float((w_l2 - w_w).abs().max()) > 1e-5
    # deterministic under the seed
    again = train_gan(GANConfig(penalty="wgm", seed=0, **TINY), None, progress=False)
    w_again = torch.cat([p.detach().flatten() for p in again["D"].parameters()])
    assert torch.equal(w_w, w_again)
    cfg, G, D, hist = load_checkpoint(str(tmp_path / "wgm" / "checkpoint.pt"))
    assert cfg.penalty == "wgm" and torch.equal(torch.cat([p.detach().flatten() for p in D.parameters()]), w_w)


def test_cli_train_evaluate(tmp_path, capsys):
    for p in ("l2", "wgm"):
        main(["train", "--penalty", p, "--quick", "--iters", "1", "--dim", "4", "--n-critic", "1",
              "--batch", "8", "--out", str(tmp_path / p)])
    main(["evaluate", str(tmp_path / "l2"), str(tmp_path / "wgm"), "--out", str(tmp_path / "ev"),
          "--n-eval", "6", "--fd-epochs", "1", "--fd-train", "64"])
    rows = json.loads((tmp_path / "ev" / "table.json").read_text())
    assert [r["penalty"] for r in rows] == ["l2", "wgm"]
    for r in rows:
        assert r["vertical_ntv"] >= 1.0 or r["vertical_ntv"] == 0.0
        assert r["classifier_fd"] >= 0
    for f in ("translation_curves.png", "noise_histograms.png", "table.md"):
        assert (tmp_path / "ev" / f).exists()
    with pytest.raises(ValueError, match="checkpoint"):
        main(["evaluate", str(tmp_path / "ev")])
    with pytest.raises(SystemExit):
        main(["train", "--penalty", "l1", "--quick"])


def test_interleaved_timing():
    from thesis.gan.timing import critic_step_times

    r = critic_step_times(size=16, dim=2, batch=4, steps=2)
    assert r["l2"] > 0 and r["wgm"] > 0 and r["ratio"] == pytest.approx(r["wgm"] / r["l2"])
    with pytest.raises(ValueError, match="steps"):
        critic_step_times(steps=0)

"""The WN network (3.2) with initialisation (3.6): shapes, equivalences, weight_norm agreement, (3.5), bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from thesis.data import unit_sphere_data
from thesis.weightnorm import (ReLUTwoLayer, TorchWNTwin, WNTwoLayer, gd_step, infinite_width_grams,
                               linear_rate, square_loss, train_gd)

D = 50


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.tensor(unit_sphere_data(10, D, seed=0))
    y = torch.tensor(np.random.default_rng(1).choice([-1.0, 1.0], 10))
    return X, y


def test_initialisation_3_6():
    beta = 0.37
    net = WNTwoLayer(D, 4000, beta, seed=3)
    assert net.v.shape == (4000, D) and net.g.shape == (4000,) and net.c.shape == (4000,)
    assert set(net.c.unique().tolist()) == {-1.0, 1.0}
    assert torch.allclose(net.g, net.v.norm(dim=1) / beta, rtol=1e-14)
    # v_k ~ N(0, beta^2 I): empirical variance within 2% (200k samples)
    assert abs(net.v.var().item() / beta ** 2 - 1) < 0.02
    # effective weights w_k = g_k v_k/||v_k|| ~ N(0, I) independent of beta
    assert abs(net.weights().var().item() - 1) < 0.02
    assert abs(net.c.mean().item()) < 0.05
    assert set(n for n, _ in net.named_parameters()) == {"v", "g"}


def test_function_independent_of_beta_and_equals_unnormalised(data):
    X, _ = data
    fs = [WNTwoLayer(D, 300, b, seed=5)(X) for b in (0.01, 1.0, 100.0)]
    assert (fs[0] - fs[1]).abs().max().item() < 1e-12 and (fs[2] - fs[1]).abs().max().item() < 1e-12
    f_relu = ReLUTwoLayer(D, 300, seed=5)(X)
    assert (f_relu - fs[1]).abs().max().item() < 1e-12
    wn = WNTwoLayer(D, 300, 0.2, seed=5)
    assert (wn.to_unnormalized()(X) - fs[1]).abs().max().item() < 1e-12
    # hand-written forward of (3.2)
    W = wn.v * (wn.g / wn.v.norm(dim=1))[:, None]
    f_manual = (torch.clamp(X @ W.T, min=0) * wn.c).sum(1) / 300 ** 0.5
    assert (f_manual - fs[1]).abs().max().item() < 1e-12
    assert fs[1].abs().max().item() > 0.05


@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_trajectory_matches_torch_weight_norm(data, beta):
    X, y = data
    net = WNTwoLayer(D, 200, beta, seed=2)
    twin = TorchWNTwin(net)
    assert (twin(X) - net(X)).abs().max().item() < 1e-13
    eta = 0.5 * beta ** 2 if beta < 1 else 0.5
    for _ in range(25):
        l1 = gd_step(net, X, y, eta)
        l2 = gd_step(twin, X, y, eta)
        assert abs(l1 - l2) <= 1e-10 * max(l1, 1e-12)
    assert (twin(X) - net(X)).abs().max().item() < 1e-10
    assert (twin.v - net.v).abs().max().item() < 1e-10 * beta
    assert (twin.g.flatten() - net.g).abs().max().item() < 1e-10
    assert l1 < 0.9 * square_loss(WNTwoLayer(D, 200, beta, seed=2)(X), y).item()  # it did train


def test_norm_identity_3_5(data):
    """||v_k(s+1)||^2 = ||v_k(s)||^2 + eta^2 ||dL/dv_k||^2: the v-gradient is orthogonal to v."""
    X, y = data
    net = WNTwoLayer(D, 300, 0.8, seed=1)
    loss = square_loss(net(X), y)
    gv, = torch.autograd.grad(loss, [net.v])
    assert (gv * net.v).sum(1).abs().max().item() < 1e-12 * net.v.norm().item()
    before = net.v.detach().norm(dim=1) ** 2
    eta = 0.7
    gd_step(net, X, y, eta)
    after = net.v.detach().norm(dim=1) ** 2
    assert torch.allclose(after, before + eta ** 2 * (gv ** 2).sum(1), rtol=1e-12, atol=0)
    assert (after - before).max().item() > 1e-6                # it grows


def test_train_gd_and_linear_rate(data):
    X, y = data
    net = WNTwoLayer(D, 500, 1.0, seed=0)
    eta = 1.0 / torch.linalg.eigvalsh(net.gram_matrices(X)["Lambda"])[-1].item()
    h = train_gd(net, X, y, eta, 200, record_every=50, kernel_every=100, progress=False)
    assert h.residual_sq.shape == (201,) and not h.diverged
    assert h.residual_sq[-1] < 1e-3 * h.residual_sq[0]
    assert len(h.v_norms) == 5 and len(h.lambda_min) == 3 and min(h.lambda_min) > 0
    r = linear_rate(h.residual_sq)
    assert 0 < r["mean"] < 0.97 and r["worst"] < 1.0
    assert linear_rate(np.array([1.0, 0.5, 0.25]))["mean"] == pytest.approx(0.5)
    assert linear_rate(np.array([1.0, 0.5, 1e-30, 1e-31]))["mean"] == pytest.approx((1e-30) ** 0.5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(d=0, m=10, beta=1.0), "d must"), (dict(d=5, m=0, beta=1.0), "m must"),
    (dict(d=5, m=10, beta=0.0), "beta"), (dict(d=5, m=10, beta=-1.0), "beta"),
    (dict(d=5, m=10, beta=float("nan")), "beta"), (dict(d=2.5, m=10, beta=1.0), "d must"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WNTwoLayer(**kwargs)


def test_bad_data(data):
    X, y = data
    net = WNTwoLayer(D, 20, 1.0)
    with pytest.raises(ValueError, match="width d=50"):
        net(X[:, :10])
    with pytest.raises(ValueError, match="2-D"):
        net(X[0])
    Xz = X.clone()
    Xz[2] = 0
    with pytest.raises(ValueError, match="zero-norm rows"):
        net.gram_matrices(Xz)
    with pytest.raises(ValueError, match="zero-norm rows"):
        infinite_width_grams(Xz, samples=10)
    with pytest.raises(ValueError, match="zero-norm rows"):
        train_gd(net, Xz, y, 0.1, 2, progress=False)
    Xn = X.clone()
    Xn[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        net.gram_matrices(Xn)
    with pytest.raises(ValueError, match="y must"):
        train_gd(net, X, y[:3], 0.1, 2, progress=False)
    with pytest.raises(ValueError, match="eta"):
        train_gd(net, X, y, -0.1, 2, progress=False)
    with pytest.raises(ValueError, match="steps"):
        train_gd(net, X, y, 0.1, 0, progress=False)
    with pytest.raises(ValueError, match="samples"):
        infinite_width_grams(X, samples=0)

"""Gram matrices of thesis Chapter 3: Proposition 7, Observation 1, the flow identity (3.12)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import functional_call, jacrev

from thesis.data import unit_sphere_data
from thesis.weightnorm import ReLUTwoLayer, WNTwoLayer, gd_step, relu_ntk, wn_gram_matrices

D, M, N = 50, 400, 12


@pytest.fixture(scope="module")
def X() -> torch.Tensor:
    return torch.tensor(unit_sphere_data(N, D, seed=3))


@pytest.fixture(scope="module")
def y() -> torch.Tensor:
    return torch.tensor(np.random.default_rng(4).choice([-1.0, 1.0], N))


def _jacobian_kernel(net: torch.nn.Module, X: torch.Tensor, names: list[str]) -> torch.Tensor:
    """J J^T over the named parameters, J from autograd (n, n)."""
    params = {k: getattr(net, k).detach().clone() for k in names}
    J = jacrev(lambda p: functional_call(net, p, (X,)))(params)
    return sum(J[k].reshape(X.shape[0], -1) @ J[k].reshape(X.shape[0], -1).T for k in names)


@pytest.mark.parametrize("beta", [0.05, 0.3, 1.0, 4.0, 30.0])
def test_proposition7_V_plus_G_equals_H(X, beta):
    K = WNTwoLayer(D, M, beta, seed=1).gram_matrices(X)
    err = (K["V"] + K["G"] - K["H"]).abs().max().item()
    assert err < 1e-10
    assert K["H"].abs().max().item() > 0.1          # not trivially zero


def test_observation1_beta_independence(X):
    Ks = [WNTwoLayer(D, M, b, seed=7).gram_matrices(X) for b in (0.01, 0.5, 1.0, 20.0)]
    for K in Ks[1:]:
        assert (K["V"] - Ks[0]["V"]).abs().max().item() < 1e-12
        assert (K["G"] - Ks[0]["G"]).abs().max().item() < 1e-12
    # Lambda = V/beta^2 + G does depend on beta
    assert (Ks[0]["Lambda"] - Ks[3]["Lambda"]).abs().max().item() > 1.0


def test_lambda_at_beta_one_is_H(X):
    K = WNTwoLayer(D, M, 1.0, seed=2).gram_matrices(X)
    assert (K["Lambda"] - K["H"]).abs().max().item() < 1e-10


@pytest.mark.parametrize("beta", [0.2, 3.0])
def test_lambda_equals_autograd_ntk_after_training(X, y, beta):
    """Lambda = J J^T over (v, g) also away from initialisation (non-uniform g_k/||v_k||)."""
    net = WNTwoLayer(D, 60, beta, seed=5)
    for _ in range(5):
        gd_step(net, X, y, 0.5 * beta ** 2 if beta < 1 else 0.5)
    s = (net.g / net.v.norm(dim=1)).detach() ** 2
    assert (s.max() - s.min()).item() > 1e-6 * s.max().item()   # exercises the general (4-GEMM) path
    K = net.gram_matrices(X)
    J = _jacobian_kernel(net, X, ["v", "g"])
    assert (K["Lambda"] - J).abs().max().item() < 1e-10 * J.abs().max().item()
    Jg = _jacobian_kernel(net, X, ["g"])
    assert (K["G"] - Jg).abs().max().item() < 1e-12


def test_relu_ntk_matches_autograd_and_wn(X):
    net = ReLUTwoLayer(D, 80, seed=9)
    H = net.gram_matrices(X)["H"]
    J = _jacobian_kernel(net, X, ["W"])
    assert (H - J).abs().max().item() < 1e-12
    wn = WNTwoLayer(D, 80, 0.7, seed=9)
    assert (wn.gram_matrices(X)["H"] - H).abs().max().item() < 1e-12


def test_flow_identity_one_tiny_step(X, y):
    """(3.12): f(s+1) - f(s) = -eta Lambda (f - y) + O(eta^2) for one small GD step."""
    net = WNTwoLayer(D, M, 0.5, seed=11)
    f0 = net(X).detach()
    Lam = net.gram_matrices(X)["Lambda"]
    pred = -Lam @ (f0 - y)
    errs = []
    for eta in (1e-4, 1e-5):
        net2 = WNTwoLayer(D, M, 0.5, seed=11)
        gd_step(net2, X, y, eta)
        df = (net2(X).detach() - f0) / eta
        errs.append((df - pred).norm().item() / pred.norm().item())
    assert errs[0] < 1e-3 and errs[1] < 1e-4
    assert errs[1] < 0.2 * errs[0]                # first-order in eta


def test_blocking_does_not_change_result(X):
    net = WNTwoLayer(D, 333, 2.0, seed=4)
    with torch.no_grad():
        net.g.mul_(torch.linspace(0.5, 1.5, 333, dtype=torch.float64))
    a = net.gram_matrices(X, block=None)
    b = net.gram_matrices(X, block=50)
    for k in a:
        assert (a[k] - b[k]).abs().max().item() < 1e-12
    assert (relu_ntk(X, net.weights().detach(), block=7) - a["H"]).abs().max().item() < 1e-12


def test_gram_matrices_are_psd(X):
    K = WNTwoLayer(D, M, 1.0, seed=0).gram_matrices(X)
    for k in ("V", "G", "H", "Lambda"):
        assert torch.allclose(K[k], K[k].T, atol=1e-14)
        assert torch.linalg.eigvalsh(K[k])[0].item() > -1e-12


def test_float32_path(X):
    net = WNTwoLayer(D, M, 0.3, seed=1, dtype=torch.float32)
    K = net.gram_matrices(X.float())
    assert K["V"].dtype == torch.float32
    assert (K["V"] + K["G"] - K["H"]).abs().max().item() < 1e-5


def test_gram_bad_input(X):
    v = torch.randn(10, D, dtype=torch.float64)
    g = torch.ones(10, dtype=torch.float64)
    with pytest.raises(ValueError, match="beta"):
        wn_gram_matrices(X, v, g, 0.0)
    with pytest.raises(ValueError, match="g must"):
        wn_gram_matrices(X, v, g[:5], 1.0)
    v0 = v.clone()
    v0[3] = 0
    with pytest.raises(ValueError, match="v has zero-norm"):
        wn_gram_matrices(X, v0, g, 1.0)
    with pytest.raises(ValueError, match="block"):
        wn_gram_matrices(X, v, g, 1.0, block=0)

"""ridge_loo forward: brute-force refits (eq. 2.11), the naive closed form (eqs. 2.6, 2.12), lam grids,
batching, dtypes and the dual's cancellation-free 1 - h_i."""
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.ridge.reference import brute_force_loo, naive_ridge_loo, random_problem

SHAPES = [(24, 7), (7, 24)]  # n > m and n < m


@pytest.mark.parametrize("n, m", SHAPES)
@pytest.mark.parametrize("solver", ["primal", "dual", "auto"])
@pytest.mark.parametrize("lam", [0.05, 3.0])
def test_loo_matches_brute_force_refits(n, m, solver, lam):
    Z, Y, a = random_problem(n, m, seed=n + m)
    out = W.ridge_loo(Z, Y, lam, a, solver=solver)
    ref = brute_force_loo(Z, Y, lam, a)
    torch.testing.assert_close(out.loo, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n, m", SHAPES)
@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_lam_grid_matches_brute_force_and_scalar_solves(n, m, solver):
    Z, Y, a = random_problem(n, m, seed=3)
    lams = torch.tensor([0.01, 0.3, 10.0], dtype=torch.float64)
    out = W.ridge_loo(Z, Y, lams, a, solver=solver)
    assert out.loo.shape == (3, n, 3) and out.coef.shape == (3, m, 3) and out.leverage.shape == (3, n)
    for i, lam in enumerate(lams.tolist()):
        torch.testing.assert_close(out.loo[i], brute_force_loo(Z, Y, lam, a), rtol=1e-10, atol=1e-10)
        one = W.ridge_loo(Z, Y, lam, a, solver=solver)
        for field in ("coef", "fitted", "loo", "leverage"):
            torch.testing.assert_close(getattr(out, field)[i], getattr(one, field), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n, m", SHAPES)
@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_fields_match_naive_formulas(n, m, solver):
    Z, Y, a = random_problem(n, m, seed=5)
    out = W.ridge_loo(Z, Y, 0.7, a, solver=solver)
    coef, fitted, loo, h = naive_ridge_loo(Z, Y, 0.7, a)
    for got, ref in zip(out, (coef, fitted, loo, h)):
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)
    assert float(out.leverage[a == 0].abs().max()) < 1e-12


def test_zero_weight_sample_gets_the_others_prediction():
    Z, Y, a = random_problem(15, 4, zeros=0)
    a[0] = 0.0
    out = W.ridge_loo(Z, Y, 0.5, a)
    coef_others, *_ = naive_ridge_loo(Z[1:], Y[1:], 0.5, a[1:])
    torch.testing.assert_close(out.loo[0], Z[0] @ coef_others, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out.loo[0], out.fitted[0], rtol=1e-12, atol=1e-12)


def test_batch_dims_broadcast_and_lam_dim_follows_them():
    Z, Y, a = random_problem(12, 5)
    Zb = torch.stack([Z, 2 * Z])  # (2, n, m)
    ab = torch.stack([a, a.flip(0), a.roll(3)])[:, None]  # (3, 1, n)
    lams = torch.tensor([0.1, 1.0], dtype=torch.float64)
    out = W.ridge_loo(Zb, Y, lams, ab)
    assert out.loo.shape == (3, 2, 2, 12, 3) and out.coef.shape == (3, 2, 2, 5, 3)
    assert out.leverage.shape == (3, 2, 2, 12)
    for i in range(3):
        for j in range(2):
            ref = W.ridge_loo(Zb[j], Y, lams, ab[i, 0])
            torch.testing.assert_close(out.loo[i, j], ref.loo, rtol=1e-12, atol=1e-12)
    scalar = W.ridge_loo(Z, Y, torch.tensor(0.3, dtype=torch.float64), a)
    assert scalar.loo.shape == (12, 3)


@pytest.mark.parametrize("n, m", SHAPES)
def test_float32_in_float32_out(n, m):
    Z, Y, a = random_problem(n, m, seed=11)
    ref = W.ridge_loo(Z, Y, 1.0, a)
    out = W.ridge_loo(Z.float(), Y.float(), 1.0, a.float())
    for got, want in zip(out, ref):
        assert got.dtype == torch.float32
        torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-4)


def test_dual_keeps_small_lam_loo_accurate_when_n_lt_m():
    """n < m and lam = 1e-7: 1 - h_i ~ 1e-7, which the primal obtains by cancellation."""
    Z, Y, a = random_problem(10, 40, seed=2, zeros=0)
    ref = brute_force_loo(Z, Y, 1e-7, a)
    out = W.ridge_loo(Z, Y, 1e-7, a)  # auto -> dual
    assert float((1 - out.leverage).min()) < 1e-5
    torch.testing.assert_close(out.loo, ref, rtol=1e-8, atol=1e-8)


def test_interpolating_fit_raises_naming_the_samples():
    Z, Y, a = random_problem(6, 30, zeros=0)
    with pytest.raises(ValueError, match=r"6 sample\(s\) .*n=6.*larger lam"):
        W.ridge_loo(Z, Y, 1e-14, a)

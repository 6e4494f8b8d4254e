"""The analytic backward of ridge_loo (Prop. 3-5) against autograd through the naive formula, finite
differences (gradcheck), and Prop. 5's ∂F_i/∂a_i = 0 (eq. 2.25)."""
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.ridge.reference import naive_ridge_loo, random_problem

SHAPES = [(14, 5), (5, 14)]


def _grads(fn, Z, Y, a, cots):
    Zr, Yr, ar = (t.clone().requires_grad_() for t in (Z, Y, a))
    outs = fn(Zr, Yr, ar)
    total = sum((o * c).sum() for o, c in zip(outs, cots))
    return torch.autograd.grad(total, (Zr, Yr, ar))


@pytest.mark.parametrize("n, m", SHAPES)
@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("grid", [False, True])
def test_backward_matches_autograd_of_naive_formula(n, m, solver, grid):
    Z, Y, a = random_problem(n, m, seed=7)
    lams = [0.2, 2.0] if grid else [0.4]
    g = torch.Generator().manual_seed(1)
    L = len(lams)
    cots = [torch.randn(L, *s, generator=g, dtype=torch.float64) for s in ((m, 3), (n, 3), (n, 3), (n,))]
    lam_arg = torch.tensor(lams, dtype=torch.float64) if grid else lams[0]
    def ours(Z, Y, a):
        return tuple(o if grid else o[None] for o in W.ridge_loo(Z, Y, lam_arg, a, solver=solver))

    got = _grads(ours, Z, Y, a, cots)

    def naive(Z, Y, a):
        outs = [naive_ridge_loo(Z, Y, lam, a) for lam in lams]
        return tuple(torch.stack(o) for o in zip(*outs))

    ref = _grads(naive, Z, Y, a, cots)
    for gg, rr in zip(got, ref):
        torch.testing.assert_close(gg, rr, rtol=1e-9, atol=1e-9 * float(rr.abs().max()))


@pytest.mark.parametrize("n, m, solver", [(7, 3, "primal"), (7, 3, "auto"), (3, 7, "dual")])
def test_gradcheck_finite_differences(n, m, solver):
    Z, Y, a = random_problem(n, m, k=2, seed=4, zeros=1)
    a = a + 0.05  # finite differences need room on both sides of a_i

    def f(Z, Y, a):
        return tuple(W.ridge_loo(Z, Y, 0.3, a, solver=solver))

    inputs = tuple(t.clone().requires_grad_() for t in (Z, Y, a))
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("n, m", SHAPES)
@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_loo_prediction_does_not_depend_on_own_weight(n, m, solver):
    """Prop. 5, eq. 2.25: diag(∇_a F) = 0, including at a_i = 0."""
    Z, Y, a = random_problem(n, m, seed=9)
    J = torch.autograd.functional.jacobian(lambda w: W.ridge_loo(Z, Y, 0.5, w, solver=solver).loo, a)
    own = J[torch.arange(n), :, torch.arange(n)]  # (n, k): ∂F_i/∂a_i
    scale = float(J.abs().max())
    assert scale > 1e-3  # the off-diagonal dependence is real
    assert float(own.abs().max()) < 1e-10 * scale


def test_batched_gradients_reduce_to_broadcast_inputs():
    Z, Y, a = random_problem(10, 4)
    Zb = torch.stack([Z, Z + 0.1]).requires_grad_()
    ar = a.clone().requires_grad_()
    out = W.ridge_loo(Zb, Y, torch.tensor([0.3, 3.0], dtype=torch.float64), ar)
    out.loo.square().sum().backward()
    ga = torch.zeros_like(a)
    for j in range(2):
        for lam in (0.3, 3.0):
            w = a.clone().requires_grad_()
            naive_ridge_loo(Zb.detach()[j], Y, lam, w)[2].square().sum().backward()
            ga += w.grad
    torch.testing.assert_close(ar.grad, ga, rtol=1e-10, atol=1e-10)
    assert Zb.grad.shape == Zb.shape

"""ridge_loo: batched weighted ridge with closed-form leave-one-out predictions and an analytic backward.

Dukler 2021, Chapter 2: W = C Zᵀ D_a Y with C = (Zᵀ D_a Z + lam I)⁻¹ (eqs. 2.6-2.7); the a-weighted LOO
prediction of Prop. 5 (eq. 2.12 = 2.24), rewritten so it stays finite when a_i = 0,
F_i = (Ŷ_i - h_i Y_i) / (1 - h_i), h_i = a_i z_iᵀ C z_i; at a_i = 0 it is the plain prediction of the
model trained on the other samples. The backward is the closed form of ``vjp.py`` (Prop. 3-5).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from .factor import Factor, factor_dual, factor_primal, loo_from, solve
from .validation import check_interpolation, check_ridge_inputs
from .vjp import backward_basis, ridge_vjp


class RidgeLOO(NamedTuple):
    """Shapes with batch dims ``...`` and, for a 1-D lam, an L dim right after them:
    coef (..., [L,] m, k) = W (eq. 2.6); fitted (..., [L,] n, k) = Z W; loo (..., [L,] n, k) = F (eq. 2.12);
    leverage (..., [L,] n) = h_i = a_i z_iᵀ C z_i = diag(R_alpha)_i of Prop. 5. All in Z's dtype."""

    coef: torch.Tensor
    fitted: torch.Tensor
    loo: torch.Tensor
    leverage: torch.Tensor


def factorize(kind: str, Z: torch.Tensor, Y: torch.Tensor, a: torch.Tensor, lam: torch.Tensor) -> Factor:
    """One factorization shared by all lams: eigendecomposition of the weighted Gram (primal; Cholesky of
    Zᵀ D_a Z + lam I for a single lam) or kernel (dual) matrix."""
    with torch.no_grad():
        return factor_primal(Z, Y, a, lam) if kind == "primal" else factor_dual(Z, Y, a)


class _RidgeLOOFunction(torch.autograd.Function):
    """(Z (B, n, m), Y (B, n, k), a (B, n), lam (L,) float64, kind) -> (W, Ŷ, F, h) with the lam-grid
    dim L after B."""

    @staticmethod
    def forward(ctx, Z, Y, a, lam, kind):
        f = factorize(kind, Z, Y, a, lam)
        W, fitted, h, d, resid = solve(f, Z, a, lam)
        check_interpolation(d, a, Z.dtype)
        F = loo_from(fitted, Y, h, d, resid)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(Z, Y, a, W, fitted, F)
        ctx.factor, ctx.lam, ctx.h, ctx.d = f, lam, h, d
        return W, fitted, F, h.to(Z.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gW, gYh, gF, gh):
        Z, Y, a, W, fitted, F = ctx.saved_tensors
        need = tuple(ctx.needs_input_grad[:3])
        basis = backward_basis(ctx.factor, Z, a, ctx.lam)
        gZ, gY, ga = ridge_vjp(basis, Z, Y, a, ctx.lam, W, fitted, F, ctx.h, ctx.d, gW, gYh, gF, gh, need)
        cast = lambda g, ref: None if g is None else g.to(ref.dtype)  # noqa: E731
        return cast(gZ, Z), cast(gY, Y), cast(ga, a), None, None


def ridge_loo(Z: torch.Tensor, Y: torch.Tensor, lam, weight: torch.Tensor | None = None, *,
              solver: str = "auto") -> RidgeLOO:
    """Weighted ridge regression with closed-form leave-one-out predictions (Prop. 5, eq. 2.12).

    Args:
        Z: (..., n, m) floating features (the linearized-model Jacobians z_i of eq. 2.4).
        Y: (..., n, k) targets of Z's dtype (one-hot labels or real values).
        lam: ridge strength > 0: a float, or a 1-D tensor of L values adding an L dim after the batch dims.
        weight: (..., n) sample weights a_i >= 0 (eq. 2.5); None means all ones. Zeros are allowed: such a
            sample is left out of the fit and its ``loo`` entry is the prediction of the others' model.
        solver: "primal" (m x m Gram eigendecomposition, O(n m²)), "dual" (n x n kernel, O(n² m), float64
            inside; 1 - h_i = lam [(K̃ + lam I)⁻¹]_ii without cancellation) or "auto" (dual iff n < m).
    Returns:
        RidgeLOO(coef, fitted, loo, leverage) in Z's dtype, differentiable wrt Z, Y and weight through an
        analytic backward (Prop. 3-5; not autograd through a solve).
    Raises:
        TypeError / ValueError naming the argument for bad input; ValueError when 1 - h_i <= ~1e-12 for a
        weighted sample (the fit interpolates it, the LOO prediction is undefined: raise lam).
    """
    x = check_ridge_inputs(Z, Y, lam, weight, solver)
    n, m, k = x.Z.shape[-2], x.Z.shape[-1], x.Y.shape[-1]
    batch = x.batch
    Zb = x.Z.expand(*batch, n, m).reshape(-1, n, m)
    Yb = x.Y.expand(*batch, n, k).reshape(-1, n, k)
    ab = x.a.expand(*batch, n).reshape(-1, n)
    W, fitted, F, h = _RidgeLOOFunction.apply(Zb, Yb, ab, x.lam, x.kind)
    L = x.lam.numel()

    def shape(t: torch.Tensor, tail) -> torch.Tensor:
        t = t.reshape(*batch, L, *tail)
        return t if x.has_l else t.squeeze(len(batch))

    return RidgeLOO(shape(W, (m, k)), shape(fitted, (n, k)), shape(F, (n, k)), shape(h, (n,)))

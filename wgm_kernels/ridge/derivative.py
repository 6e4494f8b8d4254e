"""dataset_derivative: ∇_a of a validation loss (Prop. 4, eq. 2.10) or of the LOO loss (Section 2.3.3,
Appendix 2.A.3) of weighted ridge regression, without building an autograd graph.

One factorization (factor.py), the fused epilogue for the LOO loss terms (epilogue.py) and the closed-form
VJP (vjp.py) restricted to the weight cotangent. Positive entries mark samples whose up-weighting raises
the loss, i.e. detrimental samples (eq. 2.14); one step of eq. 2.13 is ``a - eta * derivative``.
"""
from __future__ import annotations

import torch

from .epilogue import loo_epilogue, loss_and_grad
from .factor import lmm, solve
from .loo import factorize
from .validation import LOSSES, check_float_ok, check_interpolation, check_ridge_inputs
from .vjp import backward_basis, ridge_vjp


def dataset_derivative(Z: torch.Tensor, Y: torch.Tensor, lam, weight: torch.Tensor | None = None, *,
                       loss: str = "ce", val=None, misclassified_only: bool = False,
                       solver: str = "auto") -> torch.Tensor:
    """Dataset derivative ∇_a L of weighted ridge regression (eqs. 2.6, 2.10, 2.12).

    Args:
        Z, Y, lam, weight, solver: as in :func:`ridge_loo` (Z (..., n, m), Y (..., n, k), weight (..., n)).
        loss: "ce" (cross-entropy with the predictions as logits, Y as one-hot/soft targets) or "mse"
            (squared error |f - y|²); summed, unweighted, over the evaluation samples.
        val: None for the LOO loss L_LOO = sum_i ℓ(F_i, y_i) with F the a-weighted LOO predictions of
            Prop. 5; or (Z_val (..., n_val, m), Y_val (..., n_val, k)) for L_val = sum_j ℓ(z_jᵀ W, y_j)
            (eq. 2.9, derivative eq. 2.10).
        misclassified_only: with loss="ce", count only samples whose prediction's argmax differs from
            argmax y (Appendix 2.A.2).
    Returns:
        (..., [L,] n) tensor in Z's dtype: ∂L/∂a_i. Cost: one ridge_loo factorization plus O(n m k) per lam
        for val, plus 2 n m² per lam for the LOO loss (the leverage terms).
    """
    x = check_ridge_inputs(Z, Y, lam, weight, solver)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if misclassified_only and loss != "ce":
        raise ValueError("misclassified_only=True needs loss='ce'")
    n, m, k = x.Z.shape[-2], x.Z.shape[-1], x.Y.shape[-1]
    batch = x.batch
    with torch.no_grad():
        Zb = x.Z.detach().expand(*batch, n, m).reshape(-1, n, m)
        Yb = x.Y.detach().expand(*batch, n, k).reshape(-1, n, k)
        ab = x.a.detach().expand(*batch, n).reshape(-1, n)
        vb = None if val is None else _check_val(val, x.Z, k, batch)
        f = factorize(x.kind, Zb, Yb, ab, x.lam)
        if vb is None:
            ga = _loo_grad(f, Zb, Yb, ab, x.lam, loss, misclassified_only)
        else:
            ga = _val_grad(f, Zb, Yb, ab, x.lam, *vb, loss, misclassified_only)
    L = x.lam.numel()
    ga = ga.to(x.Z.dtype).reshape(*batch, L, n)
    return ga if x.has_l else ga.squeeze(len(batch))


def _loo_grad(f, Z, Y, a, lam, loss, misclassified_only):
    W, fitted, _, _, resid = solve(f, Z, a, lam, leverage=False)
    B, L = fitted.shape[:2]
    inv = f.inv(lam)
    dual = f.kind == "dual"
    S = f.vecs if dual else f.S
    dt = S.dtype
    h, d, q = (torch.empty(B, L, Z.shape[-2], dtype=torch.float64, device=Z.device) for _ in range(3))
    F, G = torch.empty_like(fitted, dtype=dt), torch.empty_like(fitted, dtype=dt)
    g_h = torch.empty_like(h, dtype=dt)
    for b in range(B):
        for l in range(L):
            c1 = f.e[b] * inv[b, l] if dual else inv[b, l]
            c2 = float(lam[l]) * inv[b, l] if dual else None
            out = loo_epilogue(S[b], c1, c2, a[b].to(dt), fitted[b, l].to(dt), Y[b].to(dt), loss,
                               misclassified_only, dual, resid=None if resid is None else resid[b, l])
            h[b, l], d[b, l], F[b, l], _, G[b, l], g_h[b, l], q[b, l] = out
    check_interpolation(d, a, Z.dtype)
    basis = backward_basis(f, Z, a, lam)
    # G and g_h are already the total cotangents of Ŷ and h (gF folded in by the epilogue).
    q = None if dual else q  # the dual's backward basis is the QR-reduced one, not U
    _, _, ga = ridge_vjp(basis, Z, Y, a, lam, W, fitted, F, h, d, None, G, None, g_h, (False, False, True), q,
                         sum_l=False)
    return ga


def _check_val(val, Z: torch.Tensor, k: int, batch: torch.Size):
    """val = (Z_val (..., n_val, m), Y_val (..., n_val, k)) -> both flattened to (B, n_val, .)."""
    if not isinstance(val, (tuple, list)) or len(val) != 2:
        raise TypeError("val must be a pair (Z_val, Y_val)")
    Zv, Yv = val
    check_float_ok(Zv, "val[0] (Z_val)", Z)
    check_float_ok(Yv, "val[1] (Y_val)", Z)
    m = Z.shape[-1]
    if Zv.ndim < 2 or Zv.shape[-1] != m:
        raise ValueError(f"val[0] (Z_val) must have shape (..., n_val, {m}), got {tuple(Zv.shape)}")
    if Yv.ndim < 2 or Yv.shape[-1] != k or Yv.shape[-2] != Zv.shape[-2]:
        raise ValueError(f"val[1] (Y_val) must have shape (..., {Zv.shape[-2]}, {k}), got {tuple(Yv.shape)}")
    nv = Zv.shape[-2]
    try:
        Zv = Zv.detach().expand(*batch, nv, m).reshape(-1, nv, m)
        Yv = Yv.detach().expand(*batch, nv, k).reshape(-1, nv, k)
    except RuntimeError as exc:
        raise ValueError(f"batch dims of val do not broadcast to {tuple(batch)}") from exc
    return Zv, Yv


def _val_grad(f, Z, Y, a, lam, Zv, Yv, loss, misclassified_only):
    W, fitted, _, _, _ = solve(f, Z, a, lam, leverage=False)
    P = lmm(Zv, W)  # (B, L, n_val, k) validation predictions
    _, gP = loss_and_grad(P, Yv[:, None], loss, misclassified_only)
    gW = lmm(Zv, gP, transpose_a=True)  # (B, L, m, k): Z_valᵀ L of eq. 2.10
    basis = backward_basis(f, Z, a, lam)
    zeros = torch.zeros(fitted.shape[:-1], dtype=torch.float64, device=Z.device)
    _, _, ga = ridge_vjp(basis, Z, Y, a, lam, W, fitted, fitted, zeros, zeros + 1.0, gW, None, None, None,
                         (False, False, True), sum_l=False)
    return ga

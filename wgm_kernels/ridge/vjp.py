"""Analytic vector-Jacobian product of (W, Ŷ, F, h) wrt (Z, Y, a): the closed forms of Prop. 3-5.

With C = (Zᵀ D_a Z + lam I)⁻¹ (eq. 2.7), W = C Zᵀ D_a Y (2.6), Ŷ = Z W, h_i = a_i z_iᵀ C z_i,
d = 1 - h and F_i = (Ŷ_i - h_i Y_i) / d_i (2.12), for cotangents gW, gŶ, gF, gh:

  G   = gŶ + gF / d                         (total cotangent of Ŷ)
  g_h = gh + sum_k gF (F - Y) / d           (total cotangent of h; dF_i/dh_i = (F_i - Y_i) / d_i)
  Q   = C (gW + Zᵀ G),  r = Y - Ŷ,  w = g_h ⊙ a,  M = C Zᵀ D_w Z C
  ∇_a = rowsum((Z Q) ⊙ r) + g_h ⊙ diag(Z C Zᵀ) - diag(Z M Zᵀ)
  ∇_Y = D_a Z Q - gF ⊙ h / d
  ∇_Z = G Wᵀ + D_a (r Qᵀ - Z Q Wᵀ) + 2 D_w Z C - 2 D_a Z M

The first term of ∇_a is Prop. 3 (eq. 2.8) contracted with Zᵀ G, i.e. Prop. 4 (eq. 2.10) when G is the
validation-loss derivative pulled back through the model; the leverage terms are the LOO part of
Appendix 2.A.3 (eq. 2.24). Prop. 5's ∂F_i/∂a_i = 0 (eq. 2.25) is a consequence, checked in the tests.

Everything is evaluated in a basis Vb (m x r) with C = Vb diag(c) Vbᵀ + (I - Vb Vbᵀ)/lam, S = Z Vb,
Z C = S diag(c) Vbᵀ: the primal uses its factor (eigenbasis V with c = 1/(e + lam), or L⁻ᵀ with c = 1
for a single lam; r = m, no complement). The dual reduces Zᵀ = Q_z R (thin QR) to the r = min(n, m)
dimensional row space of Z, where the Gram matrix R D_a Rᵀ is small; the complement only meets the gW term.
"""
from __future__ import annotations

import torch

from .factor import Factor, eigh, inv_shift, lmm


def backward_basis(f: Factor, Z: torch.Tensor, a: torch.Tensor, lam: torch.Tensor):
    """-> (Vb (B, m, r), S = Z Vb (B, n, r), inv (B, L, r) float64, has_complement) with
    C = Vb diag(inv) Vbᵀ (+ complement / lam)."""
    if f.kind != "dual":
        return f.vecs, f.S, f.inv(lam), False
    Zd = Z.double()
    Qz, R = torch.linalg.qr(Zd.transpose(-1, -2), mode="reduced")  # Zᵀ = Qz R, Z = Rᵀ Qzᵀ
    Zr = R.transpose(-1, -2)
    e, V = eigh(Zr.transpose(-1, -2) @ (a.double()[..., None] * Zr))
    return Qz @ V, Zr @ V, inv_shift(e.clamp_min(0.0), lam), Qz.shape[-1] < Z.shape[-1]


def ridge_vjp(basis, Z, Y, a, lam, W, fitted, F, h, d, gW, gYh, gF, gh, need=(True, True, True), q=None,
              sum_l: bool = True):
    """Shapes (flattened batch B, L lams): Z (B, n, m), Y (B, n, k), a (B, n), lam (L,) float64,
    W (B, L, m, k), fitted/F (B, L, n, k), h/d (B, L, n); cotangents of the same shapes or None;
    q (B, L, n) = z_iᵀ C z_i if already known. ``sum_l=False`` keeps ga per lam, (B, L, n).
    Returns (gZ (B, n, m) | None, gY (B, n, k) | None, ga (B, n) | None) in the basis dtype, summed
    over L. Cost: O(n m k) per lam for ∇_a without leverage cotangent, plus 2 n m² per lam otherwise."""
    Vb, S, inv64, complement = basis
    wd = S.dtype
    need_Z, need_Y, need_a = need
    Z, Y, a, W, fitted, F = (t.to(wd) for t in (Z, Y, a, W, fitted, F))
    dd, hh = d.to(wd), h.to(wd)
    inv = inv64.to(wd)
    B, L, n, k = fitted.shape
    G = torch.zeros_like(fitted) if gYh is None else gYh.to(wd).clone()
    g_h = torch.zeros_like(dd) if gh is None else gh.to(wd).clone()
    gY = None
    if gF is not None:
        gF = gF.to(wd)
        G += gF / dd[..., None]
        g_h += (gF * (F - Y[:, None])).sum(-1) / dd
        if need_Y:
            gY = -(gF * (hh / dd)[..., None]).sum(1)
    proj = lmm(S, G, transpose_a=True)  # Sᵀ G = Vbᵀ Zᵀ G
    if gW is not None:
        gW = gW.to(wd)
        proj = proj + lmm(Vb, gW, transpose_a=True)
    Qe = inv[..., None] * proj  # Q = C (gW + Zᵀ G) = Vb Qe (+ complement), Qe (B, L, r, k)
    ZQ = lmm(S, Qe)  # (B, L, n, k)
    resid = Y[:, None] - fitted
    ga = gZ = None
    if need_Y:
        gY = (a[:, None, :, None] * ZQ).sum(1) + (0 if gY is None else gY)
    leverage_terms = bool((g_h != 0).any())
    if need_a:
        ga = (ZQ * resid).sum(-1)  # Prop. 3 / 4 term
        if leverage_terms:
            if q is None:
                q = (S.double().square() @ inv64.transpose(-1, -2)).transpose(-1, -2)  # z_iᵀ C z_i
            ga = ga + g_h * q.to(wd)
    if need_Z:
        Q = lmm(Vb, Qe)
        if complement and gW is not None:  # (I - Vb Vbᵀ) gW / lam
            Q = Q + (gW - lmm(Vb, lmm(Vb, gW, transpose_a=True))) / lam.to(Q.device, wd)[None, :, None, None]
        gZ = torch.zeros_like(Z)
    # Per-lam loop: the n x m temporaries (S N, Z Q Wᵀ) would be L times too large for a lam grid.
    for l in range(L):
        if need_Z:
            Wt = W[:, l].transpose(-1, -2)
            gZ += G[:, l] @ Wt + a[..., None] * (resid[:, l] @ Q[:, l].transpose(-1, -2) - ZQ[:, l] @ Wt)
        if not leverage_terms or not (need_a or need_Z):
            continue
        w = g_h[:, l] * a
        c = inv[:, l, None, :]
        N = S.transpose(-1, -2) @ (w[..., None] * S)  # Sᵀ D_w S
        SN = S @ (c.transpose(-1, -2) * N * c)  # Z M Vb: the second n m² product
        if need_a:
            ga[:, l] -= torch.einsum("bij,bij->bi", SN, S)  # diag(Z M Zᵀ); einsum: no n x m temporary
        if need_Z:
            gZ += 2.0 * ((w[..., None] * S * c - a[..., None] * SN) @ Vb.transpose(-1, -2))
    if ga is not None and sum_l:
        ga = ga.sum(1)
    return gZ, gY, ga

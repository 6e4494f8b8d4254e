"""Fused Triton kernel for the LOO epilogue (see epilogue.py for the math; Prop. 5, eq. 2.12).

One program owns BLOCK_N samples: it streams their rows of S (n x r) once to form the leverage
sums in float64, then reads Ŷ and Y (n x k) once and writes h, d, F, the per-sample loss and the
cotangents G, g_h. No n x n matrix is formed (in the primal S = Z V is n x m). Triton is imported only
by this module, which the dispatcher imports lazily.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _loo_epilogue_kernel(
    S_ptr, c1_ptr, c2_ptr, a_ptr, Yh_ptr, Y_ptr, R_ptr,
    h_ptr, d_ptr, s1_ptr, F_ptr, loss_ptr, G_ptr, gh_ptr,
    n, r, k, stride_s, stride_yh, stride_y,
    DUAL: tl.constexpr, HAS_RESID: tl.constexpr, LOSS_CE: tl.constexpr, MISCLS: tl.constexpr,
    BLOCK_N: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_K: tl.constexpr,
):
    pid = tl.program_id(0)
    rows = pid * BLOCK_N + tl.arange(0, BLOCK_N)
    rmask = rows < n
    acc1 = tl.zeros([BLOCK_N], dtype=tl.float64)
    acc2 = tl.zeros([BLOCK_N], dtype=tl.float64)
    for j0 in range(0, r, BLOCK_R):
        cols = j0 + tl.arange(0, BLOCK_R)
        cmask = cols < r
        s = tl.load(S_ptr + rows[:, None] * stride_s + cols[None, :],
                    mask=rmask[:, None] & cmask[None, :], other=0.0).to(tl.float64)
        s2 = s * s
        c1 = tl.load(c1_ptr + cols, mask=cmask, other=0.0)
        acc1 += tl.sum(s2 * c1[None, :], axis=1)
        if DUAL:
            c2 = tl.load(c2_ptr + cols, mask=cmask, other=0.0)
            acc2 += tl.sum(s2 * c2[None, :], axis=1)
    if DUAL:
        h = acc1
        d = acc2  # lam [(K̃ + lam I)⁻¹]_ii: no cancellation
    else:
        a = tl.load(a_ptr + rows, mask=rmask, other=0.0).to(tl.float64)
        h = a * acc1
        d = 1.0 - h
    d = tl.where(rmask, d, 1.0)
    tl.store(s1_ptr + rows, acc1, mask=rmask)
    tl.store(h_ptr + rows, h, mask=rmask)
    tl.store(d_ptr + rows, d, mask=rmask)

    ks = tl.arange(0, BLOCK_K)
    kmask = ks < k
    m2 = rmask[:, None] & kmask[None, :]
    yh = tl.load(Yh_ptr + rows[:, None] * stride_yh + ks[None, :], mask=m2, other=0.0).to(tl.float64)
    y = tl.load(Y_ptr + rows[:, None] * stride_y + ks[None, :], mask=m2, other=0.0).to(tl.float64)
    f = (yh - h[:, None] * y) / d[:, None]
    if HAS_RESID:  # cancellation-free residual form where h >= 1/2 (see epilogue.py)
        res_in = tl.load(R_ptr + rows[:, None] * k + ks[None, :], mask=m2, other=0.0).to(tl.float64)
        f = tl.where((h >= 0.5)[:, None], y - res_in / d[:, None], f)
    if LOSS_CE:
        fm = tl.where(kmask[None, :], f, float("-inf"))
        mx = tl.max(fm, axis=1)
        ex = tl.where(kmask[None, :], tl.exp(fm - mx[:, None]), 0.0)
        se = tl.sum(ex, axis=1)
        lse = mx + tl.log(se)
        val = tl.sum(tl.where(m2, y * (lse[:, None] - f), 0.0), axis=1)
        g = ex / se[:, None] * tl.sum(y, axis=1)[:, None] - y
        if MISCLS:
            ya = tl.argmax(tl.where(kmask[None, :], y, float("-inf")), axis=1)
            wrong = tl.argmax(fm, axis=1) != ya
            val = tl.where(wrong, val, 0.0)
            g = tl.where(wrong[:, None], g, 0.0)
    else:
        res = tl.where(m2, f - y, 0.0)
        val = tl.sum(res * res, axis=1)
        g = 2.0 * res
    g = tl.where(m2, g / d[:, None], 0.0)
    gh = tl.sum(g * (f - y), axis=1)
    out_ty = F_ptr.dtype.element_ty
    tl.store(F_ptr + rows[:, None] * k + ks[None, :], f.to(out_ty), mask=m2)
    tl.store(G_ptr + rows[:, None] * k + ks[None, :], g.to(out_ty), mask=m2)
    tl.store(loss_ptr + rows, val.to(out_ty), mask=rmask)
    tl.store(gh_ptr + rows, gh.to(out_ty), mask=rmask)


def loo_epilogue_triton(S, c1, c2, a, fitted, Y, loss: str, misclassified_only: bool, dual: bool,
                        resid=None):
    """Launcher. S (n, r), c1/c2 (r) float64, a (n), fitted/Y (n, k); returns (h, d, F, loss, G, g_h, s1)."""
    n, r = S.shape
    k = fitted.shape[-1]
    dt, dev = fitted.dtype, fitted.device
    S = S.contiguous()
    fitted, Y = fitted.contiguous(), Y.contiguous()
    c1 = c1.to(dev, torch.float64).contiguous()
    c2 = c1 if c2 is None else c2.to(dev, torch.float64).contiguous()
    a = a.contiguous()
    R = fitted if resid is None else resid.to(dev, torch.float64).contiguous()
    h = torch.empty(n, dtype=torch.float64, device=dev)
    d, s1 = torch.empty_like(h), torch.empty_like(h)
    F = torch.empty(n, k, dtype=dt, device=dev)
    G = torch.empty_like(F)
    val = torch.empty(n, dtype=dt, device=dev)
    g_h = torch.empty_like(val)
    BLOCK_N = 32 if fitted.is_cuda else 16
    grid = (triton.cdiv(n, BLOCK_N),)
    _loo_epilogue_kernel[grid](
        S, c1, c2, a, fitted, Y, R, h, d, s1, F, val, G, g_h,
        n, r, k, S.stride(0), fitted.stride(0), Y.stride(0),
        DUAL=dual, HAS_RESID=resid is not None, LOSS_CE=loss == "ce", MISCLS=misclassified_only,
        BLOCK_N=BLOCK_N, BLOCK_R=64, BLOCK_K=max(triton.next_power_of_2(k), 2),
    )
    return h, d, F, val, G, g_h, s1

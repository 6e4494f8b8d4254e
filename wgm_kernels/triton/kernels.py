"""Fused Triton kernels of the trilinear stencil form (eq. 1.8, Algorithm 1; definition in csrc/wgm.cpp).

    T(x; u, v)[b] = Σ_c [ Σ_{(i,j)∈E} ω_ij (u_i − u_j)(v_i − v_j)(x_i/d_i + x_j/d_j)/2 + α (Σu)(Σv) ]

Both kernels use the *gather* form: each pixel i visits all its neighbours j = i ± o_k, so every output
is written by exactly one program and nothing is scattered. Grid: (B·C planes, ⌈HW/BLOCK⌉ pixel blocks);
each program holds BLOCK pixels of one plane (flattened, so a block spans whole rows) and loops over the
K half-offsets of the stencil table (table.py), both signs. Neighbour loads are meant to hit L1/L2, so
each input is read from DRAM about once (by design; not yet measured on a GPU).

Degrees are computed in-kernel from the pixel position: for the centre pixel as Σ_j ω_ij·[j in image]
inside the same loop, for a neighbour j (backward only) from the stencil's summed-area table (four
look-ups, only for pixels within R of a border; interior pixels have the full degree). The total
Σ_k deg_k is accumulated in the loop, so no float arguments (Triton would make them float32) enter.

Accumulation dtype ACC = the table's dtype: float32 for float16/bfloat16/float32 inputs, float64 for
float64. ``SYM`` (u and v are the same tensor) skips the second set of loads.
"""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _rect_degree(P, S, R, y, x, H, W, mask):
    """deg of pixel (y, x) = Σ of the full stencil's weights over the in-image offset rectangle,
    from the summed-area table P (S×S, S = 2R+2). Masked lanes return 0."""
    i0 = tl.maximum(R - y, 0)
    i1 = tl.minimum(2 * R + 1, H + R - y)
    j0 = tl.maximum(R - x, 0)
    j1 = tl.minimum(2 * R + 1, W + R - x)
    return (tl.load(P + i1 * S + j1, mask=mask, other=0.0) - tl.load(P + i0 * S + j1, mask=mask, other=0.0)
            - tl.load(P + i1 * S + j0, mask=mask, other=0.0) + tl.load(P + i0 * S + j0, mask=mask, other=0.0))


@triton.jit
def _stencil_offset(TAB, K, k, H, W):
    """The k-th half-offset (dy, dx) of the table, its weight ω and its share 2ω·|E_k| of Σ_i deg_i."""
    dy = tl.load(TAB + k).to(tl.int32)
    dx = tl.load(TAB + K + k).to(tl.int32)
    w = tl.load(TAB + 2 * K + k)
    return dy, dx, w, 2.0 * w * (tl.maximum(H - tl.abs(dy), 0) * tl.maximum(W - tl.abs(dx), 0)).to(w.dtype)


@triton.jit
def _neighbour(y, x, dy, dx, H, W, inb, base):
    """Flat index of j = (y + dy, x + dx) in the plane starting at base, whether j is inside the image
    (and i a real pixel), and j's coordinates."""
    yj = y + dy
    xj = x + dx
    ok = inb & (yj >= 0) & (yj < H) & (xj >= 0) & (xj < W)
    return base + yj * W + xj, ok, yj, xj


@triton.jit
def _pixel_block(U, V, H, W, SYM: tl.constexpr, BLOCK: tl.constexpr, ACC: tl.constexpr):
    """This program's plane p and BLOCK flattened pixels: (p, plane offset, idx, in-image mask, y, x,
    u_i, v_i) with u, v loaded in ACC (v_i is u_i with SYM)."""
    p = tl.program_id(0).to(tl.int64)
    idx = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    inb = idx < H * W
    y = idx // W
    x = idx - y * W
    base = p * H * W
    ui = tl.load(U + base + idx, mask=inb, other=0.0).to(ACC)
    if SYM:
        vi = ui
    else:
        vi = tl.load(V + base + idx, mask=inb, other=0.0).to(ACC)
    return p, base, idx, inb, y, x, ui, vi


@triton.jit
def _inv_degree(tot, deg):
    """Volume normalization Σ_k deg_k / d_i of eq. 1.8 (0 for an isolated pixel)."""
    return tl.where(deg > 0, tot / tl.where(deg > 0, deg, 1.0), 0.0)


# Sizes are not specialized on (divisibility by 16, == 1): one compiled variant per dtype and flags, not
# one per image shape; the kernels do not rely on aligned rows anyway (neighbour loads are unaligned).
@triton.jit(do_not_specialize=["H", "W", "K", "NBLK"])
def trilinear_fwd_kernel(X, U, V, TAB, PART, H, W, K, NBLK,
                         VOLUME: tl.constexpr, ALPHA: tl.constexpr, SYM: tl.constexpr, BLOCK: tl.constexpr):
    """Per-(plane, block) partials of T: PART[(p·NBLK + blk)·3 + (0, 1, 2)] =
    (Σ_i (x_i/d_i) E_i, Σ_i u_i, Σ_i v_i) with E_i = ½ Σ_{j∈N(i)} ω_ij (u_i−u_j)(v_i−v_j).
    (Σ_i m_i E_i = Σ_edges ω du dv (m_i + m_j)/2: each edge gives its m_i half to i, m_j half to j.)"""
    ACC = TAB.dtype.element_ty
    p, base, idx, inb, y, x, ui, vi = _pixel_block(U, V, H, W, SYM, BLOCK, ACC)
    e = tl.zeros([BLOCK], dtype=ACC)
    deg = tl.zeros([BLOCK], dtype=ACC)
    tot = tl.zeros([BLOCK], dtype=ACC)
    for k in range(K):
        dy, dx, w, tot_k = _stencil_offset(TAB, K, k, H, W)
        tot += tot_k
        for s in tl.static_range(2):
            sg = 1 - 2 * s
            j, ok, yj, xj = _neighbour(y, x, sg * dy, sg * dx, H, W, inb, base)
            wk = tl.where(ok, w, 0.0)
            uj = tl.load(U + j, mask=ok, other=0.0).to(ACC)
            if SYM:
                du = ui - uj
                e += wk * du * du
            else:
                vj = tl.load(V + j, mask=ok, other=0.0).to(ACC)
                e += wk * (ui - uj) * (vi - vj)
            deg += wk
    xi = tl.load(X + base + idx, mask=inb, other=0.0).to(ACC)
    if VOLUME:
        m = xi * _inv_degree(tot, deg)
    else:
        m = xi
    out = PART + (p * NBLK + tl.program_id(1)) * 3
    tl.store(out, 0.5 * tl.sum(m * e, axis=0))
    if ALPHA:
        tl.store(out + 1, tl.sum(ui, axis=0))
        tl.store(out + 2, tl.sum(vi, axis=0))


@triton.jit(do_not_specialize=["C", "H", "W", "K", "R"])
def trilinear_bwd_kernel(G, X, U, V, TAB, AU, AV, GX, GU, GV, C, H, W, K, R,
                         VOLUME: tl.constexpr, ALPHA: tl.constexpr, SYM: tl.constexpr, BLOCK: tl.constexpr):
    """The three partial derivatives of T scaled by g = G[b], one pass (gather form):

        GX_i = g (1/d_i) ½ Σ_j ω (u_i−u_j)(v_i−v_j)
        GU_i = g ½ Σ_j ω (v_i−v_j)(m_i + m_j) + AU[p],   GV_i = g ½ Σ_j ω (u_i−u_j)(m_i + m_j) + AV[p]

    with m = x/d and AU[p] = α g Σv, AV[p] = α g Σu precomputed per plane (the α 11ᵀ term). With SYM
    (u is v) GU receives GU + GV and GV is not written."""
    ACC = TAB.dtype.element_ty
    p, base, idx, inb, y, x, ui, vi = _pixel_block(U, V, H, W, SYM, BLOCK, ACC)
    g = tl.load(G + p // C).to(ACC)
    S = 2 * R + 2
    P = TAB + 3 * K
    full = tl.load(P + (2 * R + 1) * S + 2 * R + 1)  # degree of an interior pixel
    e = tl.zeros([BLOCK], dtype=ACC)
    deg = tl.zeros([BLOCK], dtype=ACC)
    tot = tl.zeros([BLOCK], dtype=ACC)
    sdu = tl.zeros([BLOCK], dtype=ACC)  # Σ ω du
    sdv = tl.zeros([BLOCK], dtype=ACC)  # Σ ω dv
    qdu = tl.zeros([BLOCK], dtype=ACC)  # Σ ω du x_j/deg_j   (× tot after the loop gives Σ ω du m_j)
    qdv = tl.zeros([BLOCK], dtype=ACC)
    for k in range(K):
        dy, dx, w, tot_k = _stencil_offset(TAB, K, k, H, W)
        tot += tot_k
        for s in tl.static_range(2):
            sg = 1 - 2 * s
            j, ok, yj, xj = _neighbour(y, x, sg * dy, sg * dx, H, W, inb, base)
            du = tl.where(ok, ui - tl.load(U + j, mask=ok, other=0.0).to(ACC), 0.0)
            if SYM:
                dv = du
            else:
                dv = tl.where(ok, vi - tl.load(V + j, mask=ok, other=0.0).to(ACC), 0.0)
            xv = tl.load(X + j, mask=ok, other=0.0).to(ACC)
            if VOLUME:
                near = ok & ((yj < R) | (yj >= H - R) | (xj < R) | (xj >= W - R))
                dj = tl.where(near, _rect_degree(P, S, R, yj, xj, H, W, near), full)
                q = tl.where(dj > 0, xv / tl.where(dj > 0, dj, 1.0), 0.0)
            else:
                q = xv
            wdu = w * du
            wdv = w * dv
            e += wdu * dv
            deg += tl.where(ok, w, 0.0)
            sdu += wdu
            sdv += wdv
            qdu += wdu * q
            qdv += wdv * q
    xi = tl.load(X + base + idx, mask=inb, other=0.0).to(ACC)
    if VOLUME:
        inv = _inv_degree(tot, deg)
        scale = tot
    else:
        inv = tl.full([BLOCK], 1.0, dtype=ACC)
        scale = tl.full([BLOCK], 1.0, dtype=ACC)
    m = xi * inv
    hg = 0.5 * g
    gx = hg * inv * e
    gu = hg * (m * sdv + scale * qdv)
    gv = hg * (m * sdu + scale * qdu)
    if ALPHA:
        gu += tl.load(AU + p).to(ACC)
        gv += tl.load(AV + p).to(ACC)
    tl.store(GX + base + idx, gx.to(GX.dtype.element_ty), mask=inb)
    if SYM:
        tl.store(GU + base + idx, (gu + gv).to(GU.dtype.element_ty), mask=inb)
    else:
        tl.store(GU + base + idx, gu.to(GU.dtype.element_ty), mask=inb)
        tl.store(GV + base + idx, gv.to(GV.dtype.element_ty), mask=inb)

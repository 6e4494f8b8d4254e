"""Residual of one implicit step and its analytic pentadiagonal Jacobian (vectorized assembly).

One implicit step (backward Euler or variable-step BDF2) of h_t + F_x = 0 has the residual
    R_i(h) = a0 h_i + r_i + (dt/dx) (F_{i+1}(h) - F_i(h)),
with r collecting the known previous levels.  F_k depends on cells k-2..k+1, so dR_i/dh_j is
non-zero only for |i - j| <= 2.  Jacobian entries are returned in LAPACK/`solve_banded` band
storage ab[2 + i - j, j] = J[i, j] (l = u = 2); the boundary ghost cells are folded into the
first/last two columns by the chain rule.
"""
from __future__ import annotations

import numpy as np

from .grid import FluxWorkspace, Grid, Physics, Side, flux_kernel, pad_into, workspace


def _residual_into(out, h, F_lr, a0, r, c, t, negate=False):
    """out = a0 h + r + c (F[1:] - F[:-1])   (or exactly its negative when negate), with
    F_lr = (F[:-1], F[1:]); t: scratch."""
    Fl, Fr = F_lr
    if negate:
        np.subtract(Fl, Fr, out=out)
    else:
        np.subtract(Fr, Fl, out=out)
    out *= c
    if a0 == 1.0:
        np.add(h, r, out=t)
    else:
        np.multiply(h, a0, out=t)
        t += r
    if negate:
        out -= t
    else:
        out += t
    return out


def _fluxes(h, grid, phys, left, right, ws, want_jac, scale=1.0):
    """Pad h into ws.hp and evaluate the face fluxes (and scale * their derivatives), with a
    reservoir boundary cell made flux-free (F_0 = F_1: the cell is held at its value).
    Returns F, (g0, G12, g3) or None, and the ghost linearizations (lc, rc)."""
    lc, rc = pad_into(h, left, right, ws.hp)
    F, g = flux_kernel(ws.hp, grid, phys, left, right, ws, want_jac=want_jac, scale=scale)
    for side, face, inner in ((left, 0, 1), (right, -1, -2)):
        if side.reservoir:
            F[face] = F[inner]
            if g is not None:
                g0, G12, g3 = g
                g0[face] = g3[face] = 0.0
                G12[:, face] = 0.0
    return F, g, lc, rc


def residual(h: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
             a0: float, r: np.ndarray, dt: float) -> np.ndarray:
    """R(h) of the implicit step (no Jacobian)."""
    ws = workspace(grid.N)
    _fluxes(h, grid, phys, left, right, ws, want_jac=False)
    return _residual_into(np.empty(grid.N), h, ws.F_lr, a0, r, dt / grid.dx, ws.t_cell)


class BandViews:
    """The views of an LAPACK band array ab (rows o..o+4 = diagonals +2..-2) and of the flux
    workspace that `assemble` writes/reads, made once (a numpy view costs ~0.2 us)."""

    def __init__(self, ab: np.ndarray, o: int, ws: FluxWorkspace):
        N = ab.shape[1]
        self.ab, self.o, self.ws = ab, o, ws
        g0, g1, g2, g3 = ws.g0, ws.g1, ws.g2, ws.g3
        self.rows = (ab[o + 4, :N - 2], g0[2:N],                   # k = -2
                     ab[o + 3, :N - 1], g0[2:N + 1], g1[1:N],      # k = -1
                     ab[o + 2], g1[1:N + 1], g2[:N],               # k = 0
                     ab[o + 1, 1:], g2[1:N], g3[:N - 1],           # k = 1
                     ab[o, 2:], g3[1:N - 1])                       # k = 2
        # flat (1-D) view for the scalar corrections: ab[i, j] == flat[i * s0 + j * s1]
        s0, s1 = ab.strides[0] // 8, ab.strides[1] // 8
        self.flat = ab.reshape(-1, order="F" if ab.flags.f_contiguous else "C")
        if not np.shares_memory(self.flat, ab):
            raise ValueError("ab must be C- or F-contiguous")

        def ix(i, j):
            return i * s0 + j * s1
        self.outside = tuple(ix(i, j) for i, j in ((o, 0), (o, 1), (o + 1, 0), (o + 3, N - 1),
                                                  (o + 4, N - 2), (o + 4, N - 1)))
        # (i, j) of dR_0/dh_0, dR_0/dh_1, dR_1/dh_0, dR_1/dh_1, dR_{N-1}/dh_{N-1},
        # dR_{N-1}/dh_{N-2}, dR_{N-2}/dh_{N-1}, dR_{N-2}/dh_{N-2}, dR_0/dh_2, dR_{N-1}/dh_{N-3}
        self.corner = tuple(ix(i, j) for i, j in (
            (o + 2, 0), (o + 1, 1), (o + 3, 0), (o + 2, 1), (o + 2, N - 1), (o + 3, N - 2),
            (o + 1, N - 1), (o + 2, N - 2), (o, 2), (o + 4, N - 3)))


def assemble(h: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
             a0: float, r: np.ndarray, dt: float, R: np.ndarray, ab: np.ndarray, o: int,
             ws: FluxWorkspace, negate_R: bool = False, views: BandViews | None = None) -> None:
    """In-place core of `residual_and_jacobian`: R(h) (or -R(h) if negate_R) into R (N,) and the
    band ab[o + 2 + i - j, j] = dR_i/dh_j into rows o..o+4 of ab (rows < o are not touched; the
    entries of the band that lie outside the matrix are set to 0).  No temporaries beyond ws.
    views: BandViews(ab, o, ws), to be reused across calls on the same ab."""
    N = grid.N
    c = dt / grid.dx
    _, (g0, G12, g3), lc, rc = _fluxes(h, grid, phys, left, right, ws, want_jac=True, scale=c)
    # (g0, [g1; g2], g3) = c G, G[m][k] = dF_k / d hp[k + m]
    _residual_into(R, h, ws.F_lr, a0, r, c, ws.t_cell2, negate=negate_R)
    if views is None or views.ab is not ab or views.ws is not ws or views.o != o:
        views = BandViews(ab, o, ws)
    # dR_i/dh_{i+k} = c (G[k+1][i+1] - G[k+2][i]) (+ a0 for k = 0), in LAPACK storage
    # ab[o + 2 - k, i + k]; face i+1 has cells i-1..i+2, face i has cells i-2..i+1
    (r4, g0a, r3, g0b, g1a, r2, g1b, g2a, r1, g2b, g3a, r0, g3b) = views.rows
    np.negative(g0a, out=r4)                # k = -2
    np.subtract(g0b, g1a, out=r3)           # k = -1
    t = ws.t_cell
    np.subtract(g1b, g2a, out=t)
    np.add(t, a0, out=r2)                   # k = 0
    np.subtract(g2b, g3a, out=r1)           # k = 1
    np.copyto(r0, g3b)                      # k = 2
    g1, g2 = G12[0], G12[1]
    fl = views.flat
    for i in views.outside:
        fl[i] = 0.0                         # band entries outside the matrix
    i00, i01, i10, i11, iNN, iNM, iMN, iMM, i02, iNL = views.corner
    # fold ghosts: left ghost hp[1] (m=0) in (i=0,k=-1), (i=1,k=-2); hp[0] (m=1) in (i=0,k=-2)
    g0_0, g0_1 = g0[:2].tolist()
    l0 = g0_1 - float(g1[0])               # dR_0/dhp[1]
    l1 = -g0_1                             # dR_1/dhp[1]
    l00 = -g0_0                            # dR_0/dhp[0]
    (lc00, lc01), (lc10, lc11) = lc
    fl[i00] += l0 * lc00 + l00 * lc10      # dR_0/dh_0
    fl[i01] += l0 * lc01 + l00 * lc11      # dR_0/dh_1
    fl[i10] += l1 * lc00                   # dR_1/dh_0
    fl[i11] += l1 * lc01                   # dR_1/dh_1
    # right ghost hp[N+2] (m=0) in (i=N-1,k=1), (i=N-2,k=2); hp[N+3] (m=1) in (i=N-1,k=2)
    g3_1, g3_0 = g3[N - 1:].tolist()
    q0 = float(g2[N]) - g3_1               # dR_{N-1}/dhp[N+2]
    q1 = g3_1                              # dR_{N-2}/dhp[N+2]
    q00 = g3_0                             # dR_{N-1}/dhp[N+3]
    (rc00, rc01), (rc10, rc11) = rc
    fl[iNN] += q0 * rc00 + q00 * rc10      # dR_{N-1}/dh_{N-1}
    fl[iNM] += q0 * rc01 + q00 * rc11      # dR_{N-1}/dh_{N-2}
    fl[iMN] += q1 * rc00                   # dR_{N-2}/dh_{N-1}
    fl[iMM] += q1 * rc01                   # dR_{N-2}/dh_{N-2}
    if left.reservoir:      # row 0 is a0 h_0 + r_0: no spatial coupling
        fl[i00] = a0
        fl[i01] = fl[i02] = 0.0
    if right.reservoir:
        fl[iNN] = a0
        fl[iNM] = fl[iNL] = 0.0


def residual_and_jacobian(h: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
                          a0: float, r: np.ndarray, dt: float,
                          lapack_gb: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """R(h) and the banded Jacobian ab (5, N) with ab[2 + i - j, j] = dR_i/dh_j.

    lapack_gb=True returns the (7, N) layout of LAPACK ?gbsv instead (two leading zero rows for
    the fill-in of partial pivoting; then ab[4 + i - j, j] = dR_i/dh_j), in Fortran order (a
    C-ordered (7, N) array would be transposed-copied by f2py on every call).  Fresh arrays;
    the Newton loop uses the in-place `assemble` on reused buffers instead."""
    N = grid.N
    R = np.empty(N)
    if lapack_gb:
        ab = np.empty((7, N), order="F")
        ab[:2] = 0.0
        o = 2
    else:
        ab = np.empty((5, N))
        o = 0
    assemble(h, grid, phys, left, right, a0, r, dt, R, ab, o, workspace(N))
    return R, ab


def banded_to_dense(ab: np.ndarray) -> np.ndarray:
    """Dense matrix from (2, 2) band storage (tests and the dense benchmark)."""
    N = ab.shape[1]
    J = np.zeros((N, N))
    for k in range(-2, 3):          # loop over the 5 diagonals, not grid points
        idx = np.arange(max(0, -k), N - max(0, k))
        J[idx, idx + k] = ab[2 - k, idx + k]
    return J

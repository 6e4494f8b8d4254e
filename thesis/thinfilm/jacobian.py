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

from .grid import Grid, Physics, Side, face_flux, pad


def residual(h: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
             a0: float, r: np.ndarray, dt: float) -> np.ndarray:
    """R(h) of the implicit step (no Jacobian)."""
    hp = pad(h, left, right)
    F, _ = face_flux(hp, grid, phys, left, right, want_jac=False)
    if left.reservoir:
        F[0] = F[1]
    if right.reservoir:
        F[-1] = F[-2]
    return a0 * h + r + (dt / grid.dx) * (F[1:] - F[:-1])


def residual_and_jacobian(h: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
                          a0: float, r: np.ndarray, dt: float,
                          lapack_gb: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """R(h) and the banded Jacobian ab (5, N) with ab[2 + i - j, j] = dR_i/dh_j.

    lapack_gb=True returns the (7, N) layout of LAPACK ?gbsv instead (two leading zero rows for
    the fill-in of partial pivoting; then ab[4 + i - j, j] = dR_i/dh_j)."""
    N = grid.N
    c = dt / grid.dx
    hp, lc, rc = pad(h, left, right, return_coef=True)
    F, G = face_flux(hp, grid, phys, left, right, want_jac=True)
    if left.reservoir:
        F[0] = F[1]
        G[:, 0] = 0.0
    if right.reservoir:
        F[-1] = F[-2]
        G[:, -1] = 0.0
    R = a0 * h + r + c * (F[1:] - F[:-1])
    # dR_i/dh_{i+k}: face i+1 has cells i-1..i+2 (G[0..3][i+1]); face i has i-2..i+1 (G[0..3][i])
    Gp, Gm = G[:, 1:], G[:, :-1]
    band = np.empty((5, N))          # band[k + 2, i] = dR_i / d(hp[i + 2 + k])
    band[0] = -c * Gm[0]
    band[1] = c * (Gp[0] - Gm[1])
    band[2] = a0 + c * (Gp[1] - Gm[2])
    band[3] = c * (Gp[2] - Gm[3])
    band[4] = c * Gp[3]
    # fold ghosts: left ghost hp[1] (m=0) in (i=0,k=-1), (i=1,k=-2); hp[0] (m=1) in (i=0,k=-2)
    l0 = band[1, 0]      # dR_0/dhp[1]
    l1 = band[0, 1]      # dR_1/dhp[1]
    l00 = band[0, 0]     # dR_0/dhp[0]
    band[2, 0] += l0 * lc[0][0] + l00 * lc[1][0]   # dR_0/dh_0
    band[3, 0] += l0 * lc[0][1] + l00 * lc[1][1]   # dR_0/dh_1
    band[1, 1] += l1 * lc[0][0]                    # dR_1/dh_0
    band[2, 1] += l1 * lc[0][1]                    # dR_1/dh_1
    # right ghost hp[N+2] (m=0) in (i=N-1,k=1), (i=N-2,k=2); hp[N+3] (m=1) in (i=N-1,k=2)
    q0 = band[3, N - 1]
    q1 = band[4, N - 2]
    q00 = band[4, N - 1]
    band[2, N - 1] += q0 * rc[0][0] + q00 * rc[1][0]  # dR_{N-1}/dh_{N-1}
    band[1, N - 1] += q0 * rc[0][1] + q00 * rc[1][1]  # dR_{N-1}/dh_{N-2}
    band[3, N - 2] += q1 * rc[0][0]                   # dR_{N-2}/dh_{N-1}
    band[2, N - 2] += q1 * rc[0][1]                   # dR_{N-2}/dh_{N-2}
    if left.reservoir:      # row 0 is a0 h_0 + r_0: no spatial coupling
        band[:, 0] = 0.0
        band[2, 0] = a0
    if right.reservoir:
        band[:, N - 1] = 0.0
        band[2, N - 1] = a0
    # to LAPACK band storage: ab[2 - k, i + k] = band[k + 2, i]
    o = 2 if lapack_gb else 0
    # Fortran order for LAPACK: a C-ordered (7, N) array would be transposed-copied by f2py on
    # every call (superlinear in N once it leaves the cache)
    ab = np.zeros((5 + o, N), order="F" if lapack_gb else "C")
    ab[o + 0, 2:] = band[4, :N - 2]
    ab[o + 1, 1:] = band[3, :N - 1]
    ab[o + 2, :] = band[2]
    ab[o + 3, :N - 1] = band[1, 1:]
    ab[o + 4, :N - 2] = band[0, 2:]
    return R, ab


def banded_to_dense(ab: np.ndarray) -> np.ndarray:
    """Dense matrix from (2, 2) band storage (tests and the dense benchmark)."""
    N = ab.shape[1]
    J = np.zeros((N, N))
    for k in range(-2, 3):          # loop over the 5 diagonals, not grid points
        idx = np.arange(max(0, -k), N - max(0, k))
        J[idx, idx + k] = ab[2 - k, idx + k]
    return J

"""Uniform cell-centred grid, boundary ghost cells and the conservative face fluxes of (4.7)/(4.22).

The PDE is written as h_t + F_x = 0 with the total flux (4.7), (4.22)
    F = f(h) + h^3 h_xxx - D h^3 h_x - A h^3 / (x + x0)^2,     f(h) = h^2 - h^3  (4.9).
Cell i (i = 0..N-1) has centre x_i = x_min + (i + 1/2) dx; face k (k = 0..N) sits at x_min + k dx,
between cells k-1 and k.  Two ghost cells at each end are affine in the two nearest interior
cells (the boundary conditions (4.16), (4.24)), so the discrete Jacobian stays pentadiagonal.

Advective flux: Engquist-Osher (monotone, C^1) for the non-convex f; optional second order by a
smooth van Albada limited (MUSCL) reconstruction.  Mobility (h^3) at faces: cube of the mean.
Central differences for h_x and h_xxx at faces.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F_MAX_POS = 4.0 / 27.0  # f(2/3): maximum of f on [0, inf); f' changes sign at h = 2/3


def f(h: np.ndarray) -> np.ndarray:
    """Flux (4.9), f(h) = h^2 - h^3."""
    return h * h * (1.0 - h)


def fprime(h: np.ndarray) -> np.ndarray:
    """Characteristic speed f'(h) = 2h - 3h^2."""
    return h * (2.0 - 3.0 * h)


def eo_flux(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Engquist-Osher flux F(u, v) = f+(u) + f-(v) for f = h^2 - h^3 and its partials.

    f+(u) = int_0^u max(f', 0) = f(clip(u, 0, 2/3)) (f' > 0 exactly on (0, 2/3), f(0) = 0) and
    f-(v) = int_0^v min(f', 0) = f(v) - f+(v).
    """
    uc = np.clip(u, 0.0, 2.0 / 3.0)
    vc = np.clip(v, 0.0, 2.0 / 3.0)
    fvc = f(vc)
    du = fprime(uc)
    dv = fprime(v) - fprime(vc)
    return f(uc) + f(v) - fvc, du, dv


def van_albada(a: np.ndarray, b: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smooth slope limiter phi(a, b) = ((b^2+eps) a + (a^2+eps) b) / (a^2 + b^2 + 2 eps) and partials."""
    den = a * a + b * b + 2.0 * eps
    num = (b * b + eps) * a + (a * a + eps) * b
    phi = num / den
    dnum_a = b * b + eps + 2.0 * a * b
    dnum_b = a * a + eps + 2.0 * a * b
    dphi_a = (dnum_a - phi * 2.0 * a) / den
    dphi_b = (dnum_b - phi * 2.0 * b) / den
    return phi, dphi_a, dphi_b


@dataclass(frozen=True)
class Side:
    """Ghost cells on one side: ghost[m] = const[m] + coef[m, 0] h_near + coef[m, 1] h_next.

    m = 0 is the ghost adjacent to the boundary face, m = 1 the outer one.  `near`/`next` are the
    first/second interior cells counted from that boundary.  zero_flux forces F = 0 on the
    boundary face (no-flux wall).
    """

    const: tuple[float, float]
    coef: tuple[tuple[float, float], tuple[float, float]]
    zero_flux: bool = False
    meniscus_D: float | None = None   # nonlinear far-field meniscus ghosts (see side_meniscus)
    meniscus_q: float = 0.0
    dx: float = 0.0
    boundary_flux: float | None = None
    reservoir: bool = False   # boundary cell held at its value (F_0 = F_1): infinite reservoir

    @property
    def face_flux_value(self) -> float | None:
        return 0.0 if self.zero_flux else self.boundary_flux


def side_slope(slope_outward: float, dx: float) -> Side:
    """Far-field meniscus (4.16a): linear continuation with h_x = slope (so h_xx = h_xxx = 0).

    slope_outward is dh per unit distance moving *out* of the domain (for the left meniscus with
    h_x = -1/D this is +1/D)."""
    return Side(const=(slope_outward * dx, 2.0 * slope_outward * dx), coef=((1.0, 0.0), (1.0, 0.0)))


def side_meniscus(D: float, dx: float, q: float = 0.0, reservoir: bool = True) -> Side:
    """Far-field meniscus (4.16a) made flux-consistent: with h_xxx = 0 the boundary flux
    F = f(h) - D h^3 h_x equals q when h_x = (h^2 - h^3 - q) / (D h^3) = -1/D + 1/(D h) - q/(D h^3),
    which tends to the meniscus slope -1/D of (4.16a) as h -> inf.  The boundary-face flux is
    set to exactly q: evaluating f (upwinded) and D h^3 h_x (centred) separately there leaves an
    O(dx h^2 / D) imbalance of the two cancelling O(h^3) terms.  (A bare h_x = -1/D gives a
    boundary influx F = h^2, i.e. ~10^3 at h ~ 30, which floods the domain.)  Ghosts are
    h_{-m} = h_0 + m dx sigma(h_0), sigma = -h_x (m = 1, 2); nonlinear in h_0."""
    return Side(const=(0.0, 0.0), coef=((1.0, 0.0), (1.0, 0.0)), meniscus_D=float(D),
                meniscus_q=float(q), dx=float(dx), boundary_flux=float(q),
                reservoir=bool(reservoir))


def _meniscus_sigma(h: float, D: float, q: float) -> tuple[float, float]:
    """sigma(h) = -h_x = (h^3 - h^2 + q) / (D h^3) and d sigma / dh."""
    sig = (1.0 - 1.0 / h + q / h ** 3) / D
    dsig = (1.0 / h ** 2 - 3.0 * q / h ** 4) / D
    return sig, dsig


def side_dirichlet(value: float) -> Side:
    """Far-field constant state (4.16b), (4.24b): both ghosts equal to `value`."""
    return Side(const=(value, value), coef=((0.0, 0.0), (0.0, 0.0)))


def side_pinned(value: float) -> Side:
    """(4.24a): h = value on the adjacent ghost cell and h_xxx = 0 on the boundary face:
    h_{-2} = h_1 - 3 h_0 + 3 h_{-1}."""
    return Side(const=(value, 3.0 * value), coef=((0.0, 0.0), (-3.0, 1.0)))


def side_wall() -> Side:
    """No-flux wall: mirror ghosts (h_x = h_xxx = 0) and zero boundary flux."""
    return Side(const=(0.0, 0.0), coef=((1.0, 0.0), (0.0, 1.0)), zero_flux=True)


@dataclass(frozen=True)
class Grid:
    """Uniform grid on [x_min, x_min + L] with N cells."""

    x_min: float
    L: float
    N: int

    def __post_init__(self) -> None:
        if int(self.N) != self.N or self.N < 10:
            raise ValueError(f"N must be an integer >= 10, got {self.N!r}")
        if not (self.L > 0 and np.isfinite(self.L)):
            raise ValueError(f"L must be positive, got {self.L!r}")

    @property
    def dx(self) -> float:
        return self.L / self.N

    @property
    def x(self) -> np.ndarray:
        return self.x_min + (np.arange(self.N) + 0.5) * self.dx

    @property
    def x_faces(self) -> np.ndarray:
        return self.x_min + np.arange(self.N + 1) * self.dx


def _ghosts(side: Side, near: float, nxt: float):
    """Ghost values (adjacent, outer) and their linearization coef[m][0 near, 1 next]."""
    if side.meniscus_D is not None:
        sig, dsig = _meniscus_sigma(near, side.meniscus_D, side.meniscus_q)
        g = (near + side.dx * sig, near + 2.0 * side.dx * sig)
        coef = ((1.0 + side.dx * dsig, 0.0), (1.0 + 2.0 * side.dx * dsig, 0.0))
        return g, coef
    c = side.coef
    g = (side.const[0] + c[0][0] * near + c[0][1] * nxt, side.const[1] + c[1][0] * near + c[1][1] * nxt)
    return g, c


def pad(h: np.ndarray, left: Side, right: Side, return_coef: bool = False):
    """h with two ghost cells on each side (padded index p = i + 2); optionally also the ghost
    linearizations (left_coef, right_coef) used to fold ghosts into the Jacobian."""
    N = h.shape[0]
    hp = np.empty(N + 4)
    hp[2:N + 2] = h
    (hp[1], hp[0]), lc = _ghosts(left, h[0], h[1])
    (hp[N + 2], hp[N + 3]), rc = _ghosts(right, h[-1], h[-2])
    if return_coef:
        return hp, lc, rc
    return hp


@dataclass
class Physics:
    """Parameters of the flux: D (4.8), A and x0 (4.22), reconstruction order (1 or 2)."""

    D: float
    A: float = 0.0
    x0: float = 0.0
    order: int = 2
    limiter_eps: float = 1e-12


def face_flux(hp: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
              want_jac: bool = True):
    """Face fluxes F_k (k = 0..N) and dF_k/d(hp[k + m]) for m = 0..3 (cells k-2..k+1).

    Returns F (N+1,), G (4, N+1) or None.
    """
    N, dx = grid.N, grid.dx
    u0, u1, u2, u3 = hp[0:N + 1], hp[1:N + 2], hp[2:N + 3], hp[3:N + 4]
    # --- advective part (EO flux, optionally with limited reconstruction)
    G = np.zeros((4, N + 1)) if want_jac else None
    if phys.order == 2:
        # limited slope of every padded cell p = 1..N+2 (computed once, shared by both faces)
        d = hp[1:] - hp[:-1]                        # d[p] = hp[p+1] - hp[p]
        phi, phi_a, phi_b = van_albada(d[:-1], d[1:], phys.limiter_eps)   # cell p = 1..N+2
        # first order on the two boundary faces (ghost slopes are not reconstructed)
        phi[0] = phi_a[0] = phi_b[0] = 0.0
        phi[-1] = phi_a[-1] = phi_b[-1] = 0.0
        pl, pl_a, pl_b = phi[:-1], phi_a[:-1], phi_b[:-1]   # cell k-1 (padded k+1), face k
        pr, pr_a, pr_b = phi[1:], phi_a[1:], phi_b[1:]      # cell k   (padded k+2)
        uL = u1 + 0.5 * pl
        uR = u2 - 0.5 * pr
        Fa, dFu, dFv = eo_flux(uL, uR)
        if want_jac:
            # uL = u1 + 0.5 phi(u1-u0, u2-u1); uR = u2 - 0.5 phi(u2-u1, u3-u2)
            G[0] = dFu * (-0.5 * pl_a)
            G[1] = dFu * (1.0 + 0.5 * (pl_a - pl_b)) + dFv * (0.5 * pr_a)
            G[2] = dFu * (0.5 * pl_b) + dFv * (1.0 - 0.5 * (pr_a - pr_b))
            G[3] = dFv * (-0.5 * pr_b)
    elif phys.order == 1:
        Fa, dFu, dFv = eo_flux(u1, u2)
        if want_jac:
            G[1] = dFu
            G[2] = dFv
    else:
        raise ValueError(f"order must be 1 or 2, got {phys.order!r}")
    # --- mobility and higher-order terms
    hm = 0.5 * (u1 + u2)
    m = hm * hm * hm
    inv_dx = 1.0 / dx
    inv_dx3 = inv_dx ** 3
    hx = (u2 - u1) * inv_dx
    hxxx = (u3 - u0 + 3.0 * (u1 - u2)) * inv_dx3
    bracket = hxxx - phys.D * hx
    if phys.A != 0.0:
        bracket = bracket - phys.A / (grid.x_faces + phys.x0) ** 2
    F = Fa + m * bracket
    if want_jac:
        dm = 1.5 * hm * hm * bracket
        c1 = m * (3.0 * inv_dx3 + phys.D * inv_dx)
        G[0] -= m * inv_dx3
        G[1] += dm + c1
        G[2] += dm - c1
        G[3] += m * inv_dx3
    if left.face_flux_value is not None:
        F[0] = left.face_flux_value
        if want_jac:
            G[:, 0] = 0.0
    if right.face_flux_value is not None:
        F[-1] = right.face_flux_value
        if want_jac:
            G[:, -1] = 0.0
    return F, G

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

import threading
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


def _aligned(n: int, align: int = 64) -> np.ndarray:
    """Uninitialised float64 vector whose data start on an `align`-byte boundary (AVX-512 loops
    writing to a non 64-byte-aligned output run ~1.7x slower on these machines)."""
    buf = np.empty(n + align // 8)
    off = (-buf.ctypes.data % align) // 8
    return buf[off:off + n]


def _aligned_rows(rows: int, n: int) -> np.ndarray:
    """(rows, n) float64 view whose rows all start on 64-byte boundaries."""
    npad = -(-n // 8) * 8
    return _aligned(rows * npad).reshape(rows, npad)[:, :n]


def _two_rows(v: np.ndarray, first: int, second: int, n: int) -> np.ndarray:
    """Read-only (2, n) view [v[first:first+n]; v[second:second+n]] (no copy)."""
    return np.lib.stride_tricks.as_strided(v[first:], shape=(2, n),
                                           strides=((second - first) * v.strides[0],
                                                    v.strides[0]), writeable=False)


class FluxWorkspace:
    """Preallocated scratch of `flux_kernel` for one grid size N: one block of 20 rows of
    length >= N + 8, each row 64-byte aligned (AVX-512 loops writing to an unaligned output run
    ~1.7x slower here).  Rows are reused as soon as their value is dead, which keeps the working
    set of an iteration (~25 vectors with the band) in L2: writing to a cold buffer costs ~1.5x
    an in-place update at N = 6000.  Pairs of rows are addressed as 2-row views so that one ufunc
    call updates both, and every view the kernel needs is made once here (a numpy view costs
    ~0.2 us, a sizeable part of a ~1.5 us ufunc call at N = 6000).

    Every buffer is fully overwritten on each call, so one workspace serves any problem with
    that N; `workspace(N)` caches one per (N, thread)."""

    def __init__(self, N: int):
        self.N = N
        M, P = N + 1, N + 2                 # faces, padded cells 1..N+2
        self.hp = hp = _aligned(N + 4)
        B = _aligned_rows(20, N + 8)
        self.block = B
        d, s1, s2, s3, s4, s5 = B[0, :N + 3], B[1], B[2], B[3], B[4], B[5]
        H = B[6:8, :P]                      # 0.5 [dphi/da; dphi/db] per padded cell
        V = B[8:10, :M]                     # [uL; uR] -> [f+(uL); f-(uR)] -> c [f+'; f-']
        Z = B[10:13, :M]                    # [v - vc; uc; vc -> s = v + vc] -> [C; D]
        F = B[13, :M]
        G12 = B[14:16, :M]                  # scale [G1; G2]
        g03 = B[16:18, :M]                  # scale [G0; G3]
        AB = B[18:20, :M]                   # scale [A; B]
        sqe, inv, phi, tp = s1[:N + 3], s2[:P], s3[:P], s4[:P]
        self.t_cell = _aligned(N)           # cell-length scratch (residual, Newton update)
        self.t_cell2 = _aligned(N)
        self.F_lr = (F[:N], F[1:])          # F at the left / right face of each cell
        self.limiter = (d, hp[1:], hp[:-1], sqe, sqe[:-1], sqe[1:], tp, inv, phi, d[:-1], d[1:],
                        H, _two_rows(d, 1, 0, P), _two_rows(d, 0, 1, P),
                        _two_rows(sqe, 1, 0, P), H[:, 0], H[:, -1], phi[:M], phi[1:M + 1], V,
                        _two_rows(hp, 1, 2, M), hp[1:M + 1], hp[2:M + 2])
        self.eo = (V[0], V[1], Z[1:], Z[2], Z[0], s1[:M], V, V[1], Z[1::-1], V[0])
        self.mob = (F, s2[:M], s3[:M], s5[:M], s4[:M], d[0:M], d[2:M + 2], d[1:M + 1], s1[:M])
        CD = Z[:2]
        self.jac = (V, G12, AB, CD, V[0], V[1], H[:, :-1], H[:, 1:],
                    B[18:10:-7, :M],        # [A; D] (rows 18 and 11)
                    B[19, :M], B[10, :M],   # B, C
                    G12[0], G12[1], g03[0], g03[1], G12[:, 0], G12[:, -1], B[18, :M], B[11, :M])
        self.g0, self.g1, self.g2, self.g3 = g03[0], G12[0], G12[1], g03[1]   # scale * G rows
        self._conical_key = None
        self._conical = None

    def conical(self, grid: "Grid", phys: "Physics") -> np.ndarray:
        """A dx^3 / (x_face + x0)^2 on the faces (cached for the last (grid, A, x0))."""
        key = (grid.x_min, grid.L, grid.N, phys.A, phys.x0)
        if key != self._conical_key:
            self._conical = np.ascontiguousarray(
                phys.A * grid.dx ** 3 / (grid.x_faces + phys.x0) ** 2)
            self._conical_key = key
        return self._conical


_WORKSPACES: dict = {}


def workspace(N: int) -> FluxWorkspace:
    """The cached FluxWorkspace of this thread for grid size N (at most 8 kept)."""
    key = (int(N), threading.get_ident())
    ws = _WORKSPACES.get(key)
    if ws is None:
        if len(_WORKSPACES) >= 8:
            _WORKSPACES.pop(next(iter(_WORKSPACES)))
        ws = _WORKSPACES[key] = FluxWorkspace(int(N))
    return ws


def pad_into(h: np.ndarray, left: Side, right: Side, hp: np.ndarray):
    """`pad` into the preallocated hp (N + 4,); returns the ghost linearizations (lc, rc)."""
    N = h.shape[0]
    hp[2:N + 2] = h
    (hp[1], hp[0]), lc = _ghosts(left, float(h[0]), float(h[1]))
    (hp[N + 2], hp[N + 3]), rc = _ghosts(right, float(h[N - 1]), float(h[N - 2]))
    return lc, rc


try:                                    # the ufunc behind np.clip, without its Python wrapper
    from numpy._core.umath import clip as _clip
except ImportError:                     # pragma: no cover (older numpy)
    _clip = np.clip
_mul, _add, _sub, _div = np.multiply, np.add, np.subtract, np.divide


def flux_kernel(hp: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
                ws: FluxWorkspace, want_jac: bool = True, scale: float = 1.0):
    """Fused, allocation-free `face_flux` on the padded hp = ws.hp.

    Returns F (N+1,) and, if want_jac, (g0, G12, g3) = scale * (G0, [G1; G2], G3) with
    G[m][k] = dF_k / d hp[k + m] (else None).  All returned arrays are workspace buffers,
    overwritten by the next call with the same workspace.

    Same discretisation as the reference formulas (`eo_flux`, `van_albada`), algebraically
    rearranged to save passes (results agree to rounding): with d_p = hp[p+1] - hp[p], the van
    Albada numerator is (ab + eps)(a + b) and phi_a = (b^2 + eps + 2a(b - phi)) / den;
    f-(v) = f(v) - f(vc) = (v - vc)[s(1 - s) + v vc] and f-'(v) = (v - vc)(2 - 3s) with
    s = v + vc;  at face k, dx^3 h_xxx = d_k + d_{k+2} - 2 d_{k+1} and dx h_x = d_{k+1}.
    """
    mul, add, sub = _mul, _add, _sub
    if hp is not ws.hp:
        raise ValueError("flux_kernel works on ws.hp (fill it with pad_into)")
    (d, hp1, hp0, sqe, sqe_a, sqe_b, tp, inv, phi, a, b, H, ba, ab_, hsq_ba, H_first, H_last,
     phi_l, phi_r, V, u12, u1, u2) = ws.limiter
    uL, uR, Zuv, Z2, Z0, pv, W, W1, uc_dvv, W0 = ws.eo
    sub(hp1, hp0, out=d)
    order = phys.order
    if order == 2:
        eps = phys.limiter_eps
        mul(d, d, out=sqe)
        sqe += eps                          # d^2 + eps
        add(sqe_a, sqe_b, out=inv)          # den = a^2 + b^2 + 2 eps
        _div(1.0, inv, out=inv)
        mul(a, b, out=phi)
        phi += eps
        add(a, b, out=tp)
        phi *= tp
        phi *= inv                          # phi = (ab + eps)(a + b) / den
        if want_jac:                        # H = 0.5 [dphi/da; dphi/db]
            sqe *= 0.5
            sub(ba, phi, out=H)
            H *= ab_
            H += hsq_ba                     # 0.5 [b^2 + eps; a^2 + eps]
            H *= inv
            # first order on the two boundary faces (ghost slopes are not reconstructed)
            H_first[...] = 0.0
            H_last[...] = 0.0
        phi[0] = phi[-1] = 0.0
        phi *= 0.5
        add(u1, phi_l, out=uL)              # uL = u1 + phi(cell k-1) / 2
        sub(u2, phi_r, out=uR)              # uR = u2 - phi(cell k) / 2
        _clip(V, 0.0, 2.0 / 3.0, out=Zuv)   # Z = [., uc, vc]
    elif order == 1:
        V[...] = u12
        _clip(V, 0.0, 2.0 / 3.0, out=Zuv)
    else:
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    # --- Engquist-Osher flux f+(uL) + f-(uR), f+(u) = f(uc), f-(v) = f(v) - f(vc)
    sub(uR, Z2, out=Z0)                     # v - vc
    mul(uR, Z2, out=pv)                     # v vc
    add(uR, Z2, out=Z2)                     # s = v + vc
    sub(1.0, Zuv, out=W)                    # (V is dead: W takes its rows)
    W *= Zuv                                # [(1 - uc) uc; (1 - s) s]
    W1 += pv
    W *= uc_dvv                             # [f(uc); f(v) - f(vc)]
    # --- mobility hm^3 (cube of the mean) and bracket h_xxx - D h_x [- A/(x+x0)^2]:
    # with q = hm/dx and B = dx^3 bracket, hm^3 bracket = q^3 B and hm^2 bracket = q^2 B / dx
    F, q, q2, mb, br, d0, d2, d1, t1 = ws.mob
    dx = grid.dx
    add(u1, u2, out=q)
    q *= 0.5 / dx
    mul(q, q, out=q2)
    add(d0, d2, out=br)
    mul(d1, 2.0 + phys.D * dx * dx, out=t1)
    br -= t1
    if phys.A != 0.0:
        br -= ws.conical(grid, phys)
    mul(q2, br, out=mb)                     # q^2 B
    mul(mb, q, out=F)
    F += W0
    F += W1                                 # F = f+ + f- + hm^3 bracket
    lv, rv = left.face_flux_value, right.face_flux_value
    if lv is not None:
        F[0] = lv
    if rv is not None:
        F[-1] = rv
    if not want_jac:
        return F, None
    (T, G12, AB, CD, T0, T1, H_l, H_r, AD, Bv, Cv, g1, g2, g0, g3, G12_first, G12_last,
     Av, Dv) = ws.jac
    c = float(scale)
    mul(Zuv, -3.0 * c, out=T)               # (W is dead: T takes its rows)
    T += 2.0 * c
    T *= uc_dvv                             # c [f'(uc); f'(v) - f'(vc)]
    q2 *= q                                 # q^3 = hm^3 / dx^3
    mul(q2, c * (3.0 + phys.D * dx * dx), out=t1)   # c c1, c1 = hm^3 (3/dx^3 + D/dx)
    mb *= 1.5 * c / dx                      # c dm = c 1.5 hm^2 bracket
    add(T, mb, out=G12)
    g1 += t1
    g2 -= t1                                # c [f+' + dm + c1; f-' + dm - c1]
    q2 *= c                                 # c hm^3 / dx^3
    if order == 2:
        mul(T0, H_l, out=AB)                # [A; B] = c f+' [phi_a; phi_b](cell k-1) / 2
        mul(T1, H_r, out=CD)                # [C; D] = c f-' [phi_a; phi_b](cell k) / 2 (Z dead)
        G12 += AD                           # + [A; D]
        sub(Bv, Cv, out=t1)                 # B - C
        g1 -= t1
        g2 += t1                            # G1 = f+' + dm + c1 + A - B + C,
                                            # G2 = f-' + dm - c1 + B - C + D
        sub(q2, Dv, out=g3)                 # G3 = hm^3/dx^3 - D
        add(q2, Av, out=g0)
        np.negative(g0, out=g0)             # G0 = -A - hm^3/dx^3
    else:
        np.negative(q2, out=g0)
        np.copyto(g3, q2)
    if lv is not None:
        g0[0] = g3[0] = 0.0
        G12_first[...] = 0.0
    if rv is not None:
        g0[-1] = g3[-1] = 0.0
        G12_last[...] = 0.0
    return F, (g0, G12, g3)


def face_flux(hp: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
              want_jac: bool = True):
    """Face fluxes F_k (k = 0..N) and dF_k/d(hp[k + m]) for m = 0..3 (cells k-2..k+1).

    Returns F (N+1,), G (4, N+1) or None (fresh arrays; `flux_kernel` is the in-place form).
    """
    ws = FluxWorkspace(grid.N)
    ws.hp[:] = hp
    F, g = flux_kernel(ws.hp, grid, phys, left, right, ws, want_jac=want_jac)
    if not want_jac:
        return F.copy(), None
    g0, G12, g3 = g
    return F.copy(), np.stack([g0, G12[0], G12[1], g3])

"""Travelling waves of (4.7) (ODE (4.18a)-(4.18b)), the undercompressive state and the shock
bifurcation diagram of Fig. 4.4 (right).

With xi = x - s t the front satisfies (4.18a)
    h''' = [ s (h - b) - (f(h) - f(b)) ] / h^3 + D h',     s = (f(h_l) - f(b)) / (h_l - b),
a 3-D first-order system y = (h, h', h'').  Linearising at a constant state h_c gives
eigenvalues lambda^3 - D lambda - c = 0 with c = (s - f'(h_c)) / h_c^3.
 * at the precursor b: c > 0 -> one unstable and a 2-D stable manifold;
 * at h_l compressive (s < f'(h_l), (4.13)): a 2-D unstable manifold -> a one-parameter shooting
   problem (angle), transversal connections;
 * at h_l undercompressive (s > f'(h_l), (4.14)): a 1-D unstable manifold -> connections only
   for isolated h_l = h_uc(b, D), found by bisection on h_l.
Shooting outcomes: the orbit escapes either "up" (h grows past the left state) or "down"
(h falls below b / towards 0); a sign change brackets a heteroclinic orbit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .grid import fprime
from .shocks import classify_shock, rh_speed


def _rhs(s: float, b: float, D: float):
    fb = b * b * (1.0 - b)

    def rhs(_xi, y):
        h, hp, hpp = y
        h = max(h, 1e-12)
        return [hp, hpp, (s * (h - b) - (h * h * (1.0 - h) - fb)) / h ** 3 + D * hp]
    return rhs


def _eig(c: float, D: float) -> np.ndarray:
    return np.roots([1.0, 0.0, -D, -c])


def _shoot(y0: np.ndarray, s: float, b: float, D: float, h_l: float, xi_max: float,
           dense: bool = False):
    """Integrate from y0; return (outcome, sol) with outcome +1 (escape up), -1 (down), 0 (none)."""
    hi_level = max(h_l, b) + 0.5 * abs(h_l - b) + 0.05
    lo_level = 0.5 * b

    def ev_up(_xi, y):
        return y[0] - hi_level
    ev_up.terminal = True

    def ev_down(_xi, y):
        return y[0] - lo_level
    ev_down.terminal = True
    sol = solve_ivp(_rhs(s, b, D), (0.0, xi_max), y0, method="LSODA", rtol=1e-10, atol=1e-13,
                    events=(ev_up, ev_down), dense_output=dense)
    if sol.t_events[0].size:
        return 1, sol
    if sol.t_events[1].size:
        return -1, sol
    # no event: classify by the final state relative to b (slow escape)
    return (1 if sol.y[0, -1] > b else -1), sol


def _uc_outcome(h_l: float, b: float, D: float, eps: float, xi_max: float, dense=False):
    s = rh_speed(h_l, b)
    c = (s - float(fprime(h_l))) / h_l ** 3
    lam = _eig(c, D)
    lam_r = lam[np.abs(lam.imag) < 1e-12].real
    lam_u = float(np.max(lam_r))
    if lam_u <= 0:
        raise ValueError("h_l is not undercompressive (no 1-D unstable manifold)")
    y0 = np.array([h_l, 0.0, 0.0]) - eps * np.array([1.0, lam_u, lam_u ** 2])
    return _shoot(y0, s, b, D, h_l, xi_max, dense)


def uc_threshold(b: float) -> float:
    """Smallest h_l > 1/3 with s(h_l, b) = f'(h_l): undercompressive states lie above it."""
    # s - f'(h) = 2h^2 - (1 + b) h + b - b^2 = 0
    return ((1.0 + b) + np.sqrt((1.0 + b) ** 2 - 8.0 * (b - b * b))) / 4.0


def undercompressive_state(b: float, D: float, h_max: float = 1.5, n_scan: int = 40,
                           eps: float = 1e-7, xtol: float = 1e-10, xi_max: float = 400.0):
    """The left state h_uc whose travelling wave into the precursor b is undercompressive, and its
    speed s: shooting along the 1-D unstable manifold of h_l with bisection on h_l.

    Returns (h_uc, s).  Raises ValueError for bad input or if no sign change is found on
    (uc_threshold(b), h_max]."""
    if not (b > 0) or not np.isfinite(b):
        raise ValueError(f"b must be positive, got {b!r}")
    if not (D >= 0) or not np.isfinite(D):
        raise ValueError(f"D must be >= 0, got {D!r}")
    h0 = uc_threshold(b)
    h_uc = _scan_bisect(lambda h: _uc_outcome(h, b, D, eps, xi_max)[0],
                        np.linspace(h0 + 1e-3, h_max, n_scan), xtol)
    if h_uc is None:
        raise ValueError(f"no undercompressive state found for b={b}, D={D} on ({h0:.3f}, {h_max}]")
    return h_uc, float(rh_speed(h_uc, b))


def _scan_bisect(outcome, hs: np.ndarray, xtol: float) -> float | None:
    """First h where the shooting outcome changes along the scan hs, refined by bisection to xtol;
    None if the outcome never changes."""
    prev_h, prev_o = None, None
    for h in hs:
        o = outcome(h)
        if prev_o is not None and o != prev_o:
            first = prev_o
            return float(_bisect(lambda v: outcome(v) == first, prev_h, h, xtol))
        prev_h, prev_o = h, o
    return None


def _bisect(pred, lo: float, hi: float, tol: float) -> float:
    """Midpoint of the final bracket of the switch of pred on [lo, hi] (pred(lo) true, pred(hi) false)."""
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if pred(mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _ruc_outcome(h_l: float, h_r: float, D: float, eps: float, xi_max: float):
    """Shoot from the thin left state h_l up its 1-D unstable manifold towards the thick right
    state h_r of (4.18a) (b replaced by h_r); +1: overshoots h_r, -1: falls back below h_l/2."""
    s = rh_speed(h_l, h_r)
    c = (s - float(fprime(h_l))) / h_l ** 3
    lam = _eig(c, D)
    lam_u = float(np.max(lam[np.abs(lam.imag) < 1e-12].real))
    y0 = np.array([h_l, 0.0, 0.0]) + eps * np.array([1.0, lam_u, lam_u ** 2])

    def ev_up(_xi, y):
        return y[0] - (h_r + 0.5 * (h_r - h_l) + 0.3)
    ev_up.terminal = True

    def ev_down(_xi, y):
        return y[0] - 0.5 * h_l
    ev_down.terminal = True
    sol = solve_ivp(_rhs(s, h_r, D), (0.0, xi_max), y0, method="LSODA", rtol=1e-10, atol=1e-13,
                    events=(ev_up, ev_down))
    if sol.t_events[0].size:
        return 1
    if sol.t_events[1].size:
        return -1
    return 1 if sol.y[0, -1] > h_r else -1


def reverse_undercompressive_state(h_right: float, D: float, n_scan: int = 60, eps: float = 1e-7,
                                   xtol: float = 1e-9, xi_max: float = 2000.0):
    """Left state h_l of the reverse-undercompressive (RUC) travelling wave h_l -> h_right of
    section 4.6 (h_l < h_right), and its speed s = (f(h_l) - f(h_right)) / (h_l - h_right).

    RUC: s > f'(h_l) and s > f'(h_right), so h_l has a 1-D unstable and h_right a 2-D stable
    manifold of (4.18a); the connection is codimension one and h_l is isolated: shooting along
    the unstable manifold of h_l, bisection on h_l over the RUC range (0, h*) where
    s(h_l, h_right) > f'(h_l).  This is the plateau h_l between the rarefaction fan and the RUC
    shock of Figs. 4.12/4.13, obtained without time stepping.  Raises ValueError if no sign
    change is found."""
    if not (0.0 < h_right) or not np.isfinite(h_right):
        raise ValueError(f"h_right must be positive, got {h_right!r}")
    if not (D >= 0) or not np.isfinite(D):
        raise ValueError(f"D must be >= 0, got {D!r}")
    # RUC range: s(h, h_r) - f'(h) = 2h^2 - (1 + h_r) h + h_r - h_r^2 > 0 below its smaller root
    disc = (1.0 + h_right) ** 2 - 8.0 * (h_right - h_right ** 2)
    h_top = ((1.0 + h_right) - np.sqrt(max(disc, 0.0))) / 4.0 if disc > 0 else min(h_right, 1 / 3)
    h_top = min(h_top, h_right)
    h_l = _scan_bisect(lambda h: _ruc_outcome(h, h_right, D, eps, xi_max),
                       np.linspace(0.02 * h_top, 0.98 * h_top, n_scan), xtol)
    if h_l is None:
        raise ValueError(f"no reverse-undercompressive state found for h_right={h_right}, D={D}")
    return h_l, float(rh_speed(h_l, h_right))


@dataclass
class TravellingWave:
    """Result of `travelling_wave`: exists, kind (shock type), speed s, profile (xi, h) of the
    first connection found, and the number of connections found by the shooting scan."""

    exists: bool
    kind: str
    speed: float
    xi: np.ndarray | None = None
    h: np.ndarray | None = None
    n_connections: int = 0
    message: str = ""


def _trim(sol, b: float, h_l: float):
    """Cut an (approximate) heteroclinic orbit where it is closest to b before escaping."""
    h = sol.y[0]
    xi = sol.t
    # last index where h is within the band before it escapes
    dist = np.abs(h - b)
    k = int(np.argmin(dist + 1e-3 * (xi < 0.5 * xi[-1])))  # prefer late, close points
    return xi[:k + 1], h[:k + 1]


def travelling_wave(h_left: float, b: float, D: float, eps: float = 1e-6, n_angles: int = 72,
                    xi_max: float = 300.0, uc_tol: float = 1e-6) -> TravellingWave:
    """Solve (4.18a)-(4.18b) for the front connecting h_left (xi -> -inf) to b (xi -> +inf).

    Compressive (4.13) left states: shoot over the angle of the 2-D unstable manifold, bisect each
    outcome change.  Undercompressive (4.14): a connection exists only if h_left is within uc_tol
    of undercompressive_state(b, D).  Otherwise exists=False with a message.
    """
    for name, v in (("h_left", h_left), ("b", b)):
        if not (v > 0) or not np.isfinite(v):
            raise ValueError(f"{name} must be positive, got {v!r}")
    if not (D >= 0):
        raise ValueError(f"D must be >= 0, got {D!r}")
    if h_left <= b:
        raise ValueError("h_left must exceed b for an advancing front")
    st = classify_shock(h_left, b)
    s = st.speed
    c = (s - float(fprime(h_left))) / h_left ** 3
    if st.kind == "undercompressive":
        try:
            h_uc, _ = undercompressive_state(b, D)
        except ValueError as e:
            return TravellingWave(False, st.kind, s, message=str(e))
        if abs(h_uc - h_left) > uc_tol:
            return TravellingWave(False, st.kind, s, message=(
                f"undercompressive left state: a connection needs h_left = h_uc = {h_uc:.6f}"))
        _, sol = _uc_outcome(h_uc, b, D, eps, xi_max)
        xi, h = _trim(sol, b, h_uc)
        return TravellingWave(True, st.kind, rh_speed(h_uc, b), xi, h, 1)
    if st.kind != "compressive":
        return TravellingWave(False, st.kind, s, message=f"{st.kind} jump: no travelling wave")
    lam, vec = _unstable_basis(c, D)
    y_l = np.array([h_left, 0.0, 0.0])

    def outcome(theta):
        v = np.cos(theta) * vec[0] + np.sin(theta) * vec[1]
        return _shoot(y_l + eps * v / np.linalg.norm(v), s, b, D, h_left, xi_max)

    thetas = np.linspace(0.0, 2.0 * np.pi, n_angles + 1)
    outs = [outcome(t)[0] for t in thetas]
    found = []
    for k in range(n_angles):
        if outs[k] != outs[k + 1]:
            lo, hi, olo = thetas[k], thetas[k + 1], outs[k]
            for _ in range(45):
                mid = 0.5 * (lo + hi)
                if outcome(mid)[0] == olo:
                    lo = mid
                else:
                    hi = mid
            found.append(0.5 * (lo + hi))
    if not found:
        return TravellingWave(False, st.kind, s, message="no connection found by shooting")
    # the monotone-ish connection starting downward (h decreasing first) is preferred
    best = None
    for th in found:
        o, sol = outcome(th)
        if sol.y[0, min(5, sol.y.shape[1] - 1)] < h_left:
            best = sol
            break
    if best is None:
        best = outcome(found[0])[1]
    xi, h = _trim(best, b, h_left)
    # orbits come in pairs (one per outcome change); count distinct connections = changes / 2
    return TravellingWave(True, st.kind, s, xi, h, max(1, len(found) // 2))


def _unstable_basis(c: float, D: float):
    """Real basis of the 2-D unstable subspace of y''' = c y + D y' (vectors (1, l, l^2))."""
    lam = _eig(c, D)
    unst = lam[lam.real > 0]
    if unst.size != 2:
        raise ValueError("left state has no 2-D unstable manifold")
    if np.abs(unst[0].imag) > 1e-12:
        l = unst[0]
        v = np.array([1.0, l, l * l])
        return unst, (v.real, v.imag)
    l1, l2 = unst.real
    return unst, (np.array([1.0, l1, l1 * l1]), np.array([1.0, l2, l2 * l2]))


REGIONS = {1: "compressive", 2: "compressive-undercompressive double shock",
           3: "rarefaction-undercompressive", 4: "generalized Lax shock"}


def tangent_state(b: float) -> float:
    """h_T = (1 - b) / 2: the chord from b is tangent to f at h_T (s(h_T, b) = f'(h_T)); left
    states above it violate the Lax condition (4.13) for a direct jump to b."""
    return 0.5 * (1.0 - b)


def classify_region(h_inf: float, b: float, D: float, h_uc: float | None,
                    h_c: float | None = None, uc_ended: bool = False) -> int:
    """Region of Fig. 4.4 (right) for the left state h_inf.

    h_uc(b, D): the undercompressive state; h_1 = 1 - b - h_uc, where the trailing compressive
    shock h_inf -> h_uc and the leading UC shock have equal speed, since
    s(h, h_uc) - s(h_uc, b) = (h - b)(1 - h - b - h_uc);  h_c(b, D) >= h_1: upper end of the left
    states with a direct (compressive) travelling wave h_inf -> b (from the ODE (4.18)).
      h_inf >= h_uc: rarefaction fan h_inf -> h_uc then UC shock (3);
      h_c < h_inf < h_uc: double shock (2);
      h_1 < h_inf < h_c: a direct Lax wave although the double shock is available (4; empty for
        b = 0.0353, D <= 2.5: the ODE gives h_c = h_1);
      h_inf <= h_1: single compressive shock (1).
    uc_ended: D lies beyond the end of the UC branch (h_uc(D) has merged with h_1 at the tangent
    state h_T = (1 - b)/2 and no UC wave exists; D > 2.58 for b = 0.0353).  There left states
    h_inf > h_T cannot jump directly to b (4.13 fails) and the front is a rarefaction h_inf -> h_T
    attached to a characteristic (sonic, s = f'(h_T)) Lax shock h_T -> b: the generalized Lax
    shock (4) ("only (1), (2), (3) for small D", thesis section 4.3).
    If no UC state exists and uc_ended is False the front is a single Lax shock (1)."""
    if h_uc is None:
        return 4 if (uc_ended and h_inf > tangent_state(b)) else 1
    h1 = 1.0 - b - h_uc
    hc = h1 if h_c is None else max(h_c, h1)
    if h_inf >= h_uc:
        return 3
    if h_inf > hc:
        return 2
    if h_inf > h1:
        return 4
    return 1


def direct_wave_limit(b: float, D: float, h_uc: float, n_angles: int = 36, tol: float = 2e-3):
    """h_c(b, D): bisection on h_inf in (h_1, h_uc) for the end of existence of a direct
    compressive travelling wave h_inf -> b (assumes existence is an interval starting at h_1)."""
    h1 = 1.0 - b - h_uc

    def exists(h):
        try:
            return travelling_wave(h, b, D, n_angles=n_angles).exists
        except ValueError:
            return False
    lo, hi = h1 + 1e-3, h_uc - 1e-3
    if lo >= hi or not exists(lo):
        return h1
    if exists(hi):
        return h_uc
    return _bisect(exists, lo, hi, tol)


def bifurcation_diagram(b: float, D_values, h_values, with_direct_waves: bool = True):
    """Regions (1..4, see REGIONS) on the grid h_values x D_values (array shape (len(h), len(D)))
    and the curves h_uc(D), h_1(D) = 1 - b - h_uc(D), h_c(D).  Returns (regions, h_uc, h_1, h_c)."""
    D_values = np.asarray(D_values, float)
    h_values = np.asarray(h_values, float)
    if not (b > 0):
        raise ValueError(f"b must be positive, got {b!r}")
    h_uc = np.full(D_values.shape, np.nan)
    h_c = np.full(D_values.shape, np.nan)
    for j, D in enumerate(D_values):
        try:
            h_uc[j] = undercompressive_state(b, D)[0]
        except ValueError:
            continue
        h_c[j] = direct_wave_limit(b, D, h_uc[j]) if with_direct_waves else 1.0 - b - h_uc[j]
    # the UC branch ends where h_uc(D) meets h_1(D) at h_T = (1 - b)/2; beyond it (any D above
    # a D with a UC state) left states above h_T form region (4)
    have = np.nonzero(np.isfinite(h_uc))[0]
    d_end = D_values[have].max() if have.size else np.inf
    reg = np.empty((h_values.size, D_values.size), dtype=int)
    for j in range(D_values.size):
        hu = None if np.isnan(h_uc[j]) else h_uc[j]
        hc = None if np.isnan(h_c[j]) else h_c[j]
        ended = hu is None and D_values[j] > d_end
        reg[:, j] = [classify_region(h, b, D_values[j], hu, hc, uc_ended=ended) for h in h_values]
    return reg, h_uc, 1.0 - b - h_uc, h_c


def uc_branch_end(b: float, D_lo: float, D_hi: float, tol: float = 1e-2) -> float:
    """D* where the undercompressive state ceases to exist (h_uc(D) -> h_T = (1 - b)/2), by
    bisection on D in [D_lo, D_hi] (a UC state must exist at D_lo and not at D_hi)."""

    def has_uc(D):
        try:
            undercompressive_state(b, D)
            return True
        except ValueError:
            return False
    if not has_uc(D_lo) or has_uc(D_hi):
        raise ValueError(f"the UC branch does not end inside [{D_lo}, {D_hi}] for b={b}")
    return _bisect(has_uc, D_lo, D_hi, tol)

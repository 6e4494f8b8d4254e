"""Scenarios of Chapter 4: meniscus-driven climbing (4.16)-(4.17) and the reverse-undercompressive
(RUC) pre-swirled setting (4.23)-(4.24); `simulate` builds grid, boundary ghosts and initial data
and calls the implicit stepper."""
from __future__ import annotations

import math

import numpy as np

from .grid import Grid, Physics, side_dirichlet, side_meniscus, side_pinned, side_wall
from .stepper import Solution, StepperOptions, integrate

SCENARIOS = ("meniscus", "ruc", "wall", "front")


def meniscus_initial(x: np.ndarray, D: float, b: float) -> np.ndarray:
    """Initial data (4.17): D^{-3/2}(exp(D^{1/2} x) - D^{1/2} x - 1) + b for x <= 0, b for x > 0."""
    sD = math.sqrt(D)
    xm = np.minimum(x, 0.0)
    return D ** -1.5 * (np.expm1(sD * xm) - sD * xm) + b


def ruc_initial(x: np.ndarray, h_inf: float, h_eq: float, x_L: float) -> np.ndarray:
    """Initial data (4.23): linear ramp from h_eq at x = 0 to h_inf at x_L, then h_inf."""
    return np.where(x > x_L, h_inf, h_eq + (h_inf - h_eq) * np.clip(x, 0.0, None) / x_L)


def _check_pos(name, v):
    if v is None or not (float(v) > 0) or not np.isfinite(v):
        raise ValueError(f"{name} must be a positive number, got {v!r}")
    return float(v)


def simulate(scenario: str, *, t_end: float, D: float, b: float | None = None,
             h_inf: float | None = None, h_eq: float | None = None, x_L: float | None = None,
             A: float = 0.0, x0: float | None = None, L: float | None = None,
             N: int | None = None, save_times=None, progress: bool = True,
             x_left: float | None = None, order: int = 2, method: str = "bdf2",
             h_init: np.ndarray | None = None, options: StepperOptions | None = None, meniscus_q: float | None = None) -> Solution:
    """Run one scenario of Chapter 4 and return a Solution.

    scenario "meniscus": (4.7)/(4.22) on [-x_left, L - x_left] with far-field meniscus slope
      h_x = -1/D on the left (4.16a), precursor h = b on the right (4.16b), initial data (4.17).
    scenario "ruc": (4.7)/(4.22) on [0, L], h = h_eq and h_xxx = 0 at x = 0 (4.24a), h -> h_inf on
      the right (4.24b), initial ramp (4.23) over [0, x_L].
    scenario "wall": no-flux walls on [0, L] from `h_init` (mass-conservation checks).
    scenario "front": far-field states h = h_inf (left) and h = b (right) on [x_min, x_min + L]
      from `h_init` (travelling-wave checks; x_min = -x_left, default 0).
    A, x0: conical term of (4.22) (requires x + x0 > 0 on the whole domain).
    order: 1 (upwind EO flux) or 2 (limited reconstruction); method: "bdf2" (default) or "be".
    meniscus_q: None (default) = the far-field meniscus is an infinite reservoir (boundary cell
      held, boundary flux = flux of the first interior face); a number = fixed boundary flux.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")
    if t_end is None or not (float(t_end) > 0):
        raise ValueError(f"t_end must be positive, got {t_end!r}")
    if D is None or not (float(D) >= 0) or not np.isfinite(D):
        raise ValueError(f"D must be >= 0, got {D!r}")
    if N is not None and (int(N) != N or N < 10):
        raise ValueError(f"N must be an integer >= 10, got {N!r}")
    if L is not None and not (float(L) > 0):
        raise ValueError(f"L must be positive, got {L!r}")
    if A != 0.0:
        x0 = _check_pos("x0", x0)
    phys = Physics(D=float(D), A=float(A), x0=float(x0 or 0.0), order=order)
    params = dict(scenario=scenario, t_end=t_end, D=D, b=b, h_inf=h_inf, h_eq=h_eq, x_L=x_L, A=A,
                  x0=x0, order=order, method=method)
    if scenario == "meniscus":
        b = _check_pos("b", b)
        if D <= 0:
            raise ValueError(f"D must be positive for the meniscus condition h_x = -1/D, got {D!r}")
        x_left = 10.0 if x_left is None else _check_pos("x_left", x_left)
        L = 100.0 if L is None else float(L)
        N = int(round(L / 0.05)) if N is None else int(N)
        grid = Grid(-x_left, L, N)
        left, right = side_meniscus(D, grid.dx, meniscus_q or 0.0, reservoir=meniscus_q is None), side_dirichlet(b)
        h0 = meniscus_initial(grid.x, D, b)
    elif scenario == "ruc":
        h_inf = _check_pos("h_inf", h_inf)
        h_eq = _check_pos("h_eq", h_eq)
        x_L = _check_pos("x_L", x_L)
        L = 200.0 if L is None else float(L)
        N = int(round(L / 0.05)) if N is None else int(N)
        grid = Grid(0.0, L, N)
        left, right = side_pinned(h_eq), side_dirichlet(h_inf)
        h0 = ruc_initial(grid.x, h_inf, h_eq, x_L)
    elif scenario == "front":
        b = _check_pos("b", b)
        h_inf = _check_pos("h_inf", h_inf)
        if h_init is None:
            raise ValueError("h_init is required for scenario 'front'")
        L = 100.0 if L is None else float(L)
        N = len(h_init) if N is None else int(N)
        grid = Grid(-(x_left or 0.0), L, N)
        left, right = side_dirichlet(h_inf), side_dirichlet(b)
        h0 = np.asarray(h_init, float)
    else:
        if h_init is None:
            raise ValueError("h_init is required for scenario 'wall'")
        L = 1.0 if L is None else float(L)
        N = len(h_init) if N is None else int(N)
        grid = Grid(0.0, L, N)
        left, right = side_wall(), side_wall()
        h0 = np.asarray(h_init, float)
    if h_init is not None and scenario != "wall":
        h0 = np.asarray(h_init, float)
    if A != 0.0 and grid.x_min + phys.x0 <= 0:
        raise ValueError(f"x0 must exceed {-grid.x_min} so that x + x0 > 0 on the domain, got {x0}")
    opts = options or StepperOptions(method=method)
    if options is None:
        opts.method = method
    params.update(L=L, N=N, x_min=grid.x_min, dx=grid.dx)
    sol = integrate(h0, grid, phys, left, right, float(t_end), save_times=save_times, opts=opts,
                    progress=progress, desc=f"{scenario} D={D:g}")
    sol.params = params
    return sol

"""Implicit time stepping of (4.7)/(4.22): backward Euler or variable-step BDF2, Newton's method
with the analytic pentadiagonal Jacobian solved by LAPACK banded LU (dgbsv, in place on reused
buffers: `newton_iteration`), and an adaptive step (local-error control from a predictor,
halve-and-retry on Newton failure or loss of positivity, clear error after repeated failures).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg.lapack import dgbsv

from .grid import Grid, Physics, Side, _aligned, workspace
from .jacobian import BandViews, assemble


class StepFailure(RuntimeError):
    """Raised when the adaptive stepper cannot make progress."""


@dataclass
class StepperOptions:
    """Tolerances of Newton and of the time-step controller.

    newton_tol: stop when max_i |dh_i| / max(|h_i|, h_floor) < newton_tol (relative to h, so the
    h ~ 50 meniscus does not force updates below rounding);  time_rtol/time_atol: local error
    target per step;  dt_max: cap on the step.
    """

    method: str = "bdf2"        # "bdf2" (variable-step BDF2, default) or "be" (backward Euler)
    newton_tol: float = 1e-8
    newton_maxit: int = 10
    h_floor: float = 1e-6
    time_rtol: float = 1e-4
    time_atol: float = 1e-5
    dt0: float = 1e-4
    dt_min: float = 1e-12
    dt_max: float = 1.0
    max_failures: int = 30
    grow_max: float = 2.0
    shrink_min: float = 0.2
    positivity_floor: float = 0.0   # > 0: lift values in (-floor, floor) to floor (mass logged)

    def validate(self) -> None:
        if self.method not in ("be", "bdf2"):
            raise ValueError(f"method must be 'be' or 'bdf2', got {self.method!r}")
        for name in ("newton_tol", "time_rtol", "dt0", "dt_max"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")


@dataclass
class Stats:
    steps: int = 0
    rejected: int = 0
    newton_iterations: int = 0
    newton_failures: int = 0
    positivity_rejections: int = 0
    error_rejections: int = 0
    wall_time: float = 0.0
    dt_last: float = 0.0
    floor_mass: float = 0.0         # sum of (floor - h) added by positivity_floor (per cell)


@dataclass
class Solution:
    """Saved snapshots: x (N,), t (n_saved,), h (n_saved, N), stats, and the run parameters."""

    x: np.ndarray
    t: np.ndarray
    h: np.ndarray
    stats: Stats
    params: dict = field(default_factory=dict)

    def at(self, t: float) -> np.ndarray:
        """Snapshot closest to time t."""
        return self.h[int(np.argmin(np.abs(self.t - t)))]


class NewtonWorkspace:
    """Reused buffers of one Newton iteration at grid size N: the (7, N) Fortran-ordered LAPACK
    band (64-byte aligned; rows 0-1, the fill-in of partial pivoting, are zeroed by dgbtrf
    itself), the right-hand side / update vector and the flux workspace."""

    def __init__(self, N: int):
        self.N = N
        self.flux = workspace(N)
        abT = _aligned(7 * N).reshape(N, 7)
        abT[:] = 0.0
        self.ab = abT.T                    # (7, N), F-contiguous
        self.rhs = _aligned(N)
        self.views = BandViews(self.ab, 2, self.flux)


_NEWTON_WS: dict = {}


def newton_workspace(N: int) -> NewtonWorkspace:
    key = (int(N), threading.get_ident())
    ws = _NEWTON_WS.get(key)
    if ws is None or ws.flux is not workspace(N):
        if len(_NEWTON_WS) >= 8:
            _NEWTON_WS.pop(next(iter(_NEWTON_WS)))
        ws = _NEWTON_WS[key] = NewtonWorkspace(int(N))
    return ws


def newton_iteration(h: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
                     a0: float, r: np.ndarray, dt: float, h_floor: float,
                     ws: NewtonWorkspace) -> float:
    """One full Newton iteration in place: assemble -R(h) and dR/dh (band), LAPACK dgbsv
    (banded LU with partial pivoting), h += dh, and the update norm
    max_i |dh_i| / max(|h_i|, h_floor).  Returns inf on a singular Jacobian (h untouched) or a
    non-finite update."""
    ab, rhs = ws.ab, ws.rhs
    assemble(h, grid, phys, left, right, a0, r, dt, rhs, ab, 2, ws.flux, negate_R=True,
             views=ws.views)
    # overwrite flags + F-contiguous ab / contiguous rhs: dgbsv factors and solves in place
    _, _, dh, info = dgbsv(2, 2, ab, rhs, overwrite_ab=1, overwrite_b=1)
    if info != 0:
        return np.inf
    h += dh
    t = ws.flux.t_cell2
    np.abs(h, out=t)
    if not math.isfinite(t.max()):      # max |h| is inf/nan iff some h_i is not finite
        return np.inf
    np.maximum(t, h_floor, out=t)
    np.abs(dh, out=dh)
    np.divide(dh, t, out=dh)
    return float(dh.max())


def newton_solve(h_guess: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side,
                 a0: float, r: np.ndarray, dt: float, opts: StepperOptions):
    """Newton iteration for R(h) = 0.  Returns (h, iterations, converged, last_update_norm)."""
    h = h_guess.copy()
    ws = newton_workspace(grid.N)
    upd = np.inf
    for it in range(1, opts.newton_maxit + 1):
        upd = newton_iteration(h, grid, phys, left, right, a0, r, dt, opts.h_floor, ws)
        if upd == np.inf:
            return h, it, False, np.inf
        if upd < opts.newton_tol:
            return h, it, True, upd
    return h, opts.newton_maxit, False, upd


def integrate(h0: np.ndarray, grid: Grid, phys: Physics, left: Side, right: Side, t_end: float,
              save_times=None, opts: StepperOptions | None = None, progress: bool = False,
              desc: str = "thinfilm") -> Solution:
    """Integrate from t = 0 to t_end, saving at save_times (always includes 0 and t_end)."""
    opts = opts or StepperOptions()
    opts.validate()
    if not t_end > 0:
        raise ValueError(f"t_end must be positive, got {t_end!r}")
    h0 = np.asarray(h0, dtype=float)
    if h0.shape != (grid.N,):
        raise ValueError(f"h0 must have shape ({grid.N},), got {h0.shape}")
    if np.any(h0 <= 0):
        raise ValueError("h0 must be positive")
    if save_times is None:
        save_times = np.array([t_end])
    save_times = np.unique(np.concatenate([[0.0], np.asarray(save_times, float), [t_end]]))
    save_times = save_times[(save_times >= 0) & (save_times <= t_end)]
    saved_t, saved_h = [0.0], [h0.copy()]
    next_save = 1
    stats = Stats()
    t0_wall = time.perf_counter()
    t, dt = 0.0, min(opts.dt0, t_end)
    h, h_prev, dt_prev = h0.copy(), None, None
    h_prev2, dt_prev2 = None, None
    dt_cap = np.inf          # after a Newton/positivity failure: cap that relaxes by 10% a step
    failures = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=float(t_end), desc=desc, unit="t", leave=False,
                   bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} [{elapsed}<{remaining}{postfix}]")
    while next_save < len(save_times):
        target = save_times[next_save]
        rem = target - t
        dt_try = min(dt, opts.dt_max, dt_cap)
        land = dt_try >= rem * (1.0 - 1e-6)
        if land:
            dt_try = rem
        use_bdf2 = opts.method == "bdf2" and h_prev is not None
        if use_bdf2:
            w = dt_try / dt_prev
            a0 = (1.0 + 2.0 * w) / (1.0 + w)
            r = -(1.0 + w) * h + (w * w / (1.0 + w)) * h_prev
        else:
            a0, r = 1.0, -h
        # predictor (extrapolation) = Newton initial guess and local-error reference
        if h_prev is not None:
            slope = (h - h_prev) / dt_prev
            pred = h + dt_try * slope
            if use_bdf2 and np.any(pred <= 0):
                pred = h.copy()
        else:
            pred = h.copy()
        guess = np.where(pred > 0, pred, h)
        h_new, its, ok, upd = newton_solve(guess, grid, phys, left, right, a0, r, dt_try, opts)
        stats.newton_iterations += its
        reason = None
        if not ok:
            reason = "newton"
            stats.newton_failures += 1
        elif opts.positivity_floor > 0 and np.min(h_new) > -opts.positivity_floor:
            low = h_new < opts.positivity_floor
            if low.any():
                stats.floor_mass += float(np.sum(opts.positivity_floor - h_new[low]))
                h_new[low] = opts.positivity_floor
        elif np.any(h_new <= 0):
            reason = "positivity"
            stats.positivity_rejections += 1
        err = 0.0
        if reason is None and h_prev is not None:
            if use_bdf2 and h_prev2 is not None:
                # BDF2: quadratic extrapolation through t-dtp-dtpp, t-dtp, t; for constant steps
                # h_bdf2 - pred = (1 + 2/9) dt^3 h_ttt + ..., LTE = 2/9 dt^3 h_ttt -> factor 2/11
                t0, t1, tau = -(dt_prev + dt_prev2), -dt_prev, dt_try
                l0 = (tau - t1) * tau / ((t0 - t1) * t0)
                l1 = (tau - t0) * tau / ((t1 - t0) * t1)
                l2 = (tau - t0) * (tau - t1) / (t0 * t1)
                pred2 = l0 * h_prev2 + l1 * h_prev + l2 * h
                est = (2.0 / 11.0) * np.abs(h_new - pred2)
            else:
                # BE: h_be - pred_lin = 3/2 dt^2 h_tt + ..., LTE = 1/2 dt^2 h_tt -> factor 1/3
                est = np.abs(h_new - pred) / 3.0
            err = float(np.max(est / (opts.time_atol + opts.time_rtol * np.abs(h_new))))
            if err > 1.0:
                reason = "error"
                stats.error_rejections += 1
        if reason is not None:
            stats.rejected += 1
            failures += 1
            p_order = 2 if (use_bdf2 and h_prev2 is not None) else 1
            if reason != "error":
                dt_cap = 0.5 * dt_try
            if reason == "error":
                dt = dt_try * max(opts.shrink_min, 0.9 * err ** (-1.0 / (p_order + 1)))
            else:
                dt = dt_try * 0.5
            if failures > opts.max_failures or dt < opts.dt_min:
                if bar is not None:
                    bar.close()
                raise StepFailure(
                    f"time stepping failed at t={t:.6g}: dt={dt_try:.3g} after {failures} "
                    f"consecutive rejections (last reason: {reason}, Newton update norm "
                    f"{upd:.3g}, min h {float(np.min(h_new)):.3g})")
            continue
        failures = 0
        dt_cap *= 1.1
        h_prev2, dt_prev2 = h_prev, dt_prev
        h_prev, dt_prev = h, dt_try
        h = h_new
        t = target if land else t + dt_try
        stats.steps += 1
        if bar is not None:
            bar.update(t - bar.n)
            if stats.steps % 50 == 0:
                bar.set_postfix(dt=f"{dt_try:.2g}")
        # step-size update: error control, and Newton effort
        p_order = 2 if (use_bdf2 and h_prev2 is not None) else 1
        fac = opts.grow_max if err == 0.0 else 0.9 * err ** (-1.0 / (p_order + 1))
        if its > 6:
            fac = min(fac, 0.7)
        fac = min(opts.grow_max, max(opts.shrink_min, fac))
        if land:
            # do not let the shortened landing step shrink the next one
            dt = max(dt, dt_try * fac)
        else:
            dt = dt_try * fac
        if land:
            saved_t.append(t)
            saved_h.append(h.copy())
            next_save += 1
    if bar is not None:
        bar.close()
    stats.wall_time = time.perf_counter() - t0_wall
    stats.dt_last = dt_prev or 0.0
    return Solution(x=grid.x, t=np.array(saved_t), h=np.array(saved_h), stats=stats)

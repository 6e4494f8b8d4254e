"""Helpers that read fronts, plateaus and front speeds off a Solution (sections 4.3-4.6)."""
from __future__ import annotations

import numpy as np


def find_fronts(x: np.ndarray, h: np.ndarray, level: float) -> np.ndarray:
    """x positions (linear interpolation) where h crosses `level`."""
    x, h = np.asarray(x, float), np.asarray(h, float)
    s = np.sign(h - level)
    idx = np.nonzero(s[:-1] * s[1:] < 0)[0]
    h0, h1 = h[idx], h[idx + 1]
    return x[idx] + (level - h0) / (h1 - h0) * (x[idx + 1] - x[idx])


def leading_front(x: np.ndarray, h: np.ndarray, b: float, factor: float = 1.1) -> float:
    """Rightmost crossing of the level factor * b: the advancing contact-line front into the
    precursor b."""
    xs = find_fronts(x, h, factor * b)
    if xs.size == 0:
        raise ValueError("no front found")
    return float(xs[-1])


def plateau(x: np.ndarray, h: np.ndarray, x_from: float, x_to: float, flat_tol: float = 0.02,
            h_min: float = -np.inf, h_max: float = np.inf):
    """Plateau height in [x_from, x_to]: median of h over the longest run of points with
    |h_x| < flat_tol and h_min < h < h_max; returns (height, x_start, x_end) or nans if none."""
    x, h = np.asarray(x, float), np.asarray(h, float)
    m = (x >= x_from) & (x <= x_to)
    xs, hs = x[m], h[m]
    if xs.size < 3:
        return float("nan"), float("nan"), float("nan")
    flat = (np.abs(np.gradient(hs, xs)) < flat_tol) & (hs > h_min) & (hs < h_max)
    # longest run of True
    d = np.diff(np.concatenate([[0], flat.astype(int), [0]]))
    starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
    if starts.size == 0:
        return float("nan"), float("nan"), float("nan")
    k = int(np.argmax(ends - starts))
    sl = slice(starts[k], ends[k])
    return float(np.median(hs[sl])), float(xs[sl][0]), float(xs[sl][-1])


def front_speed(t: np.ndarray, positions: np.ndarray) -> float:
    """Least-squares speed of a front from its positions at times t."""
    t, p = np.asarray(t, float), np.asarray(positions, float)
    if t.size < 2:
        raise ValueError("need at least two times")
    return float(np.polyfit(t, p, 1)[0])

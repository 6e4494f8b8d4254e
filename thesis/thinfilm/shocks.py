"""Shock theory of the hyperbolic part (4.11) with the non-convex flux f(h) = h^2 - h^3 (4.9):
Rankine-Hugoniot speed, Lax compressive (4.13), undercompressive (4.14), reverse-undercompressive
(section 4.6) and rarefaction (4.12) connections."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import fprime


def rh_speed(h_left: float, h_right: float) -> float:
    """Rankine-Hugoniot speed s = (f(h_l) - f(h_r)) / (h_l - h_r) = h_l + h_r - (h_l^2 + h_l h_r + h_r^2)."""
    a, b = float(h_left), float(h_right)
    return a + b - (a * a + a * b + b * b)


def rarefaction_profile(delta) -> np.ndarray:
    """(4.12): H(delta) = (f')^{-1}(delta) = 1/3 - sqrt(1 - 3 delta)/3 (the h < 1/3 branch), delta = x/t."""
    delta = np.asarray(delta, dtype=float)
    return (1.0 - np.sqrt(np.clip(1.0 - 3.0 * delta, 0.0, None))) / 3.0


@dataclass(frozen=True)
class ShockType:
    """Classification of the jump h_left -> h_right."""

    kind: str          # compressive | undercompressive | reverse-undercompressive | rarefaction | trivial
    speed: float       # Rankine-Hugoniot speed
    char_left: float   # f'(h_left)
    char_right: float  # f'(h_right)
    lax: bool          # satisfies (4.13)


def classify_shock(h_left: float, h_right: float, tol: float = 1e-12) -> ShockType:
    """Classify the connection from h_left (x -> -inf) to h_right (x -> +inf).

    compressive (4.13): f'(h_r) < s < f'(h_l), characteristics enter from both sides;
    undercompressive (4.14): s is above (or below) both characteristic speeds, characteristics
      pass through, with h_l > h_r (an advancing front into a thinner film);
    reverse-undercompressive: the same characteristic pattern with h_l < h_r (a depression: a
      thicker film ahead of a thinner one, section 4.6);
    rarefaction (4.12): f'(h_l) < s < f'(h_r) (the jump is replaced by an expansion fan).
    """
    for name, v in (("h_left", h_left), ("h_right", h_right)):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    s = rh_speed(h_left, h_right)
    cl, cr = float(fprime(h_left)), float(fprime(h_right))
    if abs(h_left - h_right) <= tol * max(1.0, abs(h_left)):
        return ShockType("trivial", s, cl, cr, False)
    if cr < s < cl:
        return ShockType("compressive", s, cl, cr, True)
    if (s >= cl and s >= cr) or (s <= cl and s <= cr):
        kind = "undercompressive" if h_left > h_right else "reverse-undercompressive"
        return ShockType(kind, s, cl, cr, False)
    return ShockType("rarefaction", s, cl, cr, False)

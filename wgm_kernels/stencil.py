"""Pixel-neighbour stencils: the edge set E and weights w_ij of the pixel graph (Section 1.2.3, 1.2.6).

A stencil is stored as canonical half-offsets (dy, dx) with dy > 0, or dy == 0 and dx > 0: pixel
i = (y, x) is joined to j = (y + dy, x + dx) whenever both lie inside the image, so every undirected
edge is counted once (the sum over (i, j) in E of eq. 1.8). These are the neighbour relations
O_1 ... O_d of Algorithm 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

STENCILS = ("square", "diamond", "cross")
WEIGHTS = ("uniform", "inverse_square")
DEGREES = ("volume", "none")


@dataclass(frozen=True)
class Stencil:
    """A symmetric pixel stencil.

    Args:
        offsets: (dy, dx) pairs. Both (dy, dx) and (-dy, -dx) may be given (they are the same undirected
            edge and must then carry the same weight); (0, 0) is not allowed.
        weights: ω for each offset (ω ≥ 0, the inverse ground cost 1/ω of Section 1.2.3); default 1.
    """

    offsets: tuple[tuple[int, int], ...]
    weights: tuple[float, ...]

    def __init__(self, offsets: Iterable[Sequence[int]], weights: Iterable[float] | None = None):
        offs = [tuple(int(c) for c in o) for o in offsets]
        if any(len(o) != 2 for o in offs):
            raise ValueError("Stencil: offsets must be (dy, dx) pairs")
        ws = [1.0] * len(offs) if weights is None else [float(w) for w in weights]
        if len(ws) != len(offs):
            raise ValueError(f"Stencil: got {len(offs)} offsets but {len(ws)} weights")
        canon: dict[tuple[int, int], float] = {}
        for (dy, dx), w in zip(offs, ws):
            if (dy, dx) == (0, 0):
                raise ValueError("Stencil: offset (0, 0) is not an edge")
            if not math.isfinite(w) or w < 0:
                raise ValueError(f"Stencil: edge weight must be finite and nonnegative, got {w} for ({dy}, {dx})")
            key = (dy, dx) if (dy > 0 or (dy == 0 and dx > 0)) else (-dy, -dx)
            if key in canon and canon[key] != w:
                raise ValueError(f"Stencil: offset {key} and its mirror carry different weights ({canon[key]} vs {w})")
            canon[key] = w
        if not canon:
            raise ValueError("Stencil: needs at least one offset")
        items = sorted(canon.items())
        object.__setattr__(self, "offsets", tuple(k for k, _ in items))
        object.__setattr__(self, "weights", tuple(w for _, w in items))

    @property
    def dy(self) -> list[int]:
        return [o[0] for o in self.offsets]

    @property
    def dx(self) -> list[int]:
        return [o[1] for o in self.offsets]

    @property
    def radius(self) -> int:
        return max(max(abs(dy), abs(dx)) for dy, dx in self.offsets)

    def num_edges(self, H: int, W: int) -> int:
        """|E| on an H×W image: edges with both ends inside (no padding, no wrap-around)."""
        return sum(max(H - abs(dy), 0) * max(W - abs(dx), 0) for dy, dx in self.offsets)


def _named(stencil: str, radius: int, weight: str) -> Stencil:
    inside = {
        "square": lambda dy, dx: max(abs(dy), abs(dx)) <= radius,
        "diamond": lambda dy, dx: abs(dy) + abs(dx) <= radius,
        "cross": lambda dy, dx: dy == 0 or dx == 0,
    }[stencil]
    offs = [
        (dy, dx)
        for dy in range(0, radius + 1)
        for dx in range(-radius, radius + 1)
        if (dy > 0 or dx > 0) and inside(dy, dx)
    ]
    ws = [1.0 if weight == "uniform" else 1.0 / (dy * dy + dx * dx) for dy, dx in offs]
    return Stencil(offs, ws)


def make_stencil(stencil: str | Stencil = "square", radius: int = 1, weight: str = "uniform") -> Stencil:
    """The named stencil of the given radius, or ``stencil`` itself if it is a :class:`Stencil`.

    ``square``: max(|dy|, |dx|) ≤ r (the thesis grid-searched r = 2, 4, 6, 8); ``diamond``: |dy| + |dx| ≤ r
    (the published WWGAN code: r = 2); ``cross``: axis-aligned offsets up to r. ``weight`` is ``uniform``
    (ω = 1) or ``inverse_square`` (ω = 1 / (dy² + dx²)).
    """
    if isinstance(stencil, Stencil):
        return stencil
    if not isinstance(stencil, str) or stencil not in STENCILS:
        raise ValueError(f"stencil must be one of {STENCILS} or a Stencil, got {stencil!r}")
    if isinstance(radius, bool) or not isinstance(radius, int) or radius < 1:
        raise ValueError(f"radius must be an integer >= 1, got {radius!r}")
    if weight not in WEIGHTS:
        raise ValueError(f"weight must be one of {WEIGHTS}, got {weight!r}")
    return _named(stencil, radius, weight)


def check_degree(degree: str) -> bool:
    """Validates ``degree`` and returns whether the volume normalization d_i is used."""
    if degree not in DEGREES:
        raise ValueError(f"degree must be one of {DEGREES}, got {degree!r}")
    return degree == "volume"


def pair_slices(dy: int, dx: int, H: int, W: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Index windows of i and j = i + (dy, dx) over all pixel pairs with both ends in the image."""
    ny, nx = max(H - abs(dy), 0), max(W - abs(dx), 0)  # clamp: a negative stop would wrap around
    yi, xi = max(0, -dy), max(0, -dx)
    yj, xj = max(0, dy), max(0, dx)
    return (slice(yi, yi + ny), slice(xi, xi + nx)), (slice(yj, yj + ny), slice(xj, xj + nx))


def inverse_volume(st: Stencil, H: int, W: int, volume: bool, *, dtype=torch.float64, device=None) -> torch.Tensor:
    """1/d_i on the H×W grid (Section 1.2.5): d_i = deg_i / Σ_k deg_k, deg_i = Σ_j ω_ij over in-image
    neighbours. Isolated pixels get 0 (they touch no edge). ``volume=False`` gives all ones. Shape (H, W)."""
    if not volume:
        return torch.ones(H, W, dtype=dtype, device=device)
    deg = torch.zeros(H, W, dtype=torch.float64)
    for (dy, dx), w in zip(st.offsets, st.weights):
        si, sj = pair_slices(dy, dx, H, W)
        deg[si] += w  # i has neighbour i + (dy, dx)
        deg[sj] += w  # j has neighbour j - (dy, dx)
    total = deg.sum()
    inv = torch.where(deg > 0, total / deg.clamp_min(1e-300), torch.zeros((), dtype=torch.float64))
    return inv.to(dtype=dtype, device=device)

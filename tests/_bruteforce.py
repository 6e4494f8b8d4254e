"""An independent dense brute force of the Wasserstein gradient norm (Definition 1.2.2, eq. 1.8, 1.17).

Builds the pixel graph by testing every pair of pixels against the stencil's defining inequality, the
discrete gradient D (|E| x n), Λ(x) and L(x) = Dᵀ Λ(x) D as dense float64 matrices. Shares no code with
the package.
"""
from __future__ import annotations

import itertools

import numpy as np


def in_stencil(kind: str, r: int, dy: int, dx: int) -> bool:
    if (dy, dx) == (0, 0):
        return False
    if kind == "square":
        return max(abs(dy), abs(dx)) <= r
    if kind == "diamond":
        return abs(dy) + abs(dx) <= r
    if kind == "cross":
        return (dy == 0 or dx == 0) and max(abs(dy), abs(dx)) <= r
    raise ValueError(kind)


def grid_edges(H: int, W: int, weight_of) -> list[tuple[int, int, float]]:
    """All pairs i > j of pixels whose offset has a weight (weight_of(dy, dx) -> float or None)."""
    pos = [(y, x) for y in range(H) for x in range(W)]
    edges = []
    for i, j in itertools.combinations(range(H * W), 2):
        dy, dx = pos[j][0] - pos[i][0], pos[j][1] - pos[i][1]
        w = weight_of(dy, dx)
        if w is not None:
            edges.append((j, i, w))  # i > j as in Definition 1.2.2
    return edges


def named_weight_of(kind: str, r: int, weight: str):
    def weight_of(dy, dx):
        if not in_stencil(kind, r, dy, dx):
            return None
        return 1.0 if weight == "uniform" else 1.0 / (dy * dy + dx * dx)

    return weight_of


def custom_weight_of(offsets, weights):
    table = {}
    for (dy, dx), w in zip(offsets, weights):
        table[(dy, dx)] = w
        table[(-dy, -dx)] = w
    return lambda dy, dx: table.get((dy, dx))


def laplacian(p: np.ndarray, n: int, edges, volume: bool) -> np.ndarray:
    """L(p) = Dᵀ Λ(p) D with Λ_ee = (p_i/d_i + p_j/d_j)/2 and d_i = deg_i / Σ deg (Section 1.2.5)."""
    D = np.zeros((len(edges), n))
    deg = np.zeros(n)
    for e, (i, j, w) in enumerate(edges):
        D[e, i], D[e, j] = np.sqrt(w), -np.sqrt(w)
        deg[i] += w
        deg[j] += w
    d = deg / deg.sum() if volume else np.ones(n)
    lam = np.array([(p[i] / d[i] + p[j] / d[j]) / 2 for i, j, _ in edges])
    return D.T @ np.diag(lam) @ D


def norm_sq(x: np.ndarray, u: np.ndarray, v: np.ndarray, edges, volume: bool, alpha: float) -> np.ndarray:
    """Σ_c uᵀ (L(x) + α 11ᵀ) v per sample for (B, C, H, W) arrays."""
    B, C, H, W = x.shape
    n = H * W
    out = np.zeros(B)
    for b in range(B):
        for c in range(C):
            p, uu, vv = x[b, c].ravel(), u[b, c].ravel(), v[b, c].ravel()
            L = laplacian(p, n, edges, volume) + alpha * np.ones((n, n))
            out[b] += uu @ L @ vv
    return out

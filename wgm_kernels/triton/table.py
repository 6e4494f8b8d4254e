"""The stencil as the Triton kernels read it: one small table, never a per-pixel degree tensor.

Layout of the 1-D table (dtype = the kernels' accumulation dtype, float32 or float64), K half-offsets,
R the stencil radius, S = 2R + 2:

    tab[0:K]          dy_k           (integers, exact in floating point)
    tab[K:2K]         dx_k
    tab[2K:3K]        ω_k
    tab[3K:3K+S*S]    summed-area table P of the full symmetric stencil's weights W2 (2R+1)²:
                      P[a, b] = Σ_{i<a, j<b} W2[i, j],  W2[R±dy, R±dx] = ω_k.

The degree of pixel (y, x) of an H×W image (Section 1.2.5) is the sum of W2 over the rectangle of
offsets that stay inside the image, so any pixel's degree is four table look-ups (the backward needs it
at every neighbour, where a loop over the stencil would cost O(K) per neighbour). The table is
(2R+2)² + 3K numbers — the size of the stencil, independent of the image.
"""
from __future__ import annotations

import functools

import torch


@functools.lru_cache(maxsize=64)
def _table_cpu(dy: tuple[int, ...], dx: tuple[int, ...], w: tuple[float, ...]) -> torch.Tensor:
    R = max(max(abs(a), abs(b)) for a, b in zip(dy, dx))
    S = 2 * R + 2
    W2 = torch.zeros(2 * R + 1, 2 * R + 1, dtype=torch.float64)
    for a, b, wk in zip(dy, dx, w):
        W2[R + a, R + b] += wk
        W2[R - a, R - b] += wk
    P = torch.zeros(S, S, dtype=torch.float64)
    P[1:, 1:] = W2.cumsum(0).cumsum(1)
    head = torch.tensor([*dy, *dx, *w], dtype=torch.float64)
    return torch.cat([head, P.flatten()])


@functools.lru_cache(maxsize=64)
def _table_on(dy, dx, w, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # Cached per device so repeated calls do not pay a host-to-device copy.
    return _table_cpu(dy, dx, w).to(dtype=dtype, device=device)


def stencil_table(dy, dx, w, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, int]:
    """(table, R) for canonical half-offsets ``dy``, ``dx`` with weights ``w`` (see the module docstring)."""
    dy, dx, w = tuple(int(a) for a in dy), tuple(int(a) for a in dx), tuple(float(a) for a in w)
    if not dy:
        raise ValueError("wgm_kernels: the stencil needs at least one offset")
    R = max(max(abs(a), abs(b)) for a, b in zip(dy, dx))
    return _table_on(dy, dx, w, dtype, torch.device(device)), R


def total_degree(dy, dx, w, H: int, W: int) -> float:
    """Σ_k deg_k over the H×W image: each in-image edge adds ω to both of its ends."""
    return float(sum(2.0 * wk * max(H - abs(a), 0) * max(W - abs(b), 0) for a, b, wk in zip(dy, dx, w)))

"""Critic robustness metrics of Section 1.4.4.1-1.4.4.2 (Table 1.1, Fig. 1.5, Fig. 1.6).

* Translation robustness (Table 1.1): each test image is shifted 0…H pixels (vertically, then
  horizontally; the vacated rows/columns filled with the background value), the critic is evaluated on
  the H + 1 images, and each curve v ∈ R^{H+1} is summarized by its normalized total variation and its
  number of zero crossings.
* Salt-and-pepper robustness (Fig. 1.6 / Appendix 1.A.3): each entry of the (C·H·W) vector is replaced
  with probability p by the minimum or maximum pixel value (equal odds).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from thesis.data import translation_sequence


def _as_2d(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[None]
    if v.ndim != 2 or v.shape[1] < 2:
        raise ValueError(f"values must be a sequence (L,) or batch (N, L) with L >= 2, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    return v


def total_variation(values) -> np.ndarray:
    """TV(v) = Σ_i |v_{i+1} − v_i| per sequence: (L,) -> (1,), (N, L) -> (N,)."""
    v = _as_2d(values)
    return np.abs(np.diff(v, axis=1)).sum(1)


def normalized_total_variation(values) -> np.ndarray:
    """TV(v) / (max v − min v) per sequence (0 for a constant sequence).

    The thesis does not define its normalization (Table 1.1); this one is scale- and offset-invariant,
    equals 1 exactly for a monotone curve and grows with every oscillation (each extra up-down swing of
    full height adds 2).
    """
    v = _as_2d(values)
    rng = v.max(1) - v.min(1)
    tv = np.abs(np.diff(v, axis=1)).sum(1)
    return np.where(rng > 0, tv / np.where(rng > 0, rng, 1.0), 0.0)


def zero_crossings(values) -> np.ndarray:
    """Number of sign changes of v per sequence (exact zeros are skipped): (N, L) -> (N,) int."""
    v = _as_2d(values)
    out = np.zeros(len(v), dtype=np.int64)
    for n, row in enumerate(np.sign(v)):
        s = row[row != 0]
        out[n] = int(np.count_nonzero(s[1:] != s[:-1]))
    return out


@torch.no_grad()
def translation_curves(critic: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, axis: str = "vertical",
                       fill: float = -1.0, batch: int = 256) -> np.ndarray:
    """Critic values along translation sequences (Fig. 1.5).

    Args:
        X: (N, C, H, W) test images; shifts 0, 1, …, H (``"vertical"``, downward) or 0…W (``"horizontal"``).
        fill: value of the vacated pixels (the background: -1 for images in [-1, 1]).
    Returns:
        (N, H + 1) critic values.
    """
    if X.dim() != 4:
        raise ValueError(f"X must be (N, C, H, W), got shape {tuple(X.shape)}")
    L = X.shape[-2] if axis == "vertical" else X.shape[-1]
    seq = translation_sequence(X, range(L + 1), axis, fill)  # (L+1, N, C, H, W)
    flat = seq.reshape(-1, *X.shape[1:])
    vals = torch.cat([critic(flat[i:i + batch]).reshape(-1) for i in range(0, len(flat), batch)])
    return vals.reshape(L + 1, len(X)).T.double().numpy()


def translation_table(critic, X: torch.Tensor, fill: float = -1.0, offset: float = 0.0) -> dict[str, float]:
    """Table 1.1 row: mean ± std over images of normalized TV and zero crossings, per axis.

    Zero crossings are counted for v − ``offset``. A WGAN critic is only defined up to a constant, so the
    raw sign (the thesis's "real"/"fake" label, offset 0) can be constant along every curve; the CLI also
    reports crossings of the real/fake midpoint offset = (mean D(real) + mean D(fake))/2.
    """
    row: dict[str, float] = {}
    for axis in ("vertical", "horizontal"):
        curves = translation_curves(critic, X, axis, fill)
        ntv, zc = normalized_total_variation(curves), zero_crossings(curves - offset)
        row[f"{axis}_ntv"], row[f"{axis}_ntv_std"] = float(ntv.mean()), float(ntv.std())
        row[f"{axis}_zero_crossings"], row[f"{axis}_zero_crossings_std"] = float(zc.mean()), float(zc.std())
    return row


def salt_and_pepper(x: torch.Tensor, p: float = 0.15, value_range: tuple[float, float] = (-1.0, 1.0),
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Sets each entry of x (any shape) with probability p to value_range[0] or [1] (equal odds)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    hit = torch.rand(x.shape, generator=generator) < p
    hi = torch.rand(x.shape, generator=generator) < 0.5
    noisy = torch.where(hi, torch.full_like(x, value_range[1]), torch.full_like(x, value_range[0]))
    return torch.where(hit, noisy, x)


@torch.no_grad()
def noise_robustness(critic, X: torch.Tensor, p: float = 0.15, seed: int = 0) -> dict:
    """Critic on clean vs salt-and-pepper real images (Fig. 1.6).

    Returns ``clean``, ``noisy`` (N,) arrays and two scale-free summaries: ``shift`` = |mean(noisy) −
    mean(clean)| / std(clean) (how far noise moves the critic, in units of its spread on clean data —
    separate clusters in Fig. 1.6 mean a large shift) and ``mean_abs_change`` = mean |D(noisy) − D(clean)|
    / std(clean).
    """
    g = torch.Generator().manual_seed(seed)
    clean = critic(X).reshape(-1).double().numpy()
    noisy = critic(salt_and_pepper(X, p, generator=g)).reshape(-1).double().numpy()
    sd = clean.std() if clean.std() > 0 else 1.0
    return {"clean": clean, "noisy": noisy, "shift": float(abs(noisy.mean() - clean.mean()) / sd),
            "mean_abs_change": float(np.abs(noisy - clean).mean() / sd)}

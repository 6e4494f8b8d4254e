"""Evaluation of Section 1.5.5: robust test error (Table 1.2) and translation label flips (Table 1.3)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from thesis.data import translation_sequence

from .attacks import fgsm, ifgsm


@torch.no_grad()
def predict(model, X: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Predicted labels (N,) for (N, C, H, W) images."""
    return torch.cat([model(X[i:i + batch]).argmax(1) for i in range(0, len(X), batch)])


def error_rate(model, X: torch.Tensor, y: torch.Tensor) -> float:
    """Test error in percent."""
    return 100.0 * float((predict(model, X) != y).float().mean())


def attacked_error(model, X: torch.Tensor, y: torch.Tensor, attack: Callable, batch: int = 256, **kw) -> float:
    """Error (%) on ``attack(model, x, y, **kw)`` of each test batch (white box)."""
    wrong = 0
    for i in range(0, len(X), batch):
        xa = attack(model, X[i:i + batch], y[i:i + batch], **kw)
        wrong += int((predict(model, xa) != y[i:i + batch]).sum())
    return 100.0 * wrong / len(X)


def robust_table(model, X: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Table 1.2 column: natural, FGSM ε = 8/255 and 25/255, I-FGSM-20 (α = 2/255, ε = 8/255) errors (%)."""
    return {
        "natural": error_rate(model, X, y),
        "fgsm_8": attacked_error(model, X, y, fgsm, eps=8 / 255),
        "fgsm_25": attacked_error(model, X, y, fgsm, eps=25 / 255),
        "ifgsm20_8": attacked_error(model, X, y, ifgsm, eps=8 / 255, alpha=2 / 255, steps=20),
    }


def count_flips(labels) -> np.ndarray:
    """Number of changes between consecutive labels per sequence: (N, L) -> (N,)."""
    a = np.asarray(labels)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise ValueError(f"labels must be (L,) or (N, L), got shape {a.shape}")
    return (a[:, 1:] != a[:, :-1]).sum(1)


def translation_flips(model, X: torch.Tensor, axis: str, max_shift: int, fill: float = 0.0) -> np.ndarray:
    """Label flips along the sequence of shifts −max_shift…max_shift with constant padding (Fig. 1.8).

    Args:
        X: (N, C, H, W) test images. max_shift: ≥ 1 pixels each way.
    Returns:
        (N,) number of prediction changes between consecutive shifts (Table 1.3 averages it).
    """
    if int(max_shift) < 1:
        raise ValueError(f"max_shift must be >= 1, got {max_shift!r}")
    shifts = range(-int(max_shift), int(max_shift) + 1)
    seq = translation_sequence(X, shifts, axis, fill)  # (L, N, C, H, W)
    preds = predict(model, seq.reshape(-1, *X.shape[1:])).reshape(len(shifts), len(X)).T
    return count_flips(preds.numpy())

"""Small classifier with softplus activations (Appendix 1.A.3: Softplus(x) = log(1 + e^{βx})/β, β = 1,
threshold 20). Smooth activations matter: the regularizers differentiate the input gradient again.
No batch norm, so that per-example input gradients are independent of the rest of the batch.

Two departures from the thesis's ResNet-20 (which has batch norm), both needed for this BN-free CNN to
train at all with SGD (measured: with plain softplus and raw [0, 1] inputs the loss stays at log 10 for
4 epochs at learning rates 0.01-0.1 and with Adam): the activation is centred, softplus(x) − log 2 (same
curvature, value 0 at 0), and the model standardizes its input, (x − mean)/std, inside ``forward``, so
attacks, ε-balls and the Wasserstein mass all stay in [0, 1] pixel space ("standard normalization of the
pixel values", Appendix 1.A.3).
"""
from __future__ import annotations

import math

import torch
from torch import nn


class CenteredSoftplus(nn.Softplus):
    """softplus_{β=1, threshold=20}(x) − log 2."""

    def __init__(self) -> None:
        super().__init__(beta=1.0, threshold=20.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) - math.log(2.0)


class SoftplusCNN(nn.Module):
    """(B, C, size, size) images in [0, 1] -> (B, n_classes) logits.

    standardize → conv3×3(w) → conv3×3/2(2w) → conv3×3/2(4w) → flatten → linear, centred softplus between.
    A CPU-sized stand-in for the thesis's ResNet-20.
    """

    def __init__(self, channels: int = 1, width: int = 16, n_classes: int = 10, size: int = 32,
                 mean: float | None = None, std: float | None = None) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        if size < 4 or size % 4:
            raise ValueError(f"size must be a positive multiple of 4, got {size}")
        # grey padded MNIST: mean ≈ 0.1, std ≈ 0.3; colourized digits: ≈ 0.5, 0.3
        self.mean = (0.1 if channels == 1 else 0.5) if mean is None else float(mean)
        self.std = 0.3 if std is None else float(std)
        if not self.std > 0:
            raise ValueError(f"std must be > 0, got {std}")
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, 1, 1), CenteredSoftplus(),
            nn.Conv2d(width, 2 * width, 3, 2, 1), CenteredSoftplus(),
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), CenteredSoftplus(),
            nn.Flatten(), nn.Linear(4 * width * (size // 4) ** 2, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)

"""DCGAN-style generator and critic of Section 1.4.4 / Appendix 1.A.3.

3 (de)convolution layers each; batch norm in the generator only — the critic has none, because a gradient
penalty (Algorithm 2) must see each sample independently. Leaky-ReLU critic, latent dimension 128.
"""
from __future__ import annotations

import torch
from torch import nn


def _check_arch(channels: int, size: int, dim: int) -> None:
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    if size < 8 or size % 8:
        raise ValueError(f"size must be a positive multiple of 8 (e.g. 32), got {size}")
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")


class Generator(nn.Module):
    """z (B, nz) -> images (B, C, size, size) in [-1, 1] (tanh).

    Linear to (4·dim, size/8, size/8), then 3 stride-2 transposed convolutions (BN + ReLU between).
    """

    def __init__(self, channels: int = 1, size: int = 32, dim: int = 64, nz: int = 128) -> None:
        super().__init__()
        _check_arch(channels, size, dim)
        if nz < 1:
            raise ValueError(f"nz must be >= 1, got {nz}")
        self.nz, self.dim, self.s0 = nz, dim, size // 8
        self.fc = nn.Sequential(nn.Linear(nz, 4 * dim * self.s0 ** 2), nn.BatchNorm1d(4 * dim * self.s0 ** 2),
                                nn.ReLU(True))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4 * dim, 2 * dim, 4, 2, 1), nn.BatchNorm2d(2 * dim), nn.ReLU(True),
            nn.ConvTranspose2d(2 * dim, dim, 4, 2, 1), nn.BatchNorm2d(dim), nn.ReLU(True),
            nn.ConvTranspose2d(dim, channels, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(z.shape[0], 4 * self.dim, self.s0, self.s0)
        return self.net(h)


class Critic(nn.Module):
    """images (B, C, size, size) -> scores (B,). 3 stride-2 convolutions with LeakyReLU(0.2), no batch norm."""

    def __init__(self, channels: int = 1, size: int = 32, dim: int = 64) -> None:
        super().__init__()
        _check_arch(channels, size, dim)
        s0 = size // 8
        self.net = nn.Sequential(
            nn.Conv2d(channels, dim, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(dim, 2 * dim, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * dim, 4 * dim, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Flatten(), nn.Linear(4 * dim * s0 * s0, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)

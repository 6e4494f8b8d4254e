"""Sample quality: a Fréchet distance on the features of a small digit classifier trained here.

This is *not* the Inception FID of Fig. 1.7 (no Inception network, no ImageNet features): it is the
Fréchet distance d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}) between Gaussians fitted to the
penultimate-layer features of a CNN classifier trained on the real MNIST digits (same channels/size).
Call it "classifier Fréchet distance" (CFD) when reporting.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import torch
from torch import nn


class FeatureNet(nn.Module):
    """(B, C, 32, 32) in [-1, 1] -> logits (B, 10); :meth:`features` gives the (B, 128) penultimate layer."""

    def __init__(self, channels: int = 1, size: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * (size // 4) ** 2, 128), nn.ReLU(),
        )
        self.head = nn.Linear(128, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_feature_net(X: torch.Tensor, y: torch.Tensor, epochs: int = 3, seed: int = 0, batch: int = 64
                      ) -> FeatureNet:
    """Trains :class:`FeatureNet` with Adam(1e-3) on (N, C, H, W) images in [-1, 1]; returns it in eval mode."""
    torch.manual_seed(seed)
    net = FeatureNet(X.shape[1], X.shape[-1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), batch):
            idx = perm[i:i + batch]
            loss = nn.functional.cross_entropy(net(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def gaussian_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of (N, D) features, N >= 2."""
    f = np.asarray(feats, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"feats must be (N, D) with N >= 2, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """d² between N(μ₁, Σ₁) and N(μ₂, Σ₂) (the FID formula); ≥ 0, 0 iff equal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.all(np.isfinite(covmean)):  # singular product: the usual FID fix, a tiny ridge
            off = 1e-6 * np.eye(len(s1))
            covmean = scipy.linalg.sqrtm((s1 + off) @ (s2 + off))
    covmean = np.real(covmean)
    d = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    return max(d, 0.0)


@torch.no_grad()
def classifier_frechet_distance(net: FeatureNet, A: torch.Tensor, B: torch.Tensor) -> float:
    """Fréchet distance between the feature distributions of two image sets (N, C, H, W)."""
    fa = torch.cat([net.features(A[i:i + 256]) for i in range(0, len(A), 256)]).double().numpy()
    fb = torch.cat([net.features(B[i:i + 256]) for i in range(0, len(B), 256)]).double().numpy()
    return frechet_distance(*gaussian_stats(fa), *gaussian_stats(fb))

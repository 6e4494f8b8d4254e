"""GAN data: the shared MNIST loaders of :mod:`thesis.data`, padded to 32×32, mapped to [-1, 1]."""
from __future__ import annotations

import numpy as np
import torch

from thesis.data import mnist_images


def gan_data(channels: int = 1, size: int = 32, n_test: int = 500, seed: int = 0
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """All 5,000 digits split (with ``seed``) into train / test.

    Returns:
        X_train (5000 − n_test, C, size, size), y_train, X_test (n_test, C, size, size), y_test; images in
        [-1, 1] (the generator's tanh range), labels int64.
    """
    if not 1 <= n_test < 5000:
        raise ValueError(f"n_test must be in [1, 4999], got {n_test!r}")
    X, y = mnist_images(None, seed, channels=channels, size=size)
    perm = np.random.default_rng(seed).permutation(len(X))
    X = torch.from_numpy(X[perm] * 2 - 1)
    y = torch.from_numpy(y[perm])
    return X[n_test:], y[n_test:], X[:n_test], y[:n_test]

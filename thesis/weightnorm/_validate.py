"""Input checks shared by the weightnorm modules: bad input raises ValueError naming the argument."""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["as_data_matrix", "check_positive_int", "check_beta"]


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int, or raise ValueError if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_beta(beta: object, name: str = "beta") -> float:
    """Return ``beta`` as a float, or raise ValueError unless it is finite and > 0."""
    try:
        b = float(beta)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {beta!r}") from None
    if not np.isfinite(b) or b <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {beta!r}")
    return b


def as_data_matrix(X: object, d: int | None = None, *, name: str = "X", nonzero_rows: bool = True,
                   dtype: torch.dtype | None = None, device: torch.device | str | None = None
                   ) -> torch.Tensor:
    """Convert ``X`` to a 2-D floating tensor of shape (n, d) and validate it.

    Raises ValueError (naming ``name``) if ``X`` is not 2-D, is empty, has a width other than ``d``,
    holds non-finite values, or (``nonzero_rows=True``) has a row of zero norm (Assumption 1 needs
    non-parallel, non-degenerate points; the angles of (3.15)-(3.16) are undefined for x_i = 0).
    """
    t = torch.as_tensor(X)
    if not (t.is_floating_point()):
        t = t.to(torch.get_default_dtype())
    if dtype is not None or device is not None:
        t = t.to(dtype=dtype or t.dtype, device=device)
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, d) matrix, got shape {tuple(t.shape)}")
    if t.shape[0] < 1:
        raise ValueError(f"{name} must have at least one row, got shape {tuple(t.shape)}")
    if d is not None and t.shape[1] != d:
        raise ValueError(f"{name} must have width d={d} (shape (n, {d})), got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    if nonzero_rows:
        zero = (t.norm(dim=1) == 0).nonzero().flatten()
        if zero.numel():
            raise ValueError(f"{name} has zero-norm rows (first: row {int(zero[0])}); "
                             "Assumption 1 of Chapter 3 requires non-zero, non-parallel points")
    return t

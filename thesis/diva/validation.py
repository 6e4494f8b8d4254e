"""Input checks and targets for :mod:`thesis.diva` (every error names the offending argument).

Targets: Y is (n, k) float (one-hot or soft) or (n,) integer labels, one-hot encoded by :func:`as_targets`;
features Z are (n, m) float tensors; lam is a positive float (the ridge λ of eqs. 2.5-2.7).
"""
from __future__ import annotations

import math

import torch

__all__ = ["as_targets", "to_targets", "n_classes", "check_features", "check_rows", "check_lam", "check_int",
           "check_positive", "check_loss", "check_data", "check_val", "check_weight", "LOSSES"]

LOSSES = ("ce", "mse")


def as_targets(Y, k: int | None = None, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Regression targets for the ridge fit.

    Args:
        Y: (n,) integer class labels in [0, k), or (n, k) float targets (one-hot or soft), returned as is
            (cast to ``dtype`` if given).
        k: number of classes for integer labels; None means ``max(Y) + 1``. For float Y it must equal
            Y.shape[1] when given.
        dtype: float dtype of the result; None keeps a float Y's dtype and uses the default dtype for labels.
    Returns:
        (n, k) float tensor.
    """
    return to_targets(Y, k, dtype, "Y")


def to_targets(Y, k: int | None, dtype: torch.dtype | None, name: str) -> torch.Tensor:
    if not isinstance(Y, torch.Tensor):
        try:
            Y = torch.as_tensor(Y)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(f"{name} must be (n,) integer labels or (n, k) float targets") from exc
    if k is not None:
        k = check_int(k, "k", 1)
    if Y.dtype == torch.bool or Y.is_complex():
        raise ValueError(f"{name} must be (n,) integer labels or (n, k) float targets, got dtype {Y.dtype}")
    if Y.is_floating_point():
        if Y.ndim != 2:
            raise ValueError(f"{name} with a float dtype must have shape (n, k), got {tuple(Y.shape)}; "
                             "pass integer labels as an integer tensor")
        if k is not None and Y.shape[1] != k:
            raise ValueError(f"{name} must have k={k} columns, got shape {tuple(Y.shape)}")
        if not bool(torch.isfinite(Y).all()):
            raise ValueError(f"{name} contains NaN or infinite values")
        return Y if dtype is None else Y.to(dtype)
    if Y.ndim != 1:
        raise ValueError(f"{name} with an integer dtype must have shape (n,) (class labels), got {tuple(Y.shape)}")
    if Y.numel() and int(Y.min()) < 0:
        raise ValueError(f"{name} labels must be >= 0, got min {int(Y.min())}")
    kmax = int(Y.max()) + 1 if Y.numel() else 1
    if k is None:
        k = kmax
    elif kmax > k:
        raise ValueError(f"{name} labels must be < k={k}, got max {kmax - 1}")
    return torch.nn.functional.one_hot(Y.long(), k).to(dtype or torch.get_default_dtype())


def n_classes(Y, name: str) -> int | None:
    """Label count of integer labels (None for float targets); used to one-hot core and pool jointly."""
    t = Y if isinstance(Y, torch.Tensor) else torch.as_tensor(Y)
    if t.is_floating_point() or t.dtype == torch.bool or t.ndim != 1 or t.numel() == 0:
        return None
    return int(t.max()) + 1


def check_features(Z, name: str, m: int | None = None) -> torch.Tensor:
    if not isinstance(Z, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(Z).__name__}")
    if not Z.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {Z.dtype}")
    if Z.ndim != 2:
        raise ValueError(f"{name} must have shape (n, m), got {tuple(Z.shape)}")
    if Z.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got shape {tuple(Z.shape)}")
    if m is not None and Z.shape[1] != m:
        raise ValueError(f"{name} must have m={m} feature columns (as the training features), "
                         f"got shape {tuple(Z.shape)}")
    if not bool(torch.isfinite(Z).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return Z.detach()


def check_rows(Y: torch.Tensor, Z: torch.Tensor, yname: str, zname: str) -> None:
    if Y.shape[0] != Z.shape[0]:
        raise ValueError(f"{yname} has {Y.shape[0]} rows but {zname} has {Z.shape[0]}; they must match")


def check_lam(lam) -> float:
    if isinstance(lam, torch.Tensor) and lam.numel() == 1:
        lam = float(lam)
    if isinstance(lam, bool) or not isinstance(lam, (int, float)):
        raise ValueError(f"lam must be a positive float, got {lam!r}")
    if not math.isfinite(lam) or lam <= 0:
        raise ValueError(f"lam must be finite and > 0, got {lam!r}")
    return float(lam)


def check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def check_loss(loss: str, misclassified_only: bool = False) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if misclassified_only and loss != "ce":
        raise ValueError("misclassified_only=True needs loss='ce' (pass misclassified_only=False with loss='mse')")


def check_data(Z, Y, k: int | None = None, zname: str = "Z", yname: str = "Y"):
    Z = check_features(Z, zname)
    Y = to_targets(Y, k, Z.dtype, yname)
    check_rows(Y, Z, yname, zname)
    return Z, Y


def check_val(val, Z: torch.Tensor, k: int):
    """val = (Z_val (n_val, m), Y_val (n_val, k) float or (n_val,) labels) -> checked pair, or None."""
    if val is None:
        return None
    if not isinstance(val, (tuple, list)) or len(val) != 2:
        raise ValueError("val must be None or a pair (Z_val, Y_val)")
    Zv = check_features(val[0], "val[0] (Z_val)", Z.shape[1])
    if Zv.dtype != Z.dtype:
        raise ValueError(f"val[0] (Z_val) must have dtype {Z.dtype}, got {Zv.dtype}")
    Yv = to_targets(val[1], k, Z.dtype, "val[1] (Y_val)")
    check_rows(Yv, Zv, "val[1] (Y_val)", "val[0] (Z_val)")
    return Zv, Yv


def check_weight(weight, n: int, ref: torch.Tensor, name: str = "weight") -> torch.Tensor | None:
    if weight is None:
        return None
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point():
        raise ValueError(f"{name} must be a float tensor of shape ({n},)")
    if weight.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {tuple(weight.shape)}")
    if not bool(torch.isfinite(weight).all()) or bool((weight < 0).any()):
        raise ValueError(f"{name} must be finite and >= 0")
    return weight.detach().to(ref.dtype)

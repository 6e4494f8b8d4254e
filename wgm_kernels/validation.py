"""Input checks shared by every backend, so bad input fails the same way on CPU and GPU.

Errors name the offending argument. The O(N) value checks (NaN/Inf, negative mass) run only with
``validate=True`` and never inside ``torch.compile`` (they would need a data-dependent branch).
"""
from __future__ import annotations

import math

import torch

from .stencil import Stencil


def _compiling() -> bool:
    return torch.compiler.is_compiling()


def check_float_tensor(t, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    return t


def check_same(a: torch.Tensor, b: torch.Tensor, na: str, nb: str) -> None:
    if a.dtype != b.dtype:
        raise TypeError(f"{na} and {nb} must have the same dtype, got {a.dtype} and {b.dtype}")
    if a.device != b.device:
        raise ValueError(f"{na} and {nb} must be on the same device, got {a.device} and {b.device}")
    if a.shape != b.shape:
        raise ValueError(f"{na} and {nb} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def check_values(t: torch.Tensor, name: str, *, nonnegative: bool = False) -> None:
    """NaN/Inf (and, for a mass, negative entries) raise a ValueError that counts them."""
    if _compiling() or t.numel() == 0:
        return
    bad = int((~torch.isfinite(t)).sum())
    if bad:
        raise ValueError(f"{name} has {bad} NaN/Inf entries")
    if nonnegative:
        neg = int((t < 0).sum())
        if neg:
            raise ValueError(
                f"{name} has {neg} negative entries (min {float(t.min()):.3g}); the mass must be nonnegative "
                "(map pixel values to [0, ∞) first, or pass validate=False to skip this check)"
            )


def check_images(x, grad, *, validate: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Checks a mass ``x`` and a gradient ``grad`` of shape (B, C, H, W) (or (B, H, W), read as C = 1)."""
    check_float_tensor(x, "x")
    check_float_tensor(grad, "grad")
    for t, name in ((x, "x"), (grad, "grad")):
        if t.dim() not in (3, 4):
            raise ValueError(f"{name} must be 4-D (B, C, H, W) or 3-D (B, H, W), got shape {tuple(t.shape)}")
    check_same(x, grad, "x", "grad")
    if x.dim() == 3:
        x, grad = x.unsqueeze(1), grad.unsqueeze(1)
    if validate:
        check_values(x, "x", nonnegative=True)
        check_values(grad, "grad")
    return x, grad


def check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise TypeError(f"alpha must be a number, got {type(alpha).__name__}") from None
    if not math.isfinite(a) or a < 0:
        raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
    return a


def check_stencil_fits(st: Stencil, H: int, W: int) -> None:
    if st.num_edges(H, W) == 0:
        raise ValueError(
            f"stencil has no edge inside a {H}x{W} image (offsets {list(st.offsets)}); use a smaller offset "
            "or a larger image"
        )

"""Input checks for the weighted-ridge LOO solves (Dukler 2021, Section 2.3.2-2.3.3).

Every error names the offending argument, so bad input fails the same way on CPU and GPU.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..validation import check_float_tensor, check_values

SOLVERS = ("auto", "primal", "dual")
LOSSES = ("mse", "ce")


@dataclass
class RidgeInputs:
    """Checked inputs. ``batch``: broadcast leading shape; ``lam``: 1-D float64 (L,);
    ``has_l``: whether the caller passed a 1-D lam (adds an L dim right after the batch dims)."""

    Z: torch.Tensor
    Y: torch.Tensor
    a: torch.Tensor
    lam: torch.Tensor
    has_l: bool
    batch: torch.Size
    kind: str


def _check_finite(t: torch.Tensor, name: str) -> None:
    # One reduction first (NaN/Inf propagate into the sum); the counting check only if it is not finite.
    if t.numel() == 0 or bool(torch.isfinite(t.sum())):
        return
    check_values(t, name)


def check_float_ok(t, name: str, ref: torch.Tensor) -> None:
    """t must be a finite floating tensor with ref's dtype and device."""
    check_float_tensor(t, name)
    if t.dtype != ref.dtype:
        raise TypeError(f"{name} must have dtype {ref.dtype}, got {t.dtype}")
    if t.device != ref.device:
        raise ValueError(f"{name} must be on device {ref.device}, got {t.device}")
    _check_finite(t.detach(), name)


def check_lam(lam) -> tuple[torch.Tensor, bool]:
    """lam: python float or 0-d tensor -> (1,) and has_l=False; 1-D tensor (L,) -> has_l=True."""
    if isinstance(lam, bool) or not isinstance(lam, (int, float, torch.Tensor)):
        raise TypeError(f"lam must be a float or a 1-D tensor, got {type(lam).__name__}")
    if isinstance(lam, torch.Tensor):
        if lam.ndim > 1:
            raise ValueError(f"lam must be a float or a 1-D tensor, got shape {tuple(lam.shape)}")
        if lam.numel() == 0:
            raise ValueError("lam must hold at least one value")
        has_l = lam.ndim == 1
        lam_t = lam.detach().to("cpu", torch.float64).reshape(-1)
    else:
        has_l = False
        lam_t = torch.tensor([float(lam)], dtype=torch.float64)
    if not bool(torch.isfinite(lam_t).all()) or bool((lam_t <= 0).any()):
        raise ValueError(f"lam must be finite and > 0, got {lam_t.tolist()}")
    return lam_t, has_l


def check_ridge_inputs(Z, Y, lam, weight, solver: str) -> RidgeInputs:
    """Checks shapes Z (..., n, m), Y (..., n, k), weight (..., n) >= 0, lam > 0 and picks the solver.

    ``auto`` picks the dual (n x n kernel) when n < m and the primal (m x m Gram) otherwise: the primal
    LOO loses accuracy for n < m at small lam (1 - h_i by cancellation) and the dual costs O(n^3).
    """
    Z = check_float_tensor(Z, "Z")
    Y = check_float_tensor(Y, "Y")
    if Z.ndim < 2:
        raise ValueError(f"Z must have shape (..., n, m), got {tuple(Z.shape)}")
    if Y.ndim < 2:
        raise ValueError(f"Y must have shape (..., n, k) (Y[:, None] for one output), got {tuple(Y.shape)}")
    if Z.dtype != Y.dtype:
        raise TypeError(f"Z and Y must have the same dtype, got {Z.dtype} and {Y.dtype}")
    if Z.device != Y.device:
        raise ValueError(f"Z and Y must be on the same device, got {Z.device} and {Y.device}")
    n, m = Z.shape[-2], Z.shape[-1]
    if Y.shape[-2] != n:
        raise ValueError(f"Y has {Y.shape[-2]} samples (dim -2) but Z has n={n}")
    if n == 0 or m == 0 or Y.shape[-1] == 0:
        raise ValueError(f"Z and Y must be non-empty, got Z {tuple(Z.shape)} and Y {tuple(Y.shape)}")
    if weight is None:
        a = torch.ones(n, dtype=Z.dtype, device=Z.device)
    else:
        a = check_float_tensor(weight, "weight")
        if a.ndim < 1 or a.shape[-1] != n:
            raise ValueError(f"weight must have shape (..., n) with n={n}, got {tuple(a.shape)}")
        if a.device != Z.device:
            raise ValueError(f"weight must be on Z's device {Z.device}, got {a.device}")
        if a.dtype != Z.dtype:
            raise TypeError(f"weight must have Z's dtype {Z.dtype}, got {a.dtype}")
        _check_finite(a.detach(), "weight")
        neg = int((a.detach() < 0).sum())
        if neg:
            raise ValueError(f"weight has {neg} negative entries; sample weights must be >= 0")
    if bool((a.detach().sum(-1) <= 0).any()):
        raise ValueError("weight is zero for every sample (in at least one batch entry); nothing to fit")
    _check_finite(Z.detach(), "Z")
    _check_finite(Y.detach(), "Y")
    try:
        batch = torch.broadcast_shapes(Z.shape[:-2], Y.shape[:-2], a.shape[:-1])
    except RuntimeError as exc:
        raise ValueError(
            f"batch dims of Z {tuple(Z.shape[:-2])}, Y {tuple(Y.shape[:-2])} and weight "
            f"{tuple(a.shape[:-1])} do not broadcast"
        ) from exc
    lam_t, has_l = check_lam(lam)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    kind = solver if solver != "auto" else ("dual" if n < m else "primal")
    return RidgeInputs(Z, Y, a, lam_t, has_l, batch, kind)


def check_interpolation(d: torch.Tensor, a: torch.Tensor, dtype: torch.dtype) -> None:
    """Raises when 1 - h_i is ~0 for a weighted sample: the fit interpolates it and its LOO prediction
    (eq. 2.12, a division by 1 - h_i) is undefined. d: (B, L, n) float64; a: (B, n)."""
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    bad = (d <= tol) & (a[:, None, :] > 0)
    count = int(bad.sum())
    if count:
        n = d.shape[-1]
        raise ValueError(
            f"{count} sample(s) (of n={n} per fit) have 1 - leverage <= {tol:g}: the ridge fit interpolates "
            "them and the leave-one-out prediction is undefined; use a larger lam"
        )

"""Host side of the Triton kernels: shapes, launch grids, and the per-plane finishing sums.

Inputs are (B, C, H, W) tensors of one dtype (float16, bfloat16, float32, float64) on one device (CUDA, or
CPU inside Triton's interpreter). Accumulation is float32, or float64 for float64 inputs. Validation of
user input happens earlier, in wgm_kernels/validation.py (shared by every backend); here only the
invariants the kernels rely on are asserted.
"""
from __future__ import annotations

import os

import torch
import triton

from .kernels import trilinear_bwd_kernel, trilinear_fwd_kernel
from .table import stencil_table

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
SUPPORTED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def _config(hw: int) -> tuple[int, int]:
    """(BLOCK, num_warps). The interpreter runs each program in numpy, so fewer, larger blocks are faster."""
    if INTERPRET:
        return min(1024, triton.next_power_of_2(hw)), 4
    return min(1024, max(128, triton.next_power_of_2(hw))), 8 if hw >= 1024 else 4


def _check(x: torch.Tensor, *others: torch.Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(f"wgm_kernels (triton): x must be 4-D (B, C, H, W), got shape {tuple(x.shape)}")
    if x.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"wgm_kernels (triton): unsupported dtype {x.dtype}")
    if x.device.type == "cpu" and not INTERPRET:
        raise ValueError("wgm_kernels (triton): CPU tensors run only in Triton's interpreter "
                         "(set TRITON_INTERPRET=1 before triton is imported); use backend='cpp' on CPU")
    for t in others:
        if t.shape != x.shape or t.dtype != x.dtype or t.device != x.device:
            raise ValueError("wgm_kernels (triton): x, u, v must share shape, dtype and device")


class _on_device:
    """Makes x's CUDA device current for the launch (Triton launches on the current device)."""

    def __init__(self, t: torch.Tensor):
        self.ctx = torch.cuda.device(t.device) if t.device.type == "cuda" else None

    def __enter__(self):
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


def _same(u: torch.Tensor, v: torch.Tensor) -> bool:
    return u.data_ptr() == v.data_ptr() and u.stride() == v.stride()


def trilinear_forward(x, u, v, dy, dx, weight, volume: bool, alpha: float) -> torch.Tensor:
    """T(x; u, v): (B, C, H, W) ×3 -> (B,) in x's dtype."""
    _check(x, u, v)
    x, u, v = x.contiguous(), u.contiguous(), v.contiguous()
    B, C, H, W = x.shape
    if x.numel() == 0:
        return x.new_zeros(B)
    acc = _acc_dtype(x.dtype)
    tab, _ = stencil_table(dy, dx, weight, acc, x.device)
    block, warps = _config(H * W)
    nblk = triton.cdiv(H * W, block)
    part = torch.empty(B * C, nblk, 3, dtype=acc, device=x.device)
    with _on_device(x):
        trilinear_fwd_kernel[(B * C, nblk)](
            x, u, v, tab, part, H, W, len(dy), nblk,
            VOLUME=bool(volume), ALPHA=alpha != 0.0, SYM=_same(u, v), BLOCK=block, num_warps=warps,
        )
    sums = part.sum(1)  # (B*C, 3): deterministic, no atomics
    per_plane = sums[:, 0]
    if alpha != 0.0:
        per_plane = per_plane + alpha * sums[:, 1] * sums[:, 2]
    return per_plane.view(B, C).sum(1).to(x.dtype)


def trilinear_backward(grad_out, x, u, v, dy, dx, weight, volume: bool, alpha: float, *, sym: bool = False):
    """(grad_x, grad_u, grad_v) of Σ_b grad_out[b] T(x; u, v)[b], each (B, C, H, W) in x's dtype.

    With ``sym=True`` (u and v the same tensor) returns (grad_x, grad_u + grad_v): the gradient of the
    quadratic form T(x; g, g), written in the same single pass without a third output."""
    _check(x, u, v)
    x, u, v = x.contiguous(), u.contiguous(), v.contiguous()
    B, C, H, W = x.shape
    if grad_out.shape != (B,):
        raise ValueError(f"wgm_kernels (triton): grad_out must have shape ({B},), got {tuple(grad_out.shape)}")
    gx, gu = torch.empty_like(x), torch.empty_like(x)
    gv = gu if sym else torch.empty_like(x)  # unused by the kernel with SYM
    if x.numel() == 0:
        return (gx, gu) if sym else (gx, gu, gv)
    acc = _acc_dtype(x.dtype)
    g = grad_out.to(device=x.device, dtype=acc).contiguous()
    tab, R = stencil_table(dy, dx, weight, acc, x.device)
    has_alpha = alpha != 0.0
    if has_alpha:  # α g (Σv), α g (Σu) per plane: the only cross-block quantity, one reduction each
        ga = (alpha * g).repeat_interleave(C)
        au = ga * v.sum((2, 3), dtype=acc).flatten()
        av = ga * u.sum((2, 3), dtype=acc).flatten()
    else:
        au = av = g
    block, warps = _config(H * W)
    with _on_device(x):
        trilinear_bwd_kernel[(B * C, triton.cdiv(H * W, block))](
            g, x, u, v, tab, au, av, gx, gu, gv, C, H, W, len(dy), R,
            VOLUME=bool(volume), ALPHA=has_alpha, SYM=sym, BLOCK=block, num_warps=warps,
        )
    return (gx, gu) if sym else (gx, gu, gv)

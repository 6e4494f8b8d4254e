"""The Triton kernels as ``torch.library`` ops: ``torch.ops.wgm_kernels.triton_trilinear{,_backward}``.

Same schemas as the native pair (csrc/wgm.cpp), so :func:`wgm_kernels.ops.register_trilinear_autograd`
gives them the same fake implementations and the same analytic autograd: double (and higher) backward
runs through these two kernels again, because every derivative of the trilinear form is another
trilinear form or its gradient.

Why ``torch.library.custom_op`` and not ``triton_op``/``wrap_triton``: ``triton_op`` lets Inductor trace
into the kernel, which buys nothing for a whole-op primitive, and its tracing path does not work with
Triton's interpreter, where CI checks ``torch.compile(fullgraph=True)``. As an opaque custom op with a
fake implementation it compiles without graph breaks on CUDA and in the interpreter alike.
"""
from __future__ import annotations

import torch

from ..ops import register_trilinear_autograd
from . import launch

FWD = "wgm_kernels::triton_trilinear"
BWD = "wgm_kernels::triton_trilinear_backward"


@torch.library.custom_op(FWD, mutates_args=())
def triton_trilinear(x: torch.Tensor, u: torch.Tensor, v: torch.Tensor, dy: list[int], dx: list[int],
                     weight: list[float], volume: bool, alpha: float) -> torch.Tensor:
    """T(x; u, v): (B, C, H, W) ×3 -> (B,)."""
    return launch.trilinear_forward(x, u, v, dy, dx, weight, volume, alpha)


@torch.library.custom_op(BWD, mutates_args=())
def triton_trilinear_backward(grad_out: torch.Tensor, x: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
                              dy: list[int], dx: list[int], weight: list[float], volume: bool,
                              alpha: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(grad_x, grad_u, grad_v) of Σ_b grad_out[b] T(x; u, v)[b]."""
    return launch.trilinear_backward(grad_out, x, u, v, dy, dx, weight, volume, alpha)


register_trilinear_autograd(FWD, BWD)


def trilinear_triton(x, u, v, st, volume: bool, alpha: float) -> torch.Tensor:
    """Backend entry point (signature of :func:`wgm_kernels.reference.trilinear_shift`): (B,).
    The norm (u is v) goes through the quadratic op pair of norm_ops.py, whose backward writes
    (grad_x, grad_g) in one pass."""
    if u is v:
        from .norm_ops import norm_sq_triton

        return norm_sq_triton(x, u, st, volume, alpha)
    return torch.ops.wgm_kernels.triton_trilinear(x, u, v, st.dy, st.dx, list(st.weights), volume, alpha)

"""The quadratic form Q(x; g) = T(x; g, g) = ‖∇^{W²}_x f‖² (eq. 1.8) as its own Triton op pair.

``torch.ops.wgm_kernels.triton_norm_sq(x, g, ...) -> (B,)`` and
``torch.ops.wgm_kernels.triton_norm_sq_backward(grad_out, x, g, ...) -> (grad_x, grad_g)``.

Why a second pair: through the trilinear pair the norm's backward writes grad_u and grad_v separately and
autograd then adds them — two extra full-size passes. Here the backward kernel (SYM) writes grad_x and
grad_g = 2 grad_out (L(x) g + α 11ᵀ g) once: read x, g, grad_out; write grad_x, grad_g.

Higher orders reuse the trilinear pair. For cotangents (a, p) of (grad_x, grad_g), with G = grad_out,
    ⟨a, G E(g, g)⟩ + ⟨p, 2G (L(x) g + α11ᵀg)⟩ = G [T₀(a; g, g) + 2 T(x; p, g)]
so  ∂/∂G = T₀(a; g, g) + 2 T(x; p, g),  ∂/∂x = 2G E(p, g),  ∂/∂g = 2G L(a) g + 2G (L(x) p + α11ᵀp),
all outputs of ``triton_trilinear{,_backward}``, which are differentiable to any order.
"""
from __future__ import annotations

import torch

from ..ops import register_norm_autograd
from . import launch
from .ops import triton_trilinear, triton_trilinear_backward  # noqa: F401  (registers the trilinear pair)

FWD = "wgm_kernels::triton_norm_sq"
BWD = "wgm_kernels::triton_norm_sq_backward"


@torch.library.custom_op(FWD, mutates_args=())
def triton_norm_sq(x: torch.Tensor, g: torch.Tensor, dy: list[int], dx: list[int], weight: list[float],
                   volume: bool, alpha: float) -> torch.Tensor:
    """Q(x; g): (B, C, H, W) ×2 -> (B,)."""
    return launch.trilinear_forward(x, g, g, dy, dx, weight, volume, alpha)


@torch.library.custom_op(BWD, mutates_args=())
def triton_norm_sq_backward(grad_out: torch.Tensor, x: torch.Tensor, g: torch.Tensor, dy: list[int],
                            dx: list[int], weight: list[float], volume: bool,
                            alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(grad_x, grad_g) of Σ_b grad_out[b] Q(x; g)[b], one pass."""
    return launch.trilinear_backward(grad_out, x, g, g, dy, dx, weight, volume, alpha, sym=True)


register_norm_autograd(FWD, BWD, "wgm_kernels::triton_trilinear", "wgm_kernels::triton_trilinear_backward")


def norm_sq_triton(x, g, st, volume: bool, alpha: float) -> torch.Tensor:
    return torch.ops.wgm_kernels.triton_norm_sq(x, g, st.dy, st.dx, list(st.weights), volume, alpha)

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

from . import launch
from .ops import triton_trilinear, triton_trilinear_backward  # noqa: F401  (registers the trilinear pair)

FWD = "wgm_kernels::triton_norm_sq"
BWD = "wgm_kernels::triton_norm_sq_backward"
_tri = torch.ops.wgm_kernels.triton_trilinear
_tri_bwd = torch.ops.wgm_kernels.triton_trilinear_backward


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


@triton_norm_sq.register_fake
def _(x, g, dy, dx, weight, volume, alpha):
    torch._check(x.dim() == 4, lambda: "wgm_kernels: x must be 4-D")
    return x.new_empty(x.shape[0])


@triton_norm_sq_backward.register_fake
def _(grad_out, x, g, dy, dx, weight, volume, alpha):
    return x.new_empty(x.shape), x.new_empty(x.shape)


def _setup(ctx, inputs, output):
    *tensors, dy, dx, weight, volume, alpha = inputs
    ctx.save_for_backward(*tensors)
    ctx.params = (dy, dx, weight, volume, alpha)


def _norm_grad(ctx, G):
    x, g = ctx.saved_tensors
    gx, gg = torch.ops.wgm_kernels.triton_norm_sq_backward(G.contiguous(), x, g, *ctx.params)
    return gx, gg, None, None, None, None, None


def _norm_backward_grad(ctx, a, p):
    G, x, g = ctx.saved_tensors
    dy, dx, weight, volume, alpha = ctx.params
    d_G, d_x, d_g = torch.zeros_like(G), torch.zeros_like(x), torch.zeros_like(g)
    G2 = 2 * G
    if a is not None:  # a pairs with G E(g, g) = G ∂T₀(a; g, g)/∂a
        a = a.contiguous()
        d_G = d_G + _tri(a, g, g, dy, dx, weight, volume, 0.0)
        d_g = d_g + _tri_bwd(G2, a, g, g, dy, dx, weight, volume, 0.0)[1]  # 2G L(a) g
    if p is not None:  # p pairs with 2G (L(x) g + α11ᵀg) = 2G ∂T(x; p, g)/∂p
        p = p.contiguous()
        d_G = d_G + 2 * _tri(x, p, g, dy, dx, weight, volume, alpha)
        e_pg, _, lx_p = _tri_bwd(G2, x, p, g, dy, dx, weight, volume, alpha)
        d_x, d_g = d_x + e_pg, d_g + lx_p
    return d_G, d_x, d_g, None, None, None, None, None


triton_norm_sq.register_autograd(_norm_grad, setup_context=_setup)
triton_norm_sq_backward.register_autograd(_norm_backward_grad, setup_context=_setup)


def norm_sq_triton(x, g, st, volume: bool, alpha: float) -> torch.Tensor:
    return torch.ops.wgm_kernels.triton_norm_sq(x, g, st.dy, st.dx, list(st.weights), volume, alpha)

"""``torch.library`` glue for the native ops ``torch.ops.wgm_kernels.trilinear{,_backward}``.

The schemas and device kernels are registered in C++ (csrc/); here we add the fake (meta)
implementations that ``torch.compile`` traces with, and the autograd formulas.

One primitive serves every derivative order. With T(x; u, v) the trilinear form (csrc/wgm.cpp),
E(u, v)_k = (1/2d_k) Σ_{j∈N(k)} ω_kj (u_k − u_j)(v_k − v_j) and L(x) the weighted Laplacian of
Section 1.2.5:

    ∂T/∂x = E(u, v),   ∂T/∂u = L(x) v + α 11ᵀ v,   ∂T/∂v = L(x) u + α 11ᵀ u     (trilinear_backward)

and for cotangents (a, p, q) of those three outputs, scaled by g = grad_out,

    ⟨a, gE(u,v)⟩ + ⟨p, g(L(x)v + α11ᵀv)⟩ + ⟨q, g(L(x)u + α11ᵀu)⟩ = g [T₀(a; u, v) + T(x; p, v) + T(x; u, q)]

(T₀: α = 0), whose partial derivatives are again the forward and backward ops. So the double
backward below calls only the two ops, which are themselves differentiable: any order works.
"""
from __future__ import annotations

import torch

from ._ext import HAS_EXT

def register_trilinear_autograd(fwd: str, bwd: str) -> None:
    """Registers fake implementations and the autograd formulas above for an op pair with the schemas of
    ``wgm_kernels::trilinear`` / ``wgm_kernels::trilinear_backward`` (``fwd``, ``bwd`` are qualified names).
    Every device implementation of the pair (C++, CUDA, Triton) shares these formulas."""
    ns, _, fname = fwd.partition("::")
    _, _, bname = bwd.partition("::")
    _tri = getattr(getattr(torch.ops, ns), fname)
    _tri_bwd = getattr(getattr(torch.ops, ns), bname)

    @torch.library.register_fake(fwd)
    def _trilinear_fake(x, u, v, dy, dx, weight, volume, alpha):
        torch._check(x.dim() == 4, lambda: "wgm_kernels: x must be 4-D")
        return x.new_empty(x.shape[0])

    @torch.library.register_fake(bwd)
    def _trilinear_backward_fake(grad_out, x, u, v, dy, dx, weight, volume, alpha):
        return x.new_empty(x.shape), x.new_empty(x.shape), x.new_empty(x.shape)

    def _setup(ctx, inputs, output):
        *tensors, dy, dx, weight, volume, alpha = inputs
        ctx.save_for_backward(*tensors)
        ctx.params = (dy, dx, weight, volume, alpha)

    def _trilinear_grad(ctx, g):
        x, u, v = ctx.saved_tensors
        gx, gu, gv = _tri_bwd(g.contiguous(), x, u, v, *ctx.params)
        return gx, gu, gv, None, None, None, None, None

    def _trilinear_backward_grad(ctx, a, p, q):
        g, x, u, v = ctx.saved_tensors
        dy, dx, weight, volume, alpha = ctx.params
        d_g, d_x = torch.zeros_like(g), torch.zeros_like(x)
        d_u, d_v = torch.zeros_like(u), torch.zeros_like(v)
        if a is not None:  # a pairs with g E(u, v) = g ∂T₀(a; u, v)/∂a
            a = a.contiguous()
            d_g = d_g + _tri(a, u, v, dy, dx, weight, volume, 0.0)
            _, la_v, la_u = _tri_bwd(g, a, u, v, dy, dx, weight, volume, 0.0)
            d_u, d_v = d_u + la_v, d_v + la_u
        if p is not None:  # p pairs with g ∂T(x; u, v)/∂u = g ∂T(x; p, v)/∂p
            p = p.contiguous()
            d_g = d_g + _tri(x, p, v, dy, dx, weight, volume, alpha)
            e_pv, _, lx_p = _tri_bwd(g, x, p, v, dy, dx, weight, volume, alpha)
            d_x, d_v = d_x + e_pv, d_v + lx_p
        if q is not None:  # q pairs with g ∂T(x; u, v)/∂v = g ∂T(x; u, q)/∂q
            q = q.contiguous()
            d_g = d_g + _tri(x, u, q, dy, dx, weight, volume, alpha)
            e_uq, lx_q, _ = _tri_bwd(g, x, u, q, dy, dx, weight, volume, alpha)
            d_x, d_u = d_x + e_uq, d_u + lx_q
        return d_g, d_x, d_u, d_v, None, None, None, None, None

    torch.library.register_autograd(fwd, _trilinear_grad, setup_context=_setup)
    torch.library.register_autograd(bwd, _trilinear_backward_grad, setup_context=_setup)


def register_norm_autograd(fwd: str, bwd: str, tri_fwd: str, tri_bwd: str) -> None:
    """Fake implementations and autograd for a quadratic pair Q(x; g) = T(x; g, g) with the schemas of
    ``wgm_kernels::norm_sq`` / ``norm_sq_backward``, whose backward gives (grad_x, grad_g) in one pass.

    Higher orders reuse the trilinear pair ``tri_fwd``/``tri_bwd``: for cotangents (a, p) of
    (G E(g, g), 2G (L(x) g + α11ᵀg)),
        ⟨a, G E(g, g)⟩ + ⟨p, 2G (L(x)g + α11ᵀg)⟩ = G [T₀(a; g, g) + 2 T(x; p, g)],
    so ∂/∂G = T₀(a; g, g) + 2T(x; p, g), ∂/∂x = 2G E(p, g), ∂/∂g = 2G L(a) g + 2G (L(x) p + α11ᵀp).
    """
    op = lambda name: getattr(getattr(torch.ops, name.partition("::")[0]), name.partition("::")[2])
    _norm_bwd, _tri, _tri_bwd = op(bwd), op(tri_fwd), op(tri_bwd)

    @torch.library.register_fake(fwd)
    def _norm_fake(x, g, dy, dx, weight, volume, alpha):
        torch._check(x.dim() == 4, lambda: "wgm_kernels: x must be 4-D")
        return x.new_empty(x.shape[0])

    @torch.library.register_fake(bwd)
    def _norm_backward_fake(grad_out, x, g, dy, dx, weight, volume, alpha):
        return x.new_empty(x.shape), x.new_empty(x.shape)

    def _setup(ctx, inputs, output):
        *tensors, dy, dx, weight, volume, alpha = inputs
        ctx.save_for_backward(*tensors)
        ctx.params = (dy, dx, weight, volume, alpha)

    def _norm_grad(ctx, G):
        x, g = ctx.saved_tensors
        gx, gg = _norm_bwd(G.contiguous(), x, g, *ctx.params)
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

    torch.library.register_autograd(fwd, _norm_grad, setup_context=_setup)
    torch.library.register_autograd(bwd, _norm_backward_grad, setup_context=_setup)


if HAS_EXT:
    register_trilinear_autograd("wgm_kernels::trilinear", "wgm_kernels::trilinear_backward")
    register_norm_autograd("wgm_kernels::norm_sq", "wgm_kernels::norm_sq_backward",
                           "wgm_kernels::trilinear", "wgm_kernels::trilinear_backward")


def trilinear_native(x, u, v, st, volume: bool, alpha: float) -> torch.Tensor:
    """T(x; u, v) through the native ops of the tensors' device; x, u, v (B, C, H, W) -> (B,).
    The norm (u is v) takes the quadratic pair, whose backward writes (grad_x, grad_g) in one pass."""
    params = (st.dy, st.dx, list(st.weights), volume, alpha)
    if u is v:
        return torch.ops.wgm_kernels.norm_sq(x.contiguous(), u.contiguous(), *params)
    return torch.ops.wgm_kernels.trilinear(x.contiguous(), u.contiguous(), v.contiguous(), *params)

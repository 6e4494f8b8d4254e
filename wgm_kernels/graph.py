"""The Wasserstein-2 gradient norm on an arbitrary undirected graph (Section 1.2.3-1.2.5, eq. 1.8).

The grid version (:mod:`wgm_kernels.wgm`) is the special case of the pixel graph; this one takes the edge
list explicitly and is meant for small or irregular graphs (pure PyTorch, any device, autograd).
"""
from __future__ import annotations

import torch

from .stencil import check_degree
from .validation import check_alpha, check_float_tensor, check_same, check_values


def graph_inverse_volume(edges: torch.Tensor, w: torch.Tensor, n: int, volume: bool) -> torch.Tensor:
    """1/d_i with d_i = deg_i / Σ_k deg_k (0 for isolated nodes); all ones when ``volume`` is False. (N,)"""
    if not volume:
        return torch.ones(n, dtype=w.dtype, device=w.device)
    deg = torch.zeros(n, dtype=w.dtype, device=w.device)
    deg = deg.index_add(0, edges[:, 0], w).index_add(0, edges[:, 1], w)
    return torch.where(deg > 0, deg.sum() / torch.where(deg > 0, deg, torch.ones_like(deg)), torch.zeros_like(deg))


def graph_wasserstein_grad_norm_sq(
    x: torch.Tensor, grad: torch.Tensor, edges: torch.Tensor, edge_weight: torch.Tensor | None = None, *,
    degree: str = "volume", alpha: float = 0.0, validate: bool = True,
) -> torch.Tensor:
    """Σ_{(i,j)∈E} ω_ij (g_i − g_j)² (x_i/d_i + x_j/d_j)/2 + α (Σ_i g_i)² per row.

    Args:
        x: mass (B, N), nonnegative floating point.
        grad: gradient (B, N), same dtype/device.
        edges: (E, 2) integer tensor; each row one undirected edge {i, j}, i ≠ j, listed once.
        edge_weight: (E,) ω_ij ≥ 0, default 1.
        degree: ``"volume"`` or ``"none"``; alpha: α ≥ 0 (see :func:`wasserstein_grad_norm_sq`).
    Returns:
        (B,) tensor, differentiable in x, grad and edge_weight.
    """
    check_float_tensor(x, "x")
    check_float_tensor(grad, "grad")
    if x.dim() != 2:
        raise ValueError(f"x must be 2-D (B, N), got shape {tuple(x.shape)}")
    check_same(x, grad, "x", "grad")
    volume = check_degree(degree)
    alpha = check_alpha(alpha)
    n = x.shape[1]
    if not isinstance(edges, torch.Tensor) or edges.dim() != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges must be an (E, 2) tensor, got {getattr(edges, 'shape', type(edges).__name__)}")
    if edges.is_floating_point() or edges.is_complex() or edges.dtype == torch.bool:
        raise TypeError(f"edges must be an integer tensor, got dtype {edges.dtype}")
    edges = edges.to(device=x.device, dtype=torch.long)
    if edge_weight is None:
        edge_weight = torch.ones(edges.shape[0], dtype=x.dtype, device=x.device)
    else:
        check_float_tensor(edge_weight, "edge_weight")
        if edge_weight.shape != (edges.shape[0],):
            raise ValueError(f"edge_weight must have shape ({edges.shape[0]},), got {tuple(edge_weight.shape)}")
        edge_weight = edge_weight.to(device=x.device, dtype=x.dtype)
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= n):
        raise ValueError(f"edges must index nodes in [0, {n}), got range [{int(edges.min())}, {int(edges.max())}]")
    if bool((edges[:, 0] == edges[:, 1]).any()):
        raise ValueError("edges contains self-loops (i, i)")
    if validate:
        lo, hi = edges.min(1).values, edges.max(1).values
        if torch.unique(lo * n + hi).numel() != edges.shape[0]:
            raise ValueError("edges lists an undirected edge more than once ((i, j) and (j, i) are the same edge)")
        check_values(x, "x", nonnegative=True)
        check_values(grad, "grad")
        if edge_weight.numel() and bool((edge_weight < 0).any()):
            raise ValueError(f"edge_weight has {int((edge_weight < 0).sum())} negative entries")
    i, j = edges[:, 0], edges[:, 1]
    xd = x * graph_inverse_volume(edges, edge_weight, n, volume)
    diff = grad[:, i] - grad[:, j]
    out = 0.5 * (edge_weight * diff * diff * (xd[:, i] + xd[:, j])).sum(1)
    if alpha:
        out = out + alpha * grad.sum(1) ** 2
    return out

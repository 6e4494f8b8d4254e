"""The Wasserstein-2 gradient norm on the pixel grid (Chapter 1, eq. 1.8, Algorithm 1, eq. 1.17).

For a mass x ≥ 0 (an image) and the Euclidean input gradient g = ∇_x f of a critic, each (b, c) plane
is its own graph on the H×W pixels, with an edge from i to j = i + (dy, dx) for every stencil offset when
both lie inside the image (no padding, no wrap-around; each undirected edge once):

    ‖∇^{W²}_x f‖²[b] = Σ_c [ Σ_{(i,j)∈E} ω_ij (g_i − g_j)² (x_i/d_i + x_j/d_j)/2  +  α (Σ_i g_i)² ]

= gᵀ (L(x) + α 11ᵀ) g with L(x) = Dᵀ Λ(x) D the weighted Laplacian of Definition 1.2.2. d_i is the
normalized volume deg_i / Σ_k deg_k of Section 1.2.5 (``degree="volume"``) or 1 (``degree="none"``); the
α term is the un-normalized-mass metric of Remark 2 (eq. 1.17) and Theorem 1.A.1.
"""
from __future__ import annotations

import torch

from .backends import resolve
from .stencil import Stencil, check_degree, make_stencil
from .validation import check_alpha, check_images, check_same, check_stencil_fits


def _dispatch(x, u, v, stencil, radius, weight, degree, alpha, backend) -> torch.Tensor:
    """Checks the metric's parameters and runs the backend's trilinear form on checked (B, C, H, W) tensors."""
    st = make_stencil(stencil, radius, weight)
    volume = check_degree(degree)
    alpha = check_alpha(alpha)
    check_stencil_fits(st, x.shape[-2], x.shape[-1])
    return resolve(backend, x)(x, u, v, st, volume, alpha)


def trilinear_form(
    x: torch.Tensor, u: torch.Tensor, v: torch.Tensor, *, stencil: str | Stencil = "square", radius: int = 1,
    weight: str = "uniform", degree: str = "volume", alpha: float = 0.0, backend: str = "auto",
    validate: bool = True,
) -> torch.Tensor:
    """The metric's bilinear form uᵀ (L(x) + α11ᵀ) v per sample: (B, C, H, W) ×3 -> (B,).

    ``wasserstein_grad_norm_sq(x, g)`` is ``trilinear_form(x, g, g)``. Differentiable in x, u and v to any order.
    """
    x, u = check_images(x, u, validate=validate)
    _, v = check_images(x, v, validate=validate)
    check_same(u, v, "u", "v")
    return _dispatch(x, u, v, stencil, radius, weight, degree, alpha, backend)


def wasserstein_grad_norm_sq(
    x: torch.Tensor, grad: torch.Tensor, *, stencil: str | Stencil = "square", radius: int = 1,
    weight: str = "uniform", degree: str = "volume", alpha: float = 0.0, backend: str = "auto",
    validate: bool = True,
) -> torch.Tensor:
    """Squared Wasserstein-2 gradient norm ‖∇^{W²}_x f‖² of eq. 1.8 (+ α(Σg)², eq. 1.17), per sample.

    Args:
        x: mass, (B, C, H, W) or (B, H, W); nonnegative float16/bfloat16/float32/float64.
        grad: Euclidean gradient ∇_x f, same shape/dtype/device as x.
        stencil: ``"square"`` (max(|dy|,|dx|) ≤ r), ``"diamond"`` (|dy|+|dx| ≤ r), ``"cross"``, or a :class:`Stencil`.
        radius: r ≥ 1 for the named stencils.
        weight: ``"uniform"`` (ω = 1) or ``"inverse_square"`` (ω = 1/(dy²+dx²)).
        degree: ``"volume"`` (d_i = deg_i/Σdeg, the thesis) or ``"none"`` (d_i = 1).
        alpha: α ≥ 0 of the un-normalized-mass term (Theorem 1.A.1).
        backend: ``"auto"``, ``"reference"``, ``"conv"``, ``"cpp"``, ``"triton"``, ``"cuda"`` (see
            :func:`available_backends`).
        validate: check for NaN/Inf and negative mass (O(N), one host sync; skipped inside torch.compile).

    Returns:
        (B,) tensor. float32/float64 inputs: x's dtype. float16/bfloat16 inputs accumulate in float32 and
        come back in float32 from the CPU backends (reference, conv) but in x's dtype from the GPU kernels
        (cuda, triton). Differentiable in x and grad, to any order (a critic's penalty is differentiated
        through its input gradient).
    """
    x, grad = check_images(x, grad, validate=validate)
    return _dispatch(x, grad, grad, stencil, radius, weight, degree, alpha, backend)


def safe_sqrt(s: torch.Tensor) -> torch.Tensor:
    """√s with derivative 0 (not ∞) at s = 0, twice differentiable elsewhere."""
    pos = s > 0
    return torch.where(pos, torch.where(pos, s, torch.ones_like(s)).sqrt(), torch.zeros_like(s))


def wasserstein_grad_norm(x: torch.Tensor, grad: torch.Tensor, **kwargs) -> torch.Tensor:
    """‖∇^{W²}_x f‖ per sample (B,): the square root of :func:`wasserstein_grad_norm_sq` (same keywords),
    with a finite (zero) gradient where the norm is 0."""
    return safe_sqrt(wasserstein_grad_norm_sq(x, grad, **kwargs))

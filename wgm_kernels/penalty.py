"""Training-time uses of the Wasserstein gradient norm: the WWGAN penalty (Algorithm 2) and the
Wasserstein-Tikhonov regularizer (eq. 1.21)."""
from __future__ import annotations

from typing import Callable

import torch

from .wgm import wasserstein_grad_norm, wasserstein_grad_norm_sq


def to_mass(x: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Affinely maps pixel values in ``value_range`` = (lo, hi) to a nonnegative mass in [0, 1]."""
    lo, hi = float(value_range[0]), float(value_range[1])
    if not hi > lo:
        raise ValueError(f"value_range must be (lo, hi) with hi > lo, got {value_range}")
    return (x - lo) / (hi - lo)


def wgm_gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor, *, lam: float = 10.0,
    one_sided: bool = False, value_range: tuple[float, float] = (-1.0, 1.0), **op_kwargs,
) -> torch.Tensor:
    """WWGAN gradient penalty λ·E[(‖∇^W D(x̂)‖ − 1)²] of Algorithm 2 (one-sided: λ·E[max(‖·‖ − 1, 0)²]).

    Drop-in for WGAN-GP's ``calc_gradient_penalty(netD, real, fake)``: x̂ = ε·real + (1 − ε)·fake with one
    ε ~ U[0, 1] per sample, the critic's input gradient at x̂ taken with ``create_graph=True``, and its
    Wasserstein norm (eq. 1.8) measured at the mass of x̂ (pixel values mapped from ``value_range`` to [0, 1]).

    Args:
        critic: maps (B, C, H, W) to (B,) or (B, 1) scores.
        real, fake: (B, C, H, W) (or (B, H, W)) batches of the same shape.
        lam: λ. one_sided: penalize only norms above 1 (Petzka et al.).
        op_kwargs: stencil, radius, weight, degree, alpha, backend, validate — see
            :func:`wasserstein_grad_norm_sq`.
    Returns:
        scalar penalty, differentiable in the critic's parameters.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), dtype=real.dtype, device=real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norm = wasserstein_grad_norm(to_mass(x_hat.detach(), value_range), grad, **op_kwargs)
    gap = norm - 1
    if one_sided:
        gap = gap.clamp_min(0)
    return lam * (gap * gap).mean()


_REDUCTIONS = ("mean", "sum", "none")
_LOSSES = ("ce", "bce", "mse")


def wasserstein_tikhonov(
    model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor | None = None, loss: str = "ce",
    *, value_range: tuple[float, float] = (0.0, 1.0), reduction: str = "mean", **op_kwargs,
) -> torch.Tensor:
    """Wasserstein-Tikhonov regularizer of eq. 1.21: l''(f(x), y) · ‖∇^W_x f(x)‖² for each example.

    The second derivative is taken with respect to the model's outputs (logits), so for several outputs
    it is the Hessian H = ∂²l/∂f² and the term is Σ_kl H_kl ⟨∇f_k, ∇f_l⟩_{L(x)} (Theorem 1.5.1):
      * ``"ce"``: softmax cross-entropy on logits (B, K); H = diag(p) − ppᵀ, computed exactly as
        Σ_k p_k ‖∇^W (f_k − pᵀf)‖² (K input-gradient passes; p treated as a constant weight).
      * ``"bce"``: sigmoid cross-entropy on logits (B,) or (B, 1); H = σ(1 − σ).
      * ``"mse"``: squared error Σ_k (f_k − y_k)²; H = 2I.
    H does not depend on y for these losses, so ``y`` is accepted for the call shape and ignored.

    Args:
        model: maps x to outputs; must treat samples independently (no train-mode batch norm).
        x: (B, C, H, W) inputs with values in ``value_range`` (mapped to a mass in [0, 1]).
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"`` (per-sample (B,)).
        op_kwargs: see :func:`wasserstein_grad_norm_sq`.
    Returns:
        the regularizer, differentiable in the model's parameters.
    """
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")

    x_req = x.detach().requires_grad_(True)
    mass = to_mass(x_req.detach(), value_range)
    out = model(x_req)
    B = x.shape[0]
    out2 = out.reshape(B, -1)

    def norm_sq(scalar_per_sample: torch.Tensor) -> torch.Tensor:
        (g,) = torch.autograd.grad(scalar_per_sample.sum(), x_req, create_graph=True)
        return wasserstein_grad_norm_sq(mass, g, **op_kwargs)

    if loss == "bce":
        if out2.shape[1] != 1:
            raise ValueError(f"loss='bce' needs one logit per sample, got outputs of shape {tuple(out.shape)}")
        s = torch.sigmoid(out2[:, 0]).detach()
        reg = s * (1 - s) * norm_sq(out2[:, 0])
    elif loss == "mse":
        reg = sum(2.0 * norm_sq(out2[:, k]) for k in range(out2.shape[1]))
    else:
        p = torch.softmax(out2, dim=1).detach()
        centered = out2 - (p * out2).sum(1, keepdim=True)
        reg = sum(p[:, k] * norm_sq(centered[:, k]) for k in range(out2.shape[1]))
    if reduction == "mean":
        return reg.mean()
    if reduction == "sum":
        return reg.sum()
    return reg

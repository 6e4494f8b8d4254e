"""The only difference between the two GANs: the critic's gradient penalty.

* ``"l2"`` — WGAN-GP (Gulrajani et al.): λ·E[(‖∇_x D(x̂)‖₂ − 1)²], the Euclidean norm.
* ``"wgm"`` — WWGAN, Algorithm 2 / Section 1.4.3.3: λ·E[(‖∇^W D(x̂)‖ − 1)²] with the Wasserstein-2 ground
  metric norm of eq. 1.8 (+ α(Σg)² of eq. 1.17), computed by :func:`wgm_kernels.wgm_gradient_penalty`
  (the package's operator; no private copy here).

Both use x̂ = ε·real + (1 − ε)·fake with one ε ~ U[0, 1] per sample.
"""
from __future__ import annotations

from typing import Callable

import torch

import wgm_kernels

PENALTIES = ("l2", "wgm")


def l2_gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                        *, lam: float = 10.0) -> torch.Tensor:
    """WGAN-GP's penalty λ·E[(‖∇_x D(x̂)‖₂ − 1)²] on (B, C, H, W) batches; scalar, differentiable in D."""
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), dtype=real.dtype, device=real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norm = g.flatten(1).norm(dim=1)
    return lam * ((norm - 1) ** 2).mean()


def gradient_penalty(penalty: str, critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, *, lam: float = 10.0, **op_kwargs) -> torch.Tensor:
    """Dispatches to the Euclidean (``"l2"``) or Wasserstein (``"wgm"``) penalty.

    Args:
        penalty: ``"l2"`` or ``"wgm"``.
        real, fake: (B, C, H, W) batches with pixel values in [-1, 1] (the generator's tanh range).
        lam: λ ≥ 0.
        op_kwargs: for ``"wgm"`` only — stencil, radius, weight, degree, alpha, backend of
            :func:`wgm_kernels.wasserstein_grad_norm_sq`. With ``degree="volume"`` (the thesis) the norm is
            ~√(H·W) times the ``degree="none"`` norm, so the unit-norm target is a stricter constraint.
    Returns:
        scalar penalty.
    """
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if penalty == "l2":
        if op_kwargs:
            raise ValueError(f"penalty='l2' takes no metric options, got {sorted(op_kwargs)}")
        return l2_gradient_penalty(critic, real, fake, lam=lam)
    return wgm_kernels.wgm_gradient_penalty(critic, real, fake, lam=lam, value_range=(-1.0, 1.0), **op_kwargs)

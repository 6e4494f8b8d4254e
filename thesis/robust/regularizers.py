"""Training objectives of Section 1.5.5 / Appendix 1.A.3.

For an example (x, y) with loss ℓ = CE(f(x), y) (x in [0, 1], used directly as the mass of eq. 1.8):

* ``"none"``: ℓ.
* ``"l2"`` (Euclidean gradient penalty, G(x) = I): ℓ + η²·‖∇_x ℓ‖₂².
* ``"wgm"`` (Appendix 1.A.3, G(x)⁻¹ = L(x)): ℓ + η²·⟨∇_x ℓ, L(x) ∇_x ℓ⟩ = ℓ + η²·‖∇^W_x ℓ‖², the squared
  Wasserstein gradient norm of eq. 1.8 from :func:`wgm_kernels.wasserstein_grad_norm_sq`.
* ``"wgm_tikhonov"`` (eq. 1.21, Theorem 1.5.1): ℓ + η²·l''(f(x), y)·‖∇^W_x f‖² with l'' the Hessian of the
  cross-entropy in the logits, from :func:`wgm_kernels.wasserstein_tikhonov` (K = 10 extra input-gradient
  passes per step, so ~10× the cost of ``"wgm"``).

Scale: with ``degree="volume"`` (the thesis) the metric divides each pixel's mass by its normalized degree
d_i ≈ 1/(H·W), so ‖·‖²_W is ~H·W (≈ 10³ for 32×32) times the ``degree="none"`` value; η² for ``"wgm"`` is
therefore not comparable to η² for ``"l2"`` — the thesis grid-searched η² over 10⁻³…10⁵ (eq. 1.22).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

import wgm_kernels

REGULARIZERS = ("none", "l2", "wgm", "wgm_tikhonov")


def regularized_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, reg: str = "none",
                     eta2: float = 0.0, **op_kwargs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean regularized loss over a batch.

    Args:
        model: (B, C, H, W) -> (B, K) logits; must treat examples independently.
        x: (B, C, H, W) images in [0, 1]; y: (B,) int64 labels.
        reg: one of :data:`REGULARIZERS`. eta2: η² ≥ 0.
        op_kwargs: stencil, radius, weight, degree, alpha, backend for the ``"wgm*"`` metrics.
    Returns:
        (total, cross-entropy, regularizer term η²·R) — scalars; ``total`` is differentiable in the model.
    """
    if reg not in REGULARIZERS:
        raise ValueError(f"reg must be one of {REGULARIZERS}, got {reg!r}")
    if not eta2 >= 0:
        raise ValueError(f"eta2 must be >= 0, got {eta2!r}")
    if reg in ("none", "l2") and op_kwargs:
        raise ValueError(f"reg={reg!r} takes no metric options, got {sorted(op_kwargs)}")
    if reg == "none":
        ce = F.cross_entropy(model(x), y)
        return ce, ce, torch.zeros((), dtype=ce.dtype)
    if reg == "wgm_tikhonov":
        ce = F.cross_entropy(model(x), y)
        r = eta2 * wgm_kernels.wasserstein_tikhonov(model, x, y, "ce", value_range=(0.0, 1.0), **op_kwargs)
        return ce + r, ce, r
    x_req = x.detach().requires_grad_(True)
    ce_each = F.cross_entropy(model(x_req), y, reduction="none")
    # examples are independent, so the gradient of the sum is each example's own ∇_x ℓ
    (g,) = torch.autograd.grad(ce_each.sum(), x_req, create_graph=True)
    if reg == "l2":
        norm_sq = g.flatten(1).pow(2).sum(1)
    else:
        norm_sq = wgm_kernels.wasserstein_grad_norm_sq(x.detach(), g, **op_kwargs)
    ce = ce_each.mean()
    r = eta2 * norm_sq.mean()
    return ce + r, ce, r

"""nn.Module wrappers that hold the metric's configuration (stencil, radius, weight, degree, α, backend)."""
from __future__ import annotations

import torch
from torch import nn

from .penalty import wasserstein_tikhonov, wgm_gradient_penalty
from .stencil import Stencil, check_degree, make_stencil
from .validation import check_alpha
from .wgm import wasserstein_grad_norm, wasserstein_grad_norm_sq


class _MetricConfig(nn.Module):
    def __init__(self, *, stencil: str | Stencil = "square", radius: int = 1, weight: str = "uniform",
                 degree: str = "volume", alpha: float = 0.0, backend: str = "auto", validate: bool = True):
        super().__init__()
        make_stencil(stencil, radius, weight)  # fail at construction, not at the first step
        check_degree(degree)
        check_alpha(alpha)
        self.op_kwargs = dict(stencil=stencil, radius=radius, weight=weight, degree=degree, alpha=alpha,
                              backend=backend, validate=validate)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.op_kwargs.items())


class WassersteinGradNorm(_MetricConfig):
    """``forward(x, grad) -> (B,)``: ‖∇^W_x f‖ (or its square with ``squared=True``), eq. 1.8."""

    def __init__(self, *, squared: bool = False, **op_kwargs):
        super().__init__(**op_kwargs)
        self.squared = squared

    def forward(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        fn = wasserstein_grad_norm_sq if self.squared else wasserstein_grad_norm
        return fn(x, grad, **self.op_kwargs)


class WGMGradientPenalty(_MetricConfig):
    """``forward(critic, real, fake) -> scalar``: the WWGAN penalty of Algorithm 2 (:func:`wgm_gradient_penalty`)."""

    def __init__(self, *, lam: float = 10.0, one_sided: bool = False, value_range=(-1.0, 1.0), **op_kwargs):
        super().__init__(**op_kwargs)
        self.lam, self.one_sided, self.value_range = lam, one_sided, value_range

    def forward(self, critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return wgm_gradient_penalty(critic, real, fake, lam=self.lam, one_sided=self.one_sided,
                                    value_range=self.value_range, **self.op_kwargs)


class WassersteinTikhonov(_MetricConfig):
    """``forward(model, x, y) -> scalar``: the regularizer of eq. 1.21 (:func:`wasserstein_tikhonov`)."""

    def __init__(self, *, loss: str = "ce", value_range=(0.0, 1.0), reduction: str = "mean", **op_kwargs):
        super().__init__(**op_kwargs)
        self.loss, self.value_range, self.reduction = loss, value_range, reduction

    def forward(self, model, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return wasserstein_tikhonov(model, x, y, self.loss, value_range=self.value_range,
                                    reduction=self.reduction, **self.op_kwargs)

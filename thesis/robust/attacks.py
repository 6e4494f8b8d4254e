"""White-box L∞ attacks (Section 1.5.5.1, Table 1.2): FGSM [GSS15] and I-FGSM [KGB17].

Both maximize the cross-entropy within the ε-ball ‖x' − x‖∞ ≤ ε intersected with the valid pixel box.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _check(eps: float, value_range: tuple[float, float]) -> None:
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    if not value_range[1] > value_range[0]:
        raise ValueError(f"value_range must be (lo, hi) with hi > lo, got {value_range!r}")


def _input_grad(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), y, reduction="sum"), x)
    return g


def fgsm(model, x: torch.Tensor, y: torch.Tensor, eps: float,
         value_range: tuple[float, float] = (0.0, 1.0)) -> torch.Tensor:
    """x' = clip(x + ε·sign(∇_x ℓ(f(x), y))): (B, C, H, W) -> (B, C, H, W), detached."""
    _check(eps, value_range)
    x_adv = x.detach() + eps * _input_grad(model, x, y).sign()
    return x_adv.clamp(*value_range).detach()


def ifgsm(model, x: torch.Tensor, y: torch.Tensor, eps: float, alpha: float = 2 / 255, steps: int = 20,
          value_range: tuple[float, float] = (0.0, 1.0)) -> torch.Tensor:
    """I-FGSM-``steps``: x_{t+1} = Π_{ε-ball ∩ box}(x_t + α·sign(∇ℓ(x_t))), x_0 = x (Table 1.2: α = 2/255, 20)."""
    _check(eps, value_range)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    x0 = x.detach()
    x_adv = x0.clone()
    for _ in range(int(steps)):
        x_adv = x_adv + alpha * _input_grad(model, x_adv, y).sign()
        x_adv = torch.max(torch.min(x_adv, x0 + eps), x0 - eps).clamp(*value_range)
    return x_adv.detach()

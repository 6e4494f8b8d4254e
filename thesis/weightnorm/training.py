"""Full-batch gradient descent on the square loss (3.7) and measured linear rates.

Gradient descent with step eta is the discretisation of the flow (3.8): theta(s+1) = theta(s) - eta dL/dtheta
for theta = (v, g) (WN network, c fixed) or theta = W (un-normalised network).  For WN the v-gradient is
orthogonal to v, so ||v_k(s+1)||^2 = ||v_k(s)||^2 + eta^2 ||dL/dv_k||^2 (3.5): norms grow under gradient
descent and are constant under the flow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._validate import as_data_matrix, check_positive_int
from .infinite import lambda_min
from .model import square_loss

__all__ = ["gd_step", "train_gd", "TrainHistory", "linear_rate"]


def _check_eta(eta: float) -> float:
    e = float(eta)
    if not np.isfinite(e) or e <= 0:
        raise ValueError(f"eta must be finite and > 0, got {eta!r}")
    return e


def _prepare(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    p = net.trainable()[0]
    X = as_data_matrix(X, net.d, dtype=p.dtype, device=p.device)
    y = torch.as_tensor(y, dtype=p.dtype, device=p.device)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {tuple(y.shape)}")
    return X, y


def gd_step(net: nn.Module, X: torch.Tensor, y: torch.Tensor, eta: float) -> float:
    """One full-batch gradient-descent step on (3.7) (in place); returns the loss before the step.

    ``net`` is any module with ``trainable()`` (WNTwoLayer, ReLUTwoLayer, TorchWNTwin);
    X (n, d) and y (n,) must already have the parameters' dtype/device.
    """
    params = net.trainable()
    loss = square_loss(net(X), y)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, gr in zip(params, grads):
            p.sub_(eta * gr)
    return float(loss.detach())


@dataclass
class TrainHistory:
    """What :func:`train_gd` records.

    residual_sq: (steps+1,) ||f(s) - y||_2^2 for s = 0..steps.
    record_steps: steps at which ``v_norms``/``g``/``lambda_min`` were recorded.
    v_norms: list of (m,) arrays ||v_k(s)|| (WN networks only).
    lambda_min: list of lambda_min(Lambda(s)) (only when ``kernel_every`` > 0).
    diverged: True if the loss became non-finite or grew by more than 1e6 (training stopped).
    """

    eta: float
    residual_sq: np.ndarray
    record_steps: list[int] = field(default_factory=list)
    v_norms: list[np.ndarray] = field(default_factory=list)
    lambda_min: list[float] = field(default_factory=list)
    kernel_steps: list[int] = field(default_factory=list)
    diverged: bool = False


def train_gd(net: nn.Module, X: torch.Tensor, y: torch.Tensor, eta: float, steps: int,
             record_every: int = 0, kernel_every: int = 0, progress: bool = True,
             desc: str = "GD") -> TrainHistory:
    """Run ``steps`` full-batch gradient-descent steps of size ``eta`` on (3.7).

    Args:
        net: network with ``trainable()`` (and ``gram_matrices`` if ``kernel_every`` > 0).
        X: (n, d) data; y: (n,) targets.
        eta: step size > 0.
        steps: number of steps >= 1.
        record_every: record ||v_k|| every this many steps (0: never).
        kernel_every: record lambda_min(Lambda(s)) every this many steps (0: never).
        progress: show a tqdm bar.
    Returns:
        :class:`TrainHistory`.
    """
    eta = _check_eta(eta)
    steps = check_positive_int(steps, "steps")
    X, y = _prepare(net, X, y)
    res = np.full(steps + 1, np.nan)
    hist = TrainHistory(eta=eta, residual_sq=res)

    def record(s: int) -> None:
        if record_every and s % record_every == 0 and hasattr(net, "v"):
            hist.record_steps.append(s)
            hist.v_norms.append(net.v.detach().norm(dim=1).cpu().numpy())
        if kernel_every and s % kernel_every == 0:
            hist.kernel_steps.append(s)
            hist.lambda_min.append(lambda_min(net.gram_matrices(X)["Lambda"]))

    r0 = None
    for s in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        record(s)
        loss = gd_step(net, X, y, eta)
        res[s] = 2 * loss
        r0 = res[0]
        if not np.isfinite(loss) or 2 * loss > 1e6 * max(r0, 1e-300):
            hist.diverged = True
            return hist
    with torch.no_grad():
        res[steps] = float(((net(X) - y) ** 2).sum())
    record(steps)
    return hist


def linear_rate(residual_sq: np.ndarray, skip: int = 0, floor: float = 1e-20) -> dict[str, float]:
    """Measured linear rates of ||f(s) - y||^2 (compare with (1 - eta lambda_0/(2 beta^2)), (1 - eta mu_0/2)).

    Returns ``mean`` = (r_S / r_skip)^{1/(S - skip)} (the rate the bound is stated for, averaged over
    the run) and ``worst`` = max_s r_{s+1}/r_s (the slowest single step; > 1 means a step increased
    the loss).  NaN entries (a diverged run) are dropped, and so is everything after the residual
    first falls below ``floor`` * r_skip (round-off level, where no rate is measurable).
    """
    r = np.asarray(residual_sq, dtype=np.float64)
    r = r[np.isfinite(r)][skip:]
    if len(r) >= 1 and r[0] > 0:
        below = np.nonzero(r < floor * r[0])[0]
        if below.size:
            r = r[: below[0] + 1]
    r = r[r > 0]
    if len(r) < 2:
        return {"mean": float("nan"), "worst": float("nan")}
    return {"mean": float((r[-1] / r[0]) ** (1.0 / (len(r) - 1))), "worst": float(np.max(r[1:] / r[:-1]))}

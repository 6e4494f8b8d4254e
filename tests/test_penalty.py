"""The WWGAN penalty (Algorithm 2) and the Wasserstein-Tikhonov regularizer (eq. 1.21) on critics whose
input gradients are known in closed form."""
import pytest
import torch
from torch import nn

import wgm_kernels as W


class Linear(nn.Module):
    """f(x) = <a, x>: its input gradient is a at every x."""

    def __init__(self, shape, k=None, seed=0, scale=0.05):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        out = () if k is None else (k,)
        self.a = nn.Parameter(torch.randn(out + shape, generator=gen, dtype=torch.float64) * scale)

    def forward(self, x):
        dims = tuple(range(-x.dim() + 1, 0))
        if self.a.dim() == x.dim() - 1:
            return (x * self.a).sum(dims)
        return torch.stack([(x * ak).sum(dims) for ak in self.a], dim=1)


def _batch(shape=(4, 2, 6, 6), seed=0):
    gen = torch.Generator().manual_seed(seed)
    real = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1
    fake = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1
    return real, fake


@pytest.mark.parametrize("one_sided", [False, True])
def test_penalty_value_for_a_linear_critic(one_sided):
    real, fake = _batch()
    critic = Linear(real.shape[1:], scale=0.007)  # Wasserstein norms straddle 1
    torch.manual_seed(0)
    eps = torch.rand(real.shape[0], 1, 1, 1, dtype=torch.float64)  # the draw the penalty will make
    x_hat = eps * real + (1 - eps) * fake
    g = critic.a.detach().expand_as(real)
    norm = W.wasserstein_grad_norm_sq((x_hat + 1) / 2, g, radius=2, backend="reference").sqrt()
    gap = (norm - 1).clamp_min(0) if one_sided else norm - 1
    torch.manual_seed(0)
    got = W.wgm_gradient_penalty(critic, real, fake, lam=7.0, one_sided=one_sided, radius=2)
    torch.testing.assert_close(got, 7.0 * (gap**2).mean(), rtol=1e-12, atol=1e-12)
    assert norm.min() < 1 < norm.max() or not one_sided  # both branches of max(., 0) are exercised


def test_penalty_gradient_reaches_critic_and_matches_reference():
    real, fake = _batch(seed=1)
    critic = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.Softplus(), nn.Flatten(), nn.Linear(144, 1)).double()
    grads = {}
    for backend in W.available_backends():
        torch.manual_seed(3)
        critic.zero_grad()
        W.wgm_gradient_penalty(critic, real, fake, radius=2, alpha=0.1, backend=backend).backward()
        # the last bias does not change the input gradient: no gradient reaches it
        grads[backend] = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in critic.parameters()]
    assert sum(int(g.abs().sum() > 0) for g in grads["reference"]) == 3
    for backend, gs in grads.items():
        for a, b in zip(gs, grads["reference"]):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=backend)


def test_penalty_module_and_bad_input():
    real, fake = _batch()
    critic = Linear(real.shape[1:])
    m = W.WGMGradientPenalty(lam=3.0, radius=1)
    torch.manual_seed(5)
    a = m(critic, real, fake)
    torch.manual_seed(5)
    torch.testing.assert_close(a, W.wgm_gradient_penalty(critic, real, fake, lam=3.0, radius=1))
    with pytest.raises(ValueError, match="real and fake must have the same shape"):
        W.wgm_gradient_penalty(critic, real, fake[:2])
    with pytest.raises(ValueError, match="x has .* negative"):  # pixel values outside value_range
        W.wgm_gradient_penalty(critic, real * 3, fake)
    with pytest.raises(ValueError, match="value_range"):
        W.wgm_gradient_penalty(critic, real, fake, value_range=(1.0, 1.0))


def _T(x, a, **kw):
    return W.wasserstein_grad_norm_sq(x, a.expand_as(x), backend="reference", **kw)


def test_tikhonov_ce_equals_hessian_contraction():
    x, _ = _batch(seed=2)
    x = (x + 1) / 2
    model = Linear(x.shape[1:], k=3, seed=4)
    y = torch.tensor([0, 2, 1, 1])
    got = W.wasserstein_tikhonov(model, x, y, "ce", reduction="none", radius=2)
    p = torch.softmax(model(x), 1).detach()
    # Σ_kl H_kl <a_k, a_l>_L with H = diag(p) − ppᵀ, via polarization of the quadratic form.
    a = model.a.detach()
    expected = torch.zeros(x.shape[0], dtype=torch.float64)
    for k in range(3):
        for l in range(3):
            inner = (_T(x, a[k] + a[l], radius=2) - _T(x, a[k] - a[l], radius=2)) / 4
            expected += (torch.diag_embed(p)[:, k, l] - p[:, k] * p[:, l]) * inner
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_tikhonov_mse_bce_and_reductions():
    x, _ = _batch(seed=3)
    x = (x + 1) / 2
    lin2 = Linear(x.shape[1:], k=2, seed=1)
    a = lin2.a.detach()
    mse = W.wasserstein_tikhonov(lin2, x, None, "mse", reduction="none")
    torch.testing.assert_close(mse, 2 * (_T(x, a[0]) + _T(x, a[1])), rtol=1e-12, atol=1e-12)
    lin1 = Linear(x.shape[1:], seed=2)
    s = torch.sigmoid(lin1(x)).detach()
    bce = W.wasserstein_tikhonov(lin1, x, None, "bce", reduction="sum")
    torch.testing.assert_close(bce, (s * (1 - s) * _T(x, lin1.a.detach())).sum(), rtol=1e-12, atol=1e-12)
    reg = W.WassersteinTikhonov(loss="mse")(lin2, x)
    torch.testing.assert_close(reg, mse.mean())
    reg.backward()
    assert lin2.a.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="loss must be one of"):
        W.wasserstein_tikhonov(lin2, x, None, "hinge")
    with pytest.raises(ValueError, match="reduction must be one of"):
        W.wasserstein_tikhonov(lin2, x, None, "mse", reduction="max")
    with pytest.raises(ValueError, match="one logit per sample"):
        W.wasserstein_tikhonov(lin2, x, None, "bce")

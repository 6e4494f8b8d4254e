"""Speed of the Wasserstein gradient norm (forward + backward) and of a WGAN critic step with it.

Run with `make bench` (pytest-benchmark). The conftest prints ratios to each group's baseline: the
convolution reference of Algorithm 1 for the operator, the plain L2 gradient penalty for the critic step.
Goals (2 CPU cores): cpp >= 10x conv at B=64, C=3, 64x64, square r=2; WGM penalty overhead <= 5% of a step.
"""
import pytest
import torch
from torch import nn

import wgm_kernels as W

ROUNDS = {"conv": 3, "reference": 5}


@pytest.mark.parametrize("radius", [1, 2, 4])
@pytest.mark.parametrize("backend", W.available_backends())
def test_fwd_bwd(benchmark, backend, radius):
    benchmark.group = f"wgm-fwd-bwd r={radius}"
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 64, 64, generator=gen)
    g = torch.randn(64, 3, 64, 64, generator=gen, requires_grad=True)

    def step():
        W.wasserstein_grad_norm_sq(x, g, radius=radius, backend=backend, validate=False).sum().backward()

    benchmark.pedantic(step, rounds=ROUNDS.get(backend, 10), warmup_rounds=1)
    assert torch.isfinite(g.grad).all()


def dcgan_critic() -> nn.Module:
    """DCGAN discriminator for 64x64x3 without batch norm (gradient penalties need per-sample gradients)."""
    ch = [3, 64, 128, 256, 512]
    layers = []
    for a, b in zip(ch[:-1], ch[1:]):
        layers += [nn.Conv2d(a, b, 4, 2, 1), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Conv2d(512, 1, 4, 1, 0), nn.Flatten())


def l2_gradient_penalty(critic, real, fake, lam=10.0):
    """WGAN-GP's calc_gradient_penalty (Gulrajani et al.), the drop-in baseline."""
    eps = torch.rand(real.shape[0], 1, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return lam * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


@pytest.mark.parametrize("penalty", ["l2", "wgm-cpp", "wgm-reference"])
def test_critic_step(benchmark, penalty):
    benchmark.group = "critic-step B=64 64x64"
    if penalty == "wgm-cpp" and "cpp" not in W.available_backends():
        pytest.skip("native extension not built")
    torch.manual_seed(0)
    critic = dcgan_critic()
    opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.0, 0.9))
    real = torch.rand(64, 3, 64, 64) * 2 - 1
    fake = torch.rand(64, 3, 64, 64) * 2 - 1
    if penalty == "l2":
        gp = l2_gradient_penalty
    else:
        backend = penalty.split("-")[1]
        gp = lambda c, r, f: W.wgm_gradient_penalty(c, r, f, radius=2, backend=backend, validate=False)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = critic(fake).mean() - critic(real).mean() + gp(critic, real, fake)
        loss.backward()
        opt.step()
        return loss

    loss = benchmark.pedantic(step, rounds=5, warmup_rounds=1)
    assert torch.isfinite(loss)

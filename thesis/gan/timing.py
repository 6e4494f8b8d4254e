"""Critic-step cost of the two penalties (Fig. 1.7's overhead), measured interleaved.

Separate training runs on a shared machine see different background load; here one critic and one
generator are built once and l2 / wgm critic steps (forward, penalty, backward, Adam) alternate, so both
see the same conditions. Reports the median seconds per step and the ratio wgm / l2.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .models import Critic, Generator
from .penalties import gradient_penalty


def critic_step_times(channels: int = 1, size: int = 32, dim: int = 64, batch: int = 64, steps: int = 20,
                      seed: int = 0, **op_kwargs) -> dict[str, float]:
    """Median wall-clock seconds of one critic step with each penalty (random data; same critic).

    Returns ``{"l2": s, "wgm": s, "ratio": wgm / l2}``.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    torch.manual_seed(seed)
    G, D = Generator(channels, size, dim).eval(), Critic(channels, size, dim)
    opt = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    real = torch.rand(batch, channels, size, size) * 2 - 1
    kw = {"l2": {}, "wgm": dict(dict(stencil="diamond", radius=2, alpha=1.0), **op_kwargs)}
    times: dict[str, list[float]] = {"l2": [], "wgm": []}
    for i in range(steps + 1):
        for pen in ("l2", "wgm") if i % 2 else ("wgm", "l2"):
            t0 = time.perf_counter()
            with torch.no_grad():
                fake = G(torch.randn(batch, G.nz))
            loss = D(fake).mean() - D(real).mean() + gradient_penalty(pen, D, real, fake, lam=10.0, **kw[pen])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if i > 0:  # first round is warm-up
                times[pen].append(time.perf_counter() - t0)
    out = {k: float(np.median(v)) for k, v in times.items()}
    out["ratio"] = out["wgm"] / out["l2"]
    return out

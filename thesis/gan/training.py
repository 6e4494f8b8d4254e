"""One training loop for WGAN-GP and WWGAN (Algorithm 2): they share everything but the penalty.

Critic step (Algorithm 2, lines 2-8), repeated ``n_critic`` times:
    M = D(G(ξ)) − D(x) + GP(x̂),   φ ← Adam(∇_φ mean M)
Generator step (lines 10-11):  θ ← Adam(∇_θ mean −D(G(ξ))).
GP is :func:`thesis.gan.penalties.gradient_penalty` (``"l2"``: WGAN-GP; ``"wgm"``: eq. 1.8/1.17 norm).
Defaults follow Appendix 1.A.3 (Adam lr 3·10⁻⁴, β = (0.5, 0.9), batch 64, latent 128, λ = 10, α = 1).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from .data import gan_data
from .models import Critic, Generator
from .penalties import PENALTIES, gradient_penalty


@dataclass
class GANConfig:
    """Everything that defines a run. ``iters`` counts generator updates."""

    penalty: str = "wgm"
    channels: int = 1
    size: int = 32
    n_test: int = 500
    dim: int = 64
    nz: int = 128
    batch: int = 64
    lam: float = 10.0
    n_critic: int = 5
    iters: int = 2000
    lr: float = 3e-4
    betas: tuple[float, float] = (0.5, 0.9)
    stencil: str = "diamond"
    radius: int = 2
    weight: str = "uniform"
    degree: str = "volume"
    alpha: float = 1.0
    backend: str = "auto"
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}, got {self.penalty!r}")
        if not self.lam >= 0:
            raise ValueError(f"lam must be >= 0, got {self.lam!r}")
        for name in ("batch", "n_critic", "iters", "dim", "nz"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if self.radius < 1:
            raise ValueError(f"radius must be >= 1, got {self.radius!r}")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha!r}")

    def op_kwargs(self) -> dict:
        """Metric options passed to the WGM operator (empty for ``"l2"``)."""
        if self.penalty == "l2":
            return {}
        return dict(stencil=self.stencil, radius=self.radius, weight=self.weight, degree=self.degree,
                    alpha=self.alpha, backend=self.backend)


def build_models(cfg: GANConfig) -> tuple[Generator, Critic]:
    """Generator and critic for ``cfg`` (initialized from the current torch RNG state)."""
    return (Generator(cfg.channels, cfg.size, cfg.dim, cfg.nz), Critic(cfg.channels, cfg.size, cfg.dim))


def train_gan(cfg: GANConfig, out_dir: str | None = None, progress: bool = True) -> dict:
    """Trains a WGAN-GP (``penalty="l2"``) or WWGAN (``"wgm"``) on the MNIST-derived images.

    Deterministic under ``cfg.seed`` (same seed ⇒ same data split, initialization and batches for both
    penalties). Writes ``out_dir/checkpoint.pt`` (config, G, D, history) and ``history.json`` when given.

    Returns:
        dict with ``G``, ``D`` (trained modules), ``history`` (per-iteration lists ``d_loss``, ``wdist``
        = mean D(real) − mean D(fake), ``gp``, ``g_loss``; ``critic_step_s`` per critic step; totals
        ``seconds``, ``epochs`` and ``seconds_per_epoch`` where an epoch is one pass of critic batches
        over the training set).
    """
    cfg.validate()
    torch.manual_seed(cfg.seed)
    X, _, _, _ = gan_data(cfg.channels, cfg.size, cfg.n_test, cfg.seed)
    G, D = build_models(cfg)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=tuple(cfg.betas))
    op_kwargs = cfg.op_kwargs()
    hist: dict = {"d_loss": [], "wdist": [], "gp": [], "g_loss": [], "critic_step_s": []}
    t_start = time.perf_counter()
    for _ in tqdm(range(cfg.iters), desc=f"gan[{cfg.penalty}]", disable=not progress):
        for p in D.parameters():
            p.requires_grad_(True)
        for _ in range(cfg.n_critic):
            t0 = time.perf_counter()
            real = X[torch.randint(len(X), (cfg.batch,))]
            with torch.no_grad():
                fake = G(torch.randn(cfg.batch, cfg.nz))
            d_real, d_fake = D(real).mean(), D(fake).mean()
            gp = gradient_penalty(cfg.penalty, D, real, fake, lam=cfg.lam, **op_kwargs)
            d_loss = d_fake - d_real + gp
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            hist["critic_step_s"].append(time.perf_counter() - t0)
        for p in D.parameters():
            p.requires_grad_(False)
        g_loss = -D(G(torch.randn(cfg.batch, cfg.nz))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        hist["d_loss"].append(d_loss.item())
        hist["wdist"].append((d_real - d_fake).item())
        hist["gp"].append(gp.item())
        hist["g_loss"].append(g_loss.item())
    for p in D.parameters():
        p.requires_grad_(True)
    seconds = time.perf_counter() - t_start
    epochs = cfg.iters * cfg.n_critic * cfg.batch / len(X)
    hist.update(seconds=seconds, epochs=epochs, seconds_per_epoch=seconds / epochs)
    G.eval()
    D.eval()
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        torch.save({"config": dataclasses.asdict(cfg), "G": G.state_dict(), "D": D.state_dict(), "history": hist},
                   os.path.join(out_dir, "checkpoint.pt"))
        with open(os.path.join(out_dir, "history.json"), "w") as f:
            json.dump({"config": dataclasses.asdict(cfg), "history": hist}, f)
    return {"G": G, "D": D, "history": hist}


def load_checkpoint(path: str) -> tuple[GANConfig, Generator, Critic, dict]:
    """Rebuilds (config, G, D, history) from a ``checkpoint.pt`` written by :func:`train_gan` (eval mode)."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    c = dict(ck["config"])
    c["betas"] = tuple(c["betas"])
    cfg = GANConfig(**c)
    G, D = build_models(cfg)
    G.load_state_dict(ck["G"])
    D.load_state_dict(ck["D"])
    return cfg, G.eval(), D.eval(), ck["history"]

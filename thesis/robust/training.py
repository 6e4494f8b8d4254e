"""Training a classifier with no / Euclidean / Wasserstein gradient regularization (Appendix 1.A.3).

SGD, momentum 0.9, weight decay 10⁻⁴, batch 128, learning rate 0.05 (the thesis: 0.1 with a batch-norm ResNet;
0.1 diverges for this BN-free CNN) divided by 10 at 50% and 75% of the
epochs (the thesis: epochs 100 and 150 of 200). Clean training data, no augmentation (Section 1.5.5.2).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from thesis.data import mnist_images

from .models import SoftplusCNN
from .regularizers import REGULARIZERS, regularized_loss


@dataclass
class RobustConfig:
    reg: str = "none"
    eta2: float = 0.0
    stencil: str = "square"
    radius: int = 2
    degree: str = "volume"
    alpha: float = 0.0
    channels: int = 1
    size: int = 32
    n_train: int = 4000
    n_test: int = 1000
    width: int = 16
    epochs: int = 20
    batch: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        if self.reg not in REGULARIZERS:
            raise ValueError(f"reg must be one of {REGULARIZERS}, got {self.reg!r}")
        if not self.eta2 >= 0:
            raise ValueError(f"eta2 must be >= 0, got {self.eta2!r}")
        if self.radius < 1:
            raise ValueError(f"radius must be >= 1, got {self.radius!r}")
        for name in ("epochs", "batch", "width", "n_train", "n_test"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.n_train + self.n_test > 5000:
            raise ValueError(f"n_train + n_test must be <= 5000, got {self.n_train} + {self.n_test}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")

    def op_kwargs(self) -> dict:
        if not self.reg.startswith("wgm"):
            return {}
        return dict(stencil=self.stencil, radius=self.radius, degree=self.degree, alpha=self.alpha)

    def name(self) -> str:
        r = f"{self.reg}" if self.reg == "none" else f"{self.reg}_eta{self.eta2:g}"
        if self.reg.startswith("wgm"):
            r += f"_r{self.radius}"
        return f"{r}_c{self.channels}_s{self.seed}"


def robust_data(channels: int = 1, size: int = 32, n_train: int = 4000, n_test: int = 1000, seed: int = 0
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Disjoint train / test subsets of the 5,000 digits (split drawn with ``seed``), images in [0, 1]."""
    X, y = mnist_images(None, seed, channels=channels, size=size)
    perm = np.random.default_rng(seed).permutation(len(X))
    X, y = torch.from_numpy(X[perm]), torch.from_numpy(y[perm])
    return X[n_test:n_test + n_train], y[n_test:n_test + n_train], X[:n_test], y[:n_test]


def train_classifier(cfg: RobustConfig, out_dir: str | None = None, progress: bool = True) -> dict:
    """Trains :class:`SoftplusCNN` under ``cfg``; deterministic under ``cfg.seed``.

    Returns ``{"model", "history"}`` with per-epoch ``loss``, ``ce``, ``reg``, ``train_err``, total
    ``seconds`` and ``diverged`` (training stops at the first non-finite loss; η² too large); writes ``checkpoint.pt`` and ``history.json`` to ``out_dir`` when given.
    """
    cfg.validate()
    torch.manual_seed(cfg.seed)
    Xtr, ytr, _, _ = robust_data(cfg.channels, cfg.size, cfg.n_train, cfg.n_test, cfg.seed)
    model = SoftplusCNN(cfg.channels, cfg.width, size=cfg.size)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(
        opt, milestones=sorted({max(1, cfg.epochs // 2), max(1, 3 * cfg.epochs // 4)}), gamma=0.1)
    hist: dict = {"loss": [], "ce": [], "reg": [], "train_err": [], "diverged": False}
    t0 = time.perf_counter()
    for _ in tqdm(range(cfg.epochs), desc=f"robust[{cfg.name()}]", disable=not progress):
        perm = torch.randperm(len(Xtr))
        tot = np.zeros(4)
        for i in range(0, len(Xtr), cfg.batch):
            idx = perm[i:i + cfg.batch]
            loss, ce, r = regularized_loss(model, Xtr[idx], ytr[idx], cfg.reg, cfg.eta2, **cfg.op_kwargs())
            if not torch.isfinite(loss):
                hist["diverged"] = True
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                err = float((model(Xtr[idx]).argmax(1) != ytr[idx]).float().sum())
            tot += np.array([loss.item() * len(idx), ce.item() * len(idx), r.item() * len(idx), err])
        if hist.get("diverged"):
            break
        sched.step()
        for k, v in zip(("loss", "ce", "reg", "train_err"), tot / len(Xtr)):
            hist[k].append(float(v))
    hist["train_err"] = [100 * e for e in hist["train_err"]]
    hist["seconds"] = time.perf_counter() - t0
    model.eval()
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        torch.save({"config": dataclasses.asdict(cfg), "model": model.state_dict(), "history": hist},
                   os.path.join(out_dir, "checkpoint.pt"))
        with open(os.path.join(out_dir, "history.json"), "w") as f:
            json.dump({"config": dataclasses.asdict(cfg), "history": hist}, f)
    return {"model": model, "history": hist}


def load_classifier(path: str) -> tuple[RobustConfig, SoftplusCNN, dict]:
    """(config, model in eval mode, history) from a ``checkpoint.pt`` of :func:`train_classifier`."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = RobustConfig(**ck["config"])
    model = SoftplusCNN(cfg.channels, cfg.width, size=cfg.size)
    model.load_state_dict(ck["model"])
    return cfg, model.eval(), ck["history"]

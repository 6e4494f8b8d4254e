"""Shared helpers and the registry of the ``python -m thesis.diva`` experiments (thesis Chapter 2, Sec. 2.4).

Each experiment lives in its own ``exp_<name>.py`` and is a function ``run(..., seeds, out_dir, progress,
verbose) -> dict`` (numbers per seed, the printed table and the figure path), so tests can call it at tiny
sizes:

* ``reweight`` -- Table 2.1 analogue: test error of the plain ridge classifier vs DIVA Reweight (LOO, K = 4
  steps, eta = 0.15) vs loss-based and threshold-closeness [CLM17] reweighting.
* ``extend``   -- Table 2.2 / Fig. 2.4 analogue: DIVA Extend vs uniform sample addition from a pool.
* ``outliers`` -- Fig. 2.3 analogue: 20% random labels; LOO-derivative histogram, F1 at eps = 0, ROC AUC.
* ``augment``  -- Fig. 2.5 (left) analogue: DIVA weights of identity / horizontal / vertical flips per class.
* ``overfit``  -- Fig. 2.6 analogue: validation and test error vs the number of reweighting steps on L_val.

The classifier is weighted ridge regression on one-hot targets (eq. 2.5) over fixed features with a constant
column appended (a penalized intercept). lambda is chosen per data set and seed like Appendix 2.A.2 (a
grid of powers of two) but without test data: the lambda with the lowest closed-form leave-one-out error of
the unweighted training set (``wgm_kernels.ridge_loo`` over the whole grid in one batched call), ties broken
by the LOO squared error.

Low-data regime: a data set spec ``"<name>@k"`` (e.g. ``"mnist-cnn-transfer@20"``, also via ``--datasets``)
subsamples the "train" and "pool" splits to exactly k samples per class (stratified, seeded by the run's
seed; "val" and "test" unchanged), the regime of the thesis's fine-grained sets (~30-60 images per class).
Parsed only by :func:`parse_dataset`; applied in :func:`load`. The reweight and extend quick defaults add
the rows :data:`LOW_DATA` over :data:`LOW_DATA_SEEDS` seeds.
"""
from __future__ import annotations

import importlib
import zlib
from typing import Iterable, Sequence

import numpy as np
import torch

import wgm_kernels as wk

from .extractors import features
from .validation import as_targets

__all__ = ["LAM_GRID", "EXPERIMENTS", "FULL", "get_experiment", "with_bias", "load", "choose_lam",
           "fit", "error", "ridge_error", "seed_list", "corrupt_labels", "maybe_tqdm",
           "parse_dataset", "per_class_subset", "LOW_DATA_SPLITS", "LOW_DATA", "LOW_DATA_FULL",
           "LOW_DATA_SEEDS", "row_seeds", "win_tie_loss"]

LAM_GRID = 2.0 ** torch.arange(-16, 13, dtype=torch.float64)

# name -> "module:function"; imported lazily so that each exp_*.py may import the helpers below.
EXPERIMENTS = {
    "reweight": "exp_reweight:run",
    "extend": "exp_extend:run",
    "outliers": "exp_outliers:run",
    "augment": "exp_augment:run",
    "overfit": "exp_overfit:run",
}

# Low-data rows of the reweight / extend quick defaults ("<name>@k": k training samples per class, see
# parse_dataset / load), the regime of the thesis's fine-grained sets (Tables 2.1/2.2: ~30-60 training
# images per class, 20-60% test error). Chosen by the unweighted classifier's error on the subsample alone
# (about 13-24% test error here; 8.6% for mnist-cnn@10, whose features saw all ten classes), before any DIVA
# result; run over LOW_DATA_SEEDS seeds.
LOW_DATA = ("digits@5", "digits@10", "mnist-cnn@10", "mnist-cnn-transfer@10", "mnist-cnn-transfer@20")
LOW_DATA_FULL = LOW_DATA + ("digits-rff@5", "digits@20", "mnist-cnn-transfer@5", "mnist-cnn-transfer@30")
LOW_DATA_SEEDS = 10

# keyword overrides of each experiment's (quick) defaults for --full
FULL = {
    "reweight": dict(datasets=("digits", "digits-rff", "breast_cancer", "wine", "mnist-cnn", "mnist-cnn-transfer",
                               "breast_cancer-rff", "wine-rff", *LOW_DATA_FULL), lam_scales=(1.0, 1 / 64, 64.0)),
    "extend": dict(datasets=("digits", "digits-rff", "mnist-cnn", "mnist-cnn-transfer", "breast_cancer",
                             *LOW_DATA_FULL), n_steps=40),
    "outliers": dict(datasets=("digits", "digits-rff", "mnist-cnn", "mnist-cnn-transfer", "breast_cancer",
                               "wine"), train_splits=("train", "pool")),
    "augment": dict(datasets=("digits", "digits-rff", "mnist-cnn")),
    "overfit": dict(datasets=("digits", "mnist-cnn"), steps=60, lrs=(0.05, 0.15, 0.5)),
}


def get_experiment(name: str):
    """The ``run`` function of an experiment by name (ValueError naming it when unknown)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    mod, fn = EXPERIMENTS[name].split(":")
    return getattr(importlib.import_module(f"{__package__}.{mod}"), fn)


def parse_dataset(spec: str) -> tuple[str, int | None]:
    """``"mnist-cnn@20"`` -> ("mnist-cnn", 20) (20 samples per class, the low-data regime); ``"digits"`` ->
    ("digits", None). The one place a data set spec is parsed (ValueError on a malformed ``@k``)."""
    name, sep, k = str(spec).partition("@")
    if not sep:
        return name, None
    if not name or not k.isdigit() or int(k) < 1:
        raise ValueError(f"bad dataset spec {spec!r}: expected '<name>@<k>' with an integer k >= 1 "
                         "(k training samples per class)")
    return name, int(k)


# splits that a "<name>@k" spec subsamples to k per class (training data: DIVA's core set and its pool);
# "val" and "test" are never touched.
LOW_DATA_SPLITS = ("train", "pool")


def per_class_subset(y: torch.Tensor, k: int, seed: int, salt: str = "") -> torch.Tensor:
    """Sorted indices of exactly ``k`` samples of each class present in ``y``, drawn uniformly without
    replacement; deterministic in (seed, salt). ValueError when a class has fewer than k samples."""
    y_np = np.asarray(y)
    rng = np.random.default_rng([int(seed), 0xD1FA, zlib.crc32(salt.encode())])
    out = []
    for c in np.unique(y_np):
        idx = np.flatnonzero(y_np == c)
        if len(idx) < k:
            raise ValueError(f"class {int(c)} has only {len(idx)} samples, fewer than k = {k} per class")
        out.append(rng.choice(idx, size=k, replace=False))
    return torch.as_tensor(np.sort(np.concatenate(out)), dtype=torch.long)


def row_seeds(spec: str, seeds: Sequence[int], low_data_seeds: int | None) -> list[int]:
    """Seeds of one table row: ``seeds``, extended for a low-data spec ("<name>@k") by the next integers
    after max(seeds) up to ``low_data_seeds`` seeds in all (small subsamples are noisy; their features are
    cheap). ``None`` / 0 keeps ``seeds``."""
    seeds = list(seeds)
    if parse_dataset(spec)[1] is None or not low_data_seeds or len(seeds) >= low_data_seeds:
        return seeds
    return seeds + list(range(max(seeds) + 1, max(seeds) + 1 + low_data_seeds - len(seeds)))


def win_tie_loss(gain) -> str:
    """``"W-T-L"``: seeds with a paired gain > 0, == 0 and < 0 (gain in error units, e.g. orig - DIVA)."""
    g = np.asarray(gain, dtype=float)
    tol = 1e-12
    return f"{int((g > tol).sum())}-{int((abs(g) <= tol).sum())}-{int((g < -tol).sum())}"


def seed_list(seeds: int | Iterable[int]) -> list[int]:
    """``3`` -> [0, 1, 2]; a sequence is taken as is."""
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    return out


def maybe_tqdm(it, progress: bool, **kw):
    if not progress:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, **kw)


def with_bias(Z: torch.Tensor) -> torch.Tensor:
    """Append a constant-one column (penalized intercept)."""
    return torch.cat([Z, torch.ones(len(Z), 1, dtype=Z.dtype)], 1)


def load(name: str, seed: int, splits: Sequence[str] = ("train", "test"), *,
         max_n: dict | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Features (with bias column) and labels per split; a split may be a tuple of splits to concatenate.
    ``max_n`` caps a split's size (a seeded random subset) for tiny test runs.

    ``name`` may be a low-data spec ``"<name>@k"`` (:func:`parse_dataset`): each requested part of
    :data:`LOW_DATA_SPLITS` ("train", "pool") is then subsampled to exactly k samples per class (stratified,
    seeded by ``seed``; a different draw per split); "val" and "test" stay whole. The feature map itself
    (e.g. the standardization on the full "train" split's features, the CNN) is the one of ``name``."""
    base, per_class = parse_dataset(name)
    out = {}

    def part(p: str):
        Z, y = features(base, p, seed=seed)
        if per_class is not None and p in LOW_DATA_SPLITS:
            idx = per_class_subset(y, per_class, seed, salt=p)
            Z, y = Z[idx], y[idx]
        return Z, y

    for sp in splits:
        parts = sp if isinstance(sp, tuple) else (sp,)
        zs, ys = zip(*(part(p) for p in parts))
        Z, y = with_bias(torch.cat(zs)), torch.cat(ys)
        cap = (max_n or {}).get(sp)
        if cap is not None and cap < len(y):
            idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed + 17))[:cap]
            Z, y = Z[idx], y[idx]
        out[sp] = (Z, y)
    return out


def choose_lam(Z: torch.Tensor, y: torch.Tensor, grid: torch.Tensor | None = None, k: int | None = None,
               weight: torch.Tensor | None = None) -> float:
    """lambda of ``grid`` (default 2^-16 .. 2^12) with the lowest LOO classification error of the ridge
    classifier, ties broken by the LOO squared error (one batched ``ridge_loo`` call over the grid)."""
    grid = LAM_GRID if grid is None else torch.as_tensor(grid, dtype=torch.float64)
    k = int(y.max()) + 1 if k is None else k
    Y = as_targets(y, k, dtype=torch.float64)
    try:
        lams = grid
        F = wk.ridge_loo(Z, Y, lams, weight).loo  # (L, n, k)
    except ValueError:  # some lambda interpolates a sample (LOO undefined): keep the others
        keep = []
        for lam in grid:
            try:
                wk.ridge_loo(Z, Y, float(lam), weight)
                keep.append(float(lam))
            except ValueError:
                pass
        if not keep:
            raise ValueError("every lambda of the grid interpolates the training set; use larger values")
        lams = torch.tensor(keep, dtype=torch.float64)
        F = wk.ridge_loo(Z, Y, lams, weight).loo
    err = (F.argmax(-1) != y).double().mean(-1)
    mse = ((F - Y) ** 2).sum(-1).mean(-1)
    score = err * 1e6 + mse / (mse.max() + 1e-12)  # lexicographic: error first, then mse
    return float(lams[int(score.argmin())])


def fit(Z: torch.Tensor, y: torch.Tensor, lam: float, weight: torch.Tensor | None = None,
        k: int | None = None) -> torch.Tensor:
    """Ridge coefficients W (m, k) of the (weighted) one-hot regression, eq. 2.6."""
    k = int(y.max()) + 1 if k is None else k
    if weight is not None:
        weight = torch.as_tensor(weight, dtype=Z.dtype).clamp_min(0)
        if float(weight.sum()) <= 0:
            weight = torch.ones_like(weight)
    return wk.ridge_loo(Z, as_targets(y, k, dtype=torch.float64), lam, weight).coef


def error(W: torch.Tensor, Z: torch.Tensor, y: torch.Tensor) -> float:
    """Classification error of argmax(Z W) in [0, 1]."""
    return float(((Z @ W).argmax(-1) != y).double().mean())


def ridge_error(Z, y, lam, Z_te, y_te, weight=None, k: int | None = None) -> float:
    k = int(max(int(y.max()), int(y_te.max()))) + 1 if k is None else k
    return error(fit(Z, y, lam, weight, k), Z_te, y_te)


def corrupt_labels(y: torch.Tensor, frac: float, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace the labels of a uniformly drawn ``frac`` of the samples by a label drawn uniformly from the
    other k - 1 classes (so every corrupted sample is really mislabelled). Returns (y_noisy, is_noisy)."""
    g = torch.Generator().manual_seed(10_007 + seed)
    n = len(y)
    idx = torch.randperm(n, generator=g)[: int(round(frac * n))]
    shift = torch.randint(1, k, (len(idx),), generator=g)
    y2 = y.clone()
    y2[idx] = (y[idx] + shift) % k
    noisy = torch.zeros(n, dtype=torch.bool)
    noisy[idx] = True
    return y2, noisy

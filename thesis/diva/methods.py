"""DIVA dataset optimization (Dukler 2021, Chapter 2, Section 2.3.4; Appendix 2.A.2).

Everything runs on the weighted ridge regression of eqs. 2.5-2.7 on fixed features Z (the linearized-model
Jacobians, or a frozen feature extractor as in Section 2.4), through the closed forms of ``wgm_kernels``:

* :func:`reweight` -- DIVA Reweight, projected gradient descent α ← max(0, α − η ĝ) on the LOO loss
  (eq. 2.12 composed with the loss, Section 2.3.3) or on a validation loss (eqs. 2.9-2.10): eq. 2.13.
* :func:`extend` -- DIVA Extend: grow a core set with the pool samples of most negative derivative.
* :func:`detrimental_scores` / :func:`detrimental` -- the dataset derivative as a detrimental-sample score
  and the thresholded set Detrimental(ε) of eq. 2.14.
* :func:`augmentation_weights` -- the augmentation probabilities p_k of Fig. 2.5 (left).

Targets: Y is (n, k) float (one-hot or soft) or (n,) integer labels (one-hot encoded by :func:`as_targets`).
Losses ("ce": cross-entropy with the ridge outputs as logits; "mse": |f - y|²) are those of
``wgm_kernels.ridge.epilogue``: the derivative is of the loss *summed* over the evaluation samples, while
the objectives reported in the histories are *means* per evaluation sample.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import torch

from wgm_kernels import dataset_derivative, ridge_loo
from wgm_kernels.ridge.epilogue import loss_and_grad

from .validation import (LOSSES, as_targets, check_data, check_features, check_int, check_lam, check_loss,
                         check_positive, check_rows, check_val, check_weight, n_classes, to_targets)

__all__ = ["as_targets", "reweight", "ReweightResult", "ReweightStep", "extend", "ExtendResult", "ExtendStep",
           "detrimental_scores", "detrimental", "augmentation_weights", "AugmentationWeights", "LOSSES",
           "NORMALIZATIONS"]

NORMALIZATIONS = ("mean_abs", "max_abs", "none")


# ------------------------------------------------------------------------------------------------ evaluation

def per_sample_loss(P: torch.Tensor, Y: torch.Tensor, loss: str, misclassified_only: bool = False) -> torch.Tensor:
    """ℓ(P_i, y_i) (n,) for predictions P and targets Y (n, k): the very loss the dataset derivative
    differentiates (``wgm_kernels.ridge.epilogue.loss_and_grad``), so reported objectives cannot drift."""
    return loss_and_grad(P, Y, loss, misclassified_only)[0]


@torch.no_grad()
def _predictions(Z, Y, lam: float, alpha, val) -> tuple[torch.Tensor, torch.Tensor]:
    """(predictions, targets) of the evaluation set: the α-weighted LOO predictions F of eq. 2.12 on
    (Z, Y) when val is None, else the validation predictions Z_val W_α (eq. 2.9)."""
    fit = ridge_loo(Z, Y, lam, alpha)
    if val is None:
        return fit.loo, Y
    return val[0] @ fit.coef, val[1]


def _evaluate(Z, Y, lam, alpha, val, loss, misclassified_only) -> tuple[float, float, float]:
    """(objective, loss, error): means per evaluation sample of the optimized loss (masked when
    misclassified_only), of the unmasked loss, and of the 0-1 error."""
    P, T = _predictions(Z, Y, lam, alpha, val)
    full = per_sample_loss(P, T, loss, False)
    obj = per_sample_loss(P, T, loss, True) if misclassified_only else full
    err = (P.argmax(-1) != T.argmax(-1)).to(P.dtype)
    return float(obj.mean()), float(full.mean()), float(err.mean())


# ---------------------------------------------------------------------------------------------- detrimental

def detrimental_scores(Z, Y, lam, *, loss: str = "ce", misclassified_only: bool = False, val=None,
                       weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample dataset derivative ∂L/∂α_i (eq. 2.10 for L_val, Section 2.3.3 for L_LOO), the score of
    eq. 2.14: positive means up-weighting sample i raises the loss, i.e. it is detrimental.

    Args:
        Z: (n, m) float features. Y: (n, k) float targets or (n,) integer labels.
        lam: ridge strength > 0. loss: "ce" or "mse".
        misclassified_only: "ce" counted only on misclassified evaluation predictions (Appendix 2.A.2).
        val: None (LOO loss on (Z, Y)) or (Z_val (n_val, m), Y_val) for the validation loss.
        weight: (n,) current sample weights α >= 0; None means all ones.
    Returns:
        (n,) tensor in Z's dtype (derivative of the loss summed over the evaluation samples).
    """
    lam = check_lam(lam)
    check_loss(loss, misclassified_only)
    Z, Y = check_data(Z, Y)
    vv = check_val(val, Z, Y.shape[1])
    w = check_weight(weight, Z.shape[0], Z)
    return dataset_derivative(Z, Y, lam, w, loss=loss, val=vv, misclassified_only=misclassified_only)


def detrimental(Z, Y, lam, *, eps: float = 0.0, **kwargs) -> torch.Tensor:
    """Detrimental(ε) of eq. 2.14 as an (n,) bool mask: ``detrimental_scores(Z, Y, lam, **kwargs) > eps``.

    The thesis writes ≥ ε; the strict inequality keeps samples with an exactly zero derivative (e.g. all
    correctly classified ones under misclassified_only, which do not enter the loss) out of the set at ε = 0,
    matching the text's "(∇_α L)_i > 0 implies that the sample ... is detrimental".
    """
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"eps must be a finite number, got {eps!r}") from None
    if not math.isfinite(eps):
        raise ValueError(f"eps must be a finite number, got {eps!r}")
    return detrimental_scores(Z, Y, lam, **kwargs) > eps


# ------------------------------------------------------------------------------------------------- reweight

@dataclass(frozen=True)
class ReweightStep:
    """State at step t (t = 0: the initial α = 1). objective/loss/error: means per evaluation sample (LOO
    over the n training samples, or over the validation set) of the optimized loss (masked under
    misclassified_only), the unmasked loss and the 0-1 error, all at ``alpha``. grad_scale: the
    normalizer s of the step taken *from* this α (None for the last record or when no step was taken)."""

    step: int
    alpha: torch.Tensor
    objective: float
    loss: float
    error: float
    grad_scale: float | None = None


class ReweightResult(NamedTuple):
    """alpha (n,) final weights; history: steps + 1 :class:`ReweightStep`; loss_history (steps + 1,)
    float64: the objective of each record (what the steps minimize)."""

    alpha: torch.Tensor
    history: list
    loss_history: torch.Tensor


def _grad_scale(g: torch.Tensor, normalize: str) -> float:
    if normalize == "none":
        return 1.0
    a = g.abs()
    return float(a.mean() if normalize == "mean_abs" else a.max())


def reweight(Z, Y, lam, *, steps: int = 4, lr: float = 0.15, loss: str = "ce", misclassified_only: bool = True,
             val=None, normalize: str = "mean_abs") -> ReweightResult:
    """DIVA Reweight (eq. 2.13): α_0 = 1, then ``steps`` projected steps α ← max(0, α − lr · g / s).

    g = ∇_α L (derivative of the loss summed over the evaluation samples): of the LOO loss of eq. 2.12 when
    val is None ("DIVA Reweight LOO", Table 2.1), else of the validation loss (eq. 2.10). The projection onto
    α >= 0 keeps eq. 2.5 a weighted least-squares problem.

    Gradient normalization (``normalize``): the raw derivative has no natural unit. It is an influence, of
    order one per sample as n grows (the loss sum has n terms, each moved O(1/n) by α_i), but it scales with
    the loss (ce vs mse), the feature scale and lam, so a fixed η would mean different things on different
    problems. We therefore step along g / s with s = mean_i |g_i| ("mean_abs", default): η is then the
    average change of a weight per step, independent of n, lam and scale, which is how the thesis' settings
    read (α initialized at 1, "1-3 steps with a relatively large η ≃ 0.1", K = 4 steps of η = 0.15 in
    Appendix 2.A.2, and its "normalized DIVA gradient (DIVA score)"): after 4 steps an average sample moved by
    0.6, while a sample whose derivative stays >= 1.7 mean|g| is removed (α_i = 0) within 4 steps, and one
    with g_i >= 6.7 mean|g| in a single step. "max_abs" (s = max |g|: no weight moves more than η per step; conservative) and "none" (raw
    gradient, s = 1) are there for comparison. A zero gradient (e.g. nothing misclassified under
    misclassified_only) leaves α unchanged.

    Args:
        Z: (n, m) float features. Y: (n, k) float targets or (n,) integer labels.
        lam: ridge strength > 0. steps: number of gradient steps >= 0. lr: η > 0.
        loss: "ce" (predictions as logits) or "mse".
        misclassified_only: "ce" counted only on misclassified predictions, the "hard margin" the thesis
            found crucial for DIVA Reweight LOO (Appendix 2.A.2). Note: this objective is piecewise smooth
            (samples enter and leave it as predictions flip), so its value need not decrease every step.
            It suits curated data (the thesis' setting: on clean digits it lowers the LOO error); under
            heavy label noise the misclassified set is mostly the mislabelled samples themselves, the
            objective then rewards fitting them and Reweight no longer down-weights them -- use
            misclassified_only=False to clean noisy labels.
        val: None or (Z_val (n_val, m), Y_val (n_val, k) float or (n_val,) labels).
        normalize: "mean_abs" (default), "max_abs" or "none", see above.
    Returns:
        :class:`ReweightResult` (alpha, history, loss_history). Cost per step: one ridge_loo for the
        record and one dataset_derivative (two factorizations of the (m x m) Gram or (n x n) kernel).
    """
    lam = check_lam(lam)
    steps = check_int(steps, "steps", 0)
    lr = check_positive(lr, "lr")
    check_loss(loss, misclassified_only)
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
    Z, Y = check_data(Z, Y)
    vv = check_val(val, Z, Y.shape[1])
    alpha = torch.ones(Z.shape[0], dtype=Z.dtype, device=Z.device)
    history: list[ReweightStep] = []
    for t in range(steps + 1):
        obj, full, err = _evaluate(Z, Y, lam, alpha, vv, loss, misclassified_only)
        scale = None
        if t < steps:
            g = dataset_derivative(Z, Y, lam, alpha, loss=loss, val=vv, misclassified_only=misclassified_only)
            scale = _grad_scale(g, normalize)
        history.append(ReweightStep(t, alpha.clone(), obj, full, err, scale))
        if scale is not None and scale > 0 and math.isfinite(scale):
            alpha = (alpha - (lr / scale) * g).clamp_min(0.0)
            if not bool((alpha > 0).any()):
                raise ValueError(f"step {t + 1} drove every weight to zero; lower lr (got {lr}) or steps")
    loss_history = torch.tensor([h.objective for h in history], dtype=torch.float64)
    return ReweightResult(alpha, history, loss_history)


# --------------------------------------------------------------------------------------------------- extend

@dataclass(frozen=True)
class ExtendStep:
    """One DIVA Extend round. picked: (s,) pool indices added; derivative: (s,) their ∂L/∂α_i at the pick
    (all < 0 unless stop_at_nonnegative=False); objective / error: mean evaluation loss and 0-1 error
    *before* the addition; n_negative: remaining pool samples with a negative derivative before it."""

    step: int
    picked: torch.Tensor
    derivative: torch.Tensor
    objective: float
    error: float
    n_negative: int


class ExtendResult(NamedTuple):
    """order: (n_selected,) int64 pool indices in selection order; alpha: (n_pool,) final pool weights
    (1 selected, 0 not); history: one :class:`ExtendStep` per round; loss_history: (rounds + 1,) float64
    objective before each round and after the last; stop_reason: "no_negative" (no remaining pool
    derivative is negative), "max_steps" or "exhausted" (pool empty)."""

    order: torch.Tensor
    alpha: torch.Tensor
    history: list
    loss_history: torch.Tensor
    stop_reason: str


def extend(Z_core, Y_core, Z_pool, Y_pool, lam, *, step_size: int, max_steps: int | None,
           loss: str = "ce", val=None, stop_at_nonnegative: bool = True) -> ExtendResult:
    """DIVA Extend (Section 2.3.4): grow a core set with the pool samples that most reduce the loss.

    Core and pool are merged with α = 1 on the core and α = 0 on the pool (the weighted set equals the core).
    Each round computes ∇_α L once on the merged set (one dataset_derivative call) and sets α_i = 1 for the
    ``step_size`` not yet selected pool samples with the most negative derivative (ties: lower index first);
    only negative ones are taken, and the loop stops when no remaining derivative is negative, after
    ``max_steps`` rounds, or when the pool is exhausted.

    L is the validation loss when val is given. Otherwise it is the LOO loss over the *merged* set
    (Section 2.3.3, "DIVA Extend LOO" of Appendix 2.A.2): by eq. 2.12 the α-weighted LOO prediction of a
    sample never uses that sample, so F_i is the same at α_i = 0 and α_i = 1 and the loss is leave-one-out
    cross-validation of the current training set (core + selected), scored on core and whole pool alike.

    Args:
        Z_core (n_core >= 1, m), Z_pool (n_pool >= 1, m): float features, same dtype.
        Y_core, Y_pool: (n, k) float targets or (n,) integer labels (both the same kind; labels are one-hot
            encoded with k = number of classes of core ∪ pool jointly).
        lam: ridge strength > 0. step_size: samples added per round >= 1. max_steps: rounds >= 0, or None
            for no limit. loss: "ce" or "mse". val: None or (Z_val, Y_val) as in :func:`reweight`.
        stop_at_nonnegative: False keeps adding the step_size lowest-derivative samples after the
            derivatives turn non-negative (the "forced to add all" curve of Fig. 2.5 right, Fig. 2.4).
    Returns:
        :class:`ExtendResult`.
    """
    lam = check_lam(lam)
    step_size = check_int(step_size, "step_size", 1)
    max_steps = None if max_steps is None else check_int(max_steps, "max_steps", 0)
    check_loss(loss)
    Zc = check_features(Z_core, "Z_core")  # the kernel needs a non-zero weight to fit
    if not isinstance(Z_pool, torch.Tensor) or Z_pool.ndim != 2 or Z_pool.shape[0] == 0:
        shape = tuple(Z_pool.shape) if isinstance(Z_pool, torch.Tensor) else type(Z_pool).__name__
        raise ValueError(f"Z_pool must be a non-empty (n_pool, m) tensor, got {shape}")
    Zp = check_features(Z_pool, "Z_pool", Zc.shape[1])
    if Zp.dtype != Zc.dtype:
        raise ValueError(f"Z_pool must have the dtype of Z_core ({Zc.dtype}), got {Zp.dtype}")
    kc, kp = n_classes(Y_core, "Y_core"), n_classes(Y_pool, "Y_pool")
    k = None if kc is None and kp is None else max(kc or 1, kp or 1)
    Yc = to_targets(Y_core, k, Zc.dtype, "Y_core")
    Yp = to_targets(Y_pool, Yc.shape[1], Zc.dtype, "Y_pool")
    check_rows(Yc, Zc, "Y_core", "Z_core")
    check_rows(Yp, Zp, "Y_pool", "Z_pool")
    Z, Y = torch.cat([Zc, Zp]), torch.cat([Yc, Yp])
    vv = check_val(val, Z, Y.shape[1])
    nc, npool = Zc.shape[0], Zp.shape[0]
    alpha = torch.cat([torch.ones(nc, dtype=Z.dtype), torch.zeros(npool, dtype=Z.dtype)]).to(Z.device)
    remaining = torch.ones(npool, dtype=torch.bool, device=Z.device)
    order: list[torch.Tensor] = []
    history: list[ExtendStep] = []
    objectives: list[float] = []
    stop_reason = "exhausted"
    t = 0
    while True:
        obj, _, err = _evaluate(Z, Y, lam, alpha, vv, loss, False)
        objectives.append(obj)
        if not bool(remaining.any()):
            stop_reason = "exhausted"
            break
        if max_steps is not None and t >= max_steps:
            stop_reason = "max_steps"
            break
        g = dataset_derivative(Z, Y, lam, alpha, loss=loss, val=vv)[nc:]
        cand = remaining.nonzero().flatten()
        gc = g[cand]
        n_neg = int((gc < 0).sum())
        if stop_at_nonnegative and n_neg == 0:
            stop_reason = "no_negative"
            break
        take = min(step_size, n_neg if stop_at_nonnegative else cand.numel())
        idx = torch.sort(gc, stable=True).indices[:take]  # stable: ties go to the lower pool index
        picked = cand[idx]
        order.append(picked)
        remaining[picked] = False
        alpha[nc + picked] = 1.0
        history.append(ExtendStep(t, picked.cpu(), gc[idx].cpu(), obj, err, n_neg))
        t += 1
    order_t = torch.cat(order).cpu() if order else torch.zeros(0, dtype=torch.long)
    loss_history = torch.tensor(objectives, dtype=torch.float64)
    return ExtendResult(order_t, alpha[nc:].clone(), history, loss_history, stop_reason)


# --------------------------------------------------------------------------------------------- augmentation

class AugmentationWeights(NamedTuple):
    """p (K,) float64: p_k = Σ_{i ∈ t_k} α_i / Σ_i α_i (sums to 1); alpha (n,) the reweighted α;
    names: K group names; counts (K,) int64 group sizes (p_k = counts_k / n before reweighting);
    result: the underlying :class:`ReweightResult`."""

    p: torch.Tensor
    alpha: torch.Tensor
    names: tuple
    counts: torch.Tensor
    result: ReweightResult


def augmentation_weights(Z_aug, Y_aug, groups, lam, *, steps: int = 4, lr: float = 0.15, loss: str = "ce",
                         val=None, names: Sequence[str] | None = None, misclassified_only: bool = False,
                         normalize: str = "mean_abs") -> AugmentationWeights:
    """Augmentation probabilities of Fig. 2.5 (left), Section 2.4 "Data augmentation".

    D^aug = D ∪ D^{t_1} ∪ ... ∪ D^{t_K} is reweighted with DIVA Reweight (:func:`reweight`) and each
    transformation gets p_k = (Σ_{i ∈ D^{t_k}} α_i) / (Σ_i α_i).

    Args:
        Z_aug: (n, m) features of the merged set. Y_aug: (n, k) float or (n,) integer labels.
        groups: (n,) integer group ids in 0..K-1 (K = max + 1; e.g. 0 for the identity, D itself).
        lam, steps, lr, loss, val, normalize: as in :func:`reweight`.
        misclassified_only: as in :func:`reweight`, but False by default here: an augmentation that
            corrupts labels (e.g. a vertical flip turning 6 into 9) fills the misclassified set with its own
            samples, and the hard-margin LOO loss then rewards fitting them -- on a synthetic test with one
            label-randomized group, the default of :func:`reweight` gives that group the *largest* p (and
            raises the objective after the first step) while the full CE gives it the smallest.
        names: K group names; None gives "t0", "t1", ...
    Returns:
        :class:`AugmentationWeights`. Raises ValueError when reweighting drives all weights to zero.
    """
    Z, Y = check_data(Z_aug, Y_aug, zname="Z_aug", yname="Y_aug")
    n = Z.shape[0]
    if not isinstance(groups, torch.Tensor):
        groups = torch.as_tensor(groups)
    if groups.is_floating_point() or groups.dtype == torch.bool or groups.is_complex():
        raise ValueError(f"groups must be an integer tensor, got dtype {groups.dtype}")
    if groups.shape != (n,):
        raise ValueError(f"groups must have shape ({n},) (one id per row of Z_aug), got {tuple(groups.shape)}")
    if int(groups.min()) < 0:
        raise ValueError(f"groups must hold ids in 0..K-1, got min {int(groups.min())}")
    groups = groups.long().to(Z.device)
    K = int(groups.max()) + 1
    if names is None:
        names = tuple(f"t{j}" for j in range(K))
    else:
        names = tuple(str(s) for s in names)
        if len(names) != K:
            raise ValueError(f"names must have K={K} entries (one per group id), got {len(names)}")
    res = reweight(Z, Y, lam, steps=steps, lr=lr, loss=loss, misclassified_only=misclassified_only, val=val,
                   normalize=normalize)
    total = float(res.alpha.sum())
    if total <= 0:
        raise ValueError("reweighting drove every weight to zero; lower lr or steps")
    mass = torch.zeros(K, dtype=torch.float64, device=Z.device).index_add_(0, groups, res.alpha.double())
    counts = torch.bincount(groups, minlength=K).cpu()
    return AugmentationWeights((mass / mass.sum()).cpu(), res.alpha, names, counts, res)

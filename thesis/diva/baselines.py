"""Baselines for the DIVA experiments (Dukler 2021, Section 2.4, Tables 2.1-2.2, Figs. 2.3-2.4).

All on the same weighted ridge model and closed-form LOO predictions F (eq. 2.12) as :mod:`.methods`, so a
comparison isolates the selection / weighting rule:

* :func:`uniform_extend` -- the "Uniform" column of Table 2.2 / blue line of Fig. 2.4.
* :func:`loo_loss_scores`, :func:`confidence_scores` -- outlier scores against which the DIVA score of
  Fig. 2.3 is compared (high LOO loss / low LOO confidence in the given label).
* :func:`loss_reweight` -- loss-based down-weighting (α ∝ exp(−ℓ_i / T), cf. the loss-based reweighting
  heuristics the thesis contrasts DIVA with in Section 2.2).
* :func:`threshold_closeness_weights` -- [CLM17] "Active Bias" threshold-closeness weighting, the
  uncertainty-based column of Table 2.1.

Softmax probabilities use the ridge outputs as logits, as the "ce" loss of ``wgm_kernels`` does.
"""
from __future__ import annotations

import torch

from wgm_kernels import ridge_loo

from .methods import per_sample_loss
from .validation import check_data, check_int, check_lam, check_loss, check_positive

__all__ = ["uniform_extend", "loo_loss_scores", "confidence_scores", "loss_reweight",
           "threshold_closeness_weights"]


def uniform_extend(n_pool: int, n_select: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniformly random selection order: the first ``n_select`` entries of a random permutation of
    range(n_pool), (n_select,) int64 (distinct indices). Deterministic for a seeded ``generator``."""
    n_pool = check_int(n_pool, "n_pool", 1)
    n_select = check_int(n_select, "n_select", 0)
    if n_select > n_pool:
        raise ValueError(f"n_select must be <= n_pool={n_pool}, got {n_select}")
    return torch.randperm(n_pool, generator=generator)[:n_select]


@torch.no_grad()
def _loo(Z, Y, lam, weight=None) -> tuple[torch.Tensor, torch.Tensor]:
    lam = check_lam(lam)
    Z, Y = check_data(Z, Y)
    return ridge_loo(Z, Y, lam, weight).loo, Y


def loo_loss_scores(Z, Y, lam, *, loss: str = "ce") -> torch.Tensor:
    """Per-sample LOO loss ℓ(F_i, y_i) (n,) of the unweighted ridge fit (eq. 2.12): a plain outlier score.

    Z: (n, m) float; Y: (n, k) float or (n,) integer labels; lam > 0; loss "ce" or "mse"."""
    check_loss(loss)
    F, Y = _loo(Z, Y, lam)
    return per_sample_loss(F, Y, loss, False)


def confidence_scores(Z, Y, lam) -> torch.Tensor:
    """1 − softmax(F_i)[c_i] (n,) in [0, 1]: low LOO confidence in the labelled class c_i = argmax y_i
    (confidence-based label-noise detection). Z: (n, m) float; Y: (n, k) float or (n,) labels."""
    F, Y = _loo(Z, Y, lam)
    p = torch.softmax(F, dim=-1).gather(1, Y.argmax(-1, keepdim=True)).squeeze(1)
    return 1.0 - p


def _mean_one(w: torch.Tensor) -> torch.Tensor:
    return w * (w.numel() / w.sum())


def loss_reweight(Z, Y, lam, *, steps: int = 1, temperature: float = 1.0, loss: str = "ce") -> torch.Tensor:
    """Loss-based reweighting: α_i ∝ exp(−(ℓ_i − mean ℓ) / (T · std ℓ)), normalized to mean 1.

    ℓ_i is the LOO loss of sample i under the current weights (eq. 2.12); each of ``steps`` rounds refits with
    the new α and recomputes ℓ (steps = 0 returns ones). The loss is standardized before the softmax-like
    weighting because ridge outputs used as logits give CE values in a narrow band around log k: a fixed
    absolute T would be (almost) uniform on one problem and a hard threshold on another, so ``temperature``
    is in units of the loss spread across samples.

    Returns: (n,) float weights >= 0 with mean 1.
    """
    lam = check_lam(lam)
    steps = check_int(steps, "steps", 0)
    T = check_positive(temperature, "temperature")
    check_loss(loss)
    Z, Y = check_data(Z, Y)
    alpha = torch.ones(Z.shape[0], dtype=Z.dtype, device=Z.device)
    for _ in range(steps):
        with torch.no_grad():
            F = ridge_loo(Z, Y, lam, alpha).loo
        ell = per_sample_loss(F, Y, loss, False)
        sd = ell.std() if ell.numel() > 1 else ell.new_zeros(())
        if not float(sd) > 0:
            break  # all losses equal: nothing to separate
        alpha = _mean_one(torch.softmax(-(ell - ell.mean()) / (T * sd), dim=0))
    return alpha


def threshold_closeness_weights(Z, Y, lam, *, eps: float = 0.05, prediction: str = "loo") -> torch.Tensor:
    """[CLM17] threshold-closeness weights: α_i ∝ p_i (1 − p_i) + ε, normalized to mean 1.

    p_i is the predicted probability of the labelled class argmax y_i. Chang, Learned-Miller & McCallum 2017
    ("Active Bias", cited by the thesis for "hard sample mining" in Section 2.2 and as the "[CLM17]"
    column of Table 2.1: "reweights based on the uncertainty of each prediction (threshold-closeness
    weighting scheme)") emphasize samples whose prediction is near the decision threshold, where p(1 − p) is
    largest; ε (their smoothing constant) keeps confident samples from being dropped. They average p over the
    SGD history; with a closed-form fit we use the LOO probability (``prediction="loo"``, default: a training
    sample's own fit is over-confident) or the in-sample fitted one (``"fitted"``).

    Args: Z (n, m) float; Y (n, k) float or (n,) labels; lam > 0; eps > 0 (default 0.05: our choice).
    Returns: (n,) float weights > 0 with mean 1.
    """
    lam = check_lam(lam)
    eps = check_positive(eps, "eps")
    if prediction not in ("loo", "fitted"):
        raise ValueError(f"prediction must be 'loo' or 'fitted', got {prediction!r}")
    Z, Y = check_data(Z, Y)
    with torch.no_grad():
        fit = ridge_loo(Z, Y, lam)
    P = fit.loo if prediction == "loo" else fit.fitted
    p = torch.softmax(P, dim=-1).gather(1, Y.argmax(-1, keepdim=True)).squeeze(1)
    return _mean_one(p * (1.0 - p) + eps)

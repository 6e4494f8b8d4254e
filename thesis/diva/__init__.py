"""DIVA: dataset optimization with the dataset derivative (Dukler 2021, Chapter 2, Sections 2.3.4-2.4, App. 2.A).

* :mod:`thesis.diva.methods`     -- DIVA Reweight (eq. 2.13) / Extend / detrimental scores (eq. 2.14) /
  augmentation weights (Fig. 2.5), on ``wgm_kernels.ridge_loo`` and ``wgm_kernels.dataset_derivative``.
* :mod:`thesis.diva.validation`  -- targets (labels or one-hot) and input checks naming the argument.
* :mod:`thesis.diva.baselines`   -- uniform extension, LOO-loss / confidence scores, [CLM17] weights.
* :mod:`thesis.diva.extractors`  -- ``features(name, split)``: cached fixed feature extractors (MNIST CNN,
  sklearn sets, random Fourier features) and their registry.
* :mod:`thesis.diva.experiments` -- the ``python -m thesis.diva`` experiments (reweight, extend, outliers,
  augment, overfit), one per ``exp_*.py`` file.
"""
from .baselines import (confidence_scores, loo_loss_scores, loss_reweight, threshold_closeness_weights,
                        uniform_extend)
from .extractors import available, features, image_features, image_splits, register_features
from .methods import (AugmentationWeights, ExtendResult, ReweightResult, as_targets, augmentation_weights,
                      detrimental, detrimental_scores, extend, reweight)

__all__ = ["reweight", "extend", "detrimental_scores", "detrimental", "augmentation_weights", "as_targets",
           "ReweightResult", "ExtendResult", "AugmentationWeights",
           "uniform_extend", "loo_loss_scores", "confidence_scores", "loss_reweight",
           "threshold_closeness_weights",
           "features", "register_features", "available", "image_splits", "image_features"]

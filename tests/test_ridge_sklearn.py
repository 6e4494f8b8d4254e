"""Cross-check against scikit-learn: RidgeCV's stored LOO predictions (cv_results_, shape (n, k, L))."""
import numpy as np
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.ridge.reference import random_problem

sklearn_lm = pytest.importorskip("sklearn.linear_model")
LAMS = np.array([0.01, 0.3, 5.0, 100.0])


def _ridgecv_loo(Z, Y, a):
    cv = sklearn_lm.RidgeCV(alphas=LAMS, fit_intercept=False, scoring="neg_mean_squared_error",
                            store_cv_results=True)
    cv.fit(Z.numpy(), Y.numpy(), sample_weight=None if a is None else a.numpy())
    return torch.from_numpy(cv.cv_results_).permute(2, 0, 1)  # (L, n, k)


@pytest.mark.parametrize("n, m", [(60, 12), (12, 60)])
@pytest.mark.parametrize("weighted", [False, True])
def test_loo_matches_ridgecv(n, m, weighted):
    Z, Y, a = random_problem(n, m, k=4, seed=n, zeros=0)  # sklearn returns NaN at zero weights
    ref = _ridgecv_loo(Z, Y, a if weighted else None)
    out = W.ridge_loo(Z, Y, torch.from_numpy(LAMS), a if weighted else None)
    assert out.loo.shape == ref.shape
    err = (out.loo - ref).abs().amax(dim=(1, 2)) / ref.abs().amax(dim=(1, 2))
    assert float(err.max()) < 1e-8, err

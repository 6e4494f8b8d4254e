"""Infinite-width kernels (3.15)-(3.16): Monte-Carlo vs arc-cosine closed forms, concentration of V(0), G(0)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from thesis.data import check_assumptions, mnist_digits, preprocess_unit_norm, unit_sphere_data
from thesis.weightnorm import WNTwoLayer, closed_form_grams, infinite_width_grams, lambda_min


@pytest.fixture(scope="module")
def X() -> torch.Tensor:
    return torch.tensor(unit_sphere_data(10, 50, seed=2))


@pytest.fixture(scope="module")
def inf(X) -> dict:
    return infinite_width_grams(X, samples=200_000, seed=0)


def test_mc_matches_closed_form(inf):
    # MC standard error per entry ~ 0.5/sqrt(2e5) ~ 1e-3; G entries are ~1/d smaller
    assert inf["mc_error"]["H"] < 6e-3
    assert inf["mc_error"]["V"] < 6e-3
    assert inf["mc_error"]["G"] < 6e-4
    assert inf["lambda0"] == pytest.approx(inf["lambda0_closed"], rel=0.03)
    assert inf["mu0"] == pytest.approx(inf["mu0_closed"], rel=0.05)


def test_lemma_3_5_1_positive_definite(inf):
    assert inf["lambda0_closed"] > 0.05 and inf["mu0_closed"] > 1e-3
    assert inf["lambda0"] > 0 and inf["mu0"] > 0


def test_closed_form_values(X):
    cf = closed_form_grams(X)
    d = X.shape[1]
    assert torch.allclose(cf["H"].diagonal(), torch.full((10,), 0.5, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(cf["G"].diagonal(), torch.full((10,), 0.5 / d, dtype=torch.float64), atol=1e-12)
    # antipodal points: never active together
    Y = torch.stack([X[0], -X[0], X[1]])
    cy = closed_form_grams(Y)
    assert abs(cy["H"][0, 1].item()) < 1e-12 and abs(cy["G"][0, 1].item()) < 1e-12
    # orthogonal unit vectors: H = 0, G = 1/(2 pi d)
    E = torch.eye(50, dtype=torch.float64)[:2]
    ce = closed_form_grams(E)
    assert abs(ce["H"][0, 1].item()) < 1e-15
    assert ce["G"][0, 1].item() == pytest.approx(1 / (2 * math.pi * 50), rel=1e-12)


def test_finite_width_concentrates_to_infinite(X, inf):
    """V(0), G(0) are empirical means of the integrands of (3.15)-(3.16): error ~ m^{-1/2}."""
    errs = []
    for m in (500, 8000):
        K = WNTwoLayer(50, m, 0.4, seed=1).gram_matrices(X)
        errs.append(max((K["V"] - inf["V_closed"]).abs().max().item(),
                        (K["G"] - inf["G_closed"]).abs().max().item() * 10))
    assert errs[1] < 0.02
    assert errs[1] < 0.5 * errs[0]       # 16x the width: expected 4x smaller


def test_beta_does_not_enter_infinite_kernels(X):
    a = infinite_width_grams(X, samples=5000, seed=3, closed_form=False)
    assert set(a) >= {"V", "G", "H", "lambda0", "mu0"}
    assert lambda_min(a["V"] + a["G"] - a["H"]) == pytest.approx(0.0, abs=1e-12)


def test_data_helpers():
    Xm, ym = mnist_digits(40, seed=1)
    assert Xm.shape == (40, 1, 28, 28) and Xm.dtype == np.float32 and ym.dtype == np.int64
    assert 0.0 <= Xm.min() and Xm.max() <= 1.0 and Xm.max() > 0.9
    Z = preprocess_unit_norm(Xm, 64)
    a = check_assumptions(Z)
    assert Z.shape == (40, 64) and a["max_norm"] == pytest.approx(1.0) and a["max_abs_cos"] < 0.999
    P = preprocess_unit_norm(np.eye(3) + 1.0, 55)          # zero-padding branch
    assert P.shape == (3, 55) and np.allclose(np.linalg.norm(P, axis=1), 1)
    with pytest.raises(ValueError, match="n must"):
        mnist_digits(0)
    with pytest.raises(ValueError, match="zero"):
        preprocess_unit_norm(np.ones((4, 60)), 50)

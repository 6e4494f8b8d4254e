"""Every backend against the dense brute force L(x) = Dᵀ Λ(x) D (Definition 1.2.2) on small images."""
import itertools

import numpy as np
import pytest
import torch
from _bruteforce import custom_weight_of, grid_edges, named_weight_of, norm_sq

import wgm_kernels as W

BACKENDS = W.available_backends()
SHAPES = [(2, 2, 5, 7), (1, 1, 1, 6), (1, 2, 6, 1), (1, 1, 3, 3)]


def _data(shape, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g, dtype=torch.float64)
    u = torch.randn(shape, generator=g, dtype=torch.float64)
    v = torch.randn(shape, generator=g, dtype=torch.float64)
    return x, u, v


@pytest.mark.parametrize("stencil,radius,weight", list(itertools.product(["square", "diamond", "cross"], [1, 2, 3], ["uniform", "inverse_square"])))
@pytest.mark.parametrize("degree", ["volume", "none"])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_named_stencils_match_bruteforce(stencil, radius, weight, degree, alpha):
    for k, shape in enumerate(SHAPES):
        H, Wd = shape[-2:]
        edges = grid_edges(H, Wd, named_weight_of(stencil, radius, weight))
        x, g, _ = _data(shape, seed=k)
        kw = dict(stencil=stencil, radius=radius, weight=weight, degree=degree, alpha=alpha)
        if not edges:
            with pytest.raises(ValueError, match="no edge"):
                W.wasserstein_grad_norm_sq(x, g, **kw)
            continue
        expected = norm_sq(x.numpy(), g.numpy(), g.numpy(), edges, degree == "volume", alpha)
        for backend in BACKENDS:
            got = W.wasserstein_grad_norm_sq(x, g, backend=backend, **kw)
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-11, atol=1e-11, err_msg=f"{backend} {shape}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_trilinear_form_and_custom_stencil(backend):
    offsets, weights = [(0, 1), (2, 1), (-1, 3), (0, -1)], [0.5, 2.0, 1.5, 0.5]  # (0,-1) mirrors (0,1)
    st = W.Stencil(offsets, weights)
    assert len(st.offsets) == 3
    x, u, v = _data((3, 2, 6, 8), seed=5)
    edges = grid_edges(6, 8, custom_weight_of(offsets, weights))
    for degree, alpha in [("volume", 0.0), ("none", 0.25)]:
        expected = norm_sq(x.numpy(), u.numpy(), v.numpy(), edges, degree == "volume", alpha)
        got = W.trilinear_form(x, u, v, stencil=st, degree=degree, alpha=alpha, backend=backend)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-11, atol=1e-11)


def test_thesis_formula_by_hand_on_a_two_pixel_image():
    # One edge, ω = 1, deg = (1, 1), Σdeg = 2, d = (1/2, 1/2): (g0 - g1)² (2 x0 + 2 x1) / 2 + α (g0 + g1)².
    x = torch.tensor([[[[0.3, 0.5]]]], dtype=torch.float64)
    g = torch.tensor([[[[2.0, -1.0]]]], dtype=torch.float64)
    for backend in BACKENDS:
        got = W.wasserstein_grad_norm_sq(x, g, alpha=0.5, backend=backend)
        assert got.item() == pytest.approx(9.0 * 0.8 + 0.5 * 1.0, rel=1e-14)

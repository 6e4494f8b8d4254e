"""Sanity of the geometry: the norm is invariant to translating an image (and its critic gradient)
whose mass stays away from the borders, and is not once the mass reaches the border (degree d_i)."""
import pytest
import torch

import wgm_kernels as W


@pytest.mark.parametrize("backend", W.available_backends())
@pytest.mark.parametrize("stencil,radius", [("square", 2), ("diamond", 3)])
def test_translation_invariance_away_from_borders(backend, stencil, radius):
    gen = torch.Generator().manual_seed(0)
    H = Wd = 24
    x = torch.zeros(1, 3, H, Wd, dtype=torch.float64)
    x[..., 9:15, 8:14] = torch.rand(3, 6, 6, generator=gen, dtype=torch.float64) + 0.1
    g = torch.randn(1, 3, H, Wd, generator=gen, dtype=torch.float64)
    kw = dict(stencil=stencil, radius=radius, backend=backend)
    base = W.wasserstein_grad_norm_sq(x, g, **kw)
    for shift in [(1, 0), (0, -3), (-4, 5)]:  # support stays >= radius + 1 pixels from every border
        moved = W.wasserstein_grad_norm_sq(torch.roll(x, shift, (2, 3)), torch.roll(g, shift, (2, 3)), **kw)
        torch.testing.assert_close(moved, base, rtol=1e-12, atol=0)
    at_border = W.wasserstein_grad_norm_sq(torch.roll(x, (9, 0), (2, 3)), torch.roll(g, (9, 0), (2, 3)), **kw)
    assert not torch.allclose(at_border, base, rtol=1e-6)  # border pixels have fewer neighbours

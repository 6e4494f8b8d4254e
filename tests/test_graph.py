"""The general-graph version: equals the grid version on a grid graph and the brute force; bad edges."""
import numpy as np
import pytest
import torch
from _bruteforce import grid_edges, named_weight_of, norm_sq

import wgm_kernels as W


def _grid_graph(H, Wd, stencil, radius, weight):
    e = grid_edges(H, Wd, named_weight_of(stencil, radius, weight))
    return torch.tensor([(i, j) for i, j, _ in e]), torch.tensor([w for *_, w in e], dtype=torch.float64)


@pytest.mark.parametrize("stencil,radius,weight", [("square", 2, "uniform"), ("diamond", 3, "inverse_square"), ("cross", 1, "uniform")])
@pytest.mark.parametrize("degree,alpha", [("volume", 0.0), ("none", 0.3)])
def test_grid_graph_equals_grid_version(stencil, radius, weight, degree, alpha):
    B, C, H, Wd = 3, 2, 5, 6
    x, g = torch.rand(B, C, H, Wd, dtype=torch.float64), torch.randn(B, C, H, Wd, dtype=torch.float64)
    edges, w = _grid_graph(H, Wd, stencil, radius, weight)
    kw = dict(degree=degree, alpha=alpha)
    got = W.graph_wasserstein_grad_norm_sq(x.reshape(B * C, -1), g.reshape(B * C, -1), edges, w, **kw)
    grid = W.wasserstein_grad_norm_sq(x, g, stencil=stencil, radius=radius, weight=weight, **kw)
    torch.testing.assert_close(got.reshape(B, C).sum(1), grid, rtol=1e-12, atol=1e-12)


def test_random_graph_matches_bruteforce_and_gradchecks():
    gen = torch.Generator().manual_seed(0)
    n = 9
    pairs = torch.combinations(torch.arange(n), 2)
    edges = pairs[torch.randperm(len(pairs), generator=gen)[:14]]
    w = torch.rand(14, generator=gen, dtype=torch.float64) + 0.1
    x = torch.rand(2, n, generator=gen, dtype=torch.float64)
    g = torch.randn(2, n, generator=gen, dtype=torch.float64)
    brute = norm_sq(x.numpy()[:, None, None], g.numpy()[:, None, None], g.numpy()[:, None, None],
                    [(int(i), int(j), float(c)) for (i, j), c in zip(edges, w)], True, 0.2)
    got = W.graph_wasserstein_grad_norm_sq(x, g, edges, w, alpha=0.2)
    np.testing.assert_allclose(got.numpy(), brute, rtol=1e-12)
    args = (x.requires_grad_(), g.requires_grad_(), w.requires_grad_())
    fn = lambda a, b, c: W.graph_wasserstein_grad_norm_sq(a, b, edges, c, alpha=0.2)
    assert torch.autograd.gradcheck(fn, args) and torch.autograd.gradgradcheck(fn, args)


@pytest.mark.parametrize(
    "edges, weight, exc, pattern",
    [
        (torch.tensor([[0, 5]]), None, ValueError, r"index nodes in \[0, 4\)"),
        (torch.tensor([[-1, 2]]), None, ValueError, "index nodes"),
        (torch.tensor([[1, 1]]), None, ValueError, "self-loops"),
        (torch.tensor([[0, 1], [1, 0]]), None, ValueError, "more than once"),
        (torch.tensor([0, 1]), None, ValueError, r"\(E, 2\)"),
        (torch.tensor([[0.0, 1.0]]), None, TypeError, "integer"),
        (torch.tensor([[0, 1]]), torch.tensor([-1.0], dtype=torch.float64), ValueError, "edge_weight has 1 negative"),
        (torch.tensor([[0, 1]]), torch.tensor([1.0, 2.0], dtype=torch.float64), ValueError, r"edge_weight must have shape \(1,\)"),
    ],
)
def test_bad_edges(edges, weight, exc, pattern):
    x, g = torch.rand(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    with pytest.raises(exc, match=pattern):
        W.graph_wasserstein_grad_norm_sq(x, g, edges, weight)


def test_bad_graph_tensors():
    with pytest.raises(ValueError, match="x must be 2-D"):
        W.graph_wasserstein_grad_norm_sq(torch.rand(4), torch.rand(4), torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="x has 1 negative"):
        W.graph_wasserstein_grad_norm_sq(-torch.eye(1, 3), torch.rand(1, 3), torch.tensor([[0, 1]]))

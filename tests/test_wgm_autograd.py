"""Gradients of every backend: gradcheck / gradgradcheck in float64, and the analytic C++ backward
against autograd through the independent shift reference, up to third order."""
import pytest
import torch

import wgm_kernels as W

BACKENDS = W.available_backends()
CONFIGS = [
    dict(stencil="square", radius=2, weight="uniform", degree="volume", alpha=0.0),
    dict(stencil="diamond", radius=2, weight="inverse_square", degree="none", alpha=0.4),
    dict(stencil=W.Stencil([(1, -2), (0, 1)], [0.7, 1.3]), degree="volume", alpha=0.1),
]


def _inputs(shape=(2, 2, 5, 6), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(shape, generator=g, dtype=torch.float64) + 0.1).requires_grad_()
    u = torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_()
    v = torch.randn(shape, generator=g, dtype=torch.float64).requires_grad_()
    return x, u, v


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
def test_gradcheck_gradgradcheck_norm(backend, cfg):
    x, g, _ = _inputs(shape=(2, 1, 4, 5), seed=cfg)
    fn = lambda a, b: W.wasserstein_grad_norm_sq(a, b, backend=backend, **CONFIGS[cfg])
    assert torch.autograd.gradcheck(fn, (x, g))
    assert torch.autograd.gradgradcheck(fn, (x, g))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_gradgradcheck_trilinear(backend):
    x, u, v = _inputs(shape=(1, 2, 3, 4), seed=7)
    fn = lambda a, b, c: W.trilinear_form(a, b, c, backend=backend, **CONFIGS[1])
    assert torch.autograd.gradcheck(fn, (x, u, v))
    assert torch.autograd.gradgradcheck(fn, (x, u, v))


def _derivatives(backend, x, u, v, cfg):
    """First, second and third directional derivatives of T(x; u, v) along fixed directions
    (the norm's quadratic op pair when u is v)."""
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(x.shape[0], generator=gen, dtype=x.dtype)
    if u is v:
        t = W.wasserstein_grad_norm_sq(x, u, backend=backend, **cfg)
    else:
        t = W.trilinear_form(x, u, v, backend=backend, **cfg)
    g1 = torch.autograd.grad((t * w).sum(), (x, u, v), create_graph=True)
    dirs = [torch.randn(x.shape, generator=gen, dtype=x.dtype) for _ in range(3)]
    s2 = sum((a * d).sum() for a, d in zip(g1, dirs))
    g2 = torch.autograd.grad(s2, (x, u, v), create_graph=True)
    s3 = sum((a * d).sum() for a, d in zip(g2, dirs[::-1]))
    g3 = torch.autograd.grad(s3, (x, u, v), allow_unused=True, materialize_grads=True)
    return t, g1, g2, g3


@pytest.mark.skipif("cpp" not in BACKENDS, reason="native extension not built")
@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
@pytest.mark.parametrize("form", ["trilinear", "norm"])
def test_cpp_derivatives_match_reference_autograd(cfg, form):
    x, u, v = _inputs(shape=(3, 2, 7, 5), seed=11 + cfg)
    if form == "norm":
        v = u
    ref = _derivatives("reference", x, u, v, CONFIGS[cfg])
    got = _derivatives("cpp", x, u, v, CONFIGS[cfg])
    torch.testing.assert_close(got[0], ref[0], rtol=1e-12, atol=1e-12)
    for order in (1, 2, 3):
        for a, b in zip(got[order], ref[order]):
            torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("backend", BACKENDS)
def test_safe_sqrt_has_finite_gradient_at_zero(backend):
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64)
    g = torch.zeros(2, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    g2 = torch.ones(2, 1, 4, 4, dtype=torch.float64)  # constant gradient: also norm 0 (alpha = 0)
    for grad in (g, (g2 + 0 * g)):
        n = W.wasserstein_grad_norm(x, grad, backend=backend)
        assert torch.equal(n, torch.zeros(2, dtype=torch.float64))
        (d,) = torch.autograd.grad(n.sum(), g)
        assert torch.isfinite(d).all() and d.abs().max() == 0


def test_norm_is_sqrt_of_norm_sq():
    x, g, _ = _inputs()
    s = W.wasserstein_grad_norm_sq(x, g, radius=2)
    torch.testing.assert_close(W.wasserstein_grad_norm(x, g, radius=2), s.sqrt(), rtol=1e-15, atol=0)

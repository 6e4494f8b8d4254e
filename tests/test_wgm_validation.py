"""Bad input gets a clear error naming the argument; edge cases (empty batch, 3-D, non-contiguous, low
precision) work."""
import pytest
import torch

import wgm_kernels as W

BACKENDS = W.available_backends()


def _xg(shape=(2, 3, 6, 6), dtype=torch.float32):
    return torch.rand(shape, dtype=dtype), torch.randn(shape, dtype=dtype)


@pytest.mark.parametrize(
    "make, exc, pattern",
    [
        (lambda x, g: (x, g[:, :2]), ValueError, "same shape"),
        (lambda x, g: (x[0, 0, 0], g[0, 0, 0]), ValueError, "x must be 4-D"),
        (lambda x, g: (x[None], g[None]), ValueError, "x must be 4-D"),
        (lambda x, g: ((x * 10).long(), g), TypeError, "x must be a floating-point"),
        (lambda x, g: (x, g.to(torch.int32)), TypeError, "grad must be a floating-point"),
        (lambda x, g: (x, g.double()), TypeError, "same dtype"),
        (lambda x, g: (x.numpy(), g), TypeError, "x must be a torch.Tensor"),
        (lambda x, g: (x, torch.randn(2, 3, 6, 6, device="meta")), ValueError, "same device"),
    ],
)
def test_bad_tensors(make, exc, pattern):
    x, g = make(*_xg())
    with pytest.raises(exc, match=pattern):
        W.wasserstein_grad_norm_sq(x, g)


def test_negative_mass_is_counted_and_can_be_skipped():
    x, g = _xg()
    x[0, 0, 0, :3] = -0.5
    with pytest.raises(ValueError, match="x has 3 negative entries"):
        W.wasserstein_grad_norm_sq(x, g)
    assert torch.isfinite(W.wasserstein_grad_norm_sq(x, g, validate=False)).all()


@pytest.mark.parametrize("name,idx", [("x", 0), ("grad", 1)])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_inf(name, idx, bad):
    t = list(_xg())
    t[idx][1, 2, 3, 4] = bad
    with pytest.raises(ValueError, match=f"{name} has 1 NaN/Inf"):
        W.wasserstein_grad_norm_sq(*t)


@pytest.mark.parametrize(
    "kw, exc, pattern",
    [
        (dict(radius=0), ValueError, "radius must be an integer >= 1"),
        (dict(radius=1.5), ValueError, "radius"),
        (dict(stencil="hexagon"), ValueError, "stencil must be one of"),
        (dict(weight="gauss"), ValueError, "weight must be one of"),
        (dict(degree="sym"), ValueError, "degree must be one of"),
        (dict(alpha=-1.0), ValueError, "alpha must be finite and >= 0"),
        (dict(alpha=float("nan")), ValueError, "alpha"),
        (dict(backend="fortran"), ValueError, "backend must be"),
        (dict(stencil=W.Stencil([(7, 0)])), ValueError, "no edge inside a 6x6 image"),
    ],
)
def test_bad_parameters(kw, exc, pattern):
    with pytest.raises(exc, match=pattern):
        W.wasserstein_grad_norm_sq(*_xg(), **kw)


def test_bad_stencils():
    with pytest.raises(ValueError, match="nonnegative"):
        W.Stencil([(0, 1)], [-1.0])
    with pytest.raises(ValueError, match=r"\(0, 0\)"):
        W.Stencil([(0, 0)])
    with pytest.raises(ValueError, match="different weights"):
        W.Stencil([(0, 1), (0, -1)], [1.0, 2.0])
    with pytest.raises(ValueError, match="weights"):
        W.Stencil([(0, 1)], [1.0, 2.0])


def test_one_pixel_image_has_no_edge():
    with pytest.raises(ValueError, match="no edge inside a 1x1 image"):
        W.wasserstein_grad_norm_sq(*_xg((2, 1, 1, 1)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_batch(backend):
    x, g = _xg((0, 3, 5, 5))
    g.requires_grad_()
    out = W.wasserstein_grad_norm_sq(x, g, backend=backend)
    assert out.shape == (0,)
    out.sum().backward()
    assert g.grad.shape == g.shape


@pytest.mark.parametrize("backend", BACKENDS)
def test_three_dim_input_is_one_channel(backend):
    x, g = _xg((3, 5, 7), dtype=torch.float64)
    torch.testing.assert_close(W.wasserstein_grad_norm_sq(x, g, backend=backend),
                               W.wasserstein_grad_norm_sq(x[:, None], g[:, None], backend="reference"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_contiguous(backend):
    x, g = _xg((4, 6, 7, 3), dtype=torch.float64)
    xs, gs = x.permute(0, 3, 1, 2)[::2], g.permute(0, 3, 1, 2)[::2]  # channels-last and strided batch
    assert not xs.is_contiguous()
    torch.testing.assert_close(W.wasserstein_grad_norm_sq(xs, gs, radius=2, backend=backend),
                               W.wasserstein_grad_norm_sq(xs.contiguous(), gs.contiguous(), radius=2, backend="reference"))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_on_reference(dtype):
    x, g = _xg((2, 3, 8, 8))
    out = W.wasserstein_grad_norm_sq(x.to(dtype), g.to(dtype), radius=2)
    assert out.dtype == torch.float32  # accumulated and returned in float32
    expected = W.wasserstein_grad_norm_sq(x.to(dtype).float(), g.to(dtype).float(), radius=2, backend="reference")
    torch.testing.assert_close(out.float(), expected, rtol=1e-2, atol=0)
    if "cpp" in BACKENDS:
        with pytest.raises(TypeError, match="backend='cpp' supports float32, float64"):
            W.wasserstein_grad_norm_sq(x.to(dtype), g.to(dtype), backend="cpp")


def test_module_wrapper_validates_at_construction():
    with pytest.raises(ValueError, match="radius"):
        W.WassersteinGradNorm(radius=0)
    m = W.WassersteinGradNorm(radius=2, squared=True)
    x, g = _xg()
    torch.testing.assert_close(m(x, g), W.wasserstein_grad_norm_sq(x, g, radius=2))
    assert "radius=2" in repr(m)

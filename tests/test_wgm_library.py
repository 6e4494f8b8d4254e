"""torch.library registration: opcheck of the native ops, and torch.compile(fullgraph=True)."""
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.stencil import make_stencil

pytestmark = pytest.mark.skipif("cpp" not in W.available_backends(), reason="native extension not built")


def _args(dtype=torch.float64, alpha=0.3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    st = make_stencil("square", 2, "inverse_square")
    x = torch.rand(2, 2, 5, 6, generator=gen, dtype=dtype, requires_grad=True)
    u = torch.randn(2, 2, 5, 6, generator=gen, dtype=dtype, requires_grad=True)
    v = torch.randn(2, 2, 5, 6, generator=gen, dtype=dtype, requires_grad=True)
    return (x, u, v, st.dy, st.dx, list(st.weights), True, alpha)


def test_ops_are_registered():
    for name in ("trilinear", "trilinear_backward", "norm_sq", "norm_sq_backward"):
        assert hasattr(torch.ops.wgm_kernels, name)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_opcheck_forward(dtype):
    torch.library.opcheck(torch.ops.wgm_kernels.trilinear.default, _args(dtype))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_opcheck_backward(dtype):
    x, u, v, *rest = _args(dtype)
    g = torch.randn(2, dtype=dtype, requires_grad=True)
    torch.library.opcheck(torch.ops.wgm_kernels.trilinear_backward.default, (g, x, u, v, *rest))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_opcheck_norm_pair(dtype):
    x, g, _, *rest = _args(dtype)
    torch.library.opcheck(torch.ops.wgm_kernels.norm_sq.default, (x, g, *rest))
    go = torch.randn(2, dtype=dtype, requires_grad=True)
    torch.library.opcheck(torch.ops.wgm_kernels.norm_sq_backward.default, (go, x, g, *rest))


def test_compile_fullgraph_public_api():
    def penalty(x, g):
        n = W.wasserstein_grad_norm(x, g, radius=2, alpha=0.1, backend="cpp")  # value checks skip while compiling
        return (n - 1).pow(2).mean()

    x, g = torch.rand(3, 2, 8, 8), torch.randn(3, 2, 8, 8, requires_grad=True)
    compiled = torch.compile(penalty, fullgraph=True)
    out = compiled(x, g)
    torch.testing.assert_close(out, penalty(x, g), rtol=1e-5, atol=1e-6)
    (d1,) = torch.autograd.grad(out, g)
    (d2,) = torch.autograd.grad(penalty(x, g), g)
    torch.testing.assert_close(d1, d2, rtol=1e-5, atol=1e-6)


def test_norm_pair_fallback_for_other_devices_matches_fused_cpu():
    """The device-agnostic norm_sq pair (csrc/wgm.cpp; what CUDA uses) equals the fused CPU kernels."""
    x, g, _, *rest = _args(torch.float64)
    x, g = x.detach(), g.detach()
    go = torch.randn(2, dtype=torch.float64)
    composite = torch._C.DispatchKeySet(torch._C.DispatchKey.CompositeExplicitAutograd)
    fwd, bwd = torch.ops.wgm_kernels.norm_sq.default, torch.ops.wgm_kernels.norm_sq_backward.default
    torch.testing.assert_close(fwd.redispatch(composite, x, g, *rest), fwd(x, g, *rest), rtol=1e-12, atol=1e-12)
    for a, b in zip(bwd.redispatch(composite, go, x, g, *rest), bwd(go, x, g, *rest)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)

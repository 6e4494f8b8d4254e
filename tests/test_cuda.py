"""GPU backends (``triton``, ``cuda``) against the reference on CUDA tensors. Marked ``cuda``; skipped
without a GPU. bench/gpu/run.sh runs these on a GPU machine.

Tolerances: float64 to 1e-10; float32 to ~1e-5 relative; float16/bfloat16 inputs accumulate in float32, so
they are compared with the reference on the *same rounded inputs* (computed in float64) up to the output
rounding (bf16: 8 bits of mantissa, ~4e-3 relative). Gradient atol is relative to the largest entry.
"""
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.stencil import make_stencil

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

GPU_BACKENDS = [b for b in ("triton", "cuda") if b in W.available_backends()]
CASES = [
    dict(stencil="square", radius=1, weight="uniform", degree="volume", alpha=0.0),
    dict(stencil="square", radius=2, weight="inverse_square", degree="volume", alpha=0.3),
    dict(stencil="diamond", radius=2, weight="uniform", degree="none", alpha=0.0),
    dict(stencil="square", radius=4, weight="uniform", degree="volume", alpha=0.1),
    dict(stencil="cross", radius=3, weight="inverse_square", degree="volume", alpha=0.0),
    dict(stencil="square", radius=8, weight="uniform", degree="volume", alpha=0.0),
    dict(stencil=W.Stencil([(2, 0), (1, -3)], [0.7, 1.3]), degree="volume", alpha=0.2),
]
SHAPES = [(3, 2, 37, 45), (2, 3, 64, 64), (1, 1, 1, 70), (2, 1, 5, 130)]
TOL = {
    torch.float64: dict(rtol=1e-10, atol=1e-10),
    torch.float32: dict(rtol=1e-5, atol=1e-4),
    torch.float16: dict(rtol=2e-3, atol=1e-3),
    torch.bfloat16: dict(rtol=1.6e-2, atol=1e-2),
}


def _data(shape, dtype, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    # A probability mass per plane (x/d is then O(1)) and O(0.1) gradients keep float16 far from overflow.
    x = torch.rand(shape, generator=g, device="cuda", dtype=torch.float64) + 0.05
    x = x / x.sum((2, 3), keepdim=True)
    u = 0.1 * torch.randn(shape, generator=g, device="cuda", dtype=torch.float64)
    v = 0.1 * torch.randn(shape, generator=g, device="cuda", dtype=torch.float64)
    return x.to(dtype), u.to(dtype), v.to(dtype)


def _params(kw):
    st = make_stencil(kw["stencil"], kw.get("radius", 1), kw.get("weight", "uniform"))
    return st, kw["degree"] == "volume", kw["alpha"]


def test_gpu_backends_available():
    assert "triton" in W.available_backends()
    assert "cuda" in W.available_backends(), "extension built without csrc/cuda (CUDA torch + nvcc needed)"


@pytest.mark.parametrize("backend", GPU_BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_forward_and_backward_match_reference(backend, dtype, shape, case):
    kw = CASES[case]
    st, volume, alpha = _params(kw)
    if st.num_edges(shape[2], shape[3]) == 0:
        pytest.skip("no edge fits")
    x, u, v = _data(shape, dtype, seed=case)
    xr, ur, vr = (t.double().requires_grad_() for t in (x, u, v))  # the same rounded inputs
    go = torch.randn(shape[0], device="cuda", dtype=torch.float64)
    ref = W.trilinear_form(xr, ur, vr, backend="reference", validate=False, **kw)
    ref_grads = torch.autograd.grad((ref * go).sum(), (xr, ur, vr))
    got = W.trilinear_form(x, u, v, backend=backend, **kw)
    assert got.dtype == dtype and got.device == x.device
    torch.testing.assert_close(got.double(), ref.detach(), **TOL[dtype])
    got_norm = W.wasserstein_grad_norm_sq(x, u, backend=backend, **kw)
    ref_norm = W.wasserstein_grad_norm_sq(xr.detach(), ur.detach(), backend="reference", **kw)
    torch.testing.assert_close(got_norm.double(), ref_norm, **TOL[dtype])
    bwd = torch.ops.wgm_kernels.triton_trilinear_backward if backend == "triton" else torch.ops.wgm_kernels.trilinear_backward
    grads = bwd(go.to(dtype), x, u, v, st.dy, st.dx, list(st.weights), volume, alpha)
    scale = max(float(r.abs().max()) for r in ref_grads)
    for name, a, b in zip(("grad_x", "grad_u", "grad_v"), grads, ref_grads):
        assert a.dtype == dtype
        tol = TOL[dtype]
        torch.testing.assert_close(a.double(), b, rtol=tol["rtol"], atol=tol["atol"] * max(scale, 1.0),
                                   msg=lambda m: f"{backend} {name}: {m}")


@pytest.mark.parametrize("backend", GPU_BACKENDS)
@pytest.mark.parametrize("case", [1, 3, 6])
def test_gradcheck_gradgradcheck_float64(backend, case):
    kw = CASES[case]
    x, u, v = (t.requires_grad_() for t in _data((2, 2, 6, 7), torch.float64, seed=case))
    norm = lambda a, b: W.wasserstein_grad_norm_sq(a, b, backend=backend, **kw)
    form = lambda a, b, c: W.trilinear_form(a, b, c, backend=backend, **kw)
    assert torch.autograd.gradcheck(norm, (x, u))
    assert torch.autograd.gradgradcheck(norm, (x, u))
    assert torch.autograd.gradcheck(form, (x, u, v))
    assert torch.autograd.gradgradcheck(form, (x, u, v))


needs_cuda_backend = pytest.mark.skipif("cuda" not in W.available_backends(),
                                        reason="extension built without csrc/cuda")


@needs_cuda_backend
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_cuda_norm_sq_ops_match_cpu(dtype, shape, case):
    """The CUDA norm_sq / norm_sq_backward kernels (symmetric one-pass backward) against the CPU ops on the
    same rounded inputs (float16/bfloat16: the CPU ops in float64), and against grad_u + grad_v of the CUDA
    trilinear_backward. Outputs keep the input dtype."""
    st, volume, alpha = _params(CASES[case])
    params = (st.dy, st.dx, list(st.weights), volume, alpha)
    x, g, _ = _data(shape, dtype, seed=case)
    go = torch.randn(shape[0], device="cuda", dtype=torch.float64).to(dtype)
    cpu_dtype = dtype if dtype in (torch.float32, torch.float64) else torch.float64
    xc, gc, goc = (t.cpu().to(cpu_dtype) for t in (x, g, go))
    q = torch.ops.wgm_kernels.norm_sq(x, g, *params)
    gx, gg = torch.ops.wgm_kernels.norm_sq_backward(go, x, g, *params)
    assert q.dtype == gx.dtype == gg.dtype == dtype and gx.device == gg.device == x.device
    assert gx.shape == gg.shape == x.shape
    q_cpu = torch.ops.wgm_kernels.norm_sq(xc, gc, *params)
    gx_cpu, gg_cpu = torch.ops.wgm_kernels.norm_sq_backward(goc, xc, gc, *params)
    tol = TOL[dtype]
    torch.testing.assert_close(q.cpu().double(), q_cpu.double(), **tol)
    scale = max(float(gx_cpu.abs().max()), float(gg_cpu.abs().max()), 1.0)
    for name, a, b in (("grad_x", gx, gx_cpu), ("grad_g", gg, gg_cpu)):
        torch.testing.assert_close(a.cpu().double(), b.double(), rtol=tol["rtol"], atol=tol["atol"] * scale,
                                   msg=lambda m: f"cuda norm_sq_backward {name}: {m}")
    tx, tu, tv = torch.ops.wgm_kernels.trilinear_backward(go, x, g, g, *params)
    torch.testing.assert_close(gx.double(), tx.double(), rtol=tol["rtol"], atol=tol["atol"] * scale)
    torch.testing.assert_close(gg.double(), tu.double() + tv.double(), rtol=tol["rtol"], atol=tol["atol"] * scale)


@needs_cuda_backend
@pytest.mark.parametrize("case", [0, 1, 2, 3, 6])
def test_cuda_norm_sq_ops_gradcheck_gradgradcheck_float64(case):
    """norm_sq on CUDA through the op itself (its backward is the CUDA norm_sq_backward kernel)."""
    st, volume, alpha = _params(CASES[case])
    params = (st.dy, st.dx, list(st.weights), volume, alpha)
    x, g, _ = (t.requires_grad_() for t in _data((2, 2, 6, 7), torch.float64, seed=case))
    norm = lambda a, b: torch.ops.wgm_kernels.norm_sq(a, b, *params)
    assert torch.autograd.gradcheck(norm, (x, g))
    assert torch.autograd.gradgradcheck(norm, (x, g))
    go = torch.randn(2, device="cuda", dtype=torch.float64, requires_grad=True)
    bwd = lambda G, a, b: torch.ops.wgm_kernels.norm_sq_backward(G, a, b, *params)
    assert torch.autograd.gradcheck(bwd, (go, x, g))


@pytest.mark.parametrize("backend", GPU_BACKENDS)
def test_gradient_penalty_matches_reference(backend):
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.LeakyReLU(0.2), torch.nn.Flatten(),
                                 torch.nn.Linear(8 * 16 * 16, 1)).cuda().double()
    real = torch.rand(4, 3, 16, 16, device="cuda", dtype=torch.float64) * 2 - 1
    fake = torch.rand(4, 3, 16, 16, device="cuda", dtype=torch.float64) * 2 - 1
    out = {}
    for b in (backend, "reference"):
        torch.manual_seed(1)
        critic.zero_grad()
        W.wgm_gradient_penalty(critic, real, fake, radius=2, backend=b).backward()
        out[b] = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in critic.parameters()]
    for a, r in zip(out[backend], out["reference"]):
        torch.testing.assert_close(a, r, rtol=1e-9, atol=1e-12)


def test_auto_picks_a_gpu_backend():
    from wgm_kernels.backends import AUTO_ORDER, resolve

    x = torch.rand(1, 1, 4, 4, device="cuda")
    first = next(b for b in AUTO_ORDER if b in W.available_backends() and b in ("cuda", "triton"))
    assert resolve("auto", x) is resolve(first, x)


@pytest.mark.parametrize("backend", GPU_BACKENDS)
def test_bad_input_on_gpu(backend):
    x, g, _ = _data((2, 1, 5, 5), torch.float32)
    with pytest.raises(ValueError, match="same device"):
        W.wasserstein_grad_norm_sq(x, g.cpu(), backend=backend)
    with pytest.raises(ValueError, match="negative"):
        W.wasserstein_grad_norm_sq(x - 2, g, backend=backend)
    with pytest.raises(ValueError, match="cuda"):
        W.wasserstein_grad_norm_sq(x.cpu(), g.cpu(), backend="cuda" if backend == "cuda" else "triton")


@pytest.mark.parametrize("backend", GPU_BACKENDS)
def test_torch_compile_fullgraph(backend):
    x, g, _ = _data((4, 3, 16, 16), torch.float32)

    def f(x, g):
        return W.wasserstein_grad_norm_sq(x, g, radius=2, backend=backend, validate=False).sum()

    torch.testing.assert_close(torch.compile(f, fullgraph=True)(x, g), f(x, g))

"""The Triton kernels on CPU tensors in Triton's interpreter, against the shift reference.

Run in a pytest process of its own with TRITON_INTERPRET=1 (``make test`` does), since triton reads it
when kernels are defined. Small shapes only: the interpreter executes every program in numpy.
"""
import os
import subprocess
import sys

import pytest
import torch

if os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("needs TRITON_INTERPRET=1 set before triton is imported (see `make test`)", allow_module_level=True)
pytest.importorskip("triton")

import wgm_kernels as W  # noqa: E402
from wgm_kernels.stencil import make_stencil  # noqa: E402
from wgm_kernels.triton import trilinear_triton  # noqa: E402

OP = torch.ops.wgm_kernels.triton_trilinear
OP_BWD = torch.ops.wgm_kernels.triton_trilinear_backward

# (stencil, radius, weight, degree, alpha, shape): every stencil/weight/degree, α on and off, odd sizes,
# a 1-pixel-wide image, images narrower than the stencil, and a stencil that leaves pixels isolated.
CASES = [
    ("square", 1, "uniform", "volume", 0.0, (2, 2, 7, 9)),
    ("square", 2, "inverse_square", "volume", 0.3, (2, 1, 6, 5)),
    ("diamond", 2, "uniform", "none", 0.0, (1, 2, 9, 8)),
    ("diamond", 3, "inverse_square", "volume", 0.0, (1, 1, 5, 12)),
    ("cross", 2, "uniform", "volume", 1.5, (2, 2, 5, 7)),
    ("cross", 3, "inverse_square", "none", 0.2, (1, 1, 11, 3)),
    ("square", 1, "uniform", "volume", 0.0, (2, 1, 1, 10)),
    ("square", 3, "uniform", "volume", 0.0, (1, 1, 2, 9)),
    (W.Stencil([(2, 0), (1, -3)], [0.7, 1.3]), 1, "uniform", "volume", 0.1, (1, 2, 3, 4)),
]
TOL = {torch.float64: dict(rtol=1e-10, atol=1e-10), torch.float32: dict(rtol=2e-5, atol=1e-4)}


def _kw(case):
    stencil, radius, weight, degree, alpha, _ = case
    return dict(stencil=stencil, radius=radius, weight=weight, degree=degree, alpha=alpha)


def _data(shape, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g, dtype=torch.float64) + 0.05
    u = torch.randn(shape, generator=g, dtype=torch.float64)
    v = torch.randn(shape, generator=g, dtype=torch.float64)
    return x.to(dtype), u.to(dtype), v.to(dtype)


def test_backend_is_registered_but_never_auto_on_cpu():
    assert "triton" in W.available_backends()
    x, g, _ = _data((1, 1, 4, 4), torch.float64)
    from wgm_kernels.backends import resolve

    assert resolve("auto", x) is not resolve("triton", x)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_norm_and_trilinear_match_reference(case, dtype):
    kw, shape = _kw(CASES[case]), CASES[case][-1]
    x, u, v = _data(shape, dtype, seed=case)
    for args, fn in (((x, u), W.wasserstein_grad_norm_sq), ((x, u, v), W.trilinear_form)):
        got = fn(*args, backend="triton", **kw)
        ref = fn(*[a.double() for a in args], backend="reference", **kw)
        assert got.dtype == dtype and got.shape == (shape[0],)
        torch.testing.assert_close(got.double(), ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_fused_backward_matches_reference_autograd(case, dtype):
    kw, shape = _kw(CASES[case]), CASES[case][-1]
    st = make_stencil(kw["stencil"], kw["radius"], kw["weight"])
    volume, alpha = kw["degree"] == "volume", kw["alpha"]
    x, u, v = _data(shape, dtype, seed=10 + case)
    go = torch.randn(shape[0], generator=torch.Generator().manual_seed(case), dtype=dtype)
    xr, ur, vr = (t.double().requires_grad_() for t in (x, u, v))
    ref = torch.autograd.grad(
        (W.trilinear_form(xr, ur, vr, backend="reference", validate=False, **kw) * go.double()).sum(), (xr, ur, vr)
    )
    got = OP_BWD(go, x, u, v, st.dy, st.dx, list(st.weights), volume, alpha)
    for name, a, b in zip(("grad_x", "grad_u", "grad_v"), got, ref):
        assert a.dtype == dtype
        torch.testing.assert_close(a.double(), b, **TOL[dtype], msg=lambda m: f"{name}: {m}")


# The interpreter costs ~0.1-1 s per launch, so gradcheck runs on 3×4 images with r = 1 stencils and the
# second-order checks use gradcheck's fast mode (random projections instead of full Jacobians).
@pytest.mark.parametrize("case", [0, 8])
def test_gradcheck_gradgradcheck_float64(case):
    kw = dict(_kw(CASES[case]), alpha=0.3)
    x, u, v = (t.requires_grad_() for t in _data((1, 1, 3, 4), torch.float64, seed=case))
    norm = lambda a, b: W.wasserstein_grad_norm_sq(a, b, backend="triton", **kw)
    form = lambda a, b, c: W.trilinear_form(a, b, c, backend="triton", **kw)
    assert torch.autograd.gradcheck(norm, (x, u))
    assert torch.autograd.gradgradcheck(norm, (x, u), fast_mode=True)
    assert torch.autograd.gradcheck(form, (x, u, v), fast_mode=True)
    assert torch.autograd.gradgradcheck(form, (x, u, v), fast_mode=True)


def test_third_order_matches_reference():
    kw = dict(_kw(CASES[0]), alpha=0.3)
    x, u, v = (t.requires_grad_() for t in _data((2, 1, 4, 5), torch.float64, seed=3))
    dirs = [torch.randn(x.shape, generator=torch.Generator().manual_seed(s), dtype=x.dtype) for s in range(3)]

    def third(backend):
        t = W.trilinear_form(x, u, v, backend=backend, **kw).sum()
        g1 = torch.autograd.grad(t, (x, u, v), create_graph=True)
        g2 = torch.autograd.grad(sum((a * d).sum() for a, d in zip(g1, dirs)), (x, u, v), create_graph=True)
        return torch.autograd.grad(sum((a * d).sum() for a, d in zip(g2, dirs[::-1])), (x, u, v),
                                   allow_unused=True, materialize_grads=True)

    for a, b in zip(third("triton"), third("reference")):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_gradient_penalty_double_backward_through_critic():
    """The WGAN use: the penalty is differentiated wrt the critic's weights through its input gradient."""
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                                 torch.nn.Linear(2 * 6 * 6, 1)).double()
    real, fake = torch.rand(2, 1, 6, 6, dtype=torch.float64), torch.rand(2, 1, 6, 6, dtype=torch.float64)
    grads = {}
    for backend in ("triton", "reference"):
        torch.manual_seed(1)  # same interpolation weights
        critic.zero_grad()
        W.wgm_gradient_penalty(critic, real, fake, radius=2, backend=backend).backward()
        # the last bias does not enter the input gradient: no grad
        grads[backend] = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in critic.parameters()]
    for a, b in zip(grads["triton"], grads["reference"]):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_sym_path_equals_distinct_copies():
    """u is v takes the kernels' shared-load path; it must equal two distinct, equal tensors."""
    st = make_stencil("diamond", 2, "uniform")
    x, u, _ = _data((2, 2, 6, 7), torch.float64, seed=5)
    torch.testing.assert_close(trilinear_triton(x, u, u, st, True, 0.5), trilinear_triton(x, u, u.clone(), st, True, 0.5),
                               rtol=1e-13, atol=1e-12)


def test_noncontiguous_3d_and_empty():
    x, g, _ = _data((2, 3, 6, 5), torch.float64, seed=2)
    xt, gt = x.transpose(2, 3), g.transpose(2, 3)  # (2, 3, 5, 6), not contiguous
    torch.testing.assert_close(W.wasserstein_grad_norm_sq(xt, gt, backend="triton", radius=2),
                               W.wasserstein_grad_norm_sq(xt, gt, backend="reference", radius=2))
    torch.testing.assert_close(W.wasserstein_grad_norm_sq(x[:, 0], g[:, 0], backend="triton"),
                               W.wasserstein_grad_norm_sq(x[:, 0], g[:, 0], backend="reference"))
    empty = torch.zeros(0, 1, 4, 4, dtype=torch.float64)
    assert W.wasserstein_grad_norm_sq(empty, empty, backend="triton").shape == (0,)


def test_half_precision_inputs_accumulate_in_float32():
    x, g, _ = _data((2, 1, 6, 7), torch.float64, seed=4)
    ref = W.wasserstein_grad_norm_sq(x, g, backend="reference", radius=2)
    for dtype in (torch.float16, torch.bfloat16):
        got = W.wasserstein_grad_norm_sq(x.to(dtype), g.to(dtype), backend="triton", radius=2)
        assert got.dtype == dtype
        torch.testing.assert_close(got.double(), ref, rtol=3e-2, atol=1e-2)


def test_torch_compile_fullgraph_with_double_backward():
    x, g, _ = _data((2, 1, 5, 6), torch.float64, seed=6)

    def penalty(x, g):
        return W.wasserstein_grad_norm_sq(x, g, radius=2, alpha=0.1, backend="triton", validate=False).sum()

    compiled = torch.compile(penalty, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x, g), penalty(x, g))
    gr = g.clone().requires_grad_()
    gg = torch.autograd.grad(compiled(x, gr), gr, create_graph=True)[0]
    gg_ref = torch.autograd.grad(penalty(x, gr), gr, create_graph=True)[0]
    torch.testing.assert_close(gg, gg_ref)


def test_opcheck():
    st = make_stencil("square", 1, "inverse_square")
    x, u, v = _data((2, 1, 4, 5), torch.float64, seed=8)
    go = torch.randn(2, dtype=torch.float64)
    params = (st.dy, st.dx, list(st.weights), True, 0.25)
    torch.library.opcheck(OP, (x, u, v, *params))
    torch.library.opcheck(OP_BWD, (go, x, u, v, *params))


BAD = [
    ("shape", lambda x, g: (x, g[:, :, :-1])),
    ("dtype", lambda x, g: (x, g.float())),
    ("integer", lambda x, g: (x.long(), g.long())),
    ("negative mass", lambda x, g: (x - 2.0, g)),
    ("nan", lambda x, g: (x, g.masked_fill(g > 1.0, float("nan")))),
    ("2-D", lambda x, g: (x[0, 0], g[0, 0])),
]


@pytest.mark.parametrize("name", [b[0] for b in BAD])
def test_bad_input_rejected_like_reference(name):
    x, g, _ = _data((2, 1, 5, 5), torch.float64, seed=9)
    make = dict(BAD)[name]

    def error(backend):
        with pytest.raises((TypeError, ValueError)) as info:
            W.wasserstein_grad_norm_sq(*make(x, g), backend=backend)
        return type(info.value), str(info.value)

    assert error("triton") == error("reference")
    for kw in (dict(radius=0), dict(stencil="hex"), dict(alpha=-1.0), dict(degree="sym"), dict(stencil=W.Stencil([(5, 0)]))):
        with pytest.raises(ValueError):
            W.wasserstein_grad_norm_sq(x[..., :5, :5], g[..., :5, :5], backend="triton", **kw)


def test_cpu_without_interpreter_raises_clear_error():
    code = (
        "import torch, wgm_kernels as W\n"
        "x = torch.rand(1, 1, 4, 4)\n"
        "try:\n    W.wasserstein_grad_norm_sq(x, x, backend='triton')\n"
        "except ValueError as e:\n    print('ERR', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "ERR" in out.stdout and "TRITON_INTERPRET=1" in out.stdout, out.stdout + out.stderr


def test_norm_op_pair_gradients_match_trilinear_pair():
    """The quadratic op (u is v) writes (grad_x, grad_g) in one pass; its first to third derivatives
    equal those of the trilinear pair with two distinct, equal tensors."""
    kw = dict(stencil="square", radius=1, weight="inverse_square")
    x, g, _ = _data((2, 1, 4, 5), torch.float64, seed=12)
    st = make_stencil(kw["stencil"], kw["radius"], kw["weight"])
    go = torch.randn(2, dtype=torch.float64)
    gx, gg = torch.ops.wgm_kernels.triton_norm_sq_backward(go, x, g, st.dy, st.dx, list(st.weights), True, 0.3)
    rx, ru, rv = OP_BWD(go, x, g, g.clone(), st.dy, st.dx, list(st.weights), True, 0.3)
    torch.testing.assert_close(gx, rx)
    torch.testing.assert_close(gg, ru + rv)
    dirs = [torch.randn(x.shape, generator=torch.Generator().manual_seed(s), dtype=x.dtype) for s in range(2)]

    def derivs(same):
        xr, gr = x.clone().requires_grad_(), g.clone().requires_grad_()
        st_ = make_stencil(kw["stencil"], kw["radius"], kw["weight"])
        t = (trilinear_triton(xr, gr, gr if same else gr * 1.0, st_, True, 0.3) * go).sum()
        g1 = torch.autograd.grad(t, (xr, gr), create_graph=True)
        s2 = sum((a * d).sum() for a, d in zip(g1, dirs))
        g2 = torch.autograd.grad(s2, (xr, gr), create_graph=True)
        s3 = sum((a * d).sum() for a, d in zip(g2, dirs[::-1]))
        return g1 + g2 + torch.autograd.grad(s3, (xr, gr), allow_unused=True, materialize_grads=True)

    for a, b in zip(derivs(True), derivs(False)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_opcheck_norm_pair():
    st = make_stencil("diamond", 1, "uniform")
    x, g, _ = _data((2, 1, 4, 5), torch.float64, seed=13)
    params = (st.dy, st.dx, list(st.weights), True, 0.25)
    torch.library.opcheck(torch.ops.wgm_kernels.triton_norm_sq, (x, g, *params))
    torch.library.opcheck(torch.ops.wgm_kernels.triton_norm_sq_backward,
                          (torch.randn(2, dtype=torch.float64), x, g, *params))

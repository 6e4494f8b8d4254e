"""Seeded property tests over random shapes and parameters: the fused C++ kernels against the shift
reference (values and the three backward fields), plus algebraic properties of the form."""
import random

import pytest
import torch

import wgm_kernels as W
from wgm_kernels.stencil import make_stencil

pytestmark = pytest.mark.skipif("cpp" not in W.available_backends(), reason="native extension not built")

TOL = {torch.float32: dict(rtol=2e-5, atol=2e-5), torch.float64: dict(rtol=1e-12, atol=1e-12)}


def _random_case(rng: random.Random):
    while True:
        kw = dict(
            stencil=rng.choice(["square", "diamond", "cross"]),
            radius=rng.randint(1, 4),
            weight=rng.choice(["uniform", "inverse_square"]),
            degree=rng.choice(["volume", "none"]),
            alpha=rng.choice([0.0, rng.uniform(0, 2)]),
        )
        shape = (rng.randint(0, 3), rng.randint(1, 3), rng.randint(1, 12), rng.randint(1, 12))
        if make_stencil(kw["stencil"], kw["radius"], kw["weight"]).num_edges(*shape[2:]) > 0:
            return shape, kw


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_200_random_cases(dtype):
    rng = random.Random(1234 if dtype == torch.float64 else 4321)
    for case in range(100):  # 100 per dtype: 200 in all
        shape, kw = _random_case(rng)
        gen = torch.Generator().manual_seed(case)
        x = torch.rand(shape, generator=gen, dtype=dtype).requires_grad_()
        u = torch.randn(shape, generator=gen, dtype=dtype).requires_grad_()
        v = torch.randn(shape, generator=gen, dtype=dtype).requires_grad_()
        w = torch.randn(shape[0], generator=gen, dtype=dtype)
        outs = {}
        for backend in ("reference", "cpp"):
            t = W.trilinear_form(x, u, v, backend=backend, **kw)
            grads = torch.autograd.grad((t * w).sum(), (x, u, v)) if shape[0] else ()
            outs[backend] = (t, *grads)
        # float32: scale tolerances by the magnitude of the summed terms (volume factors reach H*W).
        scale = max(1.0, float(outs["reference"][0].detach().abs().max()) if shape[0] else 1.0)
        for a, b in zip(outs["cpp"], outs["reference"]):
            tol = TOL[dtype]
            torch.testing.assert_close(a, b, rtol=tol["rtol"], atol=tol["atol"] * scale, msg=lambda m: f"{shape} {kw}: {m}")


def test_algebraic_properties():
    rng = random.Random(7)
    for case in range(20):
        shape, kw = _random_case(rng)
        shape = (max(shape[0], 1),) + shape[1:]
        gen = torch.Generator().manual_seed(100 + case)
        x = torch.rand(shape, generator=gen, dtype=torch.float64)
        x2 = torch.rand(shape, generator=gen, dtype=torch.float64)
        u = torch.randn(shape, generator=gen, dtype=torch.float64)
        v = torch.randn(shape, generator=gen, dtype=torch.float64)
        T = lambda a, b, c, **extra: W.trilinear_form(a, b, c, backend="cpp", **{**kw, **extra})
        torch.testing.assert_close(T(x, u, v), T(x, v, u), rtol=1e-12, atol=1e-12)  # symmetric in (u, v)
        torch.testing.assert_close(T(x + 2 * x2, u, v, alpha=0.0),  # linear in the mass
                                   T(x, u, v, alpha=0.0) + 2 * T(x2, u, v, alpha=0.0), rtol=1e-11, atol=1e-11)
        assert (W.wasserstein_grad_norm_sq(x, u, backend="cpp", **kw) >= 0).all()  # L(x) + α11ᵀ ⪰ 0
        c = torch.full_like(u, 3.0)  # constants span ker L(x): only the α term remains
        expected = kw["alpha"] * 9.0 * shape[1] * (shape[2] * shape[3]) ** 2
        torch.testing.assert_close(W.wasserstein_grad_norm_sq(x, c, backend="cpp", **kw),
                                   torch.full((shape[0],), expected, dtype=torch.float64), rtol=1e-12, atol=1e-9)

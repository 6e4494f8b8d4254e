"""The fused LOO epilogue kernel (triton_epilogue.py) in Triton's interpreter on CPU tensors
(TRITON_INTERPRET=1 is set by `make test` for this folder), against the torch epilogue and ridge_loo."""
import os

import pytest
import torch

pytest.importorskip("triton")
if os.environ.get("TRITON_INTERPRET") != "1" and not torch.cuda.is_available():
    pytest.skip("needs TRITON_INTERPRET=1 (set by `make test`) or a GPU", allow_module_level=True)

import wgm_kernels as W  # noqa: E402
from wgm_kernels.ridge.epilogue import loo_epilogue  # noqa: E402
from wgm_kernels.ridge.factor import solve  # noqa: E402
from wgm_kernels.ridge.loo import factorize  # noqa: E402


def _problem(n, m, k, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    Z = torch.randn(n, m, generator=g, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.randint(0, k, (n,), generator=g), k).double()
    a = torch.rand(n, generator=g, dtype=torch.float64) + 0.2
    a[3] = 0.0
    return Z.to(dtype), Y.to(dtype), a.to(dtype)


def _epilogue_inputs(kind, Z, Y, a, lam):
    lam_t = torch.tensor(lam, dtype=torch.float64).reshape(-1)
    f = factorize(kind, Z[None], Y[None], a[None], lam_t)
    W_, fitted, _, _, resid = solve(f, Z[None], a[None], lam_t, leverage=False)
    inv = f.inv(lam_t)[0, 0]
    if kind == "dual":
        return f.vecs[0], f.e[0] * inv, lam_t[0] * inv, fitted[0, 0].double(), resid[0, 0]
    return f.S[0], inv, None, fitted[0, 0], None


CASES = [("primal", 37, 6, 0.5), ("primal", 37, 6, [0.5, 2.0]), ("dual", 9, 40, 1e-3)]


@pytest.mark.parametrize("kind, n, m, lam", CASES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("loss, mis", [("mse", False), ("ce", False), ("ce", True)])
def test_triton_epilogue_matches_torch(kind, n, m, lam, dtype, loss, mis):
    Z, Y, a = _problem(n, m, 5, dtype)
    S, c1, c2, fitted, resid = _epilogue_inputs(kind, Z, Y, a, lam)  # a lam grid: its first lam
    dt = S.dtype
    args = (S, c1, c2, a.to(dt), fitted.to(dt), Y.to(dt), loss, mis, kind == "dual")
    ref = loo_epilogue(*args, backend="torch", resid=resid)
    got = loo_epilogue(*args, backend="triton", resid=resid)
    tol = 1e-12 if dt == torch.float64 else 2e-5
    for name, r, g in zip(("h", "d", "F", "loss", "G", "g_h", "s1"), ref, got):
        assert g.dtype == r.dtype and g.shape == r.shape, name
        scale = max(1.0, float(r.abs().max()))
        assert float((g.double() - r.double()).abs().max()) <= tol * scale, name


@pytest.mark.parametrize("kind, n, m, lam", [("primal", 30, 5, 0.7), ("dual", 8, 20, 0.01)])
def test_triton_epilogue_reproduces_ridge_loo(kind, n, m, lam):
    Z, Y, a = _problem(n, m, 4, torch.float64, seed=2)
    S, c1, c2, fitted, resid = _epilogue_inputs(kind, Z, Y, a, lam)
    h, d, F, *_ = loo_epilogue(S, c1, c2, a, fitted, Y, "ce", False, kind == "dual", backend="triton",
                               resid=resid)
    ref = W.ridge_loo(Z, Y, lam, a, solver=kind)
    torch.testing.assert_close(h, ref.leverage, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(F, ref.loo, rtol=1e-10, atol=1e-11)
    torch.testing.assert_close(d, 1 - ref.leverage, rtol=1e-10, atol=1e-13)

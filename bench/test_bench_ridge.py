"""Benchmarks for the ridge LOO kernels (issue 3): `make bench`, or `python bench/test_bench_ridge.py` for a
table of ratios. n=20000, m=512, k=10, weighted, one lam and a 16-lam grid (log-spaced 1e-2..1e2):
ridge_loo vs scikit-learn RidgeCV's LOO (gcv "cov" mode: one eigendecomposition, then an O(n m²)
hat-matrix diagonal per lam) vs naive refits (n=2000), and dataset_derivative vs autograd through the
naive formula. On CUDA (if available) ridge_loo and dataset_derivative also run on the GPU.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.ridge.epilogue import loss_and_grad
from wgm_kernels.ridge.reference import naive_ridge_loo

N, M, K = 20000, 512, 10
N_SMALL = 2000
GRID = torch.logspace(-2, 2, 16, dtype=torch.float64)
DTYPES = {"float64": torch.float64, "float32": torch.float32}
_cache: dict = {}


def problem(n: int, dtype: torch.dtype, device: str = "cpu"):
    key = (n, dtype, device)
    if key not in _cache:
        g = torch.Generator().manual_seed(0)
        Z = torch.randn(n, M, generator=g, dtype=torch.float64)
        Y = torch.nn.functional.one_hot(torch.randint(0, K, (n,), generator=g), K).double()
        a = 0.5 + torch.rand(n, generator=g, dtype=torch.float64)
        _cache[key] = tuple(t.to(device, dtype) for t in (Z, Y, a))
    return _cache[key]


def lam_arg(grid: bool):
    return GRID if grid else 1.0


def run_ridge_loo(Z, Y, a, grid):
    out = W.ridge_loo(Z, Y, lam_arg(grid), a)
    if Z.is_cuda:
        torch.cuda.synchronize()
    return out


def run_ridgecv(Z, Y, a, grid):
    from sklearn.linear_model import RidgeCV

    alphas = GRID.numpy() if grid else np.array([1.0])
    cv = RidgeCV(alphas=alphas, fit_intercept=False, scoring="neg_mean_squared_error", store_cv_results=True)
    return cv.fit(Z.numpy(), Y.numpy(), sample_weight=a.numpy()).cv_results_


def run_naive_refits(Z, Y, a, lam=1.0, chunk=64):
    """n refits, each a fresh m x m Cholesky solve with sample i removed from the weighted Gram matrix."""
    G = Z.T @ (a[:, None] * Z) + lam * torch.eye(Z.shape[1], dtype=Z.dtype)
    b = Z.T @ (a[:, None] * Y)
    out = torch.empty_like(Y)
    for s in range(0, Z.shape[0], chunk):
        z, y, w = Z[s:s + chunk], Y[s:s + chunk], a[s:s + chunk]
        Gi = G - w[:, None, None] * z[:, :, None] * z[:, None, :]
        bi = b - w[:, None, None] * z[:, :, None] * y[:, None, :]
        out[s:s + chunk] = (z[:, None, :] @ torch.cholesky_solve(bi, torch.linalg.cholesky(Gi))).squeeze(1)
    return out


def run_derivative(Z, Y, a, grid=False):
    out = W.dataset_derivative(Z, Y, lam_arg(grid), a, loss="ce")
    if Z.is_cuda:
        torch.cuda.synchronize()
    return out


def run_autograd_naive_derivative(Z, Y, a):
    w = a.clone().requires_grad_()
    F = naive_ridge_loo(Z, Y, 1.0, w)[2]
    return torch.autograd.grad(loss_and_grad(F, Y, "ce", False)[0].sum(), w)[0]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("grid", [False, True], ids=["1lam", "16lam"])
def test_ridge_loo(benchmark, dtype, grid):
    benchmark.group = f"ridge_loo {dtype} {'16lam' if grid else '1lam'}"
    Z, Y, a = problem(N, DTYPES[dtype])
    out = benchmark.pedantic(run_ridge_loo, args=(Z, Y, a, grid), rounds=3, iterations=1)
    assert torch.isfinite(out.loo).all()


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("grid", [False, True], ids=["1lam", "16lam"])
def test_sklearn_ridgecv(benchmark, dtype, grid):
    pytest.importorskip("sklearn")
    benchmark.group = f"ridge_loo {dtype} {'16lam' if grid else '1lam'}"
    Z, Y, a = problem(N, DTYPES[dtype])
    out = benchmark.pedantic(run_ridgecv, args=(Z, Y, a, grid), rounds=1, iterations=1)
    assert np.isfinite(out).all()


def test_naive_refits_n2000(benchmark):
    benchmark.group = "refits n=2000 float64 1lam"
    Z, Y, a = problem(N_SMALL, torch.float64)
    out = benchmark.pedantic(run_naive_refits, args=(Z, Y, a), rounds=1, iterations=1)
    torch.testing.assert_close(out, W.ridge_loo(Z, Y, 1.0, a).loo, rtol=1e-8, atol=1e-8)


def test_ridge_loo_n2000(benchmark):
    benchmark.group = "refits n=2000 float64 1lam"
    Z, Y, a = problem(N_SMALL, torch.float64)
    benchmark.pedantic(run_ridge_loo, args=(Z, Y, a, False), rounds=3, iterations=1)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_dataset_derivative(benchmark, dtype):
    benchmark.group = f"derivative {dtype} 1lam"
    Z, Y, a = problem(N, DTYPES[dtype])
    out = benchmark.pedantic(run_derivative, args=(Z, Y, a), rounds=3, iterations=1)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_autograd_naive_derivative(benchmark, dtype):
    benchmark.group = f"derivative {dtype} 1lam"
    Z, Y, a = problem(N, DTYPES[dtype])
    benchmark.pedantic(run_autograd_naive_derivative, args=(Z, Y, a), rounds=1, iterations=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("grid", [False, True], ids=["1lam", "16lam"])
def test_cuda_ridge_loo_and_derivative(benchmark, dtype, grid):
    benchmark.group = f"cuda {dtype} {'16lam' if grid else '1lam'}"
    Z, Y, a = problem(N, DTYPES[dtype], "cuda")
    run_derivative(Z, Y, a, grid)  # warm-up: Triton compile, cuSOLVER handles
    benchmark.pedantic(lambda: (run_ridge_loo(Z, Y, a, grid), run_derivative(Z, Y, a, grid)), rounds=3)


def _best(fn, *args, rounds=2):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    """Prints best-of-3 times (RidgeCV and the naive references: one run) and the issue's ratios."""
    torch.manual_seed(0)
    for name, dt in DTYPES.items():
        Z, Y, a = problem(N, dt)
        for grid in (False, True):
            ours = _best(run_ridge_loo, Z, Y, a, grid, rounds=3)
            skl = _best(run_ridgecv, Z, Y, a, grid, rounds=1)
            print(f"{name} {'16 lam' if grid else ' 1 lam'}: ridge_loo {ours:.3f}s  RidgeCV {skl:.3f}s  "
                  f"RidgeCV/ridge_loo = {skl / ours:.2f}", flush=True)
        solve_t = deriv_t = float("inf")
        for _ in range(3):  # interleaved, so both see the same machine load
            solve_t = min(solve_t, _best(run_ridge_loo, Z, Y, a, False, rounds=1))
            deriv_t = min(deriv_t, _best(run_derivative, Z, Y, a, rounds=1))
        auto_t = _best(run_autograd_naive_derivative, Z, Y, a, rounds=1)
        print(f"{name} derivative {deriv_t:.3f}s = {deriv_t / solve_t:.2f} x ridge_loo ({solve_t:.3f}s); "
              f"autograd of naive formula {auto_t:.3f}s", flush=True)
    Z, Y, a = problem(N_SMALL, torch.float64)
    print(f"n={N_SMALL} float64 1 lam: naive refits {_best(run_naive_refits, Z, Y, a, rounds=1):.3f}s, "
          f"ridge_loo {_best(run_ridge_loo, Z, Y, a, False):.3f}s", flush=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--threads", type=int, default=None,
                        help="limit torch and numpy/scipy BLAS to this many threads (default: leave as is)")
    threads = parser.parse_args().threads
    if threads is None:
        main()
    else:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            main()

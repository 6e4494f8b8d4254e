"""CLI: ``python -m thesis.weightnorm {convergence,kernel_drift,beta_star,norm_growth,all} [options]``.

Quick defaults run in about a minute each on 2 CPU cores; ``--full`` uses larger n, m and more steps.
Figures go to ``--out`` (default ``outputs/weightnorm/``); tables are printed.
"""
from __future__ import annotations

import argparse
import inspect
import time

import torch

from .experiments import EXPERIMENTS

FULL = {
    "convergence": dict(n=200, m=10000, steps=3000),
    "kernel_drift": dict(n=64, widths=(100, 300, 1000, 3000, 10000, 30000), steps=1000),
    "beta_star": dict(n=200, m=10000, steps=2000),
    "norm_growth": dict(n=64, m=4000, eta_factors=(1.0, 0.3, 0.1, 0.03, 0.01)),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m thesis.weightnorm", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=[*EXPERIMENTS, "all"])
    p.add_argument("--out", default="outputs/weightnorm", help="figure directory (default %(default)s)")
    p.add_argument("--full", action="store_true", help="larger n, m, steps (slow)")
    p.add_argument("--n", type=int, help="number of training points")
    p.add_argument("--m", type=int, help="width (not kernel_drift)")
    p.add_argument("--d", type=int, help="input dimension (>= 50 for Assumption 2)")
    p.add_argument("--steps", type=int, help="gradient-descent steps")
    p.add_argument("--betas", type=lambda t: tuple(float(b) for b in t.split(",")),
                   help="comma-separated beta values (convergence, kernel_drift, beta_star scan)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="torch device; 'auto' = cuda when available")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    device = a.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else None
    names = list(EXPERIMENTS) if a.name == "all" else [a.name]
    for name in names:
        fn = EXPERIMENTS[name]
        accepted = inspect.signature(fn).parameters
        kw = dict(FULL[name]) if a.full else {}
        for key in ("n", "m", "d", "steps", "betas"):
            if getattr(a, key) is not None:
                kw[key] = getattr(a, key)
        kw = {k: v for k, v in kw.items() if k in accepted}
        t0 = time.perf_counter()
        res = fn(seed=a.seed, device=device, progress=not a.no_progress, out_dir=a.out, **kw)
        print(f"[{name}] figure: {res.get('figure')}  ({time.perf_counter() - t0:.1f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

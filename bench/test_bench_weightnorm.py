"""Speed and memory of the WN Gram matrices (3.10)-(3.13): n = 2000 points, m = 20000 neurons, d = 64.

Goal (issue 5): ``gram_matrices`` <= 10 s on 2 CPU cores.  Two cases: at the initialisation (3.6),
where g_k/||v_k|| = 1/beta for every k (two GEMMs suffice), and after perturbing g (general case, four
GEMMs).  The memory peak is the growth of the process high-water mark (VmHWM, reset through
/proc/self/clear_refs) during one call; on CUDA, torch.cuda.max_memory_allocated.
"""
from __future__ import annotations

import resource
import sys
from pathlib import Path

import pytest
import torch

from thesis.data import unit_sphere_data
from thesis.weightnorm import WNTwoLayer

N, M, D = 2000, 20000, 64


def _vm_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _peak_mib(fn) -> float:
    """Extra resident memory (MiB) used at the peak of ``fn()``."""
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        return (torch.cuda.max_memory_allocated() - base) / 2 ** 20
    base = _vm_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")       # reset VmHWM to the current RSS
        fn()
        return (_vm_kib("VmHWM") - base) / 1024
    except OSError:                                          # not Linux: ru_maxrss (peak of the process)
        fn()
        ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # bytes on macOS, KiB elsewhere
        return ru / 2 ** 20 if sys.platform == "darwin" else ru / 1024


@pytest.mark.parametrize("case", ["init", "trained"])
def test_gram_matrices_n2000_m20000(benchmark, case):
    benchmark.group = "wn-gram n=2000 m=20000 d=64"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    X = torch.tensor(unit_sphere_data(N, D, seed=0), dtype=torch.float32, device=device)
    net = WNTwoLayer(D, M, 1.0, seed=0, dtype=torch.float32, device=device)
    if case == "trained":                                    # g_k/||v_k|| no longer constant in k
        with torch.no_grad():
            net.g.mul_(1 + 0.1 * torch.rand(M, generator=torch.Generator().manual_seed(1)).to(device))

    def run():
        K = net.gram_matrices(X)
        if device == "cuda":
            torch.cuda.synchronize()
        return K

    peak = _peak_mib(run)
    K = benchmark.pedantic(run, rounds=2, warmup_rounds=0)
    benchmark.extra_info["peak_mib"] = round(peak, 1)
    print(f"\n[{case}] gram_matrices n={N} m={M} d={D} on {device}: "
          f"median {benchmark.stats.stats.median:.2f} s, memory peak +{peak:.0f} MiB")
    assert K["Lambda"].shape == (N, N)
    if case == "init":
        assert (K["V"] + K["G"] - K["H"]).abs().max().item() < 1e-4     # Proposition 7 in float32
    assert peak < 2048

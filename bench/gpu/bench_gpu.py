"""GPU benchmark of the fused Wasserstein-2 gradient norm: forward + backward, float32.

For B ∈ {64, 256}, C = 3, 64×64 and 128×128, square stencils r ∈ {1, 2, 4}, times

    out = wasserstein_grad_norm_sq(x, g, backend=...);  torch.autograd.grad(out, (x, g), grad_out)

for the conv reference (Algorithm 1 as convolutions, the baseline), triton and cuda, and reports
    effective GB/s = bytes / time, bytes = read x, g, grad_out + write grad_x, grad_g = 4·N·4 + 4·B,
    its fraction of the device's measured device-to-device copy bandwidth (2 bytes moved per byte copied),
    and the speedup over the conv reference.
Also times the two ops alone (forward op + backward op, without autograd's bookkeeping).

Usage: python bench/gpu/bench_gpu.py --out results.json [--quick]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback

import torch

import wgm_kernels as W
from wgm_kernels.stencil import make_stencil


def timed(fn, *, warmup: int = 3, min_time: float = 0.25, max_iters: int = 200) -> float:
    """Median milliseconds per call of ``fn`` (CUDA events, after warm-up)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    start_wall = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start_wall < min_time and len(times) < max_iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def copy_bandwidth_gbps(nbytes: int = 1 << 30) -> float:
    """Device-to-device copy bandwidth: (read + write) bytes / time of ``dst.copy_(src)``."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda").uniform_()
    dst = torch.empty_like(src)
    ms = timed(lambda: dst.copy_(src), warmup=5, min_time=0.5)
    return 2 * nbytes / (ms * 1e-3) / 1e9


def fwd_bwd(x, g, go, backend, r):
    def run():
        xr, gr = x.detach().requires_grad_(), g.detach().requires_grad_()
        out = W.wasserstein_grad_norm_sq(xr, gr, stencil="square", radius=r, backend=backend, validate=False)
        return torch.autograd.grad(out, (xr, gr), go)

    return run


def ops_only(x, g, go, backend, r):
    """The forward and backward ops alone. Triton: the quadratic pair (backward writes grad_x, grad_g);
    cuda: the trilinear pair (backward writes grad_x, grad_u, grad_v)."""
    st = make_stencil("square", r)
    p = (st.dy, st.dx, list(st.weights), True, 0.0)
    if backend == "triton":
        import wgm_kernels.triton.norm_ops  # noqa: F401  (registers the ops)

        ops = torch.ops.wgm_kernels
        return lambda: (ops.triton_norm_sq(x, g, *p), ops.triton_norm_sq_backward(go, x, g, *p))
    ops = torch.ops.wgm_kernels
    return lambda: (ops.trilinear(x, g, g, *p), ops.trilinear_backward(go, x, g, g, *p))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="one configuration (smoke test)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        json.dump({"error": "no CUDA device"}, open(args.out, "w"), indent=1)
        print("no CUDA device", file=sys.stderr)
        return 1

    backends = [b for b in ("conv", "triton", "cuda") if b in W.available_backends()]
    copy_bw = copy_bandwidth_gbps()
    meta = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, cuda=torch.version.cuda,
                python=platform.python_version(), backends=backends, copy_bandwidth_gbps=copy_bw,
                date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), dtype="float32")
    print(f"# {meta['device']}  torch {meta['torch']}  copy bandwidth {copy_bw:.0f} GB/s", flush=True)
    configs = [(B, 3, S, r) for B in (64, 256) for S in (64, 128) for r in (1, 2, 4)]
    if args.quick:
        configs = [(256, 3, 64, 2)]
    rows = []
    for B, C, S, r in configs:
        torch.manual_seed(0)
        x = torch.rand(B, C, S, S, device="cuda")
        x = x / x.sum((2, 3), keepdim=True)
        g = 0.1 * torch.randn_like(x)
        go = torch.ones(B, device="cuda")
        nbytes = 4 * x.numel() * 4 + 4 * B
        row = dict(B=B, C=C, H=S, W=S, r=r, bytes=nbytes)
        for backend in backends:
            try:
                ms = timed(fwd_bwd(x, g, go, backend, r))
                row[f"{backend}_ms"] = ms
                row[f"{backend}_gbps"] = nbytes / (ms * 1e-3) / 1e9
                row[f"{backend}_frac_copy_bw"] = row[f"{backend}_gbps"] / copy_bw
                if backend != "conv":
                    ms_ops = timed(ops_only(x, g, go, backend, r))
                    row[f"{backend}_ops_ms"] = ms_ops
                    row[f"{backend}_ops_frac_copy_bw"] = nbytes / (ms_ops * 1e-3) / 1e9 / copy_bw
            except Exception as exc:  # record and go on: one failing backend must not hide the others
                row[f"{backend}_error"] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
        for backend in ("triton", "cuda"):
            if f"{backend}_ms" in row and "conv_ms" in row:
                row[f"{backend}_speedup_vs_conv"] = row["conv_ms"] / row[f"{backend}_ms"]
        if "cuda_ms" in row and "triton_ms" in row:
            row["cuda_over_triton_time"] = row["cuda_ms"] / row["triton_ms"]
        rows.append(row)
        print(json.dumps(row), flush=True)
        del x, g
        torch.cuda.empty_cache()

    goal = next((r for r in rows if (r["B"], r["H"], r["r"]) == (256, 64, 2)), None)
    goals = {}
    if goal:
        for b in ("triton", "cuda"):
            if f"{b}_ms" in goal:
                goals[b] = dict(frac_copy_bw=goal[f"{b}_frac_copy_bw"], frac_ok=goal[f"{b}_frac_copy_bw"] >= 0.70,
                                speedup_vs_conv=goal.get(f"{b}_speedup_vs_conv"),
                                speedup_ok=(goal.get(f"{b}_speedup_vs_conv") or 0) >= 20)
        if "cuda_over_triton_time" in goal:
            goals["cuda_within_10pct_of_triton"] = goal["cuda_over_triton_time"] <= 1.10
    json.dump(dict(meta=meta, rows=rows, goals_B256_64x64_r2=goals), open(args.out, "w"), indent=1)
    print_table(meta, rows, goals)
    return 0


def print_table(meta, rows, goals) -> None:
    print(f"\n## fused forward+backward, float32, square stencil — {meta['device']}, "
          f"copy bandwidth {meta['copy_bandwidth_gbps']:.0f} GB/s\n")
    head = "| B | H×W | r | conv ms | triton ms | triton %copyBW | triton ×conv | cuda ms | cuda %copyBW | cuda ×conv |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    f = lambda v, fmt: (fmt % v) if isinstance(v, (int, float)) else "—"
    for r in rows:
        print(f"| {r['B']} | {r['H']}×{r['W']} | {r['r']} | {f(r.get('conv_ms'), '%.3f')} | "
              f"{f(r.get('triton_ms'), '%.3f')} | {f(100 * r['triton_frac_copy_bw'] if 'triton_frac_copy_bw' in r else None, '%.0f%%')} | "
              f"{f(r.get('triton_speedup_vs_conv'), '%.1f×')} | {f(r.get('cuda_ms'), '%.3f')} | "
              f"{f(100 * r['cuda_frac_copy_bw'] if 'cuda_frac_copy_bw' in r else None, '%.0f%%')} | "
              f"{f(r.get('cuda_speedup_vs_conv'), '%.1f×')} |")
    print(f"\ngoals at B=256, 64×64, r=2: {json.dumps(goals)}")


if __name__ == "__main__":
    sys.exit(main())

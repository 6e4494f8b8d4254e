"""Compile every csrc/cuda/*.cu with the machine's nvcc (sm_90, compile only), so a CUDA syntax or type
error fails CI on machines without a GPU; and run the device code of csrc/cuda/trilinear_cuda.cu on the CPU
in a small emulator (one std::thread per CUDA thread, a std::barrier for __syncthreads, a per-warp
exchange for __shfl_down_sync, blocks in turn) against the reference, so the tiling, halos and reductions
are checked numerically too.

Flags mirror setup.py and torch.utils.cpp_extension's nvcc flags. The CPU torch wheel ships the ATen/c10
CUDA headers but not the CMake-generated ``c10/cuda/impl/cuda_cmake_macros.h``; it only carries
export macros, so ``C10_CUDA_NO_CMAKE_CONFIGURE_FILE`` skips it (a CUDA torch build has the file).
Includes from the toolkit (cuda_runtime.h, ...) come from nvcc itself.
"""
import glob
import os
import shutil
import subprocess
import sysconfig

import numpy as np
import pytest
import torch
from torch.utils import cpp_extension

import wgm_kernels as W
from wgm_kernels._ext import HAS_EXT
from wgm_kernels.stencil import make_stencil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = sorted(glob.glob(os.path.join(ROOT, "csrc", "cuda", "*.cu")))


def _nvcc() -> str | None:
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home and os.path.exists(os.path.join(home, "bin", "nvcc")):
        return os.path.join(home, "bin", "nvcc")
    return shutil.which("nvcc")


NVCC = _nvcc()


def test_there_are_cuda_sources():
    assert SOURCES, "csrc/cuda/*.cu is empty"


@pytest.mark.skipif(NVCC is None, reason="nvcc not found (set CUDA_HOME or put nvcc on PATH)")
@pytest.mark.parametrize("source", SOURCES, ids=os.path.basename)
def test_nvcc_compiles(source, tmp_path):
    includes = cpp_extension.include_paths() + [sysconfig.get_paths()["include"]]
    cmd = [
        NVCC, "-arch=sm_90", "-c", "-std=c++17", "-O3", "--use_fast_math", "-Xcompiler", "-fPIC",
        "-DC10_CUDA_NO_CMAKE_CONFIGURE_FILE", *cpp_extension.COMMON_NVCC_FLAGS,
        *(f"-I{p}" for p in includes), source, "-o", str(tmp_path / "out.o"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    errors = "\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if "error" in line)
    assert proc.returncode == 0, f"nvcc failed on {os.path.relpath(source, ROOT)}:\n{errors or proc.stderr[-4000:]}"
    assert (tmp_path / "out.o").stat().st_size > 0


# ---- CPU emulation of the CUDA kernels ----------------------------------------------------------------
EMULATOR = r"""
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>
struct Dim { int x = 0, y = 0, z = 0; };
thread_local Dim threadIdx, blockIdx;
alignas(16) unsigned char g_smem[1 << 22];
std::unique_ptr<std::barrier<>> g_bar, g_warp_bar[32];
double g_xbuf[32][32];
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __restrict__
inline void __syncthreads() { g_bar->arrive_and_wait(); }
template <typename T> T __shfl_down_sync(unsigned, T v, int off) {
  const int w = threadIdx.y, l = threadIdx.x;
  g_xbuf[w][l] = static_cast<double>(v);
  g_warp_bar[w]->arrive_and_wait();
  T r = l + off < 32 ? static_cast<T>(g_xbuf[w][l + off]) : v;
  g_warp_bar[w]->arrive_and_wait();
  return r;
}
namespace wgm {
#include "device_code.inc"
}
using namespace wgm;
template <typename F> void launch(int blocks, F f) {
  for (int b = 0; b < blocks; ++b) {
    g_bar = std::make_unique<std::barrier<>>(kThreads);
    for (auto& wb : g_warp_bar) wb = std::make_unique<std::barrier<>>(32);
    std::vector<std::thread> ts;
    for (int ty = 0; ty < kThreadsY; ++ty)
      for (int tx = 0; tx < kTileW; ++tx)
        ts.emplace_back([=] { threadIdx = Dim{tx, ty, 0}; blockIdx = Dim{b, 0, 0}; f(); });
    for (auto& t : ts) t.join();
  }
}
// Runs the kernels in precision T (scalar_t = acc_t = T, as at::acc_type gives for float and double): the
// trilinear pair on (X, U, V), then the symmetric (SYM, u = v = g) pair on (X, U).
template <typename T>
void run(int B, int C, int H, int W, int K, bool volume, double alpha, const std::vector<double>& st,
         const std::vector<double>& G_, const std::vector<double>& X_, const std::vector<double>& U_,
         const std::vector<double>& V_, std::vector<double>& res) {
  const size_t N = size_t(B) * C * H * W;
  const std::vector<T> G(G_.begin(), G_.end()), X(X_.begin(), X_.end()), U(U_.begin(), U_.end()),
      V(V_.begin(), V_.end());
  StencilArgs<T> a{};
  a.n = K;
  double total = 0;
  for (int k = 0; k < K; ++k) {
    const int dy = (int)st[k], dx = (int)st[K + k];
    a.dy[k] = (int8_t)dy; a.dx[k] = (int8_t)dx; a.w[k] = (T)st[2 * K + k];
    a.radius = std::max(a.radius, std::max(std::abs(dy), std::abs(dx)));
    total += 2 * st[2 * K + k] * std::max(H - std::abs(dy), 0) * std::max(W - std::abs(dx), 0);
  }
  const int tiles_x = (W + kTileW - 1) / kTileW, ntiles = tiles_x * ((H + kTileH - 1) / kTileH);
  const int blocks = B * C * ntiles;
  std::vector<T> part(size_t(blocks) * 3), AU(B * C), AV(B * C), GX(N), GU(N), GV(N);
  std::vector<double> out(B);
  // Host side of trilinear_cuda / norm_sq_cuda: sum the per-block partials (T only; sum u, sum v for alpha).
  auto finish = [&] {
    std::fill(out.begin(), out.end(), 0.0);
    for (int p = 0; p < B * C; ++p) {
      T e = 0, su = 0, sv = 0;
      for (int t = 0; t < ntiles; ++t) {
        e += part[(p * ntiles + t) * 3]; su += part[(p * ntiles + t) * 3 + 1]; sv += part[(p * ntiles + t) * 3 + 2];
      }
      out[p / C] += e + T(alpha) * su * sv;
    }
  };
  auto emit = [&](const std::vector<T>& v) { res.insert(res.end(), v.begin(), v.end()); };
  for (int p = 0; p < B * C; ++p) {  // alpha g (sum v), alpha g (sum u) per plane, as the host computes them
    T su = 0, sv = 0;
    for (int i = 0; i < H * W; ++i) { su += U[size_t(p) * H * W + i]; sv += V[size_t(p) * H * W + i]; }
    AU[p] = T(alpha) * G[p / C] * sv; AV[p] = T(alpha) * G[p / C] * su;
  }
  launch(blocks, [&] { trilinear_fwd_kernel<T, T, false>(X.data(), U.data(), V.data(), H, W, tiles_x, ntiles,
                                                          volume, alpha != 0, T(total), a, part.data()); });
  finish();
  res.insert(res.end(), out.begin(), out.end());
  launch(blocks, [&] { trilinear_bwd_kernel<T, T, false>(G.data(), X.data(), U.data(), V.data(),
      alpha != 0 ? AU.data() : nullptr, alpha != 0 ? AV.data() : nullptr, C, H, W, tiles_x, ntiles, volume, T(total),
      a, GX.data(), GU.data(), GV.data()); });
  emit(GX); emit(GU); emit(GV);
  // Symmetric pair, g = U: V and GV are not passed (nullptr), AU = alpha G sum g.
  for (int p = 0; p < B * C; ++p) {
    T sg = 0;
    for (int i = 0; i < H * W; ++i) sg += U[size_t(p) * H * W + i];
    AU[p] = T(alpha) * G[p / C] * sg;
  }
  std::fill(part.begin(), part.end(), T(-1e30));
  launch(blocks, [&] { trilinear_fwd_kernel<T, T, true>(X.data(), U.data(), nullptr, H, W, tiles_x, ntiles,
                                                         volume, alpha != 0, T(total), a, part.data()); });
  finish();
  res.insert(res.end(), out.begin(), out.end());
  std::fill(GX.begin(), GX.end(), T(-1e30));
  std::fill(GU.begin(), GU.end(), T(-1e30));
  launch(blocks, [&] { trilinear_bwd_kernel<T, T, true>(G.data(), X.data(), U.data(), nullptr,
      alpha != 0 ? AU.data() : nullptr, nullptr, C, H, W, tiles_x, ntiles, volume, T(total), a, GX.data(),
      GU.data(), nullptr); });
  emit(GX); emit(GU);
}
// in: B C H W K volume alpha | dy[K] dx[K] w[K] | G[B] X U V (float64); argv[3]: "f32" runs in float.
// out (float64): T[B] GX GU GV of trilinear(X, U, V), then Q[B] GX GG of the norm pair on (X, g = U).
int main(int argc, char** argv) {
  FILE* in = fopen(argv[1], "rb");
  double hdr[7];
  if (fread(hdr, 8, 7, in) != 7) return 2;
  const int B = hdr[0], C = hdr[1], H = hdr[2], W = hdr[3], K = hdr[4];
  const size_t N = size_t(B) * C * H * W;
  std::vector<double> st(3 * K), G(B), X(N), U(N), V(N), res;
  if (fread(st.data(), 8, 3 * K, in) + fread(G.data(), 8, B, in) + fread(X.data(), 8, N, in) +
      fread(U.data(), 8, N, in) + fread(V.data(), 8, N, in) != 3 * K + B + 3 * N) return 2;
  fclose(in);
  if (argc > 3 && std::string(argv[3]) == "f32")
    run<float>(B, C, H, W, K, hdr[5] != 0, hdr[6], st, G, X, U, V, res);
  else
    run<double>(B, C, H, W, K, hdr[5] != 0, hdr[6], st, G, X, U, V, res);
  FILE* o = fopen(argv[2], "wb");
  fwrite(res.data(), 8, res.size(), o);
  fclose(o);
  return 0;
}
"""
CXX = shutil.which("g++")
CU = os.path.join(ROOT, "csrc", "cuda", "trilinear_cuda.cu")


def _device_code() -> str:
    src = open(CU).read()
    begin, end = src.index("// --- device code"), src.index("// --- end of device code")
    code = src[begin:end]
    # Shared memory becomes process-wide storage (blocks run one at a time).
    code = code.replace("extern __shared__ __align__(sizeof(double)) unsigned char smem_raw[];",
                        "unsigned char* smem_raw = g_smem;")
    code = code.replace("__shared__ acc_t red", "static acc_t red")
    assert "__shared__" not in code, "emulator: unhandled __shared__ declaration in the device code"
    return code


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    if CXX is None:
        pytest.skip("g++ not found")
    d = tmp_path_factory.mktemp("cuda_emu")
    (d / "device_code.inc").write_text(_device_code())
    (d / "emu.cpp").write_text(EMULATOR)
    proc = subprocess.run([CXX, "-std=c++20", "-O1", "-pthread", str(d / "emu.cpp"), "-o", str(d / "emu")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return d


EMU_CASES = [  # multi-tile images (tiles are 32×32), odd sizes, 1-pixel-high, r = 8, a custom stencil, α
    ("square", 1, "uniform", "volume", 0.0, (2, 2, 7, 9)),
    ("square", 2, "inverse_square", "volume", 0.3, (1, 2, 37, 45)),
    ("diamond", 3, "uniform", "none", 0.1, (1, 1, 33, 70)),
    ("cross", 2, "inverse_square", "volume", 0.0, (2, 1, 1, 40)),
    ("square", 8, "uniform", "volume", 0.0, (1, 1, 20, 35)),
    (W.Stencil([(2, 0), (1, -3)], [0.7, 1.3]), 1, "uniform", "volume", 0.2, (1, 1, 5, 6)),
    ("square", 1, "uniform", "none", 0.25, (2, 3, 33, 31)),
    ("diamond", 2, "inverse_square", "none", 0.0, (1, 2, 5, 67)),
    ("square", 2, "uniform", "volume", 0.5, (3, 1, 65, 3)),
]
# float64 runs scalar_t = acc_t = double, float32 scalar_t = acc_t = float (at::acc_type on CUDA). float32 is
# compared with float64 results on the same rounded inputs; gradient atol is relative to the largest entry.
EMU_TOL = {torch.float64: dict(rtol=1e-12, atol=1e-12), torch.float32: dict(rtol=2e-5, atol=2e-5)}
_EMU_RUNS = {}


def _emulate(emulator, case, dtype):
    """Inputs of EMU_CASES[case] rounded to dtype (as float64), and the emulator's outputs: T, grad_x, grad_u,
    grad_v of the trilinear pair on (x, u, v), then Q, grad_x, grad_g of the symmetric (norm) pair on (x, g = u)."""
    key = (case, dtype)
    if key in _EMU_RUNS:
        return _EMU_RUNS[key]
    stencil, radius, weight, degree, alpha, shape = EMU_CASES[case]
    st = make_stencil(stencil, radius, weight)
    g = torch.Generator().manual_seed(case)
    x = torch.rand(shape, generator=g, dtype=torch.float64) + 0.05
    u, v = torch.randn(shape, generator=g, dtype=torch.float64), torch.randn(shape, generator=g, dtype=torch.float64)
    go = torch.randn(shape[0], generator=g, dtype=torch.float64)
    x, u, v, go = (t.to(dtype).double() for t in (x, u, v, go))
    head = [*shape, len(st.offsets), float(degree == "volume"), alpha, *st.dy, *st.dx, *st.weights]
    tag = f"{case}_{str(dtype)[6:]}"
    np.concatenate([np.array(head, dtype=np.float64), go.numpy(), x.numpy().ravel(), u.numpy().ravel(),
                    v.numpy().ravel()]).tofile(emulator / f"in{tag}.bin")
    subprocess.run([str(emulator / "emu"), str(emulator / f"in{tag}.bin"), str(emulator / f"out{tag}.bin"),
                    "f32" if dtype == torch.float32 else "f64"], check=True, timeout=300)
    out = torch.from_numpy(np.fromfile(emulator / f"out{tag}.bin", dtype=np.float64))
    B, N = shape[0], x.numel()
    assert out.numel() == 2 * B + 5 * N
    tri = [out[:B]] + [out[B + k * N: B + (k + 1) * N].view(shape) for k in range(3)]
    rest = out[B + 3 * N:]
    sym = [rest[:B]] + [rest[B + k * N: B + (k + 1) * N].view(shape) for k in range(2)]
    _EMU_RUNS[key] = (st, degree, alpha, go, x, u, v, tri, sym)
    return _EMU_RUNS[key]


def _close(name, got, want, dtype, scale=1.0):
    tol = EMU_TOL[dtype]
    torch.testing.assert_close(got, want, rtol=tol["rtol"], atol=tol["atol"] * max(scale, 1.0),
                               msg=lambda m: f"{name} ({dtype}): {m}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("case", range(len(EMU_CASES)))
def test_cuda_kernels_emulated_on_cpu_match_reference(emulator, case, dtype):
    st, degree, alpha, go, x, u, v, got, _ = _emulate(emulator, case, dtype)
    xr, ur, vr = (t.clone().requires_grad_() for t in (x, u, v))
    ref = W.trilinear_form(xr, ur, vr, stencil=st, degree=degree, alpha=alpha, backend="reference")
    ref_grads = torch.autograd.grad((ref * go).sum(), (xr, ur, vr))
    scale = max(float(r.abs().max()) for r in ref_grads)
    _close("T", got[0], ref.detach(), dtype, float(ref.detach().abs().max()))
    for name, a, b in zip(("grad_x", "grad_u", "grad_v"), got[1:], ref_grads):
        _close(name, a, b, dtype, scale)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("case", range(len(EMU_CASES)))
def test_cuda_norm_sq_kernels_emulated_on_cpu_match_reference(emulator, case, dtype):
    """The SYM kernels (norm_sq / norm_sq_backward on CUDA): Q and the one-pass (grad_x, grad_g) against the
    reference's autograd and against the CPU ops in the same precision."""
    st, degree, alpha, go, x, g, _, _, (q, gx, gg) = _emulate(emulator, case, dtype)
    xr, gr = x.clone().requires_grad_(), g.clone().requires_grad_()
    ref = W.wasserstein_grad_norm_sq(xr, gr, stencil=st, degree=degree, alpha=alpha, backend="reference")
    ref_gx, ref_gg = torch.autograd.grad((ref * go).sum(), (xr, gr))
    scale = max(float(ref_gx.abs().max()), float(ref_gg.abs().max()))
    _close("Q", q, ref.detach(), dtype, float(ref.detach().abs().max()))
    _close("grad_x", gx, ref_gx, dtype, scale)
    _close("grad_g", gg, ref_gg, dtype, scale)
    if not HAS_EXT:
        return
    params = (st.dy, st.dx, list(st.weights), degree == "volume", alpha)
    cpu_q = torch.ops.wgm_kernels.norm_sq(x.to(dtype), g.to(dtype), *params)
    cpu_gx, cpu_gg = torch.ops.wgm_kernels.norm_sq_backward(go.to(dtype), x.to(dtype), g.to(dtype), *params)
    _close("Q vs cpu", q, cpu_q.double(), dtype, float(cpu_q.abs().max()))
    _close("grad_x vs cpu", gx, cpu_gx.double(), dtype, scale)
    _close("grad_g vs cpu", gg, cpu_gg.double(), dtype, scale)

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
// in: B C H W K volume alpha | dy[K] dx[K] w[K] | G[B] X U V (float64). out: T[B] GX GU GV.
int main(int argc, char** argv) {
  FILE* in = fopen(argv[1], "rb");
  double hdr[7];
  if (fread(hdr, 8, 7, in) != 7) return 2;
  const int B = hdr[0], C = hdr[1], H = hdr[2], W = hdr[3], K = hdr[4];
  const bool volume = hdr[5] != 0;
  const double alpha = hdr[6];
  const size_t N = size_t(B) * C * H * W;
  std::vector<double> st(3 * K), G(B), X(N), U(N), V(N);
  if (fread(st.data(), 8, 3 * K, in) + fread(G.data(), 8, B, in) + fread(X.data(), 8, N, in) +
      fread(U.data(), 8, N, in) + fread(V.data(), 8, N, in) != 3 * K + B + 3 * N) return 2;
  fclose(in);
  StencilArgs<double> a{};
  a.n = K;
  double total = 0;
  for (int k = 0; k < K; ++k) {
    const int dy = (int)st[k], dx = (int)st[K + k];
    a.dy[k] = (int8_t)dy; a.dx[k] = (int8_t)dx; a.w[k] = st[2 * K + k];
    a.radius = std::max(a.radius, std::max(std::abs(dy), std::abs(dx)));
    total += 2 * a.w[k] * std::max(H - std::abs(dy), 0) * std::max(W - std::abs(dx), 0);
  }
  const int tiles_x = (W + kTileW - 1) / kTileW, ntiles = tiles_x * ((H + kTileH - 1) / kTileH);
  const int blocks = B * C * ntiles;
  std::vector<double> part(size_t(blocks) * 3), out(B, 0.0), AU(B * C), AV(B * C), GX(N), GU(N), GV(N);
  launch(blocks, [&] { trilinear_fwd_kernel<double, double>(X.data(), U.data(), V.data(), H, W, tiles_x, ntiles,
                                                             volume, alpha != 0, total, a, part.data()); });
  for (int p = 0; p < B * C; ++p) {
    double e = 0, su = 0, sv = 0;
    for (int t = 0; t < ntiles; ++t) {
      e += part[(p * ntiles + t) * 3]; su += part[(p * ntiles + t) * 3 + 1]; sv += part[(p * ntiles + t) * 3 + 2];
    }
    out[p / C] += e + alpha * su * sv;
    su = sv = 0;
    for (int i = 0; i < H * W; ++i) { su += U[size_t(p) * H * W + i]; sv += V[size_t(p) * H * W + i]; }
    AU[p] = alpha * G[p / C] * sv; AV[p] = alpha * G[p / C] * su;
  }
  launch(blocks, [&] { trilinear_bwd_kernel<double, double>(G.data(), X.data(), U.data(), V.data(),
      alpha != 0 ? AU.data() : nullptr, alpha != 0 ? AV.data() : nullptr, C, H, W, tiles_x, ntiles, volume, total,
      a, GX.data(), GU.data(), GV.data()); });
  FILE* o = fopen(argv[2], "wb");
  fwrite(out.data(), 8, B, o); fwrite(GX.data(), 8, N, o); fwrite(GU.data(), 8, N, o); fwrite(GV.data(), 8, N, o);
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
]


@pytest.mark.parametrize("case", range(len(EMU_CASES)))
def test_cuda_kernels_emulated_on_cpu_match_reference(emulator, case):
    stencil, radius, weight, degree, alpha, shape = EMU_CASES[case]
    st = make_stencil(stencil, radius, weight)
    g = torch.Generator().manual_seed(case)
    x = torch.rand(shape, generator=g, dtype=torch.float64) + 0.05
    u, v = torch.randn(shape, generator=g, dtype=torch.float64), torch.randn(shape, generator=g, dtype=torch.float64)
    go = torch.randn(shape[0], generator=g, dtype=torch.float64)
    head = [*shape, len(st.offsets), float(degree == "volume"), alpha, *st.dy, *st.dx, *st.weights]
    np.concatenate([np.array(head, dtype=np.float64), go.numpy(), x.numpy().ravel(), u.numpy().ravel(),
                    v.numpy().ravel()]).tofile(emulator / f"in{case}.bin")
    subprocess.run([str(emulator / "emu"), str(emulator / f"in{case}.bin"), str(emulator / f"out{case}.bin")],
                   check=True, timeout=300)
    out = torch.from_numpy(np.fromfile(emulator / f"out{case}.bin", dtype=np.float64))
    B, N = shape[0], x.numel()
    got = [out[:B]] + [out[B + k * N: B + (k + 1) * N].view(shape) for k in range(3)]
    xr, ur, vr = (t.clone().requires_grad_() for t in (x, u, v))
    ref = W.trilinear_form(xr, ur, vr, stencil=st, degree=degree, alpha=alpha, backend="reference")
    ref_grads = torch.autograd.grad((ref * go).sum(), (xr, ur, vr))
    for name, a, b in zip(("T", "grad_x", "grad_u", "grad_v"), got, (ref.detach(), *ref_grads)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=lambda m: f"{name}: {m}")

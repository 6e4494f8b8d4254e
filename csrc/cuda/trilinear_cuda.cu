// Fused CUDA kernels of the trilinear stencil form (definition in csrc/wgm.cpp; CPU twin in
// csrc/cpu/trilinear_cpu.cpp, same names with _cuda for _cpu).
//
//   T(x; u, v)[b] = sum_c [ sum_edges w_ij (u_i - u_j)(v_i - v_j)(x_i/d_i + x_j/d_j)/2 + alpha (sum u)(sum v) ]
//
// One thread block handles a kTileH x kTileW tile of one (b, c) plane. It stages the tile plus a halo of
// `radius` pixels in shared memory (each input read from DRAM about once), then every pixel i gathers over
// all its neighbours j = i +- o_k from shared memory. Gather form: each output is written by exactly one
// thread, no scatter, no atomics.
//  * forward: sum_edges w du dv (m_i + m_j)/2 = sum_i m_i E_i with E_i = 1/2 sum_{j in N(i)} w du dv and
//    m = x/d, so only the centre pixel's degree is needed (accumulated in the same loop). The block's
//    partial sums are reduced with warp shuffles and written once per block (no atomics); a tiny ATen sum
//    over blocks finishes, deterministically.
//  * backward: grad_x = g E/d, grad_u = g 1/2 sum_j w dv (m_i + m_j) + alpha g sum v, grad_v likewise, in one
//    pass. m_j needs the neighbour's degree, so the staged tile holds m = x/d, the degree of each staged pixel
//    computed in-kernel from its position (no degree tensor in memory).
//  * SYM (u is v = g, the norm Q(x; g) = T(x; g, g) of norm_sq / norm_sq_backward): the same kernels with one
//    staged input instead of two. The backward writes grad_x = G E(g, g) and grad_g = 2G (L(x) g + alpha 1 1^T g)
//    directly (= grad_u + grad_v, which coincide), so no grad_u/grad_v buffers and no add, as on CPU (SYM
//    in csrc/cpu/trilinear_cpu.cpp) and in Triton.
// Accumulation in at::acc_type (float for half/bfloat16/float, double for double).
#include <ATen/ATen.h>
#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <climits>
#include <cstdlib>
#include <tuple>
#include <vector>

#include "../stencil.h"

namespace wgm {
namespace {

// --- device code (tests/test_cuda_compile.py also runs this part on the CPU in a thread-per-thread emulator)
constexpr int kTileW = 32;                    // = one warp across, so shared-memory rows are bank-friendly
constexpr int kTileH = 32;
constexpr int kThreadsY = 8;                  // block (32, 8): each thread handles kTileH / kThreadsY rows
constexpr int kThreads = kTileW * kThreadsY;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxOffsets = 256;              // square r = 8 has 144 half-offsets
constexpr int kMaxRadius = 127;               // offsets are stored as int8

// The stencil travels by value in the kernel parameters (constant bank, broadcast to the warp).
template <typename acc_t>
struct StencilArgs {
  int n;
  int radius;
  int8_t dy[kMaxOffsets];
  int8_t dx[kMaxOffsets];
  acc_t w[kMaxOffsets];
};

__device__ __forceinline__ bool inside(int y, int x, int H, int W) {
  return y >= 0 && y < H && x >= 0 && x < W;
}

// deg_i = sum_j w_ij over in-image neighbours (Section 1.2.5), from the pixel position alone.
template <typename acc_t>
__device__ acc_t degree(const StencilArgs<acc_t>& st, int y, int x, int H, int W) {
  acc_t d = 0;
  for (int k = 0; k < st.n; ++k) {
    if (inside(y + st.dy[k], x + st.dx[k], H, W)) d += st.w[k];
    if (inside(y - st.dy[k], x - st.dx[k], H, W)) d += st.w[k];
  }
  return d;
}

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

// Sum of v over the block; the result is valid in thread 0. `red` holds kWarps values.
template <typename T>
__device__ T block_sum(T v, T* red) {
  const int lane = threadIdx.x, warp = threadIdx.y;  // blockDim.x == 32
  v = warp_sum(v);
  __syncthreads();  // red may be reused by the previous call
  if (lane == 0) red[warp] = v;
  __syncthreads();
  T s = 0;
  if (warp == 0) {
    s = lane < kWarps ? red[lane] : T(0);
    s = warp_sum(s);
  }
  return s;
}

// Tile geometry: blockIdx.x = plane * ntiles + tile.
struct Tile {
  int64_t plane;
  int y0, x0;
};

__device__ __forceinline__ Tile tile_of(int tiles_x, int ntiles) {
  const int64_t b = blockIdx.x;
  const int t = static_cast<int>(b % ntiles);
  return Tile{b / ntiles, (t / tiles_x) * kTileH, (t % tiles_x) * kTileW};
}

// Stages src[plane] over the tile plus a halo of R (zeros outside the image) as acc_t.
template <typename scalar_t, typename acc_t>
__device__ void stage(const scalar_t* __restrict__ src, acc_t* dst, const Tile& t, int R, int H, int W) {
  const int SW = kTileW + 2 * R, SH = kTileH + 2 * R;
  const int tid = threadIdx.y * kTileW + threadIdx.x;
  for (int i = tid; i < SW * SH; i += kThreads) {
    const int y = t.y0 - R + i / SW, x = t.x0 - R + i % SW;
    dst[i] = inside(y, x, H, W) ? static_cast<acc_t>(src[static_cast<int64_t>(y) * W + x]) : acc_t(0);
  }
}

// SYM: V is U (not read); the tile stages one input, and the partial sums hold (sum m E, sum g, sum g).
template <typename scalar_t, typename acc_t, bool SYM>
__global__ void __launch_bounds__(kThreads)
trilinear_fwd_kernel(const scalar_t* __restrict__ X, const scalar_t* __restrict__ U,
                     const scalar_t* __restrict__ V, int H, int W, int tiles_x, int ntiles, bool volume,
                     bool with_sums, acc_t total, const StencilArgs<acc_t> st, acc_t* __restrict__ part) {
  extern __shared__ __align__(sizeof(double)) unsigned char smem_raw[];
  __shared__ acc_t red[kWarps];
  const int R = st.radius, SW = kTileW + 2 * R, SH = kTileH + 2 * R;
  acc_t* su = reinterpret_cast<acc_t*>(smem_raw);
  acc_t* sv = SYM ? su : su + SW * SH;
  const Tile t = tile_of(tiles_x, ntiles);
  const int64_t off = t.plane * H * W;
  stage(U + off, su, t, R, H, W);
  if (!SYM) stage(V + off, sv, t, R, H, W);
  __syncthreads();

  acc_t acc = 0, sum_u = 0, sum_v = 0;
  for (int r = 0; r < kTileH / kThreadsY; ++r) {
    const int ly = threadIdx.y + r * kThreadsY, lx = threadIdx.x;
    const int y = t.y0 + ly, x = t.x0 + lx;
    if (y >= H || x >= W) continue;
    const int c = (ly + R) * SW + lx + R;
    const acc_t ui = su[c], vi = sv[c];
    acc_t e = 0, deg = 0;
    for (int k = 0; k < st.n; ++k) {
      const int dy = st.dy[k], dx = st.dx[k], s = dy * SW + dx;
      const acc_t w = st.w[k];
      if (inside(y + dy, x + dx, H, W)) {
        e += w * (ui - su[c + s]) * (vi - sv[c + s]);
        deg += w;
      }
      if (inside(y - dy, x - dx, H, W)) {
        e += w * (ui - su[c - s]) * (vi - sv[c - s]);
        deg += w;
      }
    }
    acc_t m = static_cast<acc_t>(X[off + static_cast<int64_t>(y) * W + x]);
    if (volume) m *= deg > 0 ? total / deg : acc_t(0);
    acc += m * e;
    sum_u += ui;
    if (!SYM) sum_v += vi;
  }
  // One write per block: (sum_i m_i E_i, sum u, sum v) of this tile.
  acc = block_sum(acc * acc_t(0.5), red);
  if (with_sums) {
    sum_u = block_sum(sum_u, red);
    sum_v = SYM ? sum_u : block_sum(sum_v, red);
  }
  if (threadIdx.x == 0 && threadIdx.y == 0) {
    acc_t* out = part + static_cast<int64_t>(blockIdx.x) * 3;
    out[0] = acc;
    out[1] = with_sums ? sum_u : acc_t(0);
    out[2] = with_sums ? sum_v : acc_t(0);
  }
}

// SYM: V is U (not read) and GV is unused; GU receives grad_g = 2 (g L(x) u + AU) with AU = alpha g sum u.
template <typename scalar_t, typename acc_t, bool SYM>
__global__ void __launch_bounds__(kThreads)
trilinear_bwd_kernel(const acc_t* __restrict__ G, const scalar_t* __restrict__ X,
                     const scalar_t* __restrict__ U, const scalar_t* __restrict__ V,
                     const acc_t* __restrict__ AU, const acc_t* __restrict__ AV, int C, int H, int W,
                     int tiles_x, int ntiles, bool volume, acc_t total, const StencilArgs<acc_t> st,
                     scalar_t* __restrict__ GX, scalar_t* __restrict__ GU, scalar_t* __restrict__ GV) {
  extern __shared__ __align__(sizeof(double)) unsigned char smem_raw[];
  const int R = st.radius, SW = kTileW + 2 * R, SH = kTileH + 2 * R;
  acc_t* su = reinterpret_cast<acc_t*>(smem_raw);
  acc_t* sv = SYM ? su : su + SW * SH;
  acc_t* sm = sv + SW * SH;  // m = x / d over the tile and its halo
  const Tile t = tile_of(tiles_x, ntiles);
  const int64_t off = t.plane * H * W;
  stage(U + off, su, t, R, H, W);
  if (!SYM) stage(V + off, sv, t, R, H, W);
  {
    const int tid = threadIdx.y * kTileW + threadIdx.x;
    for (int i = tid; i < SW * SH; i += kThreads) {
      const int y = t.y0 - R + i / SW, x = t.x0 - R + i % SW;
      acc_t m = 0;
      if (inside(y, x, H, W)) {
        m = static_cast<acc_t>(X[off + static_cast<int64_t>(y) * W + x]);
        if (volume) {
          const acc_t d = degree(st, y, x, H, W);
          m *= d > 0 ? total / d : acc_t(0);
        }
      }
      sm[i] = m;
    }
  }
  __syncthreads();

  const acc_t hg = acc_t(0.5) * G[t.plane / C];
  const acc_t au = AU != nullptr ? AU[t.plane] : acc_t(0);
  const acc_t av = !SYM && AV != nullptr ? AV[t.plane] : acc_t(0);
  for (int r = 0; r < kTileH / kThreadsY; ++r) {
    const int ly = threadIdx.y + r * kThreadsY, lx = threadIdx.x;
    const int y = t.y0 + ly, x = t.x0 + lx;
    if (y >= H || x >= W) continue;
    const int c = (ly + R) * SW + lx + R;
    const acc_t ui = su[c], vi = sv[c], mi = sm[c];
    acc_t e = 0, deg = 0, gu = 0, gv = 0;
    for (int k = 0; k < st.n; ++k) {
      const int dy = st.dy[k], dx = st.dx[k], s = dy * SW + dx;
      const acc_t w = st.w[k];
#pragma unroll
      for (int sg = 1; sg >= -1; sg -= 2) {
        if (!inside(y + sg * dy, x + sg * dx, H, W)) continue;
        const int j = c + sg * s;
        const acc_t du = w * (ui - su[j]), dv = vi - sv[j], mm = mi + sm[j];
        e += du * dv;
        deg += w;
        gu += w * dv * mm;  // SYM: dv = u_i - u_j, so w dv mm = du mm (grad_u = grad_v)
        if (!SYM) gv += du * mm;
      }
    }
    const acc_t inv = volume ? (deg > 0 ? total / deg : acc_t(0)) : acc_t(1);
    const int64_t i = off + static_cast<int64_t>(y) * W + x;
    GX[i] = static_cast<scalar_t>(hg * inv * e);
    if (SYM) {
      GU[i] = static_cast<scalar_t>(acc_t(2) * (hg * gu + au));
    } else {
      GU[i] = static_cast<scalar_t>(hg * gu + au);
      GV[i] = static_cast<scalar_t>(hg * gv + av);
    }
  }
}

// --- end of device code

void check_inputs(const at::Tensor& x, const at::Tensor& u, const at::Tensor& v) {
  check_operands(x, u, v);
  TORCH_CHECK(x.is_cuda() && u.device() == x.device() && v.device() == x.device(),
              "wgm_kernels: CUDA kernel needs x, u, v on one CUDA device, got ", x.device(), ", ",
              u.device(), ", ", v.device());
}

template <typename acc_t>
StencilArgs<acc_t> stencil_args(const Stencil& st) {
  TORCH_CHECK(st.size() <= kMaxOffsets, "wgm_kernels (cuda): at most ", kMaxOffsets,
              " half-offsets are supported, got ", st.size(), "; use backend='triton'");
  StencilArgs<acc_t> a{};
  a.n = static_cast<int>(st.size());
  a.radius = 0;
  for (int64_t k = 0; k < st.size(); ++k) {
    const int64_t r = std::max(std::abs(st.dy[k]), std::abs(st.dx[k]));
    TORCH_CHECK(r <= kMaxRadius, "wgm_kernels (cuda): offsets up to ", kMaxRadius, " supported, got ", r);
    a.radius = std::max<int>(a.radius, static_cast<int>(r));
    a.dy[k] = static_cast<int8_t>(st.dy[k]);
    a.dx[k] = static_cast<int8_t>(st.dx[k]);
    a.w[k] = static_cast<acc_t>(st.w[k]);
  }
  return a;
}

// Sum of deg_k over the image, in double on the host.
double total_degree(const Stencil& st, int64_t H, int64_t W) {
  double total = 0.0;
  for (int64_t k = 0; k < st.size(); ++k)
    total += 2.0 * st.w[k] * double(std::max<int64_t>(H - std::abs(st.dy[k]), 0)) *
             double(std::max<int64_t>(W - std::abs(st.dx[k]), 0));
  return total;
}

struct Launch {
  int tiles_x, ntiles;
  int64_t blocks;
};

Launch launch_shape(int64_t planes, int64_t H, int64_t W) {
  TORCH_CHECK(H <= INT_MAX / 2 && W <= INT_MAX / 2, "wgm_kernels (cuda): image too large");
  const int tiles_x = static_cast<int>((W + kTileW - 1) / kTileW);
  const int tiles_y = static_cast<int>((H + kTileH - 1) / kTileH);
  const int64_t blocks = planes * tiles_x * tiles_y;
  TORCH_CHECK(blocks <= INT_MAX, "wgm_kernels (cuda): too many blocks (", blocks, ")");
  return Launch{tiles_x, tiles_x * tiles_y, blocks};
}

// Dynamic shared memory of `arrays` (tile + halo) arrays; opts in above the 48 KiB default.
template <typename Kernel>
size_t shared_bytes(Kernel kernel, int arrays, int R, size_t elem) {
  const size_t bytes = size_t(arrays) * (kTileW + 2 * R) * (kTileH + 2 * R) * elem;
  int device = 0, optin = 0;
  C10_CUDA_CHECK(cudaGetDevice(&device));
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  const size_t limit = static_cast<size_t>(optin);
  TORCH_CHECK(bytes + kWarps * elem <= limit, "wgm_kernels (cuda): stencil radius ", R,
              " needs ", bytes, " bytes of shared memory per block, the device allows ", limit);
  if (bytes > 48 * 1024)
    C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
  return bytes;
}

// Forward of T(x; u, v), or of Q(x; g) = T(x; g, g) with SYM (v is u, staged once). Returns x's dtype.
template <bool SYM>
at::Tensor forward_cuda(const at::Tensor& x_, const at::Tensor& u_, const at::Tensor& v_, at::IntArrayRef dy,
                        at::IntArrayRef dx, at::ArrayRef<double> weight, bool volume, double alpha) {
  check_inputs(x_, u_, v_);
  const Stencil st = make_stencil(dy, dx, weight);
  const c10::cuda::CUDAGuard guard(x_.device());
  const at::Tensor x = x_.contiguous(), u = u_.contiguous(), v = SYM ? u : v_.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  if (x.numel() == 0) return at::zeros({B}, x.options());
  const Launch L = launch_shape(B * C, H, W);
  const auto acc_type = at::toAccumulateType(x.scalar_type(), /*is_cuda=*/true);
  at::Tensor part = at::empty({B * C, L.ntiles, 3}, x.options().dtype(acc_type));
  const double total = total_degree(st, H, W);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "wgm_trilinear_cuda", [&] {
    using acc_t = at::acc_type<scalar_t, true>;
    const StencilArgs<acc_t> args = stencil_args<acc_t>(st);
    auto kernel = trilinear_fwd_kernel<scalar_t, acc_t, SYM>;
    const size_t smem = shared_bytes(kernel, SYM ? 1 : 2, args.radius, sizeof(acc_t));
    kernel<<<static_cast<unsigned>(L.blocks), dim3(kTileW, kThreadsY), smem,
             c10::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<scalar_t>(), u.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(), static_cast<int>(H),
        static_cast<int>(W), L.tiles_x, L.ntiles, volume, alpha != 0.0, static_cast<acc_t>(total), args,
        part.data_ptr<acc_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  const at::Tensor sums = part.sum(1);  // (B*C, 3), deterministic
  at::Tensor per_plane = sums.select(1, 0);
  if (alpha != 0.0) per_plane = per_plane + alpha * sums.select(1, 1) * sums.select(1, 2);
  return per_plane.view({B, C}).sum(1).to(x.scalar_type());
}

// Backward of T: (grad_x, grad_u, grad_v); with SYM (v is u = g, the norm): (grad_x, grad_g), one pass each.
template <bool SYM>
std::vector<at::Tensor> backward_cuda(const at::Tensor& grad_out_, const at::Tensor& x_, const at::Tensor& u_,
                                      const at::Tensor& v_, at::IntArrayRef dy, at::IntArrayRef dx,
                                      at::ArrayRef<double> weight, bool volume, double alpha) {
  check_inputs(x_, u_, v_);
  check_grad_out(grad_out_, x_);
  TORCH_CHECK(grad_out_.device() == x_.device(), "wgm_kernels: grad_out must be on ", x_.device());
  const Stencil st = make_stencil(dy, dx, weight);
  const c10::cuda::CUDAGuard guard(x_.device());
  const at::Tensor x = x_.contiguous(), u = u_.contiguous(), v = SYM ? u : v_.contiguous();
  at::Tensor gx = at::empty_like(x), gu = at::empty_like(x), gv = SYM ? at::Tensor() : at::empty_like(x);
  const auto result = [&] { return SYM ? std::vector<at::Tensor>{gx, gu} : std::vector<at::Tensor>{gx, gu, gv}; };
  if (x.numel() == 0) return result();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const Launch L = launch_shape(B * C, H, W);
  const auto acc_type = at::toAccumulateType(x.scalar_type(), /*is_cuda=*/true);
  const at::Tensor g = grad_out_.to(acc_type).contiguous();
  // The alpha 11^T term couples all pixels of a plane: alpha g (sum v), alpha g (sum u) per plane, up front
  // (SYM: only alpha g (sum g)).
  at::Tensor au, av;
  if (alpha != 0.0) {
    const at::Tensor ga = (alpha * g).repeat_interleave(C);
    au = (ga * v.sum({2, 3}, /*keepdim=*/false, acc_type).flatten()).contiguous();
    if (!SYM) av = (ga * u.sum({2, 3}, /*keepdim=*/false, acc_type).flatten()).contiguous();
  }
  const double total = total_degree(st, H, W);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "wgm_trilinear_backward_cuda",
                                  [&] {
    using acc_t = at::acc_type<scalar_t, true>;
    const StencilArgs<acc_t> args = stencil_args<acc_t>(st);
    auto kernel = trilinear_bwd_kernel<scalar_t, acc_t, SYM>;
    const size_t smem = shared_bytes(kernel, SYM ? 2 : 3, args.radius, sizeof(acc_t));
    kernel<<<static_cast<unsigned>(L.blocks), dim3(kTileW, kThreadsY), smem,
             c10::cuda::getCurrentCUDAStream()>>>(
        g.data_ptr<acc_t>(), x.data_ptr<scalar_t>(), u.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(),
        au.defined() ? au.data_ptr<acc_t>() : nullptr, av.defined() ? av.data_ptr<acc_t>() : nullptr,
        static_cast<int>(C), static_cast<int>(H), static_cast<int>(W), L.tiles_x, L.ntiles, volume,
        static_cast<acc_t>(total), args, gx.data_ptr<scalar_t>(), gu.data_ptr<scalar_t>(),
        SYM ? nullptr : gv.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return result();
}

at::Tensor trilinear_cuda(const at::Tensor& x, const at::Tensor& u, const at::Tensor& v, at::IntArrayRef dy,
                          at::IntArrayRef dx, at::ArrayRef<double> weight, bool volume, double alpha) {
  return forward_cuda<false>(x, u, v, dy, dx, weight, volume, alpha);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> trilinear_backward_cuda(
    const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& u, const at::Tensor& v,
    at::IntArrayRef dy, at::IntArrayRef dx, at::ArrayRef<double> weight, bool volume, double alpha) {
  const auto r = backward_cuda<false>(grad_out, x, u, v, dy, dx, weight, volume, alpha);
  return {r[0], r[1], r[2]};
}

at::Tensor norm_sq_cuda(const at::Tensor& x, const at::Tensor& g, at::IntArrayRef dy, at::IntArrayRef dx,
                        at::ArrayRef<double> weight, bool volume, double alpha) {
  return forward_cuda<true>(x, g, g, dy, dx, weight, volume, alpha);
}

std::tuple<at::Tensor, at::Tensor> norm_sq_backward_cuda(const at::Tensor& grad_out, const at::Tensor& x,
                                                         const at::Tensor& g, at::IntArrayRef dy,
                                                         at::IntArrayRef dx, at::ArrayRef<double> weight,
                                                         bool volume, double alpha) {
  const auto r = backward_cuda<true>(grad_out, x, g, g, dy, dx, weight, volume, alpha);
  return {r[0], r[1]};
}

}  // namespace

TORCH_LIBRARY_IMPL(wgm_kernels, CUDA, m) {
  m.impl("trilinear", &trilinear_cuda);
  m.impl("trilinear_backward", &trilinear_backward_cuda);
  m.impl("norm_sq", &norm_sq_cuda);
  m.impl("norm_sq_backward", &norm_sq_backward_cuda);
}

}  // namespace wgm

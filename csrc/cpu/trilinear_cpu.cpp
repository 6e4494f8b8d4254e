// Fused CPU kernels of the trilinear stencil form (see csrc/wgm.cpp for the definition).
//
// Each (b, c) plane is one graph; planes are independent, so we parallelize over B*C planes with
// at::parallel_for (OpenMP). Inside a plane the loops run offset by offset over whole rows, so the
// innermost loop is a contiguous, vectorizable sweep with no temporaries beyond one H*W scratch row set.
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/types.h>

#include <vector>

#include "../stencil.h"

namespace wgm {
namespace {

void check_inputs(const at::Tensor& x, const at::Tensor& u, const at::Tensor& v) {
  check_operands(x, u, v);
  TORCH_CHECK(x.device().is_cpu() && u.device().is_cpu() && v.device().is_cpu(),
              "wgm_kernels: CPU kernel called with a non-CPU tensor");
}

// Planes per parallel task: small images run inline, since waking the thread pool costs more than the
// stencil sums (and under CPU contention an OpenMP barrier can cost milliseconds).
int64_t grain_size(const Stencil& st, int64_t HW) {
  const int64_t work = std::max<int64_t>(1, HW * std::max<int64_t>(1, st.size()));
  return std::max<int64_t>(1, (int64_t(1) << 15) / work);
}

// Sum of a plane, accumulated in double.
template <typename scalar_t>
double plane_sum(const scalar_t* p, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  return s;
}

template <typename scalar_t>
void forward_kernel(const at::Tensor& x, const at::Tensor& u, const at::Tensor& v, const Stencil& st,
                    bool volume, double alpha, at::Tensor& out) {
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), HW = H * W;
  const std::vector<scalar_t> invd = inverse_volume<scalar_t>(st, H, W, volume);
  const scalar_t* X = x.data_ptr<scalar_t>();
  const scalar_t* U = u.data_ptr<scalar_t>();
  const scalar_t* V = v.data_ptr<scalar_t>();
  std::vector<double> per_plane(static_cast<size_t>(B * C), 0.0);

  at::parallel_for(0, B * C, grain_size(st, HW), [&](int64_t begin, int64_t end) {
    std::vector<scalar_t> xd(static_cast<size_t>(HW));  // x_i / d_i of this plane
    for (int64_t p = begin; p < end; ++p) {
      const scalar_t* xp = X + p * HW;
      const scalar_t* up = U + p * HW;
      const scalar_t* vp = V + p * HW;
      for (int64_t i = 0; i < HW; ++i) xd[i] = xp[i] * invd[i];
      double acc = 0.0;
      for (int64_t k = 0; k < st.size(); ++k) {
        const int64_t dy = st.dy[k], dx = st.dx[k], shift = dy * W + dx;
        int64_t y0, y1, x0, x1;
        valid_range(H, dy, y0, y1);
        valid_range(W, dx, x0, x1);
        double acc_k = 0.0;
        for (int64_t y = y0; y < y1; ++y) {
          const scalar_t* __restrict__ ui = up + y * W;
          const scalar_t* __restrict__ vi = vp + y * W;
          const scalar_t* __restrict__ mi = xd.data() + y * W;
          scalar_t row = 0;
#pragma omp simd reduction(+ : row)
          for (int64_t c = x0; c < x1; ++c) {
            row += (ui[c] - ui[c + shift]) * (vi[c] - vi[c + shift]) * (mi[c] + mi[c + shift]);
          }
          acc_k += row;
        }
        acc += st.w[k] * acc_k;
      }
      acc *= 0.5;
      if (alpha != 0.0) acc += alpha * plane_sum(up, HW) * plane_sum(vp, HW);
      per_plane[p] = acc;
    }
  });
  scalar_t* O = out.data_ptr<scalar_t>();
  for (int64_t b = 0; b < B; ++b) {
    double s = 0.0;
    for (int64_t c = 0; c < C; ++c) s += per_plane[b * C + c];
    O[b] = static_cast<scalar_t>(s);
  }
}

// Gather form: every pixel k sums over all its neighbours j = k +- o, so each output is written by
// exactly one thread and the inner loop has no scatter. SYM (u is v, the norm): gv is not written and
// gu receives grad_g = 2 G (L(x) g + alpha 1 1^T g).
template <typename scalar_t, bool SYM>
void backward_kernel(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& u,
                     const at::Tensor& v, const Stencil& st, bool volume, double alpha, at::Tensor& gx,
                     at::Tensor& gu, at::Tensor& gv) {
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), HW = H * W;
  const std::vector<scalar_t> invd = inverse_volume<scalar_t>(st, H, W, volume);
  const scalar_t* X = x.data_ptr<scalar_t>();
  const scalar_t* U = u.data_ptr<scalar_t>();
  const scalar_t* V = v.data_ptr<scalar_t>();
  const scalar_t* G = grad_out.data_ptr<scalar_t>();
  scalar_t* GX = gx.data_ptr<scalar_t>();
  scalar_t* GU = gu.data_ptr<scalar_t>();
  scalar_t* GV = SYM ? nullptr : gv.data_ptr<scalar_t>();

  at::parallel_for(0, B * C, grain_size(st, HW), [&](int64_t begin, int64_t end) {
    std::vector<scalar_t> xd(static_cast<size_t>(HW));
    for (int64_t p = begin; p < end; ++p) {
      const scalar_t* xp = X + p * HW;
      const scalar_t* up = U + p * HW;
      const scalar_t* vp = V + p * HW;
      scalar_t* gxp = GX + p * HW;
      scalar_t* gup = GU + p * HW;
      scalar_t* gvp = SYM ? nullptr : GV + p * HW;
      for (int64_t i = 0; i < HW; ++i) {
        xd[i] = xp[i] * invd[i];
        gxp[i] = gup[i] = 0;
        if (!SYM) gvp[i] = 0;
      }
      for (int64_t k = 0; k < st.size(); ++k) {
        const scalar_t w = static_cast<scalar_t>(st.w[k]);
        for (int sign = -1; sign <= 1; sign += 2) {
          const int64_t dy = sign * st.dy[k], dx = sign * st.dx[k], shift = dy * W + dx;
          int64_t y0, y1, x0, x1;
          valid_range(H, dy, y0, y1);
          valid_range(W, dx, x0, x1);
          for (int64_t y = y0; y < y1; ++y) {
            const scalar_t* __restrict__ uk = up + y * W;
            const scalar_t* __restrict__ vk = vp + y * W;
            const scalar_t* __restrict__ mk = xd.data() + y * W;
            scalar_t* __restrict__ ox = gxp + y * W;
            scalar_t* __restrict__ ou = gup + y * W;
            if (SYM) {
#pragma omp simd
              for (int64_t c = x0; c < x1; ++c) {
                const scalar_t du = uk[c] - uk[c + shift];
                ox[c] += w * du * du;
                ou[c] += du * w * (mk[c] + mk[c + shift]);
              }
              continue;
            }
            scalar_t* __restrict__ ov = gvp + y * W;
#pragma omp simd
            for (int64_t c = x0; c < x1; ++c) {
              const scalar_t du = uk[c] - uk[c + shift];
              const scalar_t dv = vk[c] - vk[c + shift];
              const scalar_t m = w * (mk[c] + mk[c + shift]);
              ox[c] += w * du * dv;
              ou[c] += dv * m;
              ov[c] += du * m;
            }
          }
        }
      }
      const scalar_t g = G[p / C];
      const scalar_t half_g = scalar_t(0.5) * g;
      const scalar_t au = static_cast<scalar_t>(alpha != 0.0 ? alpha * plane_sum(vp, HW) : 0.0) * g;
      const scalar_t av = static_cast<scalar_t>(alpha != 0.0 ? alpha * plane_sum(up, HW) : 0.0) * g;
      if (SYM) {
        for (int64_t i = 0; i < HW; ++i) {
          gxp[i] *= half_g * invd[i];
          gup[i] = 2 * (half_g * gup[i] + au);
        }
        continue;
      }
      for (int64_t i = 0; i < HW; ++i) {
        gxp[i] *= half_g * invd[i];
        gup[i] = half_g * gup[i] + au;
        gvp[i] = half_g * gvp[i] + av;
      }
    }
  });
}

at::Tensor trilinear_cpu(const at::Tensor& x_, const at::Tensor& u_, const at::Tensor& v_,
                         at::IntArrayRef dy, at::IntArrayRef dx, at::ArrayRef<double> weight,
                         bool volume, double alpha) {
  check_inputs(x_, u_, v_);
  const Stencil st = make_stencil(dy, dx, weight);
  const at::Tensor x = x_.contiguous(), u = u_.contiguous(), v = v_.contiguous();
  at::Tensor out = at::zeros({x.size(0)}, x.options());
  if (x.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "wgm_trilinear_cpu", [&] {
    forward_kernel<scalar_t>(x, u, v, st, volume, alpha, out);
  });
  return out;
}

// Shared by both backward ops: checks, contiguous inputs, outputs, dispatch. SYM: u is v, returns
// (grad_x, grad_g); otherwise (grad_x, grad_u, grad_v).
template <bool SYM>
std::vector<at::Tensor> run_backward(const at::Tensor& grad_out_, const at::Tensor& x_, const at::Tensor& u_,
                                     const at::Tensor& v_, at::IntArrayRef dy, at::IntArrayRef dx,
                                     at::ArrayRef<double> weight, bool volume, double alpha) {
  check_inputs(x_, u_, v_);
  check_grad_out(grad_out_, x_);
  const Stencil st = make_stencil(dy, dx, weight);
  const at::Tensor x = x_.contiguous(), u = u_.contiguous(), v = SYM ? u : v_.contiguous();
  const at::Tensor grad_out = grad_out_.to(x.scalar_type()).contiguous();
  at::Tensor gx = at::empty_like(x), gu = at::empty_like(x), gv = SYM ? at::Tensor() : at::empty_like(x);
  if (x.numel() > 0) {
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "wgm_trilinear_backward_cpu", [&] {
      backward_kernel<scalar_t, SYM>(grad_out, x, u, v, st, volume, alpha, gx, gu, gv);
    });
  }
  if (SYM) return {gx, gu};
  return {gx, gu, gv};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> trilinear_backward_cpu(
    const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& u, const at::Tensor& v,
    at::IntArrayRef dy, at::IntArrayRef dx, at::ArrayRef<double> weight, bool volume, double alpha) {
  const auto r = run_backward<false>(grad_out, x, u, v, dy, dx, weight, volume, alpha);
  return {r[0], r[1], r[2]};
}

std::tuple<at::Tensor, at::Tensor> norm_sq_backward_cpu(const at::Tensor& grad_out, const at::Tensor& x,
                                                        const at::Tensor& g, at::IntArrayRef dy,
                                                        at::IntArrayRef dx, at::ArrayRef<double> weight,
                                                        bool volume, double alpha) {
  const auto r = run_backward<true>(grad_out, x, g, g, dy, dx, weight, volume, alpha);
  return {r[0], r[1]};
}

}  // namespace

TORCH_LIBRARY_IMPL(wgm_kernels, CPU, m) {
  m.impl("trilinear", &trilinear_cpu);
  m.impl("trilinear_backward", &trilinear_backward_cpu);
  m.impl("norm_sq_backward", &norm_sq_backward_cpu);
}

}  // namespace wgm

// Stencil geometry and argument checks shared by every backend of the trilinear form.
//
// A stencil is a list of canonical half-offsets (dy, dx) (dy > 0, or dy == 0 and dx > 0) with edge
// weights w. Pixel i = (y, x) is joined to j = (y + dy, x + dx) and to (y - dy, x - dx) whenever both
// lie inside the H x W image, so each undirected edge of the graph is met once per half-offset.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <torch/library.h>

namespace wgm {

struct Stencil {
  std::vector<int64_t> dy, dx;
  std::vector<double> w;
  int64_t size() const { return static_cast<int64_t>(w.size()); }
};

inline Stencil make_stencil(c10::ArrayRef<int64_t> dy, c10::ArrayRef<int64_t> dx,
                            c10::ArrayRef<double> w) {
  TORCH_CHECK(dy.size() == dx.size() && dx.size() == w.size(),
              "wgm_kernels: dy, dx and weight must have the same length, got ", dy.size(), ", ",
              dx.size(), ", ", w.size());
  for (size_t k = 0; k < w.size(); ++k) {
    TORCH_CHECK(dy[k] > 0 || (dy[k] == 0 && dx[k] > 0),
                "wgm_kernels: offset (", dy[k], ", ", dx[k],
                ") is not a canonical half-offset (dy > 0, or dy == 0 and dx > 0)");
    TORCH_CHECK(w[k] >= 0, "wgm_kernels: edge weight must be nonnegative, got ", w[k]);
  }
  return Stencil{dy.vec(), dx.vec(), w.vec()};
}

// Range [lo, hi) of coordinates c in [0, n) such that c + d is also in [0, n).
inline void valid_range(int64_t n, int64_t d, int64_t& lo, int64_t& hi) {
  lo = std::max<int64_t>(0, -d);
  hi = std::min<int64_t>(n, n - d);
  if (hi < lo) hi = lo;
}

// Inverse normalized volume 1/d_i = (sum_k deg_k) / deg_i of Section 1.2.5, deg_i = sum_j w_ij over
// in-image neighbours (so border pixels differ from interior ones). With volume == false, d_i = 1.
// Isolated pixels (deg_i = 0) touch no edge, so their entry is never used; it is set to 0.
template <typename scalar_t>
std::vector<scalar_t> inverse_volume(const Stencil& s, int64_t H, int64_t W, bool volume) {
  std::vector<double> deg(static_cast<size_t>(H * W), 0.0);
  if (!volume) return std::vector<scalar_t>(static_cast<size_t>(H * W), scalar_t(1));
  double total = 0.0;
  for (int64_t k = 0; k < s.size(); ++k) {
    for (int sign = -1; sign <= 1; sign += 2) {
      const int64_t dy = sign * s.dy[k], dx = sign * s.dx[k];
      int64_t y0, y1, x0, x1;
      valid_range(H, dy, y0, y1);
      valid_range(W, dx, x0, x1);
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) deg[y * W + x] += s.w[k];
      total += s.w[k] * double((y1 - y0) * (x1 - x0));
    }
  }
  std::vector<scalar_t> inv(deg.size());
  for (size_t i = 0; i < deg.size(); ++i) inv[i] = deg[i] > 0 ? scalar_t(total / deg[i]) : scalar_t(0);
  return inv;
}

// Shapes and dtypes of the operands x, u, v (B, C, H, W); each device file adds its device check.
inline void check_operands(const at::Tensor& x, const at::Tensor& u, const at::Tensor& v) {
  TORCH_CHECK(x.dim() == 4, "wgm_kernels: x must be 4-D (B, C, H, W), got ", x.dim(), "-D");
  TORCH_CHECK(u.sizes() == x.sizes() && v.sizes() == x.sizes(),
              "wgm_kernels: x, u, v must have the same shape, got ", x.sizes(), ", ", u.sizes(), ", ",
              v.sizes());
  TORCH_CHECK(u.scalar_type() == x.scalar_type() && v.scalar_type() == x.scalar_type(),
              "wgm_kernels: x, u, v must have the same dtype");
}

inline void check_grad_out(const at::Tensor& grad_out, const at::Tensor& x) {
  TORCH_CHECK(grad_out.dim() == 1 && grad_out.size(0) == x.size(0),
              "wgm_kernels: grad_out must have shape (B,), got ", grad_out.sizes());
}

}  // namespace wgm

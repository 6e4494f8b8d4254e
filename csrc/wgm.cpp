// Operator schemas of wgm_kernels. Device kernels live in csrc/cpu/ and csrc/cuda/; autograd and fake
// (meta) implementations are registered from Python (wgm_kernels/ops.py).
#include <ATen/core/dispatch/Dispatcher.h>
#include <Python.h>
#include <torch/library.h>

#include <tuple>

// An empty module so that `import wgm_kernels._C` loads this library and runs the registrations.
extern "C" PyObject* PyInit__C(void) {
  static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&def);
}

TORCH_LIBRARY(wgm_kernels, m) {
  // T(x; u, v)[b] = sum_c [ sum_edges w_ij (u_i - u_j)(v_i - v_j)(x_i/d_i + x_j/d_j)/2
  //                         + alpha (sum_i u_i)(sum_i v_i) ]        (eq. 1.8, Theorem 1.A.1)
  m.def("trilinear(Tensor x, Tensor u, Tensor v, int[] dy, int[] dx, float[] weight, bool volume, "
        "float alpha) -> Tensor");
  // The three partial derivatives of T scaled by grad_out[b], in one pass:
  //   grad_x = g E(u, v),  grad_u = g (L(x) v + alpha 1 1^T v),  grad_v = g (L(x) u + alpha 1 1^T u).
  m.def("trilinear_backward(Tensor grad_out, Tensor x, Tensor u, Tensor v, int[] dy, int[] dx, "
        "float[] weight, bool volume, float alpha) -> (Tensor, Tensor, Tensor)");
  // The norm Q(x; g) = T(x; g, g) (eq. 1.8) and its backward, which writes grad_x = G E(g, g) and
  // grad_g = 2G (L(x) g + alpha 1 1^T g) in one pass (through the pair above autograd would write grad_u and
  // grad_v separately and add them).
  m.def("norm_sq(Tensor x, Tensor g, int[] dy, int[] dx, float[] weight, bool volume, float alpha) -> Tensor");
  m.def("norm_sq_backward(Tensor grad_out, Tensor x, Tensor g, int[] dy, int[] dx, float[] weight, "
        "bool volume, float alpha) -> (Tensor, Tensor)");
}

// The norm pair on any device through the trilinear pair: Q(x; g) = T(x; g, g) and
// (grad_x, grad_g) = (grad_x, grad_u + grad_v). A device registers its own norm_sq_backward kernel to
// write (grad_x, grad_g) in one pass (csrc/cpu, csrc/cuda); the others get this fallback.
namespace {

using IntList = c10::IntArrayRef;
using FloatList = c10::ArrayRef<double>;

at::Tensor norm_sq_composite(const at::Tensor& x, const at::Tensor& g, IntList dy, IntList dx, FloatList weight,
                             bool volume, double alpha) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("wgm_kernels::trilinear", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, IntList, IntList,
                                         FloatList, bool, double)>();
  return op.call(x, g, g, dy, dx, weight, volume, alpha);
}

std::tuple<at::Tensor, at::Tensor> norm_sq_backward_composite(const at::Tensor& grad_out, const at::Tensor& x,
                                                              const at::Tensor& g, IntList dy, IntList dx,
                                                              FloatList weight, bool volume, double alpha) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("wgm_kernels::trilinear_backward", "")
                       .typed<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
                           const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, IntList,
                           IntList, FloatList, bool, double)>();
  auto [gx, gu, gv] = op.call(grad_out, x, g, g, dy, dx, weight, volume, alpha);
  return {gx, gu.add_(gv)};
}

}  // namespace

TORCH_LIBRARY_IMPL(wgm_kernels, CompositeExplicitAutograd, m) {
  m.impl("norm_sq", &norm_sq_composite);
  m.impl("norm_sq_backward", &norm_sq_backward_composite);
}

"""Pure-PyTorch references of the trilinear stencil form (any device, autograd to every order).

T(x; u, v)[b] = Σ_c [ Σ_{(i,j)∈E} ω_ij (u_i − u_j)(v_i − v_j)(x_i/d_i + x_j/d_j)/2 + α (Σ_i u_i)(Σ_i v_i) ]

With u = v = ∇_x f this is ‖∇^{W²}_x f‖² of eq. 1.8, with the α 11ᵀ term of eq. 1.17 / Theorem 1.A.1.
Two formulations:

* :func:`trilinear_shift` — one sliced difference per neighbour relation; the reference backend.
* :func:`trilinear_conv` — Algorithm 1 as written: kernels K_O (+1/−1) and M_O (½/½) applied as one
  convolution each, then entry-wise products and a sum. The baseline the benchmarks compare against.

Shapes: x, u, v (B, C, H, W); result (B,). float16/bfloat16 inputs are computed in float32 and the result
stays float32 (with volume normalization x_i/d_i grows like H·W, which overflows float16).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .stencil import Stencil, inverse_volume, pair_slices

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in _LOW_PRECISION else dtype


def _alpha_term(u: torch.Tensor, v: torch.Tensor, alpha: float) -> torch.Tensor:
    return alpha * (u.sum((2, 3)) * v.sum((2, 3))).sum(1)


def trilinear_shift(x: torch.Tensor, u: torch.Tensor, v: torch.Tensor, st: Stencil, volume: bool,
                    alpha: float) -> torch.Tensor:
    """T(x; u, v) by sliced differences, one neighbour relation at a time (eq. 1.8)."""
    acc = _acc_dtype(x.dtype)
    x, u, v = x.to(acc), u.to(acc), v.to(acc)
    B, C, H, W = x.shape
    xd = x * inverse_volume(st, H, W, volume, dtype=acc, device=x.device)
    total = x.new_zeros(B)
    for (dy, dx), w in zip(st.offsets, st.weights):
        (yi, xi), (yj, xj) = pair_slices(dy, dx, H, W)
        du = u[..., yi, xi] - u[..., yj, xj]
        dv = v[..., yi, xi] - v[..., yj, xj]
        total = total + w * (du * dv * (xd[..., yi, xi] + xd[..., yj, xj])).sum((1, 2, 3))
    total = 0.5 * total
    if alpha:
        total = total + _alpha_term(u, v, alpha)
    return total


def conv_kernels(st: Stencil, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 1's filters: K_O (1 at the centre, −1 at the neighbour) and M_O (½ at both); (d, 1, 2r+1, 2r+1)."""
    r, d = st.radius, len(st.offsets)
    K = torch.zeros(d, 1, 2 * r + 1, 2 * r + 1, dtype=dtype)
    M = torch.zeros_like(K)
    for k, (dy, dx) in enumerate(st.offsets):
        K[k, 0, r, r], K[k, 0, r + dy, r + dx] = 1.0, -1.0
        M[k, 0, r, r], M[k, 0, r + dy, r + dx] = 0.5, 0.5
    return K.to(device), M.to(device)


def edge_mask(st: Stencil, H: int, W: int, dtype, device) -> torch.Tensor:
    """ω_O at every pixel i whose neighbour i + O is inside the image, else 0; (d, H, W)."""
    mask = torch.zeros(len(st.offsets), H, W, dtype=dtype)
    for k, ((dy, dx), w) in enumerate(zip(st.offsets, st.weights)):
        (yi, xi), _ = pair_slices(dy, dx, H, W)
        mask[k, yi, xi] = w
    return mask.to(device)


def trilinear_conv(x: torch.Tensor, u: torch.Tensor, v: torch.Tensor, st: Stencil, volume: bool,
                   alpha: float) -> torch.Tensor:
    """T(x; u, v) by Algorithm 1: H = K_O(u) ⊙ K_O(v), V = M_O(x/d), sum(H ⊙ V) over relations and pixels."""
    acc = _acc_dtype(x.dtype)
    x, u, v = x.to(acc), u.to(acc), v.to(acc)
    B, C, H, W = x.shape
    K, M = conv_kernels(st, acc, x.device)
    r = st.radius
    planes = lambda t: t.reshape(B * C, 1, H, W)
    xd = x * inverse_volume(st, H, W, volume, dtype=acc, device=x.device)
    Hu = F.conv2d(planes(u), K, padding=r)
    Hv = Hu if v is u else F.conv2d(planes(v), K, padding=r)
    V = F.conv2d(planes(xd), M, padding=r)
    Wt = Hu * Hv * V * edge_mask(st, H, W, acc, x.device)
    total = Wt.sum((1, 2, 3)).reshape(B, C).sum(1)
    if alpha:
        total = total + _alpha_term(u, v, alpha)
    return total

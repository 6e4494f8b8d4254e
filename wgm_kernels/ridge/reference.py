"""Slow references for the ridge LOO kernels: the naive closed form, brute-force refits, and random test
problems. Used by tests and benchmarks only. Single problem (no batch), one lam, float64 recommended.
"""
from __future__ import annotations

import torch


def naive_ridge_loo(Z: torch.Tensor, Y: torch.Tensor, lam: float, a: torch.Tensor):
    """Textbook formulas, differentiable by plain autograd through torch.linalg.solve.

    Z (n, m), Y (n, k), a (n) -> (W (m, k), Ŷ (n, k), F (n, k), h (n)) with C = (Zᵀ D_a Z + lam I)⁻¹
    (eq. 2.7), W = C Zᵀ D_a Y (eq. 2.6), h_i = a_i z_iᵀ C z_i and F_i = (Ŷ_i - h_i Y_i)/(1 - h_i)
    (Prop. 5, eq. 2.12). Forms the m x m system and its inverse: O(n m² + m³), no LOO safeguards.
    """
    m = Z.shape[-1]
    A = Z.T @ (a[:, None] * Z) + lam * torch.eye(m, dtype=Z.dtype, device=Z.device)
    W = torch.linalg.solve(A, Z.T @ (a[:, None] * Y))
    P = torch.linalg.solve(A, Z.T).T  # Z C
    h = a * (P * Z).sum(-1)
    fitted = Z @ W
    F = (fitted - h[:, None] * Y) / (1 - h)[:, None]
    return W, fitted, F, h


def brute_force_loo(Z: torch.Tensor, Y: torch.Tensor, lam: float, a: torch.Tensor) -> torch.Tensor:
    """n separate refits (eq. 2.11): F_i = z_iᵀ argmin_w sum_{j != i} a_j |wᵀ z_j - y_j|² + lam |w|².
    Solves the m x m system when n > m and the (n-1) x (n-1) kernel system otherwise (both exact)."""
    n, m = Z.shape
    out = torch.empty_like(Y)
    for i in range(n):
        keep = torch.arange(n, device=Z.device) != i
        Zi, Yi, ai = Z[keep], Y[keep], a[keep]
        if n - 1 >= m:
            A = Zi.T @ (ai[:, None] * Zi) + lam * torch.eye(m, dtype=Z.dtype, device=Z.device)
            w = torch.linalg.solve(A, Zi.T @ (ai[:, None] * Yi))
        else:  # push-through identity: w = Ziᵀ (D Zi Ziᵀ + lam I)⁻¹ D Yi
            Kd = ai[:, None] * (Zi @ Zi.T) + lam * torch.eye(n - 1, dtype=Z.dtype, device=Z.device)
            w = Zi.T @ torch.linalg.solve(Kd, ai[:, None] * Yi)
        out[i] = Z[i] @ w
    return out


def random_problem(n: int, m: int, k: int = 3, *, seed: int = 0, zeros: int = 2, dtype=torch.float64,
                   onehot: bool = False):
    """Z (n, m) ~ N(0, 1), Y (n, k) ~ N(0, 1) (or one-hot labels), weights in [0.1, 2) with ``zeros``
    entries set exactly to 0; deterministic in ``seed``."""
    g = torch.Generator().manual_seed(seed)
    Z = torch.randn(n, m, generator=g, dtype=torch.float64)
    if onehot:
        Y = torch.nn.functional.one_hot(torch.randint(0, k, (n,), generator=g), k).double()
    else:
        Y = torch.randn(n, k, generator=g, dtype=torch.float64)
    a = 0.1 + 1.9 * torch.rand(n, generator=g, dtype=torch.float64)
    a[torch.randperm(n, generator=g)[:zeros]] = 0.0
    return Z.to(dtype), Y.to(dtype), a.to(dtype)

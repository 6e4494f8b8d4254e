"""Finite-width neural tangent kernels (Gram matrices) of thesis Chapter 3, Section 3.4.

For a data matrix X (n, d) and WN parameters v (m, d), g (m) write u_k = v_k/||v_k||,
P_ik = u_k^T x_i, the activation indicator 1_ik = 1{g_k P_ik > 0} (the thesis writes
1{v_k^T x_i >= 0} with g_k > 0; ties have probability zero and ``>`` matches the derivative autograd
uses for ReLU) and s_k = (g_k/||v_k||)^2.  Then, with <x_i^{v_k perp}, x_j^{v_k perp}> =
x_i^T x_j - P_ik P_jk,

* (3.10)  V_ij = beta^2/m  sum_k s_k 1_ik 1_jk (x_i^T x_j - P_ik P_jk)
           = beta^2/m [ (X X^T) o (A S A^T) - B S B^T ]
* (3.11)  G_ij = 1/m sum_k 1_ik 1_jk P_ik P_jk = 1/m B B^T      (= sigma(v_k^T x_i) sigma(v_k^T x_j)/||v_k||^2)
* (3.13)  H_ij = 1/m sum_k x_i^T x_j 1_ik 1_jk = 1/m (X X^T) o (A A^T)
* (3.12)  Lambda = V/beta^2 + G  (the WN NTK: df/dt = -Lambda (f - y))

where A = [1_ik] (n, m), B = A o P and S = diag(s).  Everything is four n x n x m GEMMs, done in
blocks of neurons to bound the memory at O(n * block); no Python loop over single neurons.
When s_k is the same for every k up to rounding (always true at the initialisation (3.6), where
s_k = 1/beta^2), A S A^T = s A A^T and B S B^T = s B B^T and only two GEMMs are needed.
"""
from __future__ import annotations

import torch

from ._validate import as_data_matrix, check_beta

__all__ = ["wn_gram_matrices", "relu_ntk", "DEFAULT_BLOCK"]

DEFAULT_BLOCK = 4096


def _block_size(block: int | None, m: int) -> int:
    if block is None:
        return m
    if int(block) < 1:
        raise ValueError(f"block must be >= 1 or None, got {block!r}")
    return min(int(block), m)


@torch.no_grad()
def wn_gram_matrices(X: torch.Tensor, v: torch.Tensor, g: torch.Tensor, beta: float,
                     block: int | None = DEFAULT_BLOCK) -> dict[str, torch.Tensor]:
    """Gram matrices V (3.10), G (3.11), H (3.13) and Lambda = V/beta^2 + G (3.12).

    Args:
        X: data, (n, d) floating tensor without zero rows.
        v: direction parameters, (m, d), rows non-zero.
        g: length parameters, (m,).
        beta: the initialisation scale of (3.6); enters (3.10) as the factor beta^2.
        block: neurons per GEMM block (memory ~ 4 n block numbers); ``None`` = all at once.

    Returns:
        dict with ``V``, ``G``, ``H``, ``Lambda``: (n, n) tensors in the dtype/device of ``v``.
        ``H`` is the un-normalised NTK (3.13) evaluated at the equivalent weights w_k = g_k u_k.
    """
    beta = check_beta(beta)
    if v.ndim != 2:
        raise ValueError(f"v must be a 2-D (m, d) tensor, got shape {tuple(v.shape)}")
    m, d = v.shape
    if g.shape != (m,):
        raise ValueError(f"g must have shape ({m},), got {tuple(g.shape)}")
    X = as_data_matrix(X, d, dtype=v.dtype, device=v.device)
    vn = v.norm(dim=1)
    if bool((vn == 0).any()):
        raise ValueError("v has zero-norm rows; the WN direction v_k/||v_k|| is undefined")
    U = v / vn[:, None]
    s = (g / vn) ** 2
    n = X.shape[0]
    eps = torch.finfo(v.dtype).eps
    uniform = bool((s.max() - s.min()) <= 16 * eps * s.max())
    bs = _block_size(block, m)
    AA = X.new_zeros(n, n)
    BB = X.new_zeros(n, n)
    ASA = BSB = None
    if not uniform:
        ASA = X.new_zeros(n, n)
        BSB = X.new_zeros(n, n)
    for k0 in range(0, m, bs):
        k1 = min(k0 + bs, m)
        P = X @ U[k0:k1].T                                   # (n, b)   P_ik = u_k^T x_i
        A = ((P * g[k0:k1]) > 0).to(P.dtype)                 # (n, b)   1_ik
        B = A * P                                            # (n, b)   sigma'(.) u_k^T x_i
        AA.addmm_(A, A.T)
        BB.addmm_(B, B.T)
        if not uniform:
            sb = s[k0:k1]
            ASA.addmm_(A * sb, A.T)
            BSB.addmm_(B * sb, B.T)
    XX = X @ X.T
    if uniform:
        s0 = s.mean()
        ASA, BSB = AA * s0, BB * s0
    H = XX * AA / m
    G = BB / m
    Lam_v = (XX * ASA - BSB) / m                             # V / beta^2 = J_v J_v^T
    V = Lam_v * beta ** 2
    return {"V": V, "G": G, "H": H, "Lambda": Lam_v + G}


@torch.no_grad()
def relu_ntk(X: torch.Tensor, W: torch.Tensor, block: int | None = DEFAULT_BLOCK) -> torch.Tensor:
    """NTK H (3.13) of the un-normalised network (3.1) with first-layer weights W (m, d).

    H_ij = 1/m sum_k x_i^T x_j 1{w_k^T x_i > 0} 1{w_k^T x_j > 0}; returns (n, n).
    """
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D (m, d) tensor, got shape {tuple(W.shape)}")
    m, d = W.shape
    X = as_data_matrix(X, d, dtype=W.dtype, device=W.device)
    bs = _block_size(block, m)
    AA = X.new_zeros(X.shape[0], X.shape[0])
    for k0 in range(0, m, bs):
        A = ((X @ W[k0:k0 + bs].T) > 0).to(X.dtype)
        AA.addmm_(A, A.T)
    return (X @ X.T) * AA / m

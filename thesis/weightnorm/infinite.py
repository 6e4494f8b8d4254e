"""Infinite-width Gram matrices V^inf (3.15), G^inf (3.16) and H^inf of thesis Chapter 3.

With v ~ N(0, beta^2 I) only the direction u = v/||v|| ~ Unif(S^{d-1}) matters, so both kernels are
independent of beta (as in Observation 1):

* (3.15)  V^inf_ij = E_u <x_i^{u perp}, x_j^{u perp}> 1{u^T x_i >= 0} 1{u^T x_j >= 0}
* (3.16)  G^inf_ij = E_u <x_i^u, x_j^u> 1{u^T x_i >= 0} 1{u^T x_j >= 0} = E_u sigma(u^T x_i) sigma(u^T x_j)
* H^inf_ij = E_w x_i^T x_j 1{w^T x_i >= 0} 1{w^T x_j >= 0}, the infinite-width limit of (3.13), and by
  Proposition 7 (in expectation) V^inf + G^inf = H^inf.

:func:`infinite_width_grams` estimates V^inf, G^inf by Monte-Carlo over ``samples`` directions and
returns their least eigenvalues lambda_0 = lambda_min(V^inf), mu_0 = lambda_min(G^inf) (Lemma 3.5.1).
:func:`closed_form_grams` gives the exact kernels via the arc-cosine kernels (Cho & Saul 2009), with
theta_ij the angle between x_i and x_j:

    H^inf_ij = x_i^T x_j (pi - theta_ij) / (2 pi)                                    (degree 0)
    G^inf_ij = ||x_i|| ||x_j|| (sin theta_ij + (pi - theta_ij) cos theta_ij) / (2 pi d) (degree 1)
    V^inf    = H^inf - G^inf

(the 1/d: for w ~ N(0, I), w = r u with r independent of u and E r^2 = d).
"""
from __future__ import annotations

import math

import torch

from ._validate import as_data_matrix, check_positive_int

__all__ = ["infinite_width_grams", "closed_form_grams", "lambda_min", "lambda_max"]


def lambda_min(K: torch.Tensor) -> float:
    """Least eigenvalue of a symmetric matrix (symmetrised first), as a float."""
    return float(torch.linalg.eigvalsh(0.5 * (K + K.T))[0])


def lambda_max(K: torch.Tensor) -> float:
    """Largest eigenvalue (= spectral norm for PSD) of a symmetric matrix, as a float."""
    return float(torch.linalg.eigvalsh(0.5 * (K + K.T))[-1])


@torch.no_grad()
def closed_form_grams(X: torch.Tensor) -> dict[str, torch.Tensor]:
    """Exact H^inf, G^inf, V^inf = H^inf - G^inf (see module docstring) for X (n, d); float64 (n, n)."""
    X = as_data_matrix(X, dtype=torch.float64)
    d = X.shape[1]
    nrm = X.norm(dim=1)
    XX = X @ X.T
    outer = nrm[:, None] * nrm[None, :]
    cos = (XX / outer).clamp(-1.0, 1.0)
    theta = torch.arccos(cos)
    H = XX * (math.pi - theta) / (2 * math.pi)
    G = outer * (torch.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi * d)
    return {"H": H, "G": G, "V": H - G}


@torch.no_grad()
def infinite_width_grams(X: torch.Tensor, samples: int = 100_000, seed: int = 0, block: int = 8192,
                         closed_form: bool = True) -> dict[str, object]:
    """Monte-Carlo estimates of V^inf (3.15), G^inf (3.16) (and H^inf) with lambda_0, mu_0.

    Args:
        X: data (n, d) without zero rows (computed in float64).
        samples: number of random directions u ~ Unif(S^{d-1}).
        seed: seed of the directions.
        block: directions per GEMM block.
        closed_form: also return the exact arc-cosine kernels and the MC errors against them.

    Returns:
        dict with (n, n) float64 tensors ``V``, ``G``, ``H`` (MC), floats ``lambda0`` = lambda_min(V),
        ``mu0`` = lambda_min(G), ``norm_V``, ``norm_G`` (spectral norms) and, if ``closed_form``,
        ``V_closed``, ``G_closed``, ``H_closed``, ``lambda0_closed``, ``mu0_closed``,
        ``norm_V_closed``, ``norm_G_closed`` and ``mc_error`` (max-abs MC - exact, per kernel).
    """
    samples = check_positive_int(samples, "samples")
    block = check_positive_int(block, "block")
    X = as_data_matrix(X, dtype=torch.float64)
    n, d = X.shape
    gen = torch.Generator().manual_seed(int(seed))
    XX = X @ X.T
    AA = X.new_zeros(n, n)
    BB = X.new_zeros(n, n)
    for k0 in range(0, samples, block):
        b = min(block, samples - k0)
        Z = torch.randn(b, d, generator=gen, dtype=torch.float64).to(X.device)   # CPU draws: device-independent
        U = Z / Z.norm(dim=1, keepdim=True)
        P = X @ U.T
        A = (P >= 0).to(torch.float64)
        B = A * P
        AA.addmm_(A, A.T)
        BB.addmm_(B, B.T)
    H = XX * AA / samples
    G = BB / samples
    V = H - G                                  # <x_i^perp, x_j^perp> = x_i^T x_j - (u^T x_i)(u^T x_j)
    out: dict[str, object] = {"V": V, "G": G, "H": H, "lambda0": lambda_min(V), "mu0": lambda_min(G),
                              "norm_V": lambda_max(V), "norm_G": lambda_max(G)}
    if closed_form:
        cf = closed_form_grams(X)
        out.update({"V_closed": cf["V"], "G_closed": cf["G"], "H_closed": cf["H"],
                    "lambda0_closed": lambda_min(cf["V"]), "mu0_closed": lambda_min(cf["G"]),
                    "norm_V_closed": lambda_max(cf["V"]), "norm_G_closed": lambda_max(cf["G"]),
                    "mc_error": {k: float((out[k] - cf[k]).abs().max()) for k in ("V", "G", "H")}})
    return out

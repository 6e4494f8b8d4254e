"""One eigendecomposition shared by every lam: the weighted ridge solve of eq. 2.6 on a lam grid.

Notation (Dukler 2021, Section 2.3.2): Z (n, m) features, Y (n, k) targets, a = alpha (n) sample weights,
D_a = diag(a), C = (Zᵀ D_a Z + lam I)⁻¹ (eq. 2.7), W = C Zᵀ D_a Y (eq. 2.6), fitted Ŷ = Z W,
leverage h_i = a_i z_iᵀ C z_i = diag(R_alpha)_i of Prop. 5 and d_i = 1 - h_i.

* primal, one lam: Cholesky G + lam I = L Lᵀ (float64) and the basis Vb = L⁻ᵀ, S = Z Vb, so that
  C = Vb Vbᵀ and h_i = a_i |S_i|²: the same formulas as below with 1/(e + lam) replaced by ones.
  A failed Cholesky (not positive definite in floating point) raises a ValueError.
* primal, lam grid: G = Zᵀ D_a Z = V diag(e) Vᵀ (m x m). With S = Z V, every lam costs O(n m (k + 1)):
  h_i = a_i sum_j S_ij² / (e_j + lam), Ŷ = S diag(1/(e + lam)) Sᵀ D_a Y, W = V diag(1/(e + lam)) Sᵀ D_a Y.
  The Gram matrix and S are formed in the input dtype (the two n m² products); eigh and the leverage
  sums run in float64, so float32 input keeps h accurate to float32 rounding of S only.
* dual: K̃ = D_a^½ Z Zᵀ D_a^½ = U diag(e) Uᵀ (n x n), in float64. Push-through gives
  W = Zᵀ D_a^½ (K̃ + lam I)⁻¹ D_a^½ Y, and 1 - h_i = lam [(K̃ + lam I)⁻¹]_ii = lam sum_j U_ij² / (e_j + lam)
  without the cancellation of 1 - h_i when h_i -> 1 (n < m, small lam).

All tensors carry one flattened batch dim B; lam-dependent outputs carry an L dim after it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


def lmm(A: torch.Tensor, X: torch.Tensor, transpose_a: bool = False) -> torch.Tensor:
    """(B, p, q) @ (B, L, q, k) -> (B, L, p, k) as ONE matmul over L*k columns (never expands A over L,
    which for A = S (n x m) would copy n*m*L entries). ``transpose_a`` uses Aᵀ."""
    B, L, q, k = X.shape
    At = A.transpose(-1, -2) if transpose_a else A
    out = At @ X.permute(0, 2, 1, 3).reshape(B, q, L * k)
    return out.reshape(B, At.shape[-2], L, k).permute(0, 2, 1, 3)


@dataclass
class Factor:
    """kind "primal": basis V (B, m, m), S = Z V (B, n, m), e (B, m) eigenvalues of Zᵀ D_a Z,
    proj = Sᵀ D_a Y (B, m, k). kind "chol": basis L⁻ᵀ (B, m, m) for the single lam it was built with,
    S = Z L⁻ᵀ, e = None. kind "dual": U (B, n, n), e (B, n) eigenvalues of K̃, K = Z Zᵀ (B, n, n),
    proj = Uᵀ D_a^½ Y (B, n, k); all float64."""

    kind: str
    e: torch.Tensor | None
    vecs: torch.Tensor
    S: torch.Tensor | None
    proj: torch.Tensor
    K: torch.Tensor | None = None

    def inv(self, lam: torch.Tensor) -> torch.Tensor:
        """The diagonal of C in this basis, (B, L, r) float64: 1/(e + lam), or ones for "chol"."""
        if self.kind == "chol":
            return torch.ones(self.vecs.shape[0], 1, self.vecs.shape[-1], dtype=torch.float64,
                              device=self.vecs.device)
        return inv_shift(self.e, lam)


def eigh(A: torch.Tensor):
    """torch.linalg.eigh (ascending eigenvalues). No thread juggling here: torch.set_num_threads is
    process-wide, so changing it inside a library call would race with the caller's other threads."""
    return torch.linalg.eigh(A)


def _check_finite_matrix(G: torch.Tensor, name: str) -> None:
    if not bool(torch.isfinite(G).all()):
        raise ValueError(f"{name} overflowed (non-finite entries): rescale Z; the system is not positive "
                         "definite in floating point")


def factor_primal(Z: torch.Tensor, Y: torch.Tensor, a: torch.Tensor, lam: torch.Tensor) -> Factor:
    """Z (B, n, m), Y (B, n, k), a (B, n) in one float dtype, lam (L,) float64.
    Cost: 2 n m² (Gram, S = Z Vb) + O(m³) (Cholesky for L = 1, eigh otherwise)."""
    G = Z.transpose(-1, -2) @ (a[..., None] * Z)
    _check_finite_matrix(G, "Zᵀ D_a Z")
    if lam.numel() == 1:
        m = G.shape[-1]
        A = G.double() + float(lam[0]) * torch.eye(m, dtype=torch.float64, device=G.device)
        Lc, info = torch.linalg.cholesky_ex(A)
        if bool((info > 0).any()) or not bool(torch.isfinite(Lc).all()):
            raise ValueError(
                "Zᵀ D_a Z + lam I is not positive definite in floating point (Cholesky failed); "
                "check Z for huge entries or use a larger lam"
            )
        eye = torch.eye(m, dtype=torch.float64, device=G.device).expand_as(Lc)
        Vb = torch.linalg.solve_triangular(Lc, eye, upper=False).transpose(-1, -2).to(Z.dtype)  # L⁻ᵀ
        kind, e = "chol", None
    else:
        e, V = eigh(G.double())
        e = e.clamp_min(0.0)  # G is PSD; rounding can give -eps·|G|
        Vb, kind = V.to(Z.dtype), "primal"
    S = Z @ Vb
    proj = S.transpose(-1, -2) @ (a[..., None] * Y)
    return Factor(kind, e, Vb, S, proj)


def factor_dual(Z: torch.Tensor, Y: torch.Tensor, a: torch.Tensor) -> Factor:
    """Kernel eigendecomposition, float64 throughout. Cost: n² m (K) + O(n³)."""
    Zd = Z.double()
    K = Zd @ Zd.transpose(-1, -2)
    _check_finite_matrix(K, "Z Zᵀ")
    s = a.double().sqrt()
    e, U = eigh(s[..., :, None] * K * s[..., None, :])
    e = e.clamp_min(0.0)
    proj = U.transpose(-1, -2) @ (s[..., None] * Y.double())
    return Factor("dual", e, U, None, proj, K)


def inv_shift(e: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """1 / (e + lam): (B, r), (L,) -> (B, L, r) float64."""
    return 1.0 / (e[:, None, :] + lam.to(e.device)[None, :, None])


def solve(f: Factor, Z: torch.Tensor, a: torch.Tensor, lam: torch.Tensor, leverage: bool = True):
    """Returns coef W (B, L, m, k), fitted Ŷ (B, L, n, k) in Z's dtype, leverage h and d = 1 - h
    (B, L, n) in float64 (None when ``leverage`` is False: the fused epilogue computes them), and for the
    dual the residual Y - Ŷ = lam α̃ / a^½ with α̃ = (K̃ + lam I)⁻¹ D_a^½ Y (B, L, n, k) float64, free of
    the cancellation in Y - Ŷ when h_i -> 1 (zero where a_i = 0; None for the primal).
    Per extra lam: O(n m k + n m) primal, O(n² k + n m k) dual."""
    inv = f.inv(lam)
    dt = Z.dtype
    if f.kind != "dual":
        S = f.S
        h = d = None
        if leverage:
            q = (S.double().square() @ inv.transpose(-1, -2)).transpose(-1, -2)  # z_iᵀ C z_i, (B, L, n)
            h = a.double()[:, None, :] * q
            d = 1.0 - h
        coef_e = inv.to(dt)[..., None] * f.proj[:, None]  # (B, L, m, k) in the eigenbasis
        fitted = lmm(S, coef_e)
        W = lmm(f.vecs, coef_e)
        return W, fitted, h, d, None
    U = f.vecs
    h = d = None
    if leverage:
        U2 = U.square()
        lam_d = lam.to(U.device, torch.float64)
        h = (U2 @ (f.e[:, None, :] * inv).transpose(-1, -2)).transpose(-1, -2)
        d = lam_d[None, :, None] * (U2 @ inv.transpose(-1, -2)).transpose(-1, -2)
    s = a.double().sqrt()
    alpha = lmm(U, inv[..., None] * f.proj[:, None])  # (K̃ + lam)⁻¹ D^½ Y
    c = s[:, None, :, None] * alpha  # dual coefficients: W = Zᵀ c
    fitted = lmm(f.K, c)
    W = lmm(Z.double(), c, transpose_a=True)
    pos = s > 0
    s_safe = torch.where(pos, s, torch.ones_like(s))
    scale = lam.to(U.device)[None, :, None, None] / s_safe[:, None, :, None]
    resid = torch.where(pos[:, None, :, None], scale * alpha, torch.zeros_like(alpha))
    return W.to(dt), fitted.to(dt), h, d, resid


def loo_from(fitted: torch.Tensor, Y: torch.Tensor, h: torch.Tensor, d: torch.Tensor,
             resid: torch.Tensor | None = None) -> torch.Tensor:
    """Prop. 5 / eq. 2.12 in the form finite at a_i = 0: F_i = (Ŷ_i - h_i Y_i) / (1 - h_i).
    Where h_i >= 1/2 and a cancellation-free residual r = Y - Ŷ is given (dual), the equal form
    F_i = Y_i - r_i / (1 - h_i) is used instead: Ŷ_i - h_i Y_i is a difference of O(|Y|) terms that is
    O(1 - h_i) small.
    fitted/resid (B, L, n, k), Y (B, n, k), h, d (B, L, n) -> (B, L, n, k) in fitted's dtype."""
    dt = fitted.dtype
    dd = d.to(dt)[..., None]
    F = (fitted - h.to(dt)[..., None] * Y[:, None]) / dd
    if resid is None:
        return F
    return torch.where((h >= 0.5)[..., None], Y[:, None] - resid.to(dt) / dd, F)

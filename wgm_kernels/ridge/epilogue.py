"""The LOO epilogue: from the factorization to leverage, LOO predictions, per-sample loss and the
cotangents the dataset derivative needs, in one pass over the n x k outputs (Prop. 5, Appendix 2.A.3).

Inputs for one problem and one lam (r = m primal, r = n dual):
  S (n, r): Z V (primal) or U (dual);  c1, c2 (r) float64 coefficients, c1 = 1/(e + lam) primal,
  c1 = e/(e + lam) and c2 = lam/(e + lam) dual;  a (n);  fitted Ŷ (n, k);  Y (n, k).
  primal: h_i = a_i sum_j S_ij² c1_j, d_i = 1 - h_i;  dual: h_i = sum_j S_ij² c1_j, d_i = sum_j S_ij² c2_j.
  resid (n, k) optional (dual): the cancellation-free Y - Ŷ; where h_i >= 1/2, F_i = Y_i - resid_i / d_i.
Outputs: h, d (n) float64 and s1 = sum_j S_ij² c1_j (n) float64 (= z_iᵀ C z_i in the primal);
F = (Ŷ - h Y)/d (n, k), eq. 2.12; loss_i = ℓ(F_i, y_i) (n); G = (∂ℓ/∂F)/d (n, k) and
g_h = sum_k (∂ℓ/∂F)(F - Y)/d (n): the cotangents of Ŷ and h (see vjp.py).

Losses ℓ(F_i, y_i), summed unweighted over samples (the LOO loss of Section 2.3.3):
  "mse": |F_i - y_i|²;  "ce": cross-entropy with F_i as logits and y_i as (one-hot or soft) target,
  -sum_k y_ik log softmax(F_i)_k; with misclassified_only, ce counts only samples whose LOO prediction
  argmax differs from argmax y_i (the "hard margin" of Appendix 2.A.2).
CPU runs the torch code below; CUDA tensors run the fused Triton kernel of triton_epilogue.py.
"""
from __future__ import annotations

import torch

from .validation import LOSSES


def loss_and_grad(P: torch.Tensor, Y: torch.Tensor, loss: str, misclassified_only: bool):
    """P, Y (..., k) -> (per-sample loss (...), ∂loss/∂P (..., k)) in P's dtype."""
    if loss == "mse":
        r = P - Y
        return r.square().sum(-1), 2.0 * r
    logp = torch.log_softmax(P, dim=-1)
    val = -(Y * logp).sum(-1)
    grad = logp.exp() * Y.sum(-1, keepdim=True) - Y
    if misclassified_only:
        wrong = (P.argmax(-1) != Y.argmax(-1)).to(P.dtype)
        val, grad = val * wrong, grad * wrong[..., None]
    return val, grad


def loo_epilogue_torch(S, c1, c2, a, fitted, Y, loss: str, misclassified_only: bool, dual: bool, resid=None):
    S2 = S.double().square()
    s1 = S2 @ c1
    if dual:
        h, d = s1, S2 @ c2
    else:
        h = a.double() * s1
        d = 1.0 - h
    dt = fitted.dtype
    F = (fitted - h.to(dt)[:, None] * Y) / d.to(dt)[:, None]
    if resid is not None:
        F = torch.where((h >= 0.5)[:, None], Y - resid.to(dt) / d.to(dt)[:, None], F)
    val, gF = loss_and_grad(F, Y, loss, misclassified_only)
    G = gF / d.to(dt)[:, None]
    g_h = (G * (F - Y)).sum(-1)
    return h, d, F, val, G, g_h, s1


def loo_epilogue(S, c1, c2, a, fitted, Y, loss: str = "ce", misclassified_only: bool = False,
                 dual: bool = False, backend: str = "auto", resid: torch.Tensor | None = None):
    """Dispatch: ``backend`` "auto" (Triton on CUDA tensors, torch otherwise), "torch" or "triton"
    (the Triton kernel also on CPU tensors, for TRITON_INTERPRET=1 tests). Returns
    (h, d, F, loss, G, g_h, s1) as described in the module docstring."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if backend not in ("auto", "torch", "triton"):
        raise ValueError(f"backend must be 'auto', 'torch' or 'triton', got {backend!r}")
    use_triton = backend == "triton" or (backend == "auto" and fitted.is_cuda and _has_triton())
    if use_triton:
        from .triton_epilogue import loo_epilogue_triton

        return loo_epilogue_triton(S, c1, c2, a, fitted, Y, loss, misclassified_only, dual, resid)
    return loo_epilogue_torch(S, c1, c2, a, fitted, Y, loss, misclassified_only, dual, resid)


def _has_triton() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True

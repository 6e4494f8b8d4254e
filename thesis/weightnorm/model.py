"""The two-layer ReLU networks of thesis Chapter 3.

* :class:`WNTwoLayer` -- the weight-normalised network (3.2)
      f(x; V, g, c) = m^{-1/2} sum_k c_k sigma(g_k v_k^T x / ||v_k||_2)
  with the initialisation (3.6): v_k(0) ~ N(0, beta^2 I), c_k ~ Unif{-1, +1} (fixed, not trained),
  g_k(0) = ||v_k(0)||_2 / beta.
* :class:`ReLUTwoLayer` -- the un-normalised network (3.1), f(x; W, c) = m^{-1/2} sum_k c_k sigma(w_k^T x),
  with the equivalent initialisation w_k(0) = g_k(0) v_k(0)/||v_k(0)|| ~ N(0, I) (proof of Observation 1).
* :class:`TorchWNTwin` -- the same WN network built with ``torch.nn.utils.parametrizations.weight_norm``
  (used to cross-check the hand-written parametrisation).

Both networks draw the same underlying standard normals z_k (m, d) and signs c (m) from ``seed``:
v_k = beta z_k and w_k = z_k, so WNTwoLayer(d, m, beta, seed) represents the same function for every
beta and equals ReLUTwoLayer(d, m, seed) at initialisation (Observation 1).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import as_data_matrix, check_beta, check_positive_int
from .kernels import DEFAULT_BLOCK, relu_ntk, wn_gram_matrices

__all__ = ["WNTwoLayer", "ReLUTwoLayer", "TorchWNTwin", "square_loss", "draw_init"]


def draw_init(d: int, m: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Underlying draws of (3.6): z (m, d) standard normal and c (m,) in {-1, +1}, float64 on CPU."""
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(m, d, generator=gen, dtype=torch.float64)
    c = torch.randint(0, 2, (m,), generator=gen).to(torch.float64) * 2 - 1
    return z, c


def square_loss(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The regression loss (3.7): L = 1/2 ||f - y||_2^2 (scalar)."""
    return 0.5 * ((f - y) ** 2).sum()


class WNTwoLayer(nn.Module):
    """Weight-normalised two-layer ReLU network (3.2) with initialisation (3.6).

    Args:
        d: input dimension (>= 1).
        m: width (>= 1).
        beta: initialisation scale beta > 0 of (3.6).
        seed: seed of the underlying draws (shared across beta, Observation 1).
        dtype: parameter dtype (default float64 -- the experiments resolve small eigenvalues).
        device: parameter device (draws are made on the CPU first, so results do not depend on it).

    Attributes:
        v: ``nn.Parameter`` (m, d), directions.  g: ``nn.Parameter`` (m,), lengths.
        c: buffer (m,), fixed output signs.  beta, d, m: the constructor arguments.
    """

    def __init__(self, d: int, m: int, beta: float, seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        self.d = check_positive_int(d, "d")
        self.m = check_positive_int(m, "m")
        self.beta = check_beta(beta)
        self.seed = int(seed)
        z, c = draw_init(self.d, self.m, self.seed)
        v = self.beta * z
        g = v.norm(dim=1) / self.beta
        self.v = nn.Parameter(v.to(dtype=dtype, device=device))
        self.g = nn.Parameter(g.to(dtype=dtype, device=device))
        self.register_buffer("c", c.to(dtype=dtype, device=device))

    # ------------------------------------------------------------------ function
    def weights(self) -> torch.Tensor:
        """Effective first-layer weights w_k = g_k v_k/||v_k|| (3.3), (m, d) (differentiable)."""
        return self.v * (self.g / self.v.norm(dim=1))[:, None]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Network outputs f(x_i) (3.2) for X (n, d): returns (n,)."""
        X = as_data_matrix(X, self.d, nonzero_rows=False, dtype=self.v.dtype, device=self.v.device)
        return torch.relu(X @ self.weights().T) @ self.c / math.sqrt(self.m)

    def trainable(self) -> list[nn.Parameter]:
        """The trained parameters (v, g); c is fixed (Section 3.4)."""
        return [self.v, self.g]

    # ------------------------------------------------------------------ kernels
    def gram_matrices(self, X: torch.Tensor, block: int | None = DEFAULT_BLOCK) -> dict[str, torch.Tensor]:
        """V (3.10), G (3.11), H (3.13), Lambda = V/beta^2 + G (3.12) at the current parameters.

        X: (n, d) without zero rows.  Returns a dict of (n, n) tensors (see
        :func:`thesis.weightnorm.kernels.wn_gram_matrices`).
        """
        return wn_gram_matrices(X, self.v.detach(), self.g.detach(), self.beta, block=block)

    def to_unnormalized(self) -> "ReLUTwoLayer":
        """The un-normalised network (3.1) with w_k = g_k v_k/||v_k|| (same function, same c)."""
        net = ReLUTwoLayer(self.d, self.m, seed=self.seed, dtype=self.v.dtype, device=self.v.device)
        with torch.no_grad():
            net.W.copy_(self.weights())
            net.c.copy_(self.c)
        return net


class ReLUTwoLayer(nn.Module):
    """Un-normalised two-layer ReLU network (3.1), f(x) = m^{-1/2} sum_k c_k sigma(w_k^T x).

    Initialisation equivalent to (3.6) (Appendix 3.A.1): w_k = z_k ~ N(0, I), c_k ~ Unif{-1, +1},
    from the same draws as :class:`WNTwoLayer` with the same ``seed``.
    Attributes: W ``nn.Parameter`` (m, d); c buffer (m,).
    """

    def __init__(self, d: int, m: int, seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        self.d = check_positive_int(d, "d")
        self.m = check_positive_int(m, "m")
        self.seed = int(seed)
        z, c = draw_init(self.d, self.m, self.seed)
        self.W = nn.Parameter(z.to(dtype=dtype, device=device))
        self.register_buffer("c", c.to(dtype=dtype, device=device))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Outputs (3.1) for X (n, d): returns (n,)."""
        X = as_data_matrix(X, self.d, nonzero_rows=False, dtype=self.W.dtype, device=self.W.device)
        return torch.relu(X @ self.W.T) @ self.c / math.sqrt(self.m)

    def trainable(self) -> list[nn.Parameter]:
        """The trained parameter W; c is fixed."""
        return [self.W]

    def gram_matrices(self, X: torch.Tensor, block: int | None = DEFAULT_BLOCK) -> dict[str, torch.Tensor]:
        """The NTK H (3.13) at the current W; returned as ``{"H": H, "Lambda": H}`` (n, n)."""
        H = relu_ntk(X, self.W.detach(), block=block)
        return {"H": H, "Lambda": H}


class TorchWNTwin(nn.Module):
    """The network (3.2) built from ``torch.nn.utils.parametrizations.weight_norm``.

    ``hidden`` is ``nn.Linear(d, m, bias=False)`` with ``weight_norm(dim=0)``: its weight is
    original0 * original1/||original1|| row-wise, with original0 = g (m, 1) and original1 = v (m, d).
    Built from (and initialised identically to) a :class:`WNTwoLayer`.
    """

    def __init__(self, net: WNTwoLayer) -> None:
        super().__init__()
        from torch.nn.utils.parametrizations import weight_norm

        self.d, self.m = net.d, net.m
        lin = nn.Linear(net.d, net.m, bias=False, dtype=net.v.dtype, device=net.v.device)
        self.hidden = weight_norm(lin, name="weight", dim=0)
        with torch.no_grad():
            self.hidden.parametrizations.weight.original0.copy_(net.g.detach()[:, None])
            self.hidden.parametrizations.weight.original1.copy_(net.v.detach())
        self.register_buffer("c", net.c.detach().clone())

    @property
    def v(self) -> torch.Tensor:
        return self.hidden.parametrizations.weight.original1

    @property
    def g(self) -> torch.Tensor:
        return self.hidden.parametrizations.weight.original0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.hidden(X)) @ self.c / math.sqrt(self.m)

    def trainable(self) -> list[nn.Parameter]:
        return [self.hidden.parametrizations.weight.original1, self.hidden.parametrizations.weight.original0]

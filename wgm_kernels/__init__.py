"""wgm_kernels: kernels for Dukler (2021): Wasserstein-2 ground-metric gradient norms (Chapter 1) and
weighted-ridge leave-one-out solves with the DIVA dataset derivative (Chapter 2).

Public API::

    wasserstein_grad_norm_sq, wasserstein_grad_norm, trilinear_form   # grid graph, eq. 1.8 / 1.17
    graph_wasserstein_grad_norm_sq                                    # any graph, Section 1.2.3
    wgm_gradient_penalty, wasserstein_tikhonov                        # Algorithm 2, eq. 1.21
    WassersteinGradNorm, WGMGradientPenalty, WassersteinTikhonov      # nn.Module wrappers
    Stencil, make_stencil, available_backends
    ridge_loo, RidgeLOO, dataset_derivative                           # Chapter 2, eqs. 2.6-2.12
"""
from ._ext import HAS_EXT
from .backends import available_backends
from .graph import graph_wasserstein_grad_norm_sq
from .modules import WassersteinGradNorm, WassersteinTikhonov, WGMGradientPenalty
from .penalty import wasserstein_tikhonov, wgm_gradient_penalty
from .ridge import RidgeLOO, dataset_derivative, ridge_loo
from .stencil import Stencil, make_stencil
from .wgm import trilinear_form, wasserstein_grad_norm, wasserstein_grad_norm_sq

__version__ = "0.1.0"

__all__ = [
    "HAS_EXT", "RidgeLOO", "Stencil", "WGMGradientPenalty", "WassersteinGradNorm", "WassersteinTikhonov",
    "available_backends", "dataset_derivative", "graph_wasserstein_grad_norm_sq", "make_stencil", "ridge_loo",
    "trilinear_form",
    "wasserstein_grad_norm", "wasserstein_grad_norm_sq", "wasserstein_tikhonov", "wgm_gradient_penalty",
]

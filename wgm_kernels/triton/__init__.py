"""Triton backend of the trilinear stencil form (fused forward and backward; see kernels.py).

Importing this package imports triton and registers ``torch.ops.wgm_kernels.triton_trilinear{,_backward}``.
:mod:`wgm_kernels.backends` imports it lazily, on the first call with ``backend="triton"``, so
``import wgm_kernels`` works without triton. Runs on CUDA tensors, or on CPU tensors in Triton's
interpreter (``TRITON_INTERPRET=1`` set before triton is imported).
"""
from .launch import INTERPRET, SUPPORTED_DTYPES
from .ops import BWD, FWD, trilinear_triton

__all__ = ["BWD", "FWD", "INTERPRET", "SUPPORTED_DTYPES", "trilinear_triton"]

"""Loads the native extension ``wgm_kernels._C`` if it was built.

Importing it runs the ``TORCH_LIBRARY`` registrations, after which the kernels are reachable as
``torch.ops.wgm_kernels.*``. Without it the package still works on the ``reference`` backend and says
so once. ``WGM_KERNELS_NO_EXT=1`` pretends the build is missing (used by the tests).
"""
from __future__ import annotations

import os
import warnings

import torch  # noqa: F401  (loads libtorch/libc10, which _C links against)

HAS_EXT = False
EXT_ERROR: str | None = None
OPS = ("trilinear", "trilinear_backward", "norm_sq", "norm_sq_backward")  # schemas in csrc/wgm.cpp

if os.environ.get("WGM_KERNELS_NO_EXT") == "1":
    EXT_ERROR = "disabled by WGM_KERNELS_NO_EXT=1"
else:
    try:
        from . import _C  # noqa: F401

        # A build older than the sources lacks newer ops: treat it as missing rather than fail later.
        _missing = [op for op in OPS if not hasattr(torch.ops.wgm_kernels, op)]
        if _missing:
            EXT_ERROR = f"stale build without {', '.join(_missing)}; rebuild it"
        else:
            HAS_EXT = True
    except ImportError as exc:  # not built, or built against another torch
        EXT_ERROR = str(exc)

if not HAS_EXT:
    warnings.warn(
        f"wgm_kernels: native extension wgm_kernels._C not available ({EXT_ERROR}); "
        "using the pure-PyTorch reference backend (build with `pip install --no-build-isolation -e .`)",
        RuntimeWarning,
        stacklevel=2,
    )

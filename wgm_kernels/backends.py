"""Backend registry: which implementation of the trilinear form runs for given tensors.

Every backend is a function ``fn(x, u, v, st, volume, alpha) -> (B,)`` with the signature of
:func:`reference.trilinear_shift`, plus the devices and dtypes it runs on. ``auto`` takes the first
backend of :data:`AUTO_ORDER` that is available and supports the tensors.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Callable

import torch

from . import ops
from ._ext import EXT_ERROR, HAS_EXT
from .reference import trilinear_conv, trilinear_shift

ANY = None  # devices/dtypes wildcard


@dataclass(frozen=True)
class Backend:
    name: str
    fn: Callable
    devices: tuple[str, ...] | None = ANY  # device types it runs on
    dtypes: tuple[torch.dtype, ...] | None = ANY
    auto_devices: tuple[str, ...] | None = ANY  # device types on which `auto` may pick it
    hint: str = ""  # appended to the wrong-device error

    def check(self, x: torch.Tensor) -> None:
        """Raises a clear error if this backend cannot run on tensors like ``x``."""
        if self.devices is not ANY and x.device.type not in self.devices:
            raise ValueError(
                f"backend={self.name!r} needs tensors on {'/'.join(self.devices)}, got device {x.device}{self.hint}"
            )
        if self.dtypes is not ANY and x.dtype not in self.dtypes:
            names = ", ".join(str(d).replace("torch.", "") for d in self.dtypes)
            raise TypeError(f"backend={self.name!r} supports {names}, got {x.dtype}; use backend='reference'")

    def supports(self, x: torch.Tensor) -> bool:
        try:
            self.check(x)
            return True
        except (TypeError, ValueError):
            return False

    def auto_ok(self, x: torch.Tensor) -> bool:
        return self.supports(x) and (self.auto_devices is ANY or x.device.type in self.auto_devices)


_NATIVE = (torch.float32, torch.float64)
_GPU_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_REGISTRY: dict[str, Backend] = {}
_UNAVAILABLE: dict[str, str] = {}  # why a known backend is not registered here
# Names that exist in some build; `available_backends()` lists those registered on this machine.
KNOWN = ("reference", "conv", "cpp", "triton", "cuda")
AUTO_ORDER = ("cuda", "triton", "cpp", "reference")


def register(backend: Backend) -> None:
    _REGISTRY[backend.name] = backend


register(Backend("reference", trilinear_shift))
register(Backend("conv", trilinear_conv))
if HAS_EXT:
    register(Backend("cpp", ops.trilinear_native, devices=("cpu",), dtypes=_NATIVE))


def _has_cuda_kernels() -> bool:
    """Whether the extension was built with csrc/cuda (its ops then have a CUDA dispatch kernel)."""
    try:
        return torch._C._dispatch_has_kernel_for_dispatch_key("wgm_kernels::trilinear", "CUDA")
    except RuntimeError:
        return False


if HAS_EXT and _has_cuda_kernels():
    register(Backend("cuda", ops.trilinear_native, devices=("cuda",), dtypes=_GPU_DTYPES,
                     hint="; the cuda backend runs CUDA tensors only (use backend='cpp' on CPU)"))
else:
    _UNAVAILABLE["cuda"] = ("the native extension was built without CUDA kernels" if HAS_EXT
                            else f"native extension missing: {EXT_ERROR}")


def _trilinear_triton(x, u, v, st, volume, alpha):
    # Imported on first use: importing triton (and registering its ops) is not needed for `import wgm_kernels`.
    from .triton import trilinear_triton

    return trilinear_triton(x, u, v, st, volume, alpha)


# Triton runs CUDA tensors; CPU tensors only in its interpreter (TRITON_INTERPRET=1, read by triton when the
# kernels are defined), which `auto` never picks: it is a correctness tool, far slower than `cpp`.
_TRITON_INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
_TRITON_HINT = ("; on CPU, triton runs only in Triton's interpreter: set TRITON_INTERPRET=1 before importing "
                "wgm_kernels, or use backend='cpp'")
if importlib.util.find_spec("triton") is None:
    _UNAVAILABLE["triton"] = "triton is not installed"
elif not (_TRITON_INTERPRET or torch.cuda.is_available()):
    _UNAVAILABLE["triton"] = "no CUDA device" + _TRITON_HINT
else:
    register(Backend("triton", _trilinear_triton, devices=("cuda", "cpu") if _TRITON_INTERPRET else ("cuda",),
                     dtypes=_GPU_DTYPES, auto_devices=("cuda",), hint=_TRITON_HINT))


def available_backends() -> list[str]:
    """Backends that work on this machine, e.g. ``['reference', 'conv', 'cpp']``."""
    return list(_REGISTRY)


def resolve(backend: str, x: torch.Tensor) -> Callable:
    """The implementation for ``backend`` and tensors like ``x``; raises a clear error if it cannot run."""
    if backend == "auto":
        for name in AUTO_ORDER:
            if name in _REGISTRY and _REGISTRY[name].auto_ok(x):
                return _REGISTRY[name].fn
        return _REGISTRY["reference"].fn
    if backend not in KNOWN:
        raise ValueError(f"backend must be 'auto' or one of {KNOWN}, got {backend!r}")
    if backend not in _REGISTRY:
        why = _UNAVAILABLE.get(backend) or (
            f"native extension missing: {EXT_ERROR}" if not HAS_EXT else "not built or not supported here")
        raise ValueError(f"backend={backend!r} is not available on this machine ({why})")
    _REGISTRY[backend].check(x)
    return _REGISTRY[backend].fn

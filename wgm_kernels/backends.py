"""Backend registry: which implementation of the trilinear form runs for given tensors.

Every backend is a function ``fn(x, u, v, st, volume, alpha) -> (B,)`` with the signature of
:func:`reference.trilinear_shift`, plus the devices and dtypes it runs on. ``auto`` takes the first
backend of :data:`AUTO_ORDER` that is available and supports the tensors.
"""
from __future__ import annotations

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

    def check(self, x: torch.Tensor) -> None:
        """Raises a clear error if this backend cannot run on tensors like ``x``."""
        if self.devices is not ANY and x.device.type not in self.devices:
            raise ValueError(f"backend={self.name!r} needs tensors on {'/'.join(self.devices)}, got device {x.device}")
        if self.dtypes is not ANY and x.dtype not in self.dtypes:
            names = ", ".join(str(d).replace("torch.", "") for d in self.dtypes)
            raise TypeError(f"backend={self.name!r} supports {names}, got {x.dtype}; use backend='reference'")

    def supports(self, x: torch.Tensor) -> bool:
        try:
            self.check(x)
            return True
        except (TypeError, ValueError):
            return False


_NATIVE = (torch.float32, torch.float64)
_REGISTRY: dict[str, Backend] = {}
# Names that exist in some build; `available_backends()` lists those registered on this machine.
KNOWN = ("reference", "conv", "cpp", "triton", "cuda")
AUTO_ORDER = ("cuda", "triton", "cpp", "reference")


def register(backend: Backend) -> None:
    _REGISTRY[backend.name] = backend


register(Backend("reference", trilinear_shift))
register(Backend("conv", trilinear_conv))
if HAS_EXT:
    register(Backend("cpp", ops.trilinear_native, devices=("cpu",), dtypes=_NATIVE))


def available_backends() -> list[str]:
    """Backends that work on this machine, e.g. ``['reference', 'conv', 'cpp']``."""
    return list(_REGISTRY)


def resolve(backend: str, x: torch.Tensor) -> Callable:
    """The implementation for ``backend`` and tensors like ``x``; raises a clear error if it cannot run."""
    if backend == "auto":
        for name in AUTO_ORDER:
            if name in _REGISTRY and _REGISTRY[name].supports(x):
                return _REGISTRY[name].fn
        return _REGISTRY["reference"].fn
    if backend not in KNOWN:
        raise ValueError(f"backend must be 'auto' or one of {KNOWN}, got {backend!r}")
    if backend not in _REGISTRY:
        why = f"native extension missing: {EXT_ERROR}" if not HAS_EXT else "not built or not supported here"
        raise ValueError(f"backend={backend!r} is not available on this machine ({why})")
    _REGISTRY[backend].check(x)
    return _REGISTRY[backend].fn

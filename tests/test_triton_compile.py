"""The Triton kernels compile for Hopper (sm_90) without a GPU: catches what the interpreter cannot
(type errors, unsupported ops in compiled mode). Runs in the main pytest process (no TRITON_INTERPRET)."""
import os

import pytest

triton = pytest.importorskip("triton")
if os.environ.get("TRITON_INTERPRET") == "1":
    pytest.skip("compiled-mode check; the interpreter is tested in tests/triton", allow_module_level=True)

from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

from wgm_kernels.triton import kernels as K  # noqa: E402

FLAGS = ("VOLUME", "ALPHA", "SYM", "BLOCK")



@pytest.mark.parametrize("dtype,acc", [("fp32", "fp32"), ("bf16", "fp32"), ("fp64", "fp64")])
@pytest.mark.parametrize("sym", [True, False])
def test_kernels_compile_for_sm90(dtype, acc, sym):
    fwd = ["X", "U", "V", "TAB", "PART", "H", "W", "K", "NBLK"]
    bwd = ["G", "X", "U", "V", "TAB", "AU", "AV", "GX", "GU", "GV", "C", "H", "W", "K", "R"]
    consts = dict(VOLUME=True, ALPHA=True, SYM=sym, BLOCK=1024)
    for fn, names in ((K.trilinear_fwd_kernel, fwd), (K.trilinear_bwd_kernel, bwd)):
        sig = {n: ("*" + (acc if n in ("TAB", "PART", "G", "AU", "AV") else dtype)) for n in names}
        sig.update({n: "i32" for n in ("H", "W", "K", "C", "R", "NBLK") if n in names})
        sig.update({f: "constexpr" for f in FLAGS})
        compiled = triton.compile(ASTSource(fn, sig, consts), target=GPUTarget("cuda", 90, 32))
        assert ".entry" in compiled.asm["ptx"] and len(compiled.asm["cubin"]) > 0

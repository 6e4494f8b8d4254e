"""Build of wgm_kernels and its native extension ``wgm_kernels._C``.

C++ CPU kernels (OpenMP) are always built. CUDA sources under ``csrc/cuda`` are added when torch has
CUDA and nvcc is found. Overrides: ``WGM_FORCE_CPU=1`` never builds CUDA, ``WGM_FORCE_CUDA=1`` always
tries to. Install with ``pip install --no-build-isolation -e .``.
"""
import glob
import os
import sys

from setuptools import find_packages, setup
from torch.utils import cpp_extension

HERE = os.path.dirname(os.path.abspath(__file__))


def _want_cuda() -> bool:
    if os.environ.get("WGM_FORCE_CPU") == "1":
        return False
    if os.environ.get("WGM_FORCE_CUDA") == "1":
        return True
    import torch

    return torch.version.cuda is not None and cpp_extension.CUDA_HOME is not None


def _extension():
    rel = lambda pattern: sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, pattern)))
    sources = rel("csrc/*.cpp") + rel("csrc/cpu/*.cpp")
    cxx = ["-O3", "-fopenmp", "-std=c++17"]
    if _want_cuda():
        sources += rel("csrc/cuda/*.cu")
        nvcc = ["-O3", "--use_fast_math", "-std=c++17"]
        return cpp_extension.CUDAExtension(
            "wgm_kernels._C", sources, extra_compile_args={"cxx": cxx, "nvcc": nvcc},
            extra_link_args=["-fopenmp"],
        )
    return cpp_extension.CppExtension(
        "wgm_kernels._C", sources, extra_compile_args={"cxx": cxx}, extra_link_args=["-fopenmp"],
    )


setup(
    packages=find_packages(include=["wgm_kernels*", "thesis*"]),
    ext_modules=[_extension()],
    cmdclass={"build_ext": cpp_extension.BuildExtension.with_options(use_ninja=True)},
)

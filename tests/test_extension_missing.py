"""Without the native build the package imports, warns once, and works on the reference backends."""
import os
import subprocess
import sys
import textwrap


def test_reference_fallback_without_extension():
    code = textwrap.dedent("""
        import warnings, torch
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            import wgm_kernels as W
        msgs = [str(m.message) for m in w if "wgm_kernels._C" in str(m.message)]
        assert len(msgs) == 1 and "\\n" not in msgs[0], msgs
        assert W.available_backends() == ["reference", "conv"], W.available_backends()
        x = torch.rand(2, 1, 4, 4, dtype=torch.float64); g = torch.randn_like(x)
        print(float(W.wasserstein_grad_norm_sq(x, g).sum()) >= 0)
        try:
            W.wasserstein_grad_norm_sq(x, g, backend="cpp")
        except ValueError as e:
            print("cpp:", "not available" in str(e))
    """)
    env = dict(os.environ, WGM_KERNELS_NO_EXT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "cpp:", "True"]


def test_extension_loads_when_wgm_kernels_is_imported_first():
    import wgm_kernels

    if not wgm_kernels.HAS_EXT:
        import pytest

        pytest.skip("native extension not built")
    code = "import wgm_kernels as W; print(W.available_backends())"
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "cpp" in out.stdout

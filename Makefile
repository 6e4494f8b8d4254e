# Two entry points for a fresh machine: `make demo` and `make test`.
# Everything else here is plumbing they share.
PYTHON ?= python3.11
VENV   ?= .venv
TORCH  ?= torch==2.13.0
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test bench gpu-check venv build clean

demo: build
	$(PY) -m wgm_kernels.demo

# Two pytest runs: the main suite, then the Triton kernels on CPU tensors in Triton's interpreter
# (TRITON_INTERPRET must be set before triton is imported, so it gets a process of its own).
test: build $(VENV)/.test-deps
	$(PY) -m pytest tests -m "not slow" -q --ignore=tests/triton
	if ls tests/triton/test_*.py >/dev/null 2>&1; then \
	  TRITON_INTERPRET=1 $(PY) -m pytest tests/triton -m "not slow" -q; fi

bench: build $(VENV)/.test-deps
	$(PY) -m pytest bench -q --benchmark-columns=median,iqr,rounds --benchmark-sort=name

# On a CUDA machine: builds for sm_90, runs the CUDA tests and GPU benchmarks, writes JSON to $(OUT).
gpu-check:
	bench/gpu/run.sh $${OUT:-bench/gpu/out}

venv: $(VENV)/.base

$(VENV)/.base:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=23" "setuptools>=64" wheel ninja numpy
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH)"
	$(PIP) install -q mlxtend tqdm
	touch $@

$(VENV)/.test-deps: $(VENV)/.base
	$(PIP) install -q pytest pytest-benchmark scikit-learn scipy matplotlib triton
	touch $@

# Rebuilt whenever a C++ source or setup.py changes.
CSRC := $(shell find csrc -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' 2>/dev/null)
build: $(VENV)/.built
$(VENV)/.built: $(VENV)/.base setup.py $(CSRC)
	MAX_JOBS=2 $(PIP) install -q --no-build-isolation -e .
	touch $@

clean:
	rm -rf build *.egg-info wgm_kernels/_C*.so $(VENV)

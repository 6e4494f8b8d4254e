#!/usr/bin/env bash
# Prepared GPU check (issue 6): build the extension with its CUDA kernels, run the CUDA-marked tests
# (triton + cuda vs reference, gradcheck in float64, bf16/fp16 tolerances), run the GPU benchmarks, and
# write everything as JSON under the directory given as $1. Budget: < 8 minutes on an H200 (each step
# has its own timeout: build 180 s, tests 150 s, benchmarks 100 s, ridge benchmarks 40 s).
#
#   bench/gpu/run.sh OUT_DIR          # PYTHON=... to choose the interpreter (default: .venv/bin/python
#                                     # if it has CUDA torch, else python3)
# Outputs: OUT_DIR/summary.json (steps, exit codes, test counts, benchmark goals), OUT_DIR/bench.json,
#          OUT_DIR/cuda_tests.xml, OUT_DIR/*.log. Exit status 0 only if every step passed.
set -uo pipefail
OUT=${1:?usage: bench/gpu/run.sh OUT_DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/../.."

if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python3
  if [[ -x .venv/bin/python ]] && .venv/bin/python -c "import torch,sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    PYTHON=.venv/bin/python
  fi
fi
START=$(date +%s)
step() { echo "== $1 ($(( $(date +%s) - START )) s)"; }

step "environment"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1; nvcc --version 2>&1 | tail -1
  "$PYTHON" -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__, 'gpu', torch.cuda.is_available())" 2>&1
} | tee "$OUT/env.log"

step "build (CUDA kernels for sm_90 only, to save time)"
BUILD_RC=0
TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" WGM_FORCE_CUDA=1 MAX_JOBS="${MAX_JOBS:-16}" \
  timeout 180 "$PYTHON" setup.py build_ext --inplace >"$OUT/build.log" 2>&1 || BUILD_RC=$?
tail -3 "$OUT/build.log"
"$PYTHON" -c "import wgm_kernels as W; print('backends:', W.available_backends())" 2>&1 | tee -a "$OUT/build.log"

step "CUDA tests"
TEST_RC=0
timeout 150 "$PYTHON" -m pytest tests/test_cuda.py -m cuda -q -p no:cacheprovider \
  --junitxml="$OUT/cuda_tests.xml" >"$OUT/cuda_tests.log" 2>&1 || TEST_RC=$?
tail -5 "$OUT/cuda_tests.log"

step "benchmarks"
BENCH_RC=0
timeout 100 "$PYTHON" bench/gpu/bench_gpu.py --out "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log"
BENCH_RC=${PIPESTATUS[0]}

step "ridge LOO and dataset derivative on CUDA (issue 3)"
RIDGE_RC=0
timeout 40 "$PYTHON" -m pytest bench/test_bench_ridge.py -k cuda -q -p no:cacheprovider \
  --benchmark-json="$OUT/ridge_bench.json" >"$OUT/ridge.log" 2>&1 || RIDGE_RC=$?
tail -15 "$OUT/ridge.log"

step "summary"
"$PYTHON" - "$OUT" "$BUILD_RC" "$TEST_RC" "$BENCH_RC" "$RIDGE_RC" "$(( $(date +%s) - START ))" <<'EOF'
import json, os, sys, xml.etree.ElementTree as ET
out, build_rc, test_rc, bench_rc, ridge_rc, secs = sys.argv[1], *map(int, sys.argv[2:])
summary = dict(build_rc=build_rc, tests_rc=test_rc, bench_rc=bench_rc, ridge_rc=ridge_rc, seconds=secs)
try:
    suite = ET.parse(os.path.join(out, "cuda_tests.xml")).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    summary["tests"] = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
except Exception as exc:
    summary["tests"] = f"no junit xml ({exc})"
try:
    bench = json.load(open(os.path.join(out, "bench.json")))
    summary["device"] = bench.get("meta", {}).get("device")
    summary["copy_bandwidth_gbps"] = bench.get("meta", {}).get("copy_bandwidth_gbps")
    summary["goals_B256_64x64_r2"] = bench.get("goals_B256_64x64_r2")
except Exception as exc:
    summary["bench"] = f"no bench.json ({exc})"
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
print(json.dumps(summary, indent=1))
EOF
[[ $BUILD_RC -eq 0 && $TEST_RC -eq 0 && $BENCH_RC -eq 0 && $RIDGE_RC -eq 0 ]]

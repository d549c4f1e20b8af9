#!/usr/bin/env bash
# The GPU matcher's proof run (issue 7): builds core/cuda's self-contained gpu_check (CUDA toolkit,
# CMake and a C++20 compiler only; sm_90 + compute_90 PTX) and runs its steps, each under its own
# time limit, a few minutes in all. Run from the repository root on a machine with a GPU:
#   bench/gpu_bench.sh [build-dir]        (default build/gpu)
# Prints everything to stdout; exits non-zero when a step fails or times out.
set -u -o pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build/gpu}"
nvcc="${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
status=0

step() {  # step LIMIT_SECONDS ARGS...: one gpu_check step under `timeout`
  local limit="$1"
  shift
  echo "=== gpu_check $* (limit ${limit}s) ==="
  local t0=$SECONDS
  timeout --signal=TERM --kill-after=10 "$limit" "$build/gpu_check" "$@"
  local rc=$?
  echo "=== rc=$rc, $((SECONDS - t0)) s ==="
  [ "$rc" -eq 0 ] || status=1
}

echo "=== build (nvcc: $nvcc) ==="
timeout 300 cmake -S "$root/core/cuda" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DHASHMATCH_CUDA_ARCHITECTURES=90 >/dev/null &&
  timeout 300 cmake --build "$build" -j"$(nproc)" || { echo "build failed"; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.max.sm \
  --format=csv,noheader

step 60 --step cpu                    # CPU kernel equivalence (AVX-512 VPOPCNTDQ where present)
# GPU steps fail (rather than skip) when no GPU is visible: this script is the GPU proof.
step 60 --step peaks --require-gpu    # copy/read bandwidth and popcount roofs
step 120 --step verify --n 10000000 --require-gpu   # GPU == oracle: full at 200k, sampled at 10M
step 120 --step bench --n 10000000 --require-gpu
step 240 --step bench --n 100000000 --require-gpu
exit $status

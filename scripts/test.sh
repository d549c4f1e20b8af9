#!/usr/bin/env bash
# The whole test suite, from a bare Debian 12 machine: installs what is missing, builds, runs every
# test, then the scoped sanitizer passes (ASan+UBSan over parsers/store/kernels, TSan over the
# concurrency tests). Prints how long each phase took.
#
#   scripts/test.sh                       # everything
#   HASHMATCH_SKIP_SANITIZERS=1 scripts/test.sh   # quick local run
#   HASHMATCH_SKIP_FUZZ=1 scripts/test.sh         # without the 60 s libFuzzer run (clang)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
declare -a phase_names=() phase_secs=()

phase() {  # phase NAME COMMAND...
  local name=$1 start end
  shift
  echo "=== phase: $name"
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  phase_names+=("$name")
  phase_secs+=($((end - start)))
  echo "=== phase: $name took $((end - start)) s"
}

configure_and_build() {  # DIR extra-cmake-args...
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

run_ctest() {  # DIR ctest-args...
  local dir=$1
  shift
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@")
  # Conformance tallies from the tests' own output.
  grep -h '^TALLY ' "$dir/Testing/Temporary/LastTest.log" 2>/dev/null | sort -u || true
  grep -h '^kernel paths not run' "$dir/Testing/Temporary/LastTest.log" 2>/dev/null | sort -u || true
}

phase setup scripts/setup.sh
phase build configure_and_build build/release -DCMAKE_BUILD_TYPE=Release
phase tests run_ctest build/release

if [ "${HASHMATCH_SKIP_SANITIZERS:-0}" != 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  san_common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHASHMATCH_BUILD_BENCH=OFF -DHASHMATCH_BUILD_CLI=OFF
              -DHASHMATCH_BUILD_PYTHON=OFF)
  phase "sanitizer build (asan+ubsan)" \
    configure_and_build build/asan "${san_common[@]}" -DHASHMATCH_SANITIZE=address,undefined
  phase "sanitizer tests (asan+ubsan)" run_ctest build/asan -L sanitize
  # The daemon stays out of the TSan build: kj's futex-based cross-thread primitives are invisible
  # to TSan (false reports), and none of its tests carries the concurrency label.
  phase "sanitizer build (tsan)" \
    configure_and_build build/tsan "${san_common[@]}" -DHASHMATCH_SANITIZE=thread \
    -DHASHMATCH_BUILD_DAEMON=OFF
  # TSAN_OPTIONS (with tests/tsan.supp) are set per test by tests/CMakeLists.txt.
  phase "sanitizer tests (tsan)" run_ctest build/tsan -L concurrency
fi

if [ "${HASHMATCH_SKIP_FUZZ:-0}" != 1 ]; then
  # decode+hash, the importers and hashmatchd's message handling under libFuzzer (clang,
  # ASan+UBSan) for HASHMATCH_FUZZ_SECONDS (60) each: fails on any crash, report, timeout or OOM.
  # The fuzz build holds core, hashsets, the daemon (for fuzz/daemon/) and the fuzzers.
  phase "fuzz build (clang)" \
    configure_and_build build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DHASHMATCH_BUILD_FUZZERS=ON -DHASHMATCH_BUILD_TESTS=OFF \
    -DHASHMATCH_BUILD_BENCH=OFF -DHASHMATCH_BUILD_CLI=OFF -DHASHMATCH_BUILD_DAEMON=ON \
    -DHASHMATCH_BUILD_PYTHON=OFF \
    -DHASHMATCH_FUZZ_SECONDS="${HASHMATCH_FUZZ_SECONDS:-60}"
  phase "fuzz run" run_ctest build/fuzz -L fuzz -V
fi

echo
echo "phase times:"
for i in "${!phase_names[@]}"; do
  printf '  %-32s %5d s\n' "${phase_names[$i]}" "${phase_secs[$i]}"
done

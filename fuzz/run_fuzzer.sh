#!/usr/bin/env bash
# Runs a libFuzzer target for a fixed time from the committed seeds and, when present, the shared
# reference images; fails on any crash, sanitizer report, leak, timeout (10 s per input) or
# out-of-memory (2 GiB). New inputs go to WORK/corpus (never into the source tree); a crashing
# input is written to WORK/artifacts/ and named in the output.
#
#   run_fuzzer.sh FUZZER WORK SECONDS SEED_DIR [SHARED_DIR]
#
# FUZZ_FLAGS adds libFuzzer flags for one target (e.g. FUZZ_FLAGS=-entropic=0).
set -euo pipefail
fuzzer=$1 work=$2 seconds=$3 seeds=$4 shared=${5:-}
mkdir -p "$work/corpus" "$work/artifacts"
dirs=("$work/corpus" "$seeds")
for d in formats bad-images misc-images; do
  if [ -n "$shared" ] && [ -d "$shared/pdq-reference/$d" ]; then dirs+=("$shared/pdq-reference/$d"); fi
done
echo "fuzz: $(basename "$fuzzer") ${FUZZ_FLAGS:+$FUZZ_FLAGS }for ${seconds} s over ${dirs[*]}"
start=$(date +%s)
set +e
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
  "$fuzzer" ${FUZZ_FLAGS:-} -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "${dirs[@]}" >"$work/last-run.log" 2>&1
rc=$?
set -e
# The log without the per-input progress lines: seeds loaded, any report, the final figures.
grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$work/last-run.log" | tail -n 150
echo "fuzz: exit status $rc after $(($(date +%s) - start)) s; full log in $work/last-run.log"
exit "$rc"

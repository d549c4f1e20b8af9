#!/usr/bin/env bash
# The main job on the bundled sample, from a bare Debian 12 machine: installs what is missing,
# builds the hashmatch tool, and matches the sample queries against the sample list, printing
# every match (query, listed hash, distance, list entry).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DHASHMATCH_BUILD_TESTS=OFF \
  -DHASHMATCH_BUILD_BENCH=OFF >/dev/null
cmake --build build/demo --target hashmatch -j "$(nproc)" >/dev/null
echo "matching samples/sample-queries.pdq.txt against samples/sample-list.pdq.txt (PDQ, distance <= 31):"
echo "query,listed_hash,distance,list_entry"
build/demo/client/hashmatch match --list samples/sample-list.pdq.txt samples/sample-queries.pdq.txt

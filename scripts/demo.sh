#!/usr/bin/env bash
# The main job on the bundled sample, from a bare Debian 12 machine: installs what is missing,
# builds the hashmatch tool, hashes the sample "uploads" in samples/images/scan (PDQ, all eight
# orientations) and matches them against the sample list of known images, printing every match.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DHASHMATCH_BUILD_TESTS=OFF \
  -DHASHMATCH_BUILD_BENCH=OFF >/dev/null
cmake --build build/demo --target hashmatch -j "$(nproc)" >/dev/null
echo "scanning samples/images/scan against samples/sample-images.pdq.txt (PDQ, distance <= 31, 8 orientations):"
echo "query_hash,listed_hash,distance,list_entry,image#orientation"
build/demo/client/hashmatch match --list samples/sample-images.pdq.txt --dihedral samples/images/scan

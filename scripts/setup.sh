#!/usr/bin/env bash
# Installs, from Debian 12 packages, exactly the packages hashmatch needs that are missing.
# Idempotent and fast when everything is present (one dpkg-query, no network).
# Uses sudo only when not root. Set HASHMATCH_SETUP_DRYRUN=1 to print the missing list only.
set -euo pipefail

# Build tools.
PKGS=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  # Core: kernels, indexes, hashers.
  libtbb-dev libxsimd-dev libfaiss-dev libopenblas-dev liblapack-dev
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libspng-dev libwebp-dev zlib1g-dev
  # Store, importers, daemon, client.
  libboost-dev libexpat1-dev nlohmann-json3-dev libcapnp-dev capnproto libssl-dev libarchive-dev
  # Tests and benchmarks; clang brings libFuzzer and the sanitizer runtimes.
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # Python binding.
  pybind11-dev python3-dev python3-numpy python3-pytest
  # Dask scale-out example and test (python/examples, python/tests/test_dask_scan.py).
  python3-distributed
)

missing=()
status=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null || true)
for p in "${PKGS[@]}"; do
  if ! grep -qx "$p installed" <<<"$status"; then missing+=("$p"); fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
[ "${HASHMATCH_SETUP_DRYRUN:-0}" = 1 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when an install fails for want of them (or they are absent).
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
  $SUDO apt-get update -q
fi
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: done"

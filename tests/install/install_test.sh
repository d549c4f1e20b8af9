#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds and runs a consumer project against
# it twice: through find_package(hashmatch) and through pkg-config.
set -euo pipefail
build_dir=$1
src_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$src_dir/consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
libdir=$(ls -d "$work"/prefix/lib*/pkgconfig | head -1)
flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs hashmatch)
# shellcheck disable=SC2086
c++ "$src_dir/consumer/main.cc" -o "$work/consumer-pc" $flags
"$work/consumer-pc"
# The Python package, when the build has it: importable from the prefix alone.
if [ -d "$work/prefix/lib/python3/dist-packages/hashmatch" ]; then
  PYTHONPATH="$work/prefix/lib/python3/dist-packages" /usr/bin/python3 -c \
    'import numpy, hashmatch; assert hashmatch.pdq(numpy.zeros((8, 8), numpy.uint8)).quality == 0'
  echo "install test: the Python package imports from the prefix"
fi
echo "install test: find_package and pkg-config consumers built and ran"

#!/usr/bin/env bash
# Proves the setup on a bare Debian 12: debootstraps a minimal root into a folder, copies the
# committed tree (and ../shared, when present) into it, and runs the setup, CI and main job there.
# Needs root and the Debian mirror. Usage: scripts/clean-root-check.sh [ROOT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-/tmp/hashmatch-clean-root}
command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap
if [ ! -x "$R/bin/bash" ]; then
  debootstrap --variant=minbase bookworm "$R" http://deb.debian.org/debian
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
trap 'umount "$R/proc" 2>/dev/null || true' EXIT
rm -rf "$R/build/hm" && mkdir -p "$R/build/hm/main"
git archive HEAD | tar -x -C "$R/build/hm/main"
[ -d ../shared ] && cp -r ../shared "$R/build/hm/shared"
run() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true bash -c "$1"; }
run 'cd /build/hm/main && time scripts/setup.sh && time scripts/setup.sh'
run 'cd /build/hm/main && time .ci/run'
run 'cd /build/hm/main && time scripts/demo.sh'

#!/usr/bin/env bash
# The main job on the bundled sample, from a bare Debian 12 machine: installs what is missing,
# builds hashmatchd and the hashmatch tool, starts the daemon on a new temporary store (loopback,
# a free port), loads the sample list of known images (samples/sample-images.pdq.txt) into a set
# through the daemon, scans the sample "uploads" in samples/images/scan through the daemon (PDQ
# hashed locally, all eight orientations; the images never leave this host) and prints every
# match, then stops the daemon and removes the store.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DHASHMATCH_BUILD_TESTS=OFF \
  -DHASHMATCH_BUILD_BENCH=OFF >/dev/null
cmake --build build/demo --target hashmatch hashmatchd -j "$(nproc)" >/dev/null
bin=build/demo/client/hashmatch
daemon=build/demo/daemon/hashmatchd

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Two tokens: an operator (admin) that creates and fills the set, a scanner (scan) that matches.
# The daemon's config holds only their SHA-256 digests.
head -c 24 /dev/urandom | base64 >"$work/ops.token"
head -c 24 /dev/urandom | base64 >"$work/scanner.token"
cat >"$work/hashmatchd.conf" <<EOF
[server]
listen = 127.0.0.1:0
port_file = $work/port
store = $work/store
create_store = true
[tokens]
ops = $("$daemon" --hash-token <"$work/ops.token") admin
scanner = $("$daemon" --hash-token <"$work/scanner.token") scan
EOF
"$daemon" --config "$work/hashmatchd.conf" 2>"$work/hashmatchd.log" &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/hashmatchd.log" >&2; exit 1; }
  sleep 0.05
done
server=127.0.0.1:$(cat "$work/port")
# Ready once the store is open: until then calls answer "not ready".
for _ in $(seq 1 300); do
  "$bin" sets list --server "$server" --token-file "$work/ops.token" >/dev/null 2>&1 && break
  sleep 0.05
done
echo "hashmatchd listening on $server (pid $pid), store $work/store"

"$bin" sets create sample-images --type pdq --threshold 31 \
  --server "$server" --token-file "$work/ops.token"
"$bin" sync sample-images samples/sample-images.pdq.txt \
  --server "$server" --token-file "$work/ops.token"
echo "scanning samples/images/scan through hashmatchd (PDQ, distance <= 31, 8 orientations):"
echo "query_hash,listed_hash,distance,set,image#orientation"
"$bin" match --dihedral samples/images/scan --server "$server" --token-file "$work/scanner.token"
kill -TERM "$pid"
wait "$pid"
pid=""
echo "hashmatchd stopped"

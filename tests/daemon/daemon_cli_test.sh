#!/usr/bin/env bash
# The CLI through the real hashmatchd: sets create/list/show/update, sync of a plain list (twice:
# unchanged), its checkpoint, match --server with local hashing (the demo's answer: the four
# edited uploads, the mirrored one through flipy), jsonl output, and refusals (scan may not create
# sets; a wrong token). Arguments: the hashmatch and hashmatchd binaries.
set -euo pipefail
bin=$1
daemon=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- daemon log:"; cat "$work/log"; exit 1; }

echo "ops-$RANDOM-$RANDOM" >"$work/ops.token"
echo "scan-$RANDOM-$RANDOM" >"$work/scan.token"
echo "wrong" >"$work/wrong.token"
cat >"$work/conf" <<CONF
[server]
listen = 127.0.0.1:0
port_file = $work/port
store = $work/store
create_store = true
[limits]
auth_failure_delay_ms = 10
[tokens]
ops = $("$daemon" --hash-token <"$work/ops.token") admin
scanner = $("$daemon" --hash-token <"$work/scan.token") scan
CONF
"$daemon" --check-config "$work/conf" | grep -q "config OK: 2 tokens" || fail "check-config"
"$daemon" --config "$work/conf" 2>"$work/log" &
pid=$!
for _ in $(seq 1 400); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || fail "no port file"
S=(--server "127.0.0.1:$(cat "$work/port")")
OPS=("${S[@]}" --token-file "$work/ops.token")
SCAN=("${S[@]}" --token-file "$work/scan.token")
for _ in $(seq 1 400); do "$bin" sets list "${OPS[@]}" >/dev/null 2>&1 && break; sleep 0.05; done

"$bin" sets create images --type pdq --threshold 31 "${OPS[@]}" >/dev/null
"$bin" sets create md5s --type md5 "${OPS[@]}" | grep -q "^md5s md5 threshold=0 kind=match" \
  || fail "md5 set threshold"
out=$("$bin" sync images "$src/samples/sample-images.pdq.txt" --checkpoint c1 "${OPS[@]}")
echo "$out" | grep -q "4 added" || fail "sync: $out"
out=$("$bin" sync images "$src/samples/sample-images.pdq.txt" --checkpoint c1 "${OPS[@]}")
echo "$out" | grep -q "0 added, 0 updated, 0 deleted, 4 unchanged" || fail "sync twice: $out"
[ "$("$bin" sync images --show-checkpoint "${OPS[@]}")" = c1 ] || fail "checkpoint"
"$bin" sets show images "${SCAN[@]}" | grep -q "^images pdq threshold=31 kind=match version=2 entries=4" \
  || fail "show: $("$bin" sets show images "${SCAN[@]}")"

out=$("$bin" match --dihedral "$src/samples/images/scan" "${SCAN[@]}" 2>/dev/null)
got=$(echo "$out" | awk -F, '{n=split($5, p, "/"); print $3 "@" p[n]}' | tr '\n' ' ')
want="10@upload-01-known-1-resized.png#original 4@upload-02-known-2-brightened.png#original 0@upload-03-known-3-mirrored.png#flipy 10@upload-04-known-4-noisy.png#original "
[ "$got" = "$want" ] || fail "matches: got '$got' want '$want'"
# The listed hash column is the entry's key: the plain list's hash.
echo "$out" | awk -F, '{print $2}' | while read -r k; do
  grep -qx "$k" "$src/samples/sample-images.pdq.txt" || fail "key $k is not a listed hash"
done
"$bin" match --format jsonl --set images "$(sed -n 2p "$src/samples/sample-images.pdq.txt")" "${SCAN[@]}" \
  2>/dev/null | grep -q '"set":"images","set_version":2,"key":"6745a555' || fail "jsonl"
# A malformed inline hash is reported and the others still match: exit 1.
set +e
"$bin" match 12zz "$(sed -n 3p "$src/samples/sample-images.pdq.txt")" "${SCAN[@]}" >"$work/out" 2>"$work/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "malformed query exit $rc"
[ "$(wc -l <"$work/out")" = 1 ] || fail "the good query was not matched"

# Refusals: the scanner may not create sets; a wrong token is refused; both exit 2.
set +e
"$bin" sets create nope "${SCAN[@]}" 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "permission_denied" "$work/err" || fail "scan created a set ($rc)"
set +e
"$bin" sets list "${S[@]}" --token-file "$work/wrong.token" 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "invalid token" "$work/err" || fail "wrong token ($rc): $(cat "$work/err")"

"$bin" sets update images --threshold 5 "${OPS[@]}" | grep -q "threshold=5" || fail "update"
n=$("$bin" match --dihedral "$src/samples/images/scan" "${SCAN[@]}" 2>/dev/null | wc -l)
[ "$n" = 2 ] || fail "threshold 5 gave $n matches"
"$bin" sets drop md5s "${OPS[@]}" 2>/dev/null
[ "$("$bin" sets list "${OPS[@]}" | wc -l)" = 1 ] || fail "drop"
echo "daemon CLI test passed"

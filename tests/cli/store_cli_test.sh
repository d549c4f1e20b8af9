#!/usr/bin/env bash
# The local-store commands: sets create/list/show/update/drop, import, export round trip, sync of
# pages resuming from the stored checkpoint, match --store equal to match --list, bad lists
# refused with nothing applied. Uses the bundled samples; the partner-list samples of
# ../shared/hashlists when present (SHARED argument).
set -euo pipefail
bin=$1
shared=${2:-}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
store="$work/store"

"$bin" sets create SAMPLE --type pdq --threshold 31 --store "$store"
"$bin" sets create OTHER --type md5 --store "$store"
out=$("$bin" import SAMPLE "$src/samples/sample-list.pdq.txt" --format plain --store "$store")
echo "$out" | grep -q "added" || fail "import: $out"
n=$(grep -cv '^#' "$src/samples/sample-list.pdq.txt" || true)
"$bin" sets list --store "$store" | grep -q "^SAMPLE pdq threshold=31 kind=match version=2 entries=" \
  || fail "list: $("$bin" sets list --store "$store")"

# match --store finds what match --list finds (same listed hashes and distances).
want=$("$bin" match --list "$src/samples/sample-list.pdq.txt" "$src/samples/sample-queries.pdq.txt" \
  | awk -F, '{print $1 "," $2 "," $3}' | sort)
got=$("$bin" match --store "$store" "$src/samples/sample-queries.pdq.txt" | awk -F, '{print $1 "," $2 "," $3}' | sort)
[ -n "$want" ] && [ "$got" = "$want" ] || fail "match --store: got '$got' want '$want'"
"$bin" match --store "$store" --format jsonl "$src/samples/sample-queries.pdq.txt" \
  | grep -q '"set":"SAMPLE","set_version":2' || fail "jsonl names the set version"
# A narrower request threshold; the set's threshold cannot be widened.
n12=$("$bin" match --store "$store" --threshold 12 "$src/samples/sample-queries.pdq.txt" | wc -l)
[ "$n12" = 3 ] || fail "--threshold 12 gave $n12"
"$bin" sets update SAMPLE --threshold 12 --store "$store"
n=$("$bin" match --store "$store" --threshold 40 "$src/samples/sample-queries.pdq.txt" | wc -l)
[ "$n" = 3 ] || fail "a request cannot widen the set's threshold: $n"

# Images are hashed here (PDQ, --dihedral): the same hits as match --list on the sample images.
"$bin" sets create IMAGES --type pdq --store "$store"
"$bin" import IMAGES "$src/samples/sample-images.pdq.txt" --store "$store" > /dev/null
want=$("$bin" match --list "$src/samples/sample-images.pdq.txt" --dihedral "$src"/samples/images/scan/* 2>/dev/null \
  | awk -F, '{print $1 "," $2 "," $3 "," $5}')
got=$("$bin" match --store "$store" --set IMAGES --dihedral "$src"/samples/images/scan/* \
  | awk -F, '{print $1 "," $2 "," $3 "," $5}')
[ -n "$want" ] && [ "$got" = "$want" ] || fail "images: got '$got' want '$want'"

# Re-importing the same list changes nothing; export round-trips through import.
out=$("$bin" import SAMPLE "$src/samples/sample-list.pdq.txt" --format plain --store "$store")
echo "$out" | grep -q "(unchanged)" || fail "re-import changed the set: $out"
"$bin" export SAMPLE --store "$store" > "$work/a.csv"
"$bin" sets create COPY --type pdq --store "$store"
"$bin" import COPY "$work/a.csv" --format csv --store "$store" > /dev/null
"$bin" export COPY --store "$store" > "$work/b.csv"
cmp -s "$work/a.csv" "$work/b.csv" || fail "export/import/export differs"

# A malformed list: refused, nothing applied, file and line named.
{ head -3 "$src/samples/sample-list.pdq.txt"; echo "not-a-hash"; } > "$work/bad.txt"
before=$("$bin" sets show COPY --store "$store")
set +e
"$bin" import COPY "$work/bad.txt" --format plain --store "$store" 2> "$work/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "bad list exit status $rc"
grep -q "bad.txt:4:" "$work/err" || fail "bad list message: $(cat "$work/err")"
[ "$("$bin" sets show COPY --store "$store")" = "$before" ] || fail "a refused import changed the set"

"$bin" sets drop COPY --store "$store"
! "$bin" sets show COPY --store "$store" 2>/dev/null || fail "dropped set still shown"
! "$bin" sets list --store "$work/none" 2>/dev/null || fail "a missing store opened"

if [ -n "$shared" ] && [ -d "$shared/hashlists" ]; then
  h="$shared/hashlists"
  mkdir "$work/pages"
  cp "$h/ncmec-entries-page1.xml" "$work/pages/"
  "$bin" sets create NCMEC --type pdq --store "$store"
  "$bin" sync NCMEC --from "$work/pages" --store "$store" > /dev/null
  cp "$h/ncmec-entries-page2.xml" "$work/pages/"
  out=$("$bin" sync NCMEC --from "$work/pages" --store "$store")
  echo "$out" | grep -q "ncmec-entries-page1.xml: already applied" || fail "sync did not resume: $out"
  show=$("$bin" sets show NCMEC --entries --store "$store")
  echo "$show" | grep -q "entries=6 .*tombstones=1" || fail "NCMEC after two pages: $show"
  echo "$show" | grep -q "42:img1:pdq .* class=A2" || fail "42/img1 is A2 after page 2: $show"
  echo "$show" | grep -q "42:img2:pdq .* DELETED" || fail "42/img2 deleted: $show"
  out=$("$bin" sync NCMEC --from "$work/pages" --store "$store")
  [ "$(echo "$out" | grep -c "already applied")" = 2 ] || fail "second sync: $out"
  for f in "$h"/bad/*; do
    before=$("$bin" sets show SAMPLE --store "$store")
    if "$bin" import SAMPLE "$f" --store "$store" 2>/dev/null >/dev/null; then
      fail "bad list $f imported"
    fi
    [ "$("$bin" sets show SAMPLE --store "$store")" = "$before" ] || fail "$f changed the set"
  done
fi
echo "store cli: ok"

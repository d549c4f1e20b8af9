#!/usr/bin/env bash
# The hashmatch CLI on the bundled sample: exactly the planted near-duplicates within 31 bits
# match, a malformed query is reported and the rest still match, a malformed list is refused.
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$bin" match --list "$src/samples/sample-list.pdq.txt" "$src/samples/sample-queries.pdq.txt")
got=$(echo "$out" | awk -F, '{print $3 "@" $4}' | tr '\n' ' ')
want="0@sample-list.pdq.txt:2 4@sample-list.pdq.txt:19 12@sample-list.pdq.txt:258 24@sample-list.pdq.txt:1001 31@sample-list.pdq.txt:1502 "
[ "$got" = "$want" ] || fail "matches: got '$got' want '$want'"

# Threshold 32 lets the distance-32 plant in; 48 stays out until 48.
n=$("$bin" match --list "$src/samples/sample-list.pdq.txt" --threshold 32 "$src/samples/sample-queries.pdq.txt" | wc -l)
[ "$n" = 6 ] || fail "threshold 32 gave $n matches"

# A malformed query: reported, exit 1, the others still matched.
set +e
out=$("$bin" match --list "$src/samples/sample-list.pdq.txt" --format jsonl 12zz "$src/samples/sample-queries.pdq.txt" 2>"$work/err")
rc=$?
set -e
[ "$rc" = 1 ] || fail "malformed query exit status $rc"
grep -q "query '12zz': expected 64 hex digits, got 4" "$work/err" || fail "no error for 12zz: $(cat "$work/err")"
[ "$(echo "$out" | grep -c '"distance":')" = 5 ] || fail "jsonl output: $out"

# A malformed list line refuses the list, naming file and line.
{ head -3 "$src/samples/sample-list.pdq.txt"; echo "not-a-hash"; } > "$work/bad.txt"
set +e
"$bin" match --list "$work/bad.txt" "$src/samples/sample-queries.pdq.txt" >"$work/out" 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "bad list exit status $rc"
grep -q "bad.txt:4: expected 64 hex digits, got 10" "$work/err" || fail "bad list message: $(cat "$work/err")"
[ ! -s "$work/out" ] || fail "bad list still printed matches"

# Every forced kernel path gives the same output.
ref=$("$bin" match --list "$src/samples/sample-list.pdq.txt" "$src/samples/sample-queries.pdq.txt")
for p in scalar popcnt avx2 avx512; do
  o=$(HASHMATCH_KERNEL=$p "$bin" match --list "$src/samples/sample-list.pdq.txt" "$src/samples/sample-queries.pdq.txt" 2>/dev/null)
  [ "$o" = "$ref" ] || fail "kernel $p differs"
done


# Images: hashing the listed pictures reproduces the bundled list; scanning the uploads finds the
# four edited copies (the mirrored one through its flipy orientation) and not the two unrelated.
got=$("$bin" hash "$src/samples/images/listed" | cut -d, -f1)
want=$(grep -v '^#' "$src/samples/sample-images.pdq.txt")
[ "$got" = "$want" ] || fail "hashes of listed images differ from the bundled list"
out=$("$bin" match --list "$src/samples/sample-images.pdq.txt" --dihedral "$src/samples/images/scan" 2>/dev/null)
got=$(echo "$out" | awk -F, '{n=split($5, p, "/"); print $3 "@" p[n]}' | tr '\n' ' ')
want="10@upload-01-known-1-resized.png#original 4@upload-02-known-2-brightened.png#original 0@upload-03-known-3-mirrored.png#flipy 10@upload-04-known-4-noisy.png#original "
[ "$got" = "$want" ] || fail "image matches: got '$got' want '$want'"
# Without --dihedral the mirrored copy is not found.
n=$("$bin" match --list "$src/samples/sample-images.pdq.txt" "$src/samples/images/scan" 2>/dev/null | wc -l)
[ "$n" = 3 ] || fail "without --dihedral: $n matches"
# A bad image among good ones: reported, exit 1, the rest still hashed.
printf 'not an image' > "$work/bad.jpg"
set +e
out=$("$bin" hash "$src/samples/images/listed/known-1.png" "$work/bad.jpg" 2>"$work/err")
rc=$?
set -e
[ "$rc" = 1 ] || fail "hash with a bad image: exit $rc"
grep -q "bad.jpg: not an image" "$work/err" || fail "bad image message: $(cat "$work/err")"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "the good image was not hashed"

# --algo: digests hash the raw bytes (agreeing with coreutils, and never decoding: a non-image
# hashes too); the imagehash hashes print `hash,path` with 16 hex digits.
img="$src/samples/images/listed/known-1.png"
for a in md5 sha1 sha256; do
  got=$("$bin" hash --algo "$a" "$img" "$work/bad.jpg")
  want="$(${a}sum "$img" | cut -d' ' -f1),$img
$(${a}sum "$work/bad.jpg" | cut -d' ' -f1),$work/bad.jpg"
  [ "$got" = "$want" ] || fail "--algo $a: got '$got' want '$want'"
done
out=$("$bin" hash --algo sha256 --format jsonl "$img")
want="{\"path\":\"$img\",\"algo\":\"sha256\",\"hash\":\"$(sha256sum "$img" | cut -d' ' -f1)\"}"
[ "$out" = "$want" ] || fail "--algo sha256 jsonl: $out"
for a in ahash64 dhash64 phash64 whash64; do
  out=$("$bin" hash --algo "$a" "$src/samples/images/listed")
  [ "$(echo "$out" | grep -cE "^[0-9a-f]{16},$src/samples/images/listed/known-[1-4]\.png$")" = 4 ] ||
    fail "--algo $a output: $out"
  "$bin" hash --algo "$a" --format jsonl "$img" | grep -q "\"algo\":\"$a\",\"hash\":\"[0-9a-f]\{16\}\"" ||
    fail "--algo $a jsonl"
done
"$bin" hash --format jsonl "$img" | grep -q '"algo":"pdq"' || fail "pdq jsonl has no algo"
# --dihedral and --compat-512 belong to PDQ; an unknown algorithm is refused.
for opt in --dihedral --compat-512; do
  set +e
  "$bin" hash --algo dhash64 "$opt" "$img" >/dev/null 2>"$work/err"
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "--algo dhash64 $opt: exit $rc"
  grep -q -- "$opt is only valid with --algo pdq" "$work/err" || fail "$opt message: $(cat "$work/err")"
done
set +e
"$bin" hash --algo crc32 "$img" >/dev/null 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "algo is one of" "$work/err" || fail "unknown --algo: exit $rc"
# A non-image is an error for the image hashes (exit 1), the good file still hashed.
set +e
out=$("$bin" hash --algo phash64 "$img" "$work/bad.jpg" 2>"$work/err")
rc=$?
set -e
[ "$rc" = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] || fail "phash64 with a bad image: exit $rc"
# The imagehash values of reference pictures (JPEG and RGBA PNG) when ../shared is present.
ref="$src/../shared/pdq-reference"
if [ -f "$ref/imagehash-expected.tsv" ]; then
  for p in reg-test-input/dih/bridge-1-original.jpg reg-test-input/pen-and-coaster.png; do
    row=$(grep "^$p	" "$ref/imagehash-expected.tsv")
    col=2
    for a in ahash64 dhash64 phash64 whash64; do
      want=$(echo "$row" | cut -f$col)
      got=$("$bin" hash --algo "$a" "$ref/$p" | cut -d, -f1)
      [ "$got" = "$want" ] || fail "$a of $p: got $got want $want"
      col=$((col + 1))
    done
  done
else
  echo "cli test: ../shared absent, imagehash reference values not checked"
fi
# --fast (PDQ fast path): the bundled PNG samples take the exact path, so the same lines; a JPEG
# (the reference photo, when ../shared is present) hashes within 10 bits of its exact hash, checked
# by matching the exact hash as a one-line list at threshold 10.
[ "$("$bin" hash --fast "$src/samples/images/listed")" = "$("$bin" hash "$src/samples/images/listed")" ] ||
  fail "hash --fast differs on the bundled samples"
n=$("$bin" match --fast --list "$src/samples/sample-images.pdq.txt" --threshold 0 "$src/samples/images/listed" 2>/dev/null | wc -l)
[ "$n" = 4 ] || fail "match --fast on the listed samples: $n exact matches"
jpg="$src/../shared/pdq-reference/reg-test-input/dih/bridge-1-original.jpg"
if [ -f "$jpg" ]; then
  "$bin" hash "$jpg" | cut -d, -f1 >"$work/exact.txt"
  n=$("$bin" match --fast --list "$work/exact.txt" --threshold 10 "$jpg" 2>/dev/null | wc -l)
  [ "$n" = 1 ] || fail "hash --fast of $jpg is more than 10 bits from the exact hash"
  [ "$("$bin" hash --fast "$jpg" | cut -d, -f1)" != "" ] || fail "hash --fast printed nothing"
else
  echo "cli test: ../shared absent, --fast on a JPEG not checked"
fi
echo "cli image test: passed"

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

# Parallel hashing (HashBatch, --threads) over a nested tree: files in path order (a directory's
# entries sorted by name, so tree/a/... comes before tree/a.png, which plain `sort` would not do),
# a corrupt PNG and a non-image in the middle reported on stderr as `path: message` while every
# other file is still hashed, exit status 1.
listed="$src/samples/images/listed"
t="$work/tree"
mkdir -p "$t/a/sub" "$t/a/sub2" "$t/z"
cp "$listed/known-1.png" "$t/a/sub/y.png"
cp "$listed/known-2.png" "$t/a/x.png"
cp "$listed/known-3.png" "$t/a.png"
cp "$listed/known-4.png" "$t/B.png"
head -c 300 "$listed/known-4.png" >"$t/m-corrupt.png"
printf 'not an image' >"$t/n-notimage.jpg"
cp "$src/samples/images/scan/upload-05-unrelated.png" "$t/z/w.png"
want_order="$t/B.png $t/a/sub/y.png $t/a/x.png $t/a.png $t/m-corrupt.png $t/n-notimage.jpg $t/z/w.png "
set +e
"$bin" hash "$t" >"$work/tree.out" 2>"$work/tree.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "hash of the tree: exit $rc"
got=$(cut -d, -f3 "$work/tree.out" | tr '\n' ' ')
[ "$got" = "${want_order/$t\/m-corrupt.png $t\/n-notimage.jpg /}" ] || fail "tree order: got '$got'"
for f in a/sub/y.png a/x.png a.png B.png z/w.png; do
  line=$(grep ",$t/$f\$" "$work/tree.out")
  [ "${line%%,*}" = "$("$bin" hash "$t/$f" | cut -d, -f1)" ] || fail "tree hash of $f differs"
done
grep -q "^hashmatch: $t/m-corrupt.png: PNG decode error" "$work/tree.err" ||
  fail "corrupt file not reported: $(cat "$work/tree.err")"
grep -q "^hashmatch: $t/n-notimage.jpg: not an image" "$work/tree.err" ||
  fail "non-image not reported: $(cat "$work/tree.err")"
grep -q "2 of 7 files failed" "$work/tree.err" || fail "no summary: $(cat "$work/tree.err")"
# JSON lines: one object per file, in the same order; failures carry "error" (and on stderr too).
set +e
"$bin" hash --format jsonl "$t" >"$work/tree.jsonl" 2>"$work/tree.jsonl.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "jsonl hash of the tree: exit $rc"
got=$(sed 's/^{"path":"\([^"]*\)".*/\1/' "$work/tree.jsonl" | tr '\n' ' ')
[ "$got" = "$want_order" ] || fail "jsonl order: got '$got'"
[ "$(grep -c '"error":' "$work/tree.jsonl")" = 2 ] || fail "jsonl errors: $(cat "$work/tree.jsonl")"
grep -q "^{\"path\":\"$t/n-notimage.jpg\",\"algo\":\"pdq\",\"error\":\"not an image: " "$work/tree.jsonl" ||
  fail "jsonl non-image line: $(cat "$work/tree.jsonl")"
cmp -s "$work/tree.err" "$work/tree.jsonl.err" || fail "jsonl stderr differs from text stderr"
# A missing argument is one more failure; the rest still hashed.
set +e
out=$("$bin" hash "$work/missing.png" "$listed/known-1.png" 2>"$work/err")
rc=$?
set -e
[ "$rc" = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] || fail "missing argument: exit $rc, out '$out'"
grep -q "missing.png: no such file or directory" "$work/err" || fail "missing: $(cat "$work/err")"
# Over several HashBatch chunks (256 files each), with failures at chunk edges: --threads 1 and
# --threads 4 give the same stdout and stderr, in order.
many="$work/many"
mkdir -p "$many/d1" "$many/d2"
for i in $(seq -w 1 330); do cp "$listed/known-$((10#$i % 4 + 1)).png" "$many/d1/img$i.png"; done
for i in $(seq -w 1 300); do cp "$src/samples/images/scan/upload-0$((10#$i % 6 + 1))"-*.png "$many/d2/img$i.png"; done
printf 'x' >"$many/d1/img256.png"
printf 'x' >"$many/d2/img001.png"
for th in 1 4; do
  set +e
  "$bin" hash --threads "$th" "$many" "$t" >"$work/many$th.out" 2>"$work/many$th.err"
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "--threads $th: exit $rc"
done
cmp -s "$work/many1.out" "$work/many4.out" || fail "--threads 1 and 4 give different stdout"
cmp -s "$work/many1.err" "$work/many4.err" || fail "--threads 1 and 4 give different stderr"
n=$(find "$many" -type f | wc -l)
[ "$(wc -l <"$work/many4.out")" = $((n - 2 + 5)) ] || fail "many: $(wc -l <"$work/many4.out") lines for $n files"
[ "$(cut -d, -f3 "$work/many4.out" | head -$((n - 2)))" = "$(find "$many" -type f | LC_ALL=C sort | grep -v -e d1/img256.png -e d2/img001.png)" ] ||
  fail "many: not in sorted order"
grep -q "4 of $((n + 7)) files failed" "$work/many4.err" || fail "many summary: $(tail -1 "$work/many4.err")"
# Digests through the batch agree with coreutils in order, a file over the in-memory limit included.
truncate -s 70M "$many/d1/big.bin"
"$bin" hash --algo md5 --threads 4 "$many/d1" >"$work/md5.out"
(cd / && find "$many/d1" -type f | LC_ALL=C sort | xargs md5sum | sed 's/^\([0-9a-f]*\)  /\1,/') >"$work/md5.want"
cmp -s "$work/md5.out" "$work/md5.want" || fail "--algo md5 over a directory differs from md5sum"
rm "$many/d1/big.bin"
# --progress forces the bar through a pipe: it goes to stderr only; stdout is unchanged and,
# without the bar's \r-drawn line, stderr too. Piped without --progress, no bar at all.
set +e
"$bin" hash --progress --threads 4 "$many" "$t" >"$work/prog.out" 2>"$work/prog.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "--progress: exit $rc"
cmp -s "$work/prog.out" "$work/many4.out" || fail "--progress changed stdout"
grep -q $'\rhashing \\[' "$work/prog.err" || fail "--progress drew no bar on stderr"
grep -q $'\r' "$work/many4.err" && fail "a bar was drawn into a pipe without --progress"
tr '\r' '\n' <"$work/prog.err" | grep -v -e '^hashing \[' -e '^ *$' >"$work/prog.err.clean"
cmp -s "$work/prog.err.clean" "$work/many4.err" || fail "--progress changed the messages on stderr"
tr '\r' '\n' <"$work/prog.err" |
  awk '/^hashing \[/ { bar = NR } /^ +$/ { cleared = NR } END { exit !(bar > 0 && cleared > bar) }' ||
  fail "the bar was not cleared at the end"
"$bin" hash --progress --quiet "$listed" 2>"$work/err" >/dev/null
[ ! -s "$work/err" ] || fail "--quiet still wrote: $(cat "$work/err")"
"$bin" hash --progress --no-progress "$listed" 2>"$work/err" >/dev/null
[ ! -s "$work/err" ] || fail "--no-progress still wrote: $(cat "$work/err")"
# match hashes its images through the same batches: same result whatever the threads.
a=$("$bin" match --threads 1 --list "$src/samples/sample-images.pdq.txt" --dihedral "$src/samples/images/scan" 2>/dev/null)
b=$("$bin" match --threads 4 --progress --list "$src/samples/sample-images.pdq.txt" --dihedral "$src/samples/images/scan" 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] || fail "match --threads 1 and 4 differ"
# The reference images as a directory (../shared): every image's hash and quality are the
# expected.tsv pdq_full ones; the non-image files there (.dat, .txt) are each reported; exit 1.
refdir="$src/../shared/pdq-reference"
if [ -d "$refdir/reg-test-input" ] && [ -f "$refdir/expected.tsv" ]; then
  set +e
  (cd "$refdir" && "$bin" hash --threads 4 reg-test-input) >"$work/ref.out" 2>"$work/ref.err"
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "reference directory: exit $rc"
  awk -F'\t' '!/^#/ && $1 ~ /^reg-test-input\// {print $5 "," $4 "," $1}' "$refdir/expected.tsv" |
    LC_ALL=C sort >"$work/ref.want"
  LC_ALL=C sort "$work/ref.out" >"$work/ref.got"
  [ -s "$work/ref.want" ] && cmp -s "$work/ref.got" "$work/ref.want" ||
    fail "reference directory hashes differ: $(diff "$work/ref.got" "$work/ref.want" | head -5)"
  nonimages=$(cd "$refdir" && find reg-test-input -type f ! -name '*.jpg' ! -name '*.png' | wc -l)
  [ "$(grep -c ': not an image' "$work/ref.err")" = "$nonimages" ] ||
    fail "reference directory: $nonimages non-images, reported: $(cat "$work/ref.err")"
  (cd "$refdir" && "$bin" hash --threads 1 reg-test-input >"$work/ref1.out" 2>/dev/null) || true
  cmp -s "$work/ref1.out" "$work/ref.out" || fail "reference directory: --threads 1 differs"
else
  echo "cli test: ../shared absent, the reference image directory not hashed"
fi
echo "cli image test: passed"

// libFuzzer target: arbitrary bytes through the whole image path a scanner runs on uploads. The
// EXIF reader on the raw bytes, then DecodeImage (orientation applied, so the remap runs whenever
// a decodable input carries an Orientation tag), then PDQ: Hash and HashDihedral, alternating the
// 512 path; and the PDQ fast path's own decoder on the same bytes. Any crash, sanitizer report,
// leak, timeout or out-of-memory is a bug: DecodeImage must turn every bad input into a Status.
//
// The pixel limit is 4 M pixels (the library's default is 100 M) so that a header claiming a huge
// size is refused before allocation instead of spending the fuzzer's memory budget; the limit
// itself is what is being exercised there.
#include <cstddef>
#include <cstdint>
#include <span>

#include "exif.h"  // private to core: the bounds-checked EXIF reader is fuzzed directly too
#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One hasher, as a scanner thread would reuse it: scratch buffers carry over between inputs.
  static hashmatch::PdqHasher hasher;
  const std::span<const uint8_t> bytes(data, size);

  const int orientation = hashmatch::exif::OrientationFromImageBytes(bytes);
  if (orientation < 1 || orientation > 8) __builtin_trap();

  hashmatch::DecodeOptions decode;
  decode.max_pixels = 4'000'000;
  decode.apply_exif_orientation = true;

  // The PDQ fast path has its own JPEG decoder (reduced scale, Y plane only, progressive scans
  // left out through a scan parser and a byte-range source): a hash or a Status for any bytes.
  hashmatch::PdqOptions fast;
  fast.fast = true;
  hashmatch::DecodeOptions fast_decode = decode;
  fast_decode.apply_exif_orientation = (size & 2) != 0;
  auto fast_hash = hasher.HashBytes(bytes, fast_decode, fast);
  if (fast_hash.ok() && (fast_hash->pdq[0].quality < 0 || fast_hash->pdq[0].quality > 100)) {
    __builtin_trap();
  }

  auto image = hashmatch::DecodeImage(bytes, decode);
  if (!image.ok()) return 0;
  const hashmatch::Image& im = *image;
  if (im.width <= 0 || im.height <= 0 || (im.channels != 1 && im.channels != 3) ||
      im.pixels.size() != size_t(im.width) * im.height * im.channels) {
    __builtin_trap();  // a decoder returned an inconsistent image
  }

  hashmatch::PdqOptions pdq;
  pdq.compat_512 = (size & 1) != 0;
  const hashmatch::PdqHash h = hasher.Hash(im, pdq);
  const auto all = hasher.HashDihedral(im, pdq);
  // HashDihedral's first orientation is the plain hash: a cheap consistency check.
  if (!(all[0] == h) || h.quality < 0 || h.quality > 100) __builtin_trap();
  return 0;
}

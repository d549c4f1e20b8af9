// The four 64-bit hashes of the Python `imagehash` library (aHash, dHash, pHash, wHash with
// hash_size 8), bit-exact with imagehash 4.3.2 on Pillow for the same decoded pixels. The
// definitions, Pillow's grey conversion and LANCZOS resampler they rest on, and the hex convention
// are in ../shared/specs/hash64.md.
//
// Bit layout: element [r][c] of imagehash's 8x8 boolean array is byte r of the Hash64, bit 7 - c
// (column 0 is the high bit). Hash64 stores its bytes in hex order, so ToHex / ParseHash64 of
// hex.h are exactly imagehash's `str(hash)` / `hex_to_hash`: [0][0] alone is 8000000000000000,
// [7][7] alone is 0000000000000001. This is the reverse of PDQ's bit order.
//
// Decoding: use ImageHashDecodeOptions() so that a 16-bit grey PNG is read as Pillow reads it
// (clamped at 255, not its high byte). Everything else decodes as for PDQ. These functions are
// pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "hashmatch/core/hash.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/core/image.h"
#include "hashmatch/core/status.h"

namespace hashmatch {

// imagehash.average_hash: grey 8x8, bit = pixel > mean.
Hash64 AverageHash(const Image& image);
// imagehash.dhash: grey 9 wide x 8 high, bit = right neighbour brighter than the pixel.
Hash64 DifferenceHash(const Image& image);
// imagehash.phash: grey 32x32, unnormalised DCT-II on both axes, the 8x8 low band (DC included)
// against its median.
Hash64 PerceptualHash(const Image& image);
// imagehash.whash (haar, remove_max_haar_ll): grey S x S with S = max(2^floor(log2 min(w, h)), 8),
// 8x8 block sums against their median, in exact integer arithmetic. On images where blocks tie at
// the median, imagehash's float wavelet result is rounding noise; this gives the exact answer.
Hash64 WaveletHash(const Image& image);

struct ImageHash64Set {
  Hash64 ahash, dhash, phash, whash;
  friend bool operator==(const ImageHash64Set&, const ImageHash64Set&) = default;
};
// All four, sharing one grey conversion.
ImageHash64Set ComputeImageHashes(const Image& image);

// Decode options for these hashes: `base` with Pillow's 16-bit grey PNG clamp switched on.
inline DecodeOptions ImageHashDecodeOptions(DecodeOptions base = {}) {
  base.clamp_grey16 = true;
  return base;
}

// imagehash's hex form (`str(hash)` / `hex_to_hash`): 16 lower-case digits, the array read
// row-major as one big-endian number. Input accepts either case, nothing else (see hex.h).
inline std::string ImageHashToHex(const Hash64& h) {
  return ToHex(h);
}
inline Result<Hash64> ImageHashFromHex(std::string_view hex) {
  return ParseHash64(hex);
}

}  // namespace hashmatch

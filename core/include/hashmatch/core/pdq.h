// PDQ: Meta's 256-bit perceptual image hash with its quality score, bit-exact with the reference
// (ThreatExchange pdq/cpp/hashing/pdqhashing.cpp) for the same decoded pixels. The algorithm and
// its conventions are in ../shared/specs/pdq.md; docs/architecture.md says how this file keeps
// the reference's float evaluation order.
//
// A PdqHasher owns its scratch buffers: reuse one per thread; it is not thread-safe.
//
// Two paths from encoded bytes (HashBytes, HashDihedralBytes):
//   exact (the default): full decode, then the bit-exact core. Use it for making lists.
//   fast (PdqOptions::fast): a JPEG is decoded in the DCT domain at 1/2, 1/4 or 1/8 scale (the
//     smallest that keeps both sides >= fast_min_side), to its Y plane only, straight into a float
//     buffer: no full-resolution buffer, no chroma decode, no colour conversion. The 64x64
//     blur-and-decimate is then computed from the reduced image with the exact pipeline's own
//     kernels (two Jarosz passes with the stored size's windows, sampled at the stored size's
//     positions); quality, DCT, median and bits are the exact core's. Not bit-exact:
//     docs/benchmarks.md gives the measured drift (max 8 bits, mean ~2 on the reference set) and
//     speed-up; tests/conformance/pdq_fast_drift_test.cc holds the bar. Meant for scanning uploads
//     against lists made on the exact path, whose match threshold (31) absorbs the drift.
//     Non-JPEG input and compat_512 always take the exact path.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "hashmatch/core/hash.h"
#include "hashmatch/core/image.h"

namespace hashmatch {
namespace pdq_internal {
struct LumaSource;  // core/src/pdq_blur.h
}

struct PdqHash {
  Hash256 hash;
  int quality = 0;  // 0..100; below 50 is a flat, featureless image

  friend bool operator==(const PdqHash&, const PdqHash&) = default;
};

// The eight orientations, in the order of the spec and of PdqHasher::HashDihedral's result.
enum class Dihedral : uint8_t {
  kOriginal = 0,
  kRotate90,
  kRotate180,
  kRotate270,
  kFlipX,
  kFlipY,
  kFlipPlus1,
  kFlipMinus1,
};
inline constexpr size_t kNumDihedral = 8;
const char* DihedralName(Dihedral d);

struct PdqOptions {
  // The reference command-line tool's "512 path": images wider or taller than 512 are first
  // resized to exactly 512x512 by nearest-neighbour sampling (column `pdq_512` of the reference).
  bool compat_512 = false;
  // The fast path for encoded JPEGs (HashBytes and HashDihedralBytes only: Hash(const Image&)
  // always hashes the pixels it is given). Off by default; keep it off when making lists.
  bool fast = false;
  // Fast path: decode at the smallest of 1/8, 1/4, 1/2 that keeps both sides >= this many
  // samples; smaller JPEGs are decoded at full size (still luma only). 160 (2.5x PDQ's 64-sample
  // grid) keeps each reduced pixel within 0.8 of PDQ's blur window; 128 drifts up to 30 bits on
  // 256x256 photos (docs/benchmarks.md). Values below 65 count as 65.
  int fast_min_side = 160;
};

// The hash(es) of encoded image bytes, with what the decode found.
struct PdqImageHash {
  std::array<PdqHash, kNumDihedral> pdq{};  // HashBytes fills [0]; HashDihedralBytes all eight
  bool truncated = false;                   // the data ended early; the decoder filled the rest
  int width = 0, height = 0;                // the stored image's size
  // 8 on the exact path; the fast path decoded a JPEG at scale_num / 8 of its stored size.
  int scale_num = 8;
  bool fast = false;  // the fast (not bit-exact) path made this hash
};

// Instruction sets of the exact path's luma, blur and decimation (core/src/pdq_blur.h). Every one
// gives the same bits (each float is computed with the reference's operations in its order);
// tests run each one the CPU supports.
enum class PdqSimd : uint8_t {
  kSse2 = 0,  // baseline x86-64
  kAvx2,
  kAvx512,  // AVX-512F
};
inline constexpr PdqSimd kAllPdqSimd[] = {PdqSimd::kSse2, PdqSimd::kAvx2, PdqSimd::kAvx512};
const char* PdqSimdName(PdqSimd simd);  // "sse2", "avx2", "avx512"
// True when this CPU (and OS) can run it.
bool PdqSimdSupported(PdqSimd simd);
// The fastest supported one, unless the environment variable HASHMATCH_PDQ_SIMD names another
// supported one (an unknown or unsupported name is reported on stderr and ignored). Read once.
PdqSimd DefaultPdqSimd();

class PdqHasher {
 public:
  PdqHasher() = default;  // on DefaultPdqSimd()
  // A hasher on the given instruction set; kUnsupported when this CPU lacks it.
  static Result<PdqHasher> ForSimd(PdqSimd simd);
  PdqSimd simd() const { return simd_; }

  // Hash of a decoded image (grey is used as luma; RGB through Y = .299R + .587G + .114B).
  // Images under 5 pixels on a side hash to zero with quality 0.
  PdqHash Hash(const Image& image, const PdqOptions& options = {});
  // All eight orientations from one DCT, in Dihedral order.
  std::array<PdqHash, kNumDihedral> HashDihedral(const Image& image,
                                                 const PdqOptions& options = {});

  // The hashing core on a float luma buffer of rows x cols (row-major).
  PdqHash HashLuma(const float* luma, int rows, int cols);

  // Decodes and hashes encoded bytes (JPEG, PNG, WebP), through the fast path when options.fast
  // is set and the input is a JPEG, else exactly (DecodeImage + Hash). Errors are DecodeImage's.
  Result<PdqImageHash> HashBytes(std::span<const uint8_t> bytes, const DecodeOptions& decode = {},
                                 const PdqOptions& options = {});
  // The same with all eight orientations (one DCT), in Dihedral order.
  Result<PdqImageHash> HashDihedralBytes(std::span<const uint8_t> bytes,
                                         const DecodeOptions& decode = {},
                                         const PdqOptions& options = {});

 private:
  // Computes the 16x16 DCT (without DC) into dct_ and returns the quality; false if too small.
  bool Transform(const Image& image, const PdqOptions& options, int* quality);
  bool TransformLuma(int rows, int cols, int* quality);  // luma_ already filled
  // The original orientation's hash, and all eight, from dct_ (filled by a Transform).
  PdqHash HashFromDct(int quality) const;
  std::array<PdqHash, kNumDihedral> DihedralFromDct(int quality) const;
  Result<PdqImageHash> HashEncoded(std::span<const uint8_t> bytes, const DecodeOptions& decode,
                                   const PdqOptions& options, bool dihedral);

  // Fills dct_ from the 64x64 luma, blurred and decimated unless the source is 64x64.
  bool TransformSource(const pdq_internal::LumaSource& source, int* quality);

  PdqSimd simd_ = DefaultPdqSimd();
  std::vector<float> luma_, scratch_;
  std::vector<float> blur_work_;  // the blur's buffers, reused from image to image
  Image image_;                   // HashBytes' exact-path JPEG decode, reused likewise
  float dct_[16][16] = {};
};

}  // namespace hashmatch

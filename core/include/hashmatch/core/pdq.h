// PDQ: Meta's 256-bit perceptual image hash with its quality score, bit-exact with the reference
// (ThreatExchange pdq/cpp/hashing/pdqhashing.cpp) for the same decoded pixels. The algorithm and
// its conventions are in ../shared/specs/pdq.md; docs/architecture.md says how this file keeps
// the reference's float evaluation order.
//
// A PdqHasher owns its scratch buffers: reuse one per thread; it is not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "hashmatch/core/hash.h"
#include "hashmatch/core/image.h"

namespace hashmatch {

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
};

class PdqHasher {
 public:
  PdqHasher() = default;

  // Hash of a decoded image (grey is used as luma; RGB through Y = .299R + .587G + .114B).
  // Images under 5 pixels on a side hash to zero with quality 0.
  PdqHash Hash(const Image& image, const PdqOptions& options = {});
  // All eight orientations from one DCT, in Dihedral order.
  std::array<PdqHash, kNumDihedral> HashDihedral(const Image& image,
                                                 const PdqOptions& options = {});

  // The hashing core on a float luma buffer of rows x cols (row-major).
  PdqHash HashLuma(const float* luma, int rows, int cols);

 private:
  // Computes the 16x16 DCT (without DC) into dct_ and returns the quality; false if too small.
  bool Transform(const Image& image, const PdqOptions& options, int* quality);
  bool TransformLuma(int rows, int cols, int* quality);  // luma_ already filled

  std::vector<float> luma_, scratch_;
  float dct_[16][16];
};

}  // namespace hashmatch

// PDQ hashing core. Built with -ffp-contract=off and without -ffast-math: every float value is
// computed with the same operations, in the same order, as the reference pdqhashing.cpp, so the
// bits match. Do not reassociate sums or fuse multiply-adds here. Luma, blur and decimation are
// in pdq_blur.h (SIMD, same discipline); quality, DCT, median and bits here.
#include "hashmatch/core/pdq.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "pdq_blur.h"

namespace hashmatch {
namespace {

constexpr int kMinHashableDim = 5;

// 16x64 DCT-II rows 1..16 (no DC). As in the reference, the scale is a float, the cosine a
// double, and their product is stored as float.
struct DctMatrix {
  float d[16][64];
  DctMatrix() {
    const float scale = float(std::sqrt(2.0 / 64.0));
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 64; ++j)
        d[i][j] = float(scale * std::cos((M_PI / 2 / 64.0) * (i + 1) * (2 * j + 1)));
  }
};
const DctMatrix& Dct() {
  static const DctMatrix m;
  return m;
}

int Quality(const float b[64][64]) {
  int gradient_sum = 0;
  for (int i = 0; i < 63; ++i)
    for (int j = 0; j < 64; ++j) {
      const float u = b[i][j], v = b[i + 1][j];
      const int d = int(((u - v) * 100) / 255);
      gradient_sum += std::abs(d);
    }
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 63; ++j) {
      const float u = b[i][j], v = b[i][j + 1];
      const int d = int(((u - v) * 100) / 255);
      gradient_sum += std::abs(d);
    }
  return std::min(100, gradient_sum / 90);
}

void Dct64To16(const float a[64][64], float out[16][16]) {
  const auto& d = Dct().d;
  float t[16][64];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 64; ++j) {
      float sum = 0.0f;
      for (int k = 0; k < 64; ++k) sum += d[i][k] * a[k][j];
      t[i][j] = sum;
    }
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      float sum = 0.0f;
      for (int k = 0; k < 64; ++k) sum += t[i][k] * d[j][k];
      out[i][j] = sum;
    }
}

// Bit k = (i * 16 + j) is set iff B[i][j] is above the lower median (the 128th smallest).
Hash256 Bits(const float b[16][16]) {
  float sorted[256];
  std::copy(&b[0][0], &b[0][0] + 256, sorted);
  std::nth_element(sorted, sorted + 127, sorted + 256);
  const float median = sorted[127];
  Hash256 h;
  for (int k = 0; k < 256; ++k) h.set_bit(size_t(k), b[k / 16][k % 16] > median);
  return h;
}

}  // namespace

const char* DihedralName(Dihedral d) {
  static const char* const kNames[] = {"original", "rotate90", "rotate180", "rotate270",
                                       "flipx",    "flipy",    "flipplus1", "flipminus1"};
  return kNames[size_t(d)];
}

Result<PdqHasher> PdqHasher::ForSimd(PdqSimd simd) {
  if (!PdqSimdSupported(simd)) {
    return Status::Unsupported(std::string("PDQ instruction set '") + PdqSimdName(simd) +
                               "' is not supported by this CPU");
  }
  PdqHasher h;
  h.simd_ = simd;
  return h;
}

bool PdqHasher::TransformSource(const pdq_internal::LumaSource& source, int* quality) {
  if (source.rows < kMinHashableDim || source.cols < kMinHashableDim) {
    *quality = 0;
    return false;
  }
  float decimated[64][64];
  pdq_internal::BlurDecimate(simd_, source, &blur_work_, decimated);
  *quality = Quality(decimated);
  Dct64To16(decimated, dct_);
  return true;
}

bool PdqHasher::TransformLuma(int rows, int cols, int* quality) {
  pdq_internal::LumaSource source;
  source.rows = rows;
  source.cols = cols;
  source.luma = luma_.data();
  return TransformSource(source, quality);
}

bool PdqHasher::Transform(const Image& image, const PdqOptions& options, int* quality) {
  // The reference tool's 512 path: nearest-neighbour to exactly 512x512 when a side exceeds 512.
  const bool resize = options.compat_512 && (image.height > 512 || image.width > 512);
  pdq_internal::LumaSource source;
  source.rows = resize ? 512 : image.height;
  source.cols = resize ? 512 : image.width;
  source.pixels = image.pixels.data();
  source.channels = image.channels;
  source.src_width = image.width;
  source.src_height = image.height;
  source.nearest_512 = resize;
  return TransformSource(source, quality);
}

PdqHash PdqHasher::HashLuma(const float* luma, int rows, int cols) {
  PdqHash r;
  if (rows < kMinHashableDim || cols < kMinHashableDim) return r;
  pdq_internal::LumaSource source;
  source.rows = rows;
  source.cols = cols;
  source.luma = luma;
  if (TransformSource(source, &r.quality)) r.hash = Bits(dct_);
  return r;
}

PdqHash PdqHasher::Hash(const Image& image, const PdqOptions& options) {
  // The size check happens after the optional 512 resize, which can stretch a thin image.
  PdqHash r;
  if (Transform(image, options, &r.quality)) r.hash = Bits(dct_);
  return r;
}

std::array<PdqHash, kNumDihedral> PdqHasher::HashDihedral(const Image& image,
                                                          const PdqOptions& options) {
  int quality = 0;
  if (!Transform(image, options, &quality)) return {};
  return DihedralFromDct(quality);
}

PdqHash PdqHasher::HashFromDct(int quality) const {
  return PdqHash{Bits(dct_), quality};
}

std::array<PdqHash, kNumDihedral> PdqHasher::DihedralFromDct(int quality) const {
  std::array<PdqHash, kNumDihedral> out{};
  const auto& a = dct_;
  float b[16][16];
  auto emit = [&](Dihedral d, auto&& fill) {
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 16; ++j) fill(i, j);
    out[size_t(d)] = PdqHash{Bits(b), quality};
  };
  // Sign flips of the DCT basis implement the image symmetries (spec table).
  emit(Dihedral::kOriginal, [&](int i, int j) { b[i][j] = a[i][j]; });
  emit(Dihedral::kRotate90, [&](int i, int j) { b[j][i] = (j & 1) ? a[i][j] : -a[i][j]; });
  emit(Dihedral::kRotate180, [&](int i, int j) { b[i][j] = ((i + j) & 1) ? -a[i][j] : a[i][j]; });
  emit(Dihedral::kRotate270, [&](int i, int j) { b[j][i] = (i & 1) ? a[i][j] : -a[i][j]; });
  emit(Dihedral::kFlipX, [&](int i, int j) { b[i][j] = (i & 1) ? a[i][j] : -a[i][j]; });
  emit(Dihedral::kFlipY, [&](int i, int j) { b[i][j] = (j & 1) ? a[i][j] : -a[i][j]; });
  emit(Dihedral::kFlipPlus1, [&](int i, int j) { b[j][i] = a[i][j]; });
  emit(Dihedral::kFlipMinus1, [&](int i, int j) { b[j][i] = ((i + j) & 1) ? -a[i][j] : a[i][j]; });
  return out;
}

}  // namespace hashmatch

// imagehash's aHash, dHash, pHash and wHash on Pillow's grey LANCZOS front end
// (../shared/specs/hash64.md). Comparisons are strict `>` throughout, as in imagehash.
#include "hashmatch/core/imagehash.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numbers>

#include "pillow_resample.h"

namespace hashmatch {
namespace {

using pillow::GreyImage;

// Element k = 8r + c of imagehash's row-major array is bit 63 - k of the big-endian hex number:
// byte r, bit 7 - c.
void SetElement(Hash64* h, int k) {
  h->data()[k / 8] |= uint8_t(0x80u >> (k % 8));
}

// aHash: `pixels > pixels.mean()`. The mean of 64 integers is exact in double, so 64p > sum in
// integers is the same comparison.
Hash64 AverageFromGrey(const GreyImage& g) {
  const GreyImage s = pillow::ResizeLanczos(g, 8, 8);
  int sum = 0;
  for (uint8_t p : s.pixels) sum += p;
  Hash64 h;
  for (int k = 0; k < 64; ++k)
    if (64 * int(s.pixels[k]) > sum) SetElement(&h, k);
  return h;
}

// dHash: resize to 9 wide x 8 high; `pixels[:, 1:] > pixels[:, :-1]`.
Hash64 DifferenceFromGrey(const GreyImage& g) {
  const GreyImage s = pillow::ResizeLanczos(g, 9, 8);
  Hash64 h;
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c)
      if (s.at(c + 1, r) > s.at(c, r)) SetElement(&h, 8 * r + c);
  return h;
}

// 2 cos(pi k (2n + 1) / 64): SciPy's unnormalised DCT-II basis for N = 32, k < 8.
const std::array<std::array<double, 32>, 8>& DctBasis() {
  static const auto basis = [] {
    std::array<std::array<double, 32>, 8> b{};
    for (int k = 0; k < 8; ++k)
      for (int n = 0; n < 32; ++n)
        b[k][n] = 2.0 * std::cos(std::numbers::pi * k * (2 * n + 1) / 64);
    return b;
  }();
  return basis;
}

// pHash: `dct(dct(pixels, axis=0), axis=1)[:8, :8] > median`. SciPy evaluates the DCT through an
// FFT, so its low bits differ from this direct sum; only a coefficient within ~1e-10 of the median
// could tell them apart. The median is numpy's: the mean of the 32nd and 33rd smallest.
Hash64 PerceptualFromGrey(const GreyImage& g) {
  const GreyImage s = pillow::ResizeLanczos(g, 32, 32);
  const auto& basis = DctBasis();
  // Axis 0 first (down the columns), keeping the 8 lowest vertical frequencies.
  double cols[8][32];
  for (int u = 0; u < 8; ++u)
    for (int x = 0; x < 32; ++x) {
      double acc = 0;
      for (int y = 0; y < 32; ++y) acc += basis[u][y] * s.at(x, y);
      cols[u][x] = acc;
    }
  // Then axis 1 (along the rows).
  std::array<double, 64> low;
  for (int u = 0; u < 8; ++u)
    for (int v = 0; v < 8; ++v) {
      double acc = 0;
      for (int x = 0; x < 32; ++x) acc += basis[v][x] * cols[u][x];
      low[8 * u + v] = acc;
    }
  std::array<double, 64> sorted = low;
  std::sort(sorted.begin(), sorted.end());
  const double median = (sorted[31] + sorted[32]) / 2;
  Hash64 h;
  for (int k = 0; k < 64; ++k)
    if (low[k] > median) SetElement(&h, k);
  return h;
}

// wHash. imagehash removes the Haar LL at full depth (subtracting the mean) and then takes the
// level-(log2 S - 3) Haar LL, whose coefficients are the (S/8)^2 block sums times a positive
// constant minus a constant. So bit = B > median(B) on integer block sums B, i.e.
// 2B > B(32) + B(33), with no float rounding to create or break ties.
Hash64 WaveletFromGrey(const GreyImage& g) {
  Hash64 h;
  if (g.width <= 0 || g.height <= 0) return h;
  // 2**int(numpy.log2(min(size))) of the ORIGINAL size, at least hash_size.
  const unsigned min_side = unsigned(std::min(g.width, g.height));
  const int scale = std::max(1 << (std::bit_width(min_side) - 1), 8);
  const GreyImage s = pillow::ResizeLanczos(g, scale, scale);
  const int block = scale / 8;
  std::array<int64_t, 64> sums{};
  for (int y = 0; y < scale; ++y)
    for (int x = 0; x < scale; ++x) sums[8 * (y / block) + x / block] += s.at(x, y);
  std::array<int64_t, 64> sorted = sums;
  std::sort(sorted.begin(), sorted.end());
  const int64_t twice_median = sorted[31] + sorted[32];
  for (int k = 0; k < 64; ++k)
    if (2 * sums[k] > twice_median) SetElement(&h, k);
  return h;
}

}  // namespace

Hash64 AverageHash(const Image& image) {
  return AverageFromGrey(pillow::ToGrey(image));
}
Hash64 DifferenceHash(const Image& image) {
  return DifferenceFromGrey(pillow::ToGrey(image));
}
Hash64 PerceptualHash(const Image& image) {
  return PerceptualFromGrey(pillow::ToGrey(image));
}
Hash64 WaveletHash(const Image& image) {
  return WaveletFromGrey(pillow::ToGrey(image));
}

ImageHash64Set ComputeImageHashes(const Image& image) {
  const GreyImage g = pillow::ToGrey(image);
  return {AverageFromGrey(g), DifferenceFromGrey(g), PerceptualFromGrey(g), WaveletFromGrey(g)};
}

}  // namespace hashmatch

// PDQ hashing core. Built with -ffp-contract=off and without -ffast-math: every float value is
// computed with the same operations, in the same order, as the reference pdqhashing.cpp, so the
// bits match. Do not reassociate sums or fuse multiply-adds here.
#include "hashmatch/core/pdq.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace hashmatch {
namespace {

constexpr int kMinHashableDim = 5;
constexpr int kJaroszPasses = 2;

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

int JaroszWindow(int old_dim) {
  return (old_dim + 2 * 64 - 1) / (2 * 64);
}

// The reference's running-mean box filter (box1DFloat: a centred window that shrinks at the ends
// to the in-bounds samples) on `nb` vectors at once: vector b starts at starts[b] and steps by
// `step`. Each vector sees exactly box1DFloat's sequence of float operations; interleaving
// independent vectors hides the running sum's latency (rows) and makes loads contiguous (columns),
// and lets the compiler vectorise across vectors without reassociating anything.
template <int B>
void BoxMany(const float* in, float* out, int length, size_t step, const size_t* starts, int nb,
             int window) {
  const int half = (window + 2) / 2;
  const int phase1 = half - 1;
  const int phase2 = window - half + 1;
  const int phase3 = length - window;
  const int phase4 = half - 1;
  float sum[B] = {};
  float current = 0.0f;
  size_t li = 0, ri = 0, oi = 0;
  for (int i = 0; i < phase1; ++i, ri += step) {
    for (int b = 0; b < nb; ++b) sum[b] += in[starts[b] + ri];
    current += 1;
  }
  for (int i = 0; i < phase2; ++i, ri += step, oi += step) {
    current += 1;
    for (int b = 0; b < nb; ++b) {
      sum[b] += in[starts[b] + ri];
      out[starts[b] + oi] = sum[b] / current;
    }
  }
  for (int i = 0; i < phase3; ++i, li += step, ri += step, oi += step) {
    for (int b = 0; b < nb; ++b) {
      sum[b] += in[starts[b] + ri];
      sum[b] -= in[starts[b] + li];
      out[starts[b] + oi] = sum[b] / current;
    }
  }
  for (int i = 0; i < phase4; ++i, li += step, oi += step) {
    current -= 1;
    for (int b = 0; b < nb; ++b) {
      sum[b] -= in[starts[b] + li];
      out[starts[b] + oi] = sum[b] / current;
    }
  }
}

// Box1D over every vector named in `starts`, kBlock at a time.
void BoxAll(const float* in, float* out, int length, size_t step, const std::vector<size_t>& starts,
            int window) {
  constexpr int kBlock = 16;
  for (size_t j0 = 0; j0 < starts.size(); j0 += kBlock) {
    const int nb = int(std::min<size_t>(kBlock, starts.size() - j0));
    BoxMany<kBlock>(in, out, length, step, starts.data() + j0, nb, window);
  }
}

// Two passes of (rows, then columns). The last column pass runs only on the columns that the
// 64x64 decimation samples: every value it produces is computed exactly as before, and the
// others are never read.
void JaroszFilter(float* buf1, float* buf2, int rows, int cols, int window_along_rows,
                  int window_along_cols) {
  std::vector<size_t> row_starts(static_cast<size_t>(rows)), col_starts(static_cast<size_t>(cols)),
      sampled_cols(64);
  for (int i = 0; i < rows; ++i) row_starts[size_t(i)] = size_t(i) * size_t(cols);
  for (int j = 0; j < cols; ++j) col_starts[size_t(j)] = size_t(j);
  for (int j = 0; j < 64; ++j) sampled_cols[size_t(j)] = size_t(((j + 0.5) * cols) / 64);
  for (int pass = 0; pass < kJaroszPasses; ++pass) {
    BoxAll(buf1, buf2, cols, 1, row_starts, window_along_rows);
    BoxAll(buf2, buf1, rows, size_t(cols), pass + 1 == kJaroszPasses ? sampled_cols : col_starts,
           window_along_cols);
  }
}

void Decimate64(const float* in, int rows, int cols, float out[64][64]) {
  for (int i = 0; i < 64; ++i) {
    const int ini = int(((i + 0.5) * rows) / 64);
    for (int j = 0; j < 64; ++j) {
      const int inj = int(((j + 0.5) * cols) / 64);
      out[i][j] = in[size_t(ini) * cols + inj];
    }
  }
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

bool PdqHasher::TransformLuma(int rows, int cols, int* quality) {
  if (rows < kMinHashableDim || cols < kMinHashableDim) {
    *quality = 0;
    return false;
  }
  float decimated[64][64];
  if (rows == 64 && cols == 64) {
    // The reference takes a 64x64 input as already downsampled (video frames): no blur.
    std::copy(luma_.begin(), luma_.end(), &decimated[0][0]);
  } else {
    scratch_.resize(size_t(rows) * cols);
    JaroszFilter(luma_.data(), scratch_.data(), rows, cols, JaroszWindow(cols), JaroszWindow(rows));
    Decimate64(luma_.data(), rows, cols, decimated);
  }
  *quality = Quality(decimated);
  Dct64To16(decimated, dct_);
  return true;
}

bool PdqHasher::Transform(const Image& image, const PdqOptions& options, int* quality) {
  int rows = image.height, cols = image.width;
  // The reference tool's 512 path: nearest-neighbour to exactly 512x512 when a side exceeds 512.
  const bool resize = options.compat_512 && (rows > 512 || cols > 512);
  const int out_rows = resize ? 512 : rows, out_cols = resize ? 512 : cols;
  luma_.resize(size_t(out_rows) * out_cols);
  static constexpr float kR = 0.299f, kG = 0.587f, kB = 0.114f;
  for (int y = 0; y < out_rows; ++y) {
    const int sy = resize ? int(int64_t(y) * rows / 512) : y;
    const uint8_t* row = image.row(sy);
    float* out = luma_.data() + size_t(y) * out_cols;
    for (int x = 0; x < out_cols; ++x) {
      const int sx = resize ? int(int64_t(x) * cols / 512) : x;
      if (image.channels == 1) {
        out[x] = float(row[sx]);
      } else {
        const uint8_t* p = row + size_t(sx) * 3;
        out[x] = kR * float(p[0]) + kG * float(p[1]) + kB * float(p[2]);
      }
    }
  }
  return TransformLuma(out_rows, out_cols, quality);
}

PdqHash PdqHasher::HashLuma(const float* luma, int rows, int cols) {
  PdqHash r;
  if (rows < kMinHashableDim || cols < kMinHashableDim) return r;
  luma_.assign(luma, luma + size_t(rows) * cols);
  if (TransformLuma(rows, cols, &r.quality)) r.hash = Bits(dct_);
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

// PdqHasher on encoded bytes: the exact path (full decode, bit-exact core) and the fast path for
// JPEGs: a DCT-domain reduced, luma-only decode (image_jpeg.cc), then the 64x64 that the exact
// pipeline's blur and decimation would give, computed from the reduced image with the exact
// kernels (DecimateFromScaled below), then the exact core's quality, DCT, median and bits.
// Why not simply PDQ on the reduced image: its blur windows and sample positions would be those of
// the reduced size, and that alone drifted 10-26 bits on photos; emulating the full-size kernels
// leaves only the detail lost below one reduced pixel (docs/benchmarks.md has the figures;
// tests/conformance/pdq_fast_drift_test.cc holds the bar).
#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "exif.h"
#include "hashmatch/core/pdq.h"
#include "image_internal.h"
#include "pdq_fast_internal.h"

namespace hashmatch::pdq_internal {
namespace {

// Weights of one axis: output sample i reads scaled samples first[i] .. first[i] + count[i] - 1
// with weights w[offset[i] ...].
struct AxisWeights {
  int first[64], count[64], offset[64];
  std::vector<float> w;
};

// The exact pipeline along one axis of `length` stored samples is two passes of the reference's
// box filter B (window (length + 127) / 128, centred with half-window (window + 2) / 2, shrinking
// to the in-bounds samples at the ends), then sampling at floor((i + 0.5) * length / 64): sample i
// is row s_i of B * B, a kernel about two windows wide. Each scaled sample stands for `step`
// stored ones, so its weight is that kernel's sum over its footprint.
void ComputeAxis(int length, int scaled, int step, int pad, AxisWeights* a) {
  const int window = (length + 127) / 128;
  const int half = (window + 2) / 2;
  const int lo_off = window - half, hi_off = half - 1;  // box at r: [r - lo_off, r + hi_off]
  auto lo = [&](int r) { return std::max(0, r - lo_off); };
  auto hi = [&](int r) { return std::min(length - 1, r + hi_off); };
  std::vector<double> kernel;
  a->w.clear();
  for (int i = 0; i < 64; ++i) {
    const int s = int(((i + 0.5) * length) / 64);
    const int k0 = lo(lo(s)), k1 = hi(hi(s));
    // (B * B)[s][y] = sum over m in box(s) of B[s][m] * B[m][y]: a sum of boxes, built with a
    // difference array over [k0, k1 + 1].
    kernel.assign(size_t(k1 - k0 + 2), 0.0);
    const double ws = 1.0 / (hi(s) - lo(s) + 1);
    for (int m = lo(s); m <= hi(s); ++m) {
      const double wm = ws / (hi(m) - lo(m) + 1);
      kernel[size_t(lo(m) - k0)] += wm;
      kernel[size_t(hi(m) + 1 - k0)] -= wm;
    }
    for (size_t y = 1; y < kernel.size(); ++y) kernel[y] += kernel[y - 1];
    const int f0 = (k0 + pad) / step, f1 = std::min(scaled - 1, (k1 + pad) / step);
    a->first[i] = f0;
    a->count[i] = f1 - f0 + 1;
    a->offset[i] = int(a->w.size());
    for (int f = f0; f <= f1; ++f) {
      double sum = 0;
      const int b0 = f * step - pad;
      for (int y = std::max(k0, b0); y <= std::min(k1, b0 + step - 1); ++y) {
        sum += kernel[size_t(y - k0)];
      }
      a->w.push_back(float(sum));
    }
  }
}

// EXIF orientation on a float buffer, with exif::ApplyOrientation's mapping: display pixel
// (dx, dy) reads in[origin + dx * sx + dy * sy]. rev_x / rev_y: the display axis runs backwards
// through the stored one.
void OrientLuma(const float* in, int rows, int cols, int orientation, std::vector<float>* out,
                bool* rev_x, bool* rev_y) {
  const ptrdiff_t w = cols, h = rows;
  ptrdiff_t origin = 0, sx = 1, sy = w;
  switch (orientation) {
    case 2:
      origin = w - 1, sx = -1, sy = w;
      break;
    case 3:
      origin = (h - 1) * w + w - 1, sx = -1, sy = -w;
      break;
    case 4:
      origin = (h - 1) * w, sx = 1, sy = -w;
      break;
    case 5:
      origin = 0, sx = w, sy = 1;
      break;
    case 6:
      origin = (h - 1) * w, sx = -w, sy = 1;
      break;
    case 7:
      origin = (h - 1) * w + w - 1, sx = -w, sy = -1;
      break;
    case 8:
      origin = w - 1, sx = w, sy = -1;
      break;
    default:
      break;
  }
  const int out_w = orientation >= 5 ? rows : cols, out_h = orientation >= 5 ? cols : rows;
  out->resize(size_t(rows) * size_t(cols));
  for (int y = 0; y < out_h; ++y) {
    float* dst = out->data() + size_t(y) * out_w;
    ptrdiff_t src = origin + ptrdiff_t(y) * sy;
    for (int x = 0; x < out_w; ++x, src += sx) dst[x] = in[src];
  }
  *rev_x = sx < 0;
  *rev_y = sy < 0;
}

}  // namespace

void DecimateFromScaled(const float* luma, int rows, int cols, int height, int width, int scale_num,
                        int pad_y, int pad_x, float out[64][64], std::vector<float>* scratch) {
  const int step = 8 / scale_num;
  AxisWeights ay, ax;
  ComputeAxis(height, rows, step, pad_y, &ay);
  ComputeAxis(width, cols, step, pad_x, &ax);
  // Rows first (64 weighted sums of whole scaled rows: contiguous, vectorisable), then columns.
  scratch->assign(size_t(64) * cols, 0.0f);
  for (int i = 0; i < 64; ++i) {
    float* t = scratch->data() + size_t(i) * cols;
    for (int k = 0; k < ay.count[i]; ++k) {
      const float wk = ay.w[size_t(ay.offset[i] + k)];
      const float* src = luma + size_t(ay.first[i] + k) * cols;
      for (int x = 0; x < cols; ++x) t[x] += wk * src[x];
    }
  }
  for (int i = 0; i < 64; ++i) {
    const float* t = scratch->data() + size_t(i) * cols;
    for (int j = 0; j < 64; ++j) {
      float sum = 0.0f;
      const float* wj = ax.w.data() + ax.offset[j];
      const float* tj = t + ax.first[j];
      for (int l = 0; l < ax.count[j]; ++l) sum += wj[l] * tj[l];
      out[i][j] = sum;
    }
  }
}

}  // namespace hashmatch::pdq_internal

namespace hashmatch {

Result<PdqImageHash> PdqHasher::HashEncoded(std::span<const uint8_t> bytes,
                                            const DecodeOptions& decode, const PdqOptions& options,
                                            bool dihedral) {
  PdqImageHash r;
  // compat_512 reproduces a nearest-neighbour resize of the full-size pixels: keep it exact.
  const bool fast =
      options.fast && !options.compat_512 && SniffImageFormat(bytes) == ImageFormat::kJpeg;
  if (!fast) {
    const Image* image = &image_;
    std::optional<Image> decoded;
    if (!decode.apply_exif_orientation && SniffImageFormat(bytes) == ImageFormat::kJpeg) {
      // Into the hasher's own image: a multi-megabyte buffer allocated once, not per image (a
      // fresh one costs page faults and a zero-fill, about as much as the hash itself).
      if (Status s = image_internal::DecodeJpegReusing(bytes, decode, &image_); !s.ok()) return s;
    } else {
      auto d = DecodeImage(bytes, decode);
      if (!d.ok()) return d.status();
      decoded = std::move(*d);
      image = &*decoded;
    }
    r.width = image->width;
    r.height = image->height;
    r.truncated = image->truncated;
    if (dihedral) {
      r.pdq = HashDihedral(*image, options);
    } else {
      r.pdq[0] = Hash(*image, options);
    }
    return r;
  }

  image_internal::JpegLumaRequest request;
  // Never below 65: a 64x64 buffer skips the blur, and fewer samples than the decimation grid
  // would alias (decimation would repeat samples).
  request.min_side = std::max(65, options.fast_min_side);
  image_internal::JpegLuma info;
  // Decoded straight to float luma (the hasher's scratch buffer): no full-resolution image.
  if (Status s = image_internal::DecodeJpegLuma(bytes, decode, request, &scratch_, &info);
      !s.ok()) {
    return s;
  }
  r.truncated = info.truncated;
  r.scale_num = info.scale_num;
  r.fast = true;
  // EXIF orientation, when asked for, is applied to the small luma buffer; the blur windows and
  // sample positions then follow the oriented (display) size, as on the exact path.
  const int orientation = decode.apply_exif_orientation ? exif::OrientationFromJpeg(bytes) : 1;
  bool rev_x = false, rev_y = false;
  if (orientation >= 2 && orientation <= 8) {
    pdq_internal::OrientLuma(scratch_.data(), info.rows, info.cols, orientation, &luma_, &rev_x,
                             &rev_y);
    scratch_.swap(luma_);
    if (orientation >= 5) {
      std::swap(info.rows, info.cols);
      std::swap(info.width, info.height);
    }
  }
  r.width = info.width;
  r.height = info.height;
  int quality = 0;
  // The size rule (under 5 on a side: zero hash, quality 0) is on the stored size, as on the
  // exact path; the scale rule keeps a reduced side at 65 or more.
  if (info.width < 5 || info.height < 5) return r;
  if (info.scale_num < 8) {
    // The exact pipeline's blur and decimation, emulated on the reduced image, into luma_ as a
    // 64x64 buffer, which TransformLuma takes as already decimated.
    const int step = 8 / info.scale_num;
    const int pad_y = rev_y ? info.rows * step - info.height : 0;
    const int pad_x = rev_x ? info.cols * step - info.width : 0;
    float decimated[64][64];
    pdq_internal::DecimateFromScaled(scratch_.data(), info.rows, info.cols, info.height, info.width,
                                     info.scale_num, pad_y, pad_x, decimated, &luma_);
    luma_.assign(&decimated[0][0], &decimated[0][0] + 64 * 64);
    TransformLuma(64, 64, &quality);
  } else {
    luma_.swap(scratch_);
    TransformLuma(info.rows, info.cols, &quality);
  }
  if (dihedral) {
    r.pdq = DihedralFromDct(quality);
  } else {
    r.pdq[0] = HashFromDct(quality);
  }
  return r;
}

Result<PdqImageHash> PdqHasher::HashBytes(std::span<const uint8_t> bytes,
                                          const DecodeOptions& decode, const PdqOptions& options) {
  return HashEncoded(bytes, decode, options, /*dihedral=*/false);
}

Result<PdqImageHash> PdqHasher::HashDihedralBytes(std::span<const uint8_t> bytes,
                                                  const DecodeOptions& decode,
                                                  const PdqOptions& options) {
  return HashEncoded(bytes, decode, options, /*dihedral=*/true);
}

}  // namespace hashmatch

// Pillow's convert('L') and LANCZOS resize; see pillow_resample.h for why this must be exact.
// Each step below names the Pillow statement it reproduces, in the same evaluation order.
#include "pillow_resample.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace hashmatch::pillow {
namespace {

// Resample.c: PRECISION_BITS = 32 - 8 - 2 (8 bits of pixel, 2 of headroom for the filter's lobes).
constexpr int kPrecisionBits = 22;
constexpr double kLanczosSupport = 3.0;

// Resample.c sinc_filter / lanczos_filter: sinc(x) * sinc(x / 3) on [-3, 3), zero outside.
double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * std::numbers::pi;
  return std::sin(x) / x;
}

double Lanczos(double x) {
  if (-3.0 <= x && x < 3.0) return Sinc(x) * Sinc(x / 3);
  return 0.0;
}

// Resample.c clip8: the accumulator (with its 2^21 rounding bias already added) floor-shifted by
// 22 bits and clamped to 0..255. C++20 defines >> of a negative value as the floor shift.
uint8_t Clip8(int64_t acc) {
  const int64_t v = acc >> kPrecisionBits;
  return uint8_t(std::clamp<int64_t>(v, 0, 255));
}

// ImagingResampleHorizontal_8bpc for rows [row0, row0 + out.height) of `in`.
void HorizontalPass(const GreyImage& in, int row0, const AxisFilter& f, GreyImage* out) {
  for (int y = 0; y < out->height; ++y) {
    const uint8_t* src = in.pixels.data() + size_t(row0 + y) * in.width;
    uint8_t* dst = out->pixels.data() + size_t(y) * out->width;
    for (int x = 0; x < out->width; ++x) {
      const int32_t* k = &f.coeffs[size_t(x) * f.stride];
      const uint8_t* s = src + f.first[x];
      int64_t acc = int64_t(1) << (kPrecisionBits - 1);
      for (int j = 0; j < f.count[x]; ++j) acc += int64_t(s[j]) * k[j];
      dst[x] = Clip8(acc);
    }
  }
}

// ImagingResampleVertical_8bpc; `row_offset` is subtracted from the filter's first rows because
// `in` may hold only the rows the horizontal pass produced (Pillow's ybox_first shift).
void VerticalPass(const GreyImage& in, int row_offset, const AxisFilter& f, GreyImage* out) {
  for (int y = 0; y < out->height; ++y) {
    const int32_t* k = &f.coeffs[size_t(y) * f.stride];
    const int first = f.first[y] - row_offset;
    uint8_t* dst = out->pixels.data() + size_t(y) * out->width;
    for (int x = 0; x < out->width; ++x) {
      int64_t acc = int64_t(1) << (kPrecisionBits - 1);
      for (int j = 0; j < f.count[y]; ++j)
        acc += int64_t(in.pixels[size_t(first + j) * in.width + x]) * k[j];
      dst[x] = Clip8(acc);
    }
  }
}

}  // namespace

GreyImage ToGrey(const Image& image) {
  GreyImage g;
  g.width = image.width;
  g.height = image.height;
  const size_t n = size_t(image.width) * image.height;
  if (image.channels == 1) {
    g.pixels.assign(image.pixels.begin(), image.pixels.begin() + n);
    return g;
  }
  g.pixels.resize(n);
  const uint8_t* p = image.pixels.data();
  for (size_t i = 0; i < n; ++i, p += image.channels) {
    // Convert.c L24: (rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16.
    g.pixels[i] = uint8_t((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
  }
  return g;
}

// Resample.c precompute_coeffs (box = the whole axis) followed by normalize_coeffs_8bpc.
AxisFilter LanczosAxisFilter(int in_size, int out_size) {
  AxisFilter f;
  // in1 - in0 is a float subtraction in Pillow; exact for any image size below 2^24.
  const double scale = double(float(in_size)) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = kLanczosSupport * filterscale;
  f.stride = int(std::ceil(support)) * 2 + 1;
  f.first.resize(out_size);
  f.count.resize(out_size);
  f.coeffs.assign(size_t(out_size) * f.stride, 0);
  std::vector<double> w(f.stride);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = 0.0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;  // Pillow multiplies by 1/fs, it does not divide by fs
    // (int) truncates toward zero, as in C; the clamps follow.
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    const int n = xmax - xmin;
    assert(n <= f.stride);
    double ww = 0.0;
    for (int x = 0; x < n; ++x) {
      w[x] = Lanczos((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < n; ++x) {
      if (ww != 0.0) w[x] /= ww;
      // normalize_coeffs_8bpc: to 22-bit fixed point, rounding half away from zero.
      const double scaled = w[x] * (1 << kPrecisionBits);
      f.coeffs[size_t(xx) * f.stride + x] =
          w[x] < 0 ? int32_t(-0.5 + scaled) : int32_t(0.5 + scaled);
    }
    f.first[xx] = xmin;
    f.count[xx] = n;
  }
  return f;
}

// Resample.c ImagingResampleInner, preceded by Image.resize's "same size is a copy".
GreyImage ResizeLanczos(const GreyImage& in, int out_width, int out_height) {
  GreyImage out;
  out.width = out_width;
  out.height = out_height;
  out.pixels.assign(size_t(out_width) * out_height, 0);
  if (in.width <= 0 || in.height <= 0 || out_width <= 0 || out_height <= 0) return out;
  const bool need_h = out_width != in.width;
  const bool need_v = out_height != in.height;
  if (!need_h && !need_v) return in;

  const AxisFilter fv = LanczosAxisFilter(in.height, out_height);
  if (!need_h) {
    VerticalPass(in, 0, fv, &out);
    return out;
  }
  const AxisFilter fh = LanczosAxisFilter(in.width, out_width);
  if (!need_v) {
    HorizontalPass(in, 0, fh, &out);
    return out;
  }
  // Horizontal pass only over the rows the vertical pass will read (Pillow's ybox_first/last).
  const int row_first = fv.first[0];
  const int row_last = fv.first[out_height - 1] + fv.count[out_height - 1];
  GreyImage tmp;
  tmp.width = out_width;
  tmp.height = row_last - row_first;
  tmp.pixels.resize(size_t(tmp.width) * tmp.height);
  HorizontalPass(in, row_first, fh, &tmp);
  VerticalPass(tmp, row_first, fv, &out);
  return out;
}

}  // namespace hashmatch::pillow

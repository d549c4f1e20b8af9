// Pillow's grey conversion and LANCZOS resize, reproduced bit-exactly (private to core).
//
// The Python `imagehash` hashes are defined on Pillow's output: `convert('L')` then
// `resize((w, h), LANCZOS)`. Any other resampler (area, bilinear, float Lanczos) moves pixels by a
// grey level here and there and flips hash bits, so this is a port of Pillow's own code path
// (libImaging/Convert.c and Resample.c, unchanged from Pillow 5.0 to today) as restated in
// ../shared/specs/hash64.md:
//   - grey = (19595 R + 38470 G + 7471 B + 32768) >> 16;
//   - per axis, filter taps computed in double, divided by their sum, rounded to 22-bit fixed point
//     half away from zero;
//   - horizontal pass first, stored as 8-bit, then the vertical pass reads that; an axis that keeps
//     its size is skipped and an unchanged size is a plain copy.
// This file is compiled with -ffp-contract=off so the double arithmetic is evaluated as written.
#pragma once

#include <cstdint>
#include <vector>

#include "hashmatch/core/image.h"

namespace hashmatch::pillow {

// An 8-bit single-channel image (Pillow mode "L"), row-major, no padding.
struct GreyImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  uint8_t at(int x, int y) const { return pixels[size_t(y) * width + x]; }
};

// Pillow's convert('L'): grey images are used as they are, RGB through the integer ITU-R 601-2
// weights rounded to nearest.
GreyImage ToGrey(const Image& image);

// Pillow's Image.resize((out_width, out_height), Image.LANCZOS) of a mode "L" image, without
// keeping the aspect ratio. out_width and out_height must be positive; an empty input gives an
// all-zero output.
GreyImage ResizeLanczos(const GreyImage& in, int out_width, int out_height);

// The fixed-point filter of one axis (exposed for tests): output i reads `count[i]` inputs from
// `first[i]` with weights coeffs[i * stride + j], which sum to about 2^22.
struct AxisFilter {
  int stride = 0;
  std::vector<int> first, count;
  std::vector<int32_t> coeffs;
};
AxisFilter LanczosAxisFilter(int in_size, int out_size);

}  // namespace hashmatch::pillow

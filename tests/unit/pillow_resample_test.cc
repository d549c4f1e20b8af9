// Pillow's grey conversion and LANCZOS resampler (core/src/pillow_resample.h): values worked out
// by hand from Resample.c's formulas, and the structural cases (same-size copy, one-axis skip,
// upscaling, ringing clamped to 0..255).
#include "pillow_resample.h"

#include <gtest/gtest.h>

#include <numeric>

namespace hashmatch::pillow {
namespace {

GreyImage Make(int w, int h, std::vector<uint8_t> px) {
  GreyImage g;
  g.width = w;
  g.height = h;
  g.pixels = std::move(px);
  return g;
}

GreyImage Noise(int w, int h, uint32_t seed) {
  std::vector<uint8_t> px(size_t(w) * h);
  for (auto& p : px) {
    seed = seed * 1664525u + 1013904223u;
    p = uint8_t(seed >> 24);
  }
  return Make(w, h, std::move(px));
}

TEST(PillowGrey, IntegerRec601RoundedToNearest) {
  Image rgb;
  rgb.width = 5;
  rgb.height = 1;
  rgb.channels = 3;
  rgb.pixels = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30};
  const GreyImage g = ToGrey(rgb);
  // (19595 R + 38470 G + 7471 B + 32768) >> 16; a float .299/.587/.114 truncation gives 28 for
  // pure blue and 18 for the last pixel.
  EXPECT_EQ(g.pixels, (std::vector<uint8_t>{76, 150, 29, 255, 18}));
  Image grey;
  grey.width = 2;
  grey.height = 1;
  grey.channels = 1;
  grey.pixels = {7, 250};
  EXPECT_EQ(ToGrey(grey).pixels, grey.pixels);
}

TEST(PillowResample, SameSizeIsACopy) {
  const GreyImage in = Noise(13, 7, 1);
  const GreyImage out = ResizeLanczos(in, 13, 7);
  EXPECT_EQ(out.width, 13);
  EXPECT_EQ(out.height, 7);
  EXPECT_EQ(out.pixels, in.pixels);
}

TEST(PillowResample, OneAxisChangedLeavesTheOtherUntouched) {
  const GreyImage in = Noise(40, 6, 2);
  // Width only: every row is resized on its own, exactly as a one-row image.
  const GreyImage w = ResizeLanczos(in, 9, 6);
  for (int y = 0; y < 6; ++y) {
    GreyImage row = Make(40, 1, {in.pixels.begin() + y * 40, in.pixels.begin() + (y + 1) * 40});
    const GreyImage r = ResizeLanczos(row, 9, 1);
    EXPECT_EQ(std::vector<uint8_t>(w.pixels.begin() + y * 9, w.pixels.begin() + (y + 1) * 9),
              r.pixels)
        << "row " << y;
  }
  // Height only: every column on its own.
  const GreyImage h = ResizeLanczos(in, 40, 3);
  for (int x = 0; x < 40; ++x) {
    std::vector<uint8_t> col(6);
    for (int y = 0; y < 6; ++y) col[y] = in.at(x, y);
    const GreyImage c = ResizeLanczos(Make(1, 6, col), 1, 3);
    for (int y = 0; y < 3; ++y) EXPECT_EQ(h.at(x, y), c.pixels[y]) << x << "," << y;
  }
}

TEST(PillowResample, TwoPassesAreHorizontalThenVerticalThrough8Bits) {
  const GreyImage in = Noise(50, 30, 3);
  const GreyImage both = ResizeLanczos(in, 11, 7);
  const GreyImage staged = ResizeLanczos(ResizeLanczos(in, 11, 30), 11, 7);
  EXPECT_EQ(both.pixels, staged.pixels);
}

TEST(PillowResample, UpscaleTwoToFourByHand) {
  // in = 2, out = 4: scale 0.5, filter scale 1, support 3, every output reads both inputs.
  // Output 0: centre 0.25, taps at t = 0.25 and 1.25: K = 0.890067, -0.132870, normalised
  // 1.175475, -0.175475. Output 1: centre 0.75, t = -0.25 and 0.75: 0.767124, 0.232876.
  // [100, 200] -> 82.45, 123.29, 176.71, 217.55 -> rounded.
  const GreyImage out = ResizeLanczos(Make(2, 1, {100, 200}), 4, 1);
  EXPECT_EQ(out.pixels, (std::vector<uint8_t>{82, 123, 177, 218}));
  // The negative lobe overshoots: clamped at both ends.
  EXPECT_EQ(ResizeLanczos(Make(2, 1, {0, 255}), 4, 1).pixels,
            (std::vector<uint8_t>{0, 59, 196, 255}));
  const AxisFilter f = LanczosAxisFilter(2, 4);
  EXPECT_EQ(f.stride, 7);
  EXPECT_EQ(f.first, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(f.count, (std::vector<int>{2, 2, 2, 2}));
}

TEST(PillowResample, FlatImagesStayFlatAtAnyScale) {
  for (uint8_t v : {0, 1, 128, 254, 255}) {
    const GreyImage in = Make(17, 5, std::vector<uint8_t>(17 * 5, v));
    for (auto [w, h] : {std::pair{8, 8}, {9, 8}, {32, 32}, {3, 40}, {100, 1}}) {
      const GreyImage out = ResizeLanczos(in, w, h);
      for (uint8_t p : out.pixels) ASSERT_EQ(p, v) << int(v) << " to " << w << "x" << h;
    }
  }
}

TEST(PillowResample, FilterBoundsAndWeights) {
  // Downscale 100 -> 10: scale 10, support 30, at most 2 * 30 + 1 taps, clipped at the edges.
  const AxisFilter f = LanczosAxisFilter(100, 10);
  EXPECT_EQ(f.stride, 61);
  EXPECT_EQ(f.first[0], 0);
  EXPECT_EQ(f.count[0], 35);  // (int)(5 + 30 + 0.5)
  EXPECT_EQ(f.first[5], 25);  // (int)(55 - 30 + 0.5)
  EXPECT_EQ(f.count[5], 60);
  EXPECT_EQ(f.first[9] + f.count[9], 100);
  for (int i = 0; i < 10; ++i) {
    const int64_t sum = std::accumulate(f.coeffs.begin() + i * f.stride,
                                        f.coeffs.begin() + (i + 1) * f.stride, int64_t(0));
    // Each weight is rounded on its own: the sum is 2^22 within half a unit per tap.
    EXPECT_LE(std::llabs(sum - (int64_t(1) << 22)), f.count[i]) << i;
  }
}

TEST(PillowResample, EmptyInputGivesZeros) {
  const GreyImage out = ResizeLanczos(GreyImage{}, 8, 8);
  EXPECT_EQ(out.pixels, std::vector<uint8_t>(64, 0));
}

}  // namespace
}  // namespace hashmatch::pillow

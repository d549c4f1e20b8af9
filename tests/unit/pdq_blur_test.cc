// The SIMD blur pipeline (core/src/pdq_blur.h) against a plain transcription of the reference
// (pdqhashing.cpp: fillFloatLumaFromBufferImage, jaroszFilterFloat with box1DFloat along rows then
// columns, twice, and decimateFloat), bit for bit, on every instruction set the CPU supports:
// random images of many shapes (so every window size from 1 up, both phases' edge cases, partial
// strips and partial vectors), grey and RGB, float luma, and the 512 path. Compiled with
// -ffp-contract=off like the code under test.
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "hashmatch/core/hex.h"
#include "hashmatch/core/pdq.h"
#include "pdq_blur.h"

namespace hashmatch {
namespace {

// box1DFloat of the reference, verbatim in its operations.
void Box1D(const float* in, float* out, int length, int stride, int window) {
  const int half = (window + 2) / 2;
  const int phase1 = half - 1, phase2 = window - half + 1, phase3 = length - window,
            phase4 = half - 1;
  const float* li = in;
  const float* ri = in;
  float* oi = out;
  float sum = 0.0f, current = 0.0f;
  for (int i = 0; i < phase1; ++i, ri += stride) {
    sum += *ri;
    current += 1;
  }
  for (int i = 0; i < phase2; ++i, ri += stride, oi += stride) {
    sum += *ri;
    current += 1;
    *oi = sum / current;
  }
  for (int i = 0; i < phase3; ++i, ri += stride, li += stride, oi += stride) {
    sum += *ri;
    sum -= *li;
    *oi = sum / current;
  }
  for (int i = 0; i < phase4; ++i, li += stride, oi += stride) {
    sum -= *li;
    current -= 1;
    *oi = sum / current;
  }
}

// The reference's luma, two Jarosz passes (rows, then columns) and 64x64 decimation.
void ReferenceBlurDecimate(std::vector<float> luma, int rows, int cols, float out[64][64]) {
  if (rows == 64 && cols == 64) {
    std::memcpy(out, luma.data(), sizeof(float) * 64 * 64);
    return;
  }
  std::vector<float> tmp(luma.size());
  const int wr = pdq_internal::JaroszWindow(cols), wc = pdq_internal::JaroszWindow(rows);
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < rows; ++i)
      Box1D(&luma[size_t(i) * cols], &tmp[size_t(i) * cols], cols, 1, wr);
    for (int j = 0; j < cols; ++j) Box1D(&tmp[size_t(j)], &luma[size_t(j)], rows, cols, wc);
  }
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j)
      out[i][j] = luma[size_t(int(((i + 0.5) * rows) / 64)) * cols + int(((j + 0.5) * cols) / 64)];
}

std::vector<float> ReferenceLuma(const Image& im, bool nearest_512, int* rows, int* cols) {
  const bool resize = nearest_512 && (im.width > 512 || im.height > 512);
  *rows = resize ? 512 : im.height;
  *cols = resize ? 512 : im.width;
  std::vector<float> luma(size_t(*rows) * *cols);
  for (int y = 0; y < *rows; ++y) {
    const int sy = resize ? int(int64_t(y) * im.height / 512) : y;
    for (int x = 0; x < *cols; ++x) {
      const int sx = resize ? int(int64_t(x) * im.width / 512) : x;
      const uint8_t* p = im.row(sy) + size_t(sx) * im.channels;
      luma[size_t(y) * *cols + x] =
          im.channels == 1 ? float(p[0])
                           : 0.299f * float(p[0]) + 0.587f * float(p[1]) + 0.114f * float(p[2]);
    }
  }
  return luma;
}

Image RandomImage(int w, int h, int channels, std::mt19937& rng, int style) {
  Image im;
  im.width = w;
  im.height = h;
  im.channels = channels;
  im.pixels.resize(size_t(w) * h * channels);
  for (size_t i = 0; i < im.pixels.size(); ++i) {
    switch (style) {
      case 0:  // noise: every rounding case the sums can hit
        im.pixels[i] = uint8_t(rng());
        break;
      case 1:  // flat at the extreme
        im.pixels[i] = 255;
        break;
      default: {  // smooth gradient with a little noise, photo-like
        const size_t p = i / size_t(channels);
        const int x = int(p % size_t(w)), y = int(p / size_t(w));
        im.pixels[i] = uint8_t((x * 255 / w + y * 127 / h + int(rng() % 9)) & 255);
      }
    }
  }
  return im;
}

std::vector<PdqSimd> Supported() {
  std::vector<PdqSimd> v;
  std::string skipped;
  for (PdqSimd s : kAllPdqSimd) {
    if (PdqSimdSupported(s)) {
      v.push_back(s);
    } else {
      skipped += std::string(" ") + PdqSimdName(s);
    }
  }
  std::cout << "PDQ instruction sets not run (CPU lacks them):"
            << (skipped.empty() ? " none" : skipped) << std::endl;
  return v;
}

class PdqBlurTest : public ::testing::TestWithParam<PdqSimd> {};

INSTANTIATE_TEST_SUITE_P(Simd, PdqBlurTest, ::testing::ValuesIn(Supported()),
                         [](const ::testing::TestParamInfo<PdqSimd>& i) {
                           return std::string(PdqSimdName(i.param));
                         });

// Compares the pipeline with the reference on one image; returns the number of differing cells.
int Compare(PdqSimd simd, const Image& im, bool nearest_512, std::vector<float>* arena) {
  int rows = 0, cols = 0;
  const std::vector<float> luma = ReferenceLuma(im, nearest_512, &rows, &cols);
  float want[64][64], got[64][64], got_float[64][64];
  ReferenceBlurDecimate(luma, rows, cols, want);

  pdq_internal::LumaSource src;
  src.rows = rows;
  src.cols = cols;
  src.pixels = im.pixels.data();
  src.channels = im.channels;
  src.src_width = im.width;
  src.src_height = im.height;
  src.nearest_512 = rows != im.height || cols != im.width;
  pdq_internal::BlurDecimate(simd, src, arena, got);

  pdq_internal::LumaSource fsrc;  // the float-luma entry (HashLuma, the fast path's full size)
  fsrc.rows = rows;
  fsrc.cols = cols;
  fsrc.luma = luma.data();
  pdq_internal::BlurDecimate(simd, fsrc, arena, got_float);

  int diff = 0;
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j) {
      diff += std::memcmp(&want[i][j], &got[i][j], sizeof(float)) != 0;
      diff += std::memcmp(&want[i][j], &got_float[i][j], sizeof(float)) != 0;
    }
  return diff;
}

TEST_P(PdqBlurTest, MatchesReferenceOnManyShapes) {
  std::mt19937 rng(20261127);
  std::vector<std::pair<int, int>> shapes = {
      {5, 5},     {5, 300},   {300, 5},   {6, 7},     {63, 64},    {64, 63},   {64, 64},
      {65, 64},   {64, 65},   {127, 129}, {128, 128}, {129, 257},  {255, 256}, {256, 255},
      {257, 385}, {383, 384}, {640, 402}, {402, 640}, {1023, 767}, {33, 1000}, {1000, 33},
  };
  for (int k = 0; k < 24; ++k) shapes.push_back({5 + int(rng() % 700), 5 + int(rng() % 700)});
  std::vector<float> arena;  // shared across shapes: stale contents must not leak into results
  int checked = 0;
  for (const auto& [w, h] : shapes) {
    for (int channels : {1, 3}) {
      const int style = int(rng() % 3);
      const Image im = RandomImage(w, h, channels, rng, style);
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(channels) +
                   " style " + std::to_string(style));
      EXPECT_EQ(Compare(GetParam(), im, false, &arena), 0);
      ++checked;
    }
  }
  std::cout << "TALLY pdq blur vs reference [" << PdqSimdName(GetParam()) << "]: " << checked
            << " images" << std::endl;
}

TEST_P(PdqBlurTest, Nearest512AndLarge) {
  std::mt19937 rng(7);
  std::vector<float> arena;
  for (const auto& [w, h] :
       std::vector<std::pair<int, int>>{{1600, 1004}, {700, 513}, {513, 2000}}) {
    for (int channels : {1, 3}) {
      const Image im = RandomImage(w, h, channels, rng, 2);
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(channels));
      EXPECT_EQ(Compare(GetParam(), im, true, &arena), 0);
      EXPECT_EQ(Compare(GetParam(), im, false, &arena), 0);
    }
  }
}

// Few rows and very many columns (legal under the pixel limit for PNG): the streaming layout
// would need ~200 rows' worth of a row, so the full-size path takes over and the workspace stays
// within two image-sized float buffers.
TEST_P(PdqBlurTest, WideShortImagesStayWithinTwoImageBuffers) {
  std::mt19937 rng(3);
  for (const auto& [w, h] :
       std::vector<std::pair<int, int>>{{200000, 5}, {30000, 95}, {5, 100000}}) {
    const Image im = RandomImage(w, h, 3, rng, 0);
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    std::vector<float> arena;
    EXPECT_EQ(Compare(GetParam(), im, false, &arena), 0);
    EXPECT_LE(arena.size(), 2 * size_t(w) * size_t(h) + 16);
  }
}

// The hash itself is the same on every instruction set (the DCT, median and bits are shared code;
// this guards the hasher's plumbing: options, sizes, dihedral).
TEST_P(PdqBlurTest, HashesAgreeAcrossInstructionSets) {
  std::mt19937 rng(11);
  auto h = PdqHasher::ForSimd(GetParam());
  ASSERT_TRUE(h.ok());
  auto base = PdqHasher::ForSimd(PdqSimd::kSse2);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(h->simd(), GetParam());
  for (int k = 0; k < 6; ++k) {
    const Image im = RandomImage(100 + int(rng() % 900), 100 + int(rng() % 900), 3, rng, 2);
    EXPECT_EQ(ToHex(h->Hash(im).hash), ToHex(base->Hash(im).hash));
    EXPECT_EQ(h->Hash(im).quality, base->Hash(im).quality);
    EXPECT_EQ(h->HashDihedral(im), base->HashDihedral(im));
    EXPECT_EQ(h->Hash(im, {.compat_512 = true}), base->Hash(im, {.compat_512 = true}));
  }
}

}  // namespace
}  // namespace hashmatch

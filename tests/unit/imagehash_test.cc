// imagehash's hex convention and the hashes' definitions on small synthetic images whose answer is
// known by hand (../shared/specs/hash64.md). Images of the hash's own size skip the resampler, so
// these pin the bit order and the comparisons on their own.
#include "hashmatch/core/imagehash.h"

#include <gtest/gtest.h>

namespace hashmatch {
namespace {

Image Grey(int w, int h, uint8_t fill = 0) {
  Image im;
  im.width = w;
  im.height = h;
  im.channels = 1;
  im.pixels.assign(size_t(w) * h, fill);
  return im;
}

void Set(Image* im, int x, int y, uint8_t v) {
  im->pixels[size_t(y) * im->width + x] = v;
}

// The spec's examples: only element [r][c] true.
struct Single {
  int r, c;
  const char* hex;
};
constexpr Single kSingles[] = {
    {0, 0, "8000000000000000"},
    {0, 7, "0100000000000000"},
    {1, 0, "0080000000000000"},
    {7, 7, "0000000000000001"},
};

TEST(ImagehashHex, SpecExamplesThroughAverageHash) {
  for (const auto& s : kSingles) {
    Image im = Grey(8, 8);  // 8x8 is the target size: no resampling
    Set(&im, s.c, s.r, 200);
    EXPECT_EQ(ImageHashToHex(AverageHash(im)), s.hex) << s.r << "," << s.c;
  }
}

TEST(ImagehashHex, SpecExamplesThroughWaveletHash) {
  for (const auto& s : kSingles) {
    Image im = Grey(8, 8);  // S = 8: one pixel per block
    Set(&im, s.c, s.r, 9);
    EXPECT_EQ(ImageHashToHex(WaveletHash(im)), s.hex) << s.r << "," << s.c;
  }
}

TEST(ImagehashHex, SpecExamplesThroughDifferenceHash) {
  for (const auto& s : kSingles) {
    Image im = Grey(9, 8);       // 9 wide x 8 high: no resampling
    Set(&im, s.c + 1, s.r, 50);  // the right neighbour of [r][c] is brighter
    // ... and then [r][c+1] is darker than its right neighbour: no other bit.
    EXPECT_EQ(ImageHashToHex(DifferenceHash(im)), s.hex) << s.r << "," << s.c;
  }
}

TEST(ImagehashHex, HexIsHash64HexAndBytesAreRows) {
  auto h = ImageHashFromHex("8001FF0000000000");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->data()[0], 0x80);  // row 0: [0][0]
  EXPECT_EQ(h->data()[1], 0x01);  // row 1: [1][7]
  EXPECT_EQ(h->data()[2], 0xff);  // row 2: all
  EXPECT_EQ(ImageHashToHex(*h), "8001ff0000000000");
  EXPECT_EQ(*h, *ParseHash64("8001ff0000000000"));
  EXPECT_FALSE(ImageHashFromHex("8001ff000000000").ok());   // 15 digits
  EXPECT_FALSE(ImageHashFromHex("0x01ff0000000000").ok());  // prefix
}

TEST(Imagehash, ComparisonsAreStrict) {
  // Flat image: nothing is above the mean, no neighbour is brighter, all blocks tie.
  const Image flat = Grey(8, 8, 77);
  EXPECT_EQ(ImageHashToHex(AverageHash(flat)), "0000000000000000");
  EXPECT_EQ(ImageHashToHex(DifferenceHash(Grey(9, 8, 77))), "0000000000000000");
  EXPECT_EQ(ImageHashToHex(WaveletHash(flat)), "0000000000000000");
  // Left half bright: aHash and wHash set columns 0..3 of every row.
  Image half = Grey(8, 8);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 4; ++x) Set(&half, x, y, 255);
  EXPECT_EQ(ImageHashToHex(AverageHash(half)), "f0f0f0f0f0f0f0f0");
  EXPECT_EQ(ImageHashToHex(WaveletHash(half)), "f0f0f0f0f0f0f0f0");
}

TEST(Imagehash, WaveletBlocksComeFromTheOriginalSize) {
  // 64x64: S = 64, blocks of 8x8. A bright top-left 8x8 block sets only [0][0].
  Image im = Grey(64, 64);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) Set(&im, x, y, 255);
  EXPECT_EQ(ImageHashToHex(WaveletHash(im)), "8000000000000000");
  // A 4x4 image is scaled up to S = 8 (never below hash_size), and hashes without trouble.
  Image tiny = Grey(4, 4);
  Set(&tiny, 0, 0, 255);
  const Hash64 w = WaveletHash(tiny);
  EXPECT_TRUE(w.data()[0] & 0x80);  // the top-left block is the brightest
}

TEST(Imagehash, PerceptualHashOfHorizontalRamp) {
  // 32x32 (no resampling), brightness rising left to right: the DC and the horizontal
  // frequencies of row 0 carry the energy. DCT-II of a ramp: odd horizontal frequencies are
  // negative (rising ramp), even ones other than DC are zero, every other row is zero.
  Image im = Grey(32, 32);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) Set(&im, x, y, uint8_t(8 * x));
  // Row 0: [0][0] = DC > 0, [0][odd] < 0, the rest ~0; the median is ~0 (float noise around
  // zero), so bit [0][0] is set and the odd ones are not.
  const Hash64 p = PerceptualHash(im);
  EXPECT_TRUE(p.data()[0] & 0x80);
  EXPECT_EQ(p.data()[0] & 0x55, 0);  // columns 1, 3, 5, 7
}

TEST(Imagehash, SetMatchesSingleFunctionsOnRgb) {
  Image im;
  im.width = 37;
  im.height = 23;
  im.channels = 3;
  im.pixels.resize(size_t(37) * 23 * 3);
  uint32_t s = 12345;
  for (auto& p : im.pixels) {
    s = s * 1664525u + 1013904223u;
    p = uint8_t(s >> 24);
  }
  const ImageHash64Set set = ComputeImageHashes(im);
  EXPECT_EQ(set.ahash, AverageHash(im));
  EXPECT_EQ(set.dhash, DifferenceHash(im));
  EXPECT_EQ(set.phash, PerceptualHash(im));
  EXPECT_EQ(set.whash, WaveletHash(im));
}

TEST(Imagehash, DecodeOptionsTurnOnTheGrey16Clamp) {
  DecodeOptions base;
  base.max_pixels = 1234;
  const DecodeOptions o = ImageHashDecodeOptions(base);
  EXPECT_TRUE(o.clamp_grey16);
  EXPECT_EQ(o.max_pixels, 1234u);
  EXPECT_FALSE(DecodeOptions{}.clamp_grey16);
}

}  // namespace
}  // namespace hashmatch

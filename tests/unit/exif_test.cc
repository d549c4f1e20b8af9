// EXIF orientation (DecodeOptions::apply_exif_orientation): the bounds-checked tag readers on
// well-formed, truncated and hostile TIFF blocks, the pixel transform for all eight values, and the
// whole decode path on JPEG, PNG and WebP files built here.
#include <gtest/gtest.h>
#include <webp/encode.h>

#include <random>
#include <string>
#include <vector>

#include "../image_builders.h"
#include "../test_util.h"
#include "exif.h"  // private header of core: the readers are tested directly
#include "hashmatch/core/hex.h"
#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"

namespace hashmatch {
namespace {

using testing::Bytes;
using testing::EncodeJpeg;
using testing::EncodePng;
using testing::Put16;
using testing::Put32;

struct Entry {
  uint16_t tag, type;
  uint32_t count, value;
};

// A TIFF block: header, then IFD0 at `ifd0` (8 when 0) with these entries and a next-IFD link.
// SHORT values sit in the first two bytes of the value field, as the specification says.
Bytes Tiff(bool be, const std::vector<Entry>& entries, uint32_t next_ifd = 0, uint32_t ifd0 = 8) {
  Bytes b = be ? Bytes{'M', 'M'} : Bytes{'I', 'I'};
  Put16(&b, 42, be);
  Put32(&b, ifd0, be);
  b.resize(std::max<size_t>(b.size(), ifd0), 0);
  Put16(&b, uint16_t(entries.size()), be);
  for (const Entry& e : entries) {
    Put16(&b, e.tag, be);
    Put16(&b, e.type, be);
    Put32(&b, e.count, be);
    if (e.type == 3) {
      Put16(&b, e.value, be);
      Put16(&b, 0, be);
    } else {
      Put32(&b, e.value, be);
    }
  }
  Put32(&b, next_ifd, be);
  return b;
}

Bytes OrientationTiff(int orientation, bool be = false) {
  // An ImageWidth entry first, so that the reader has to walk past another tag.
  return Tiff(be, {{0x0100, 4, 1, 24}, {0x0112, 3, 1, uint32_t(orientation)}});
}

Bytes Concat(std::initializer_list<std::string_view> parts, const Bytes& tail = {}) {
  Bytes b;
  for (auto p : parts) b.insert(b.end(), p.begin(), p.end());
  b.insert(b.end(), tail.begin(), tail.end());
  return b;
}

// A test picture: 8x8 flat blocks (which survive quality-100 JPEG within a few levels), a
// different value in every block and channel, so each block identifies where it came from.
Image Blocks(int bw, int bh, int channels) {
  Image im;
  im.width = bw * 8, im.height = bh * 8, im.channels = channels;
  im.pixels.resize(size_t(im.width) * im.height * channels);
  for (int y = 0; y < im.height; ++y) {
    for (int x = 0; x < im.width; ++x) {
      const int block = (y / 8) * bw + x / 8;
      for (int c = 0; c < channels; ++c) {
        im.pixels[(size_t(y) * im.width + x) * channels + c] = uint8_t(20 + 35 * block + 60 * c);
      }
    }
  }
  return im;
}

Bytes ExifApp1(const Bytes& tiff) {
  return Concat({std::string_view("Exif\0\0", 6)}, tiff);
}

// Lossless WebP, rewrapped in the extended format (VP8X with the EXIF flag) with an EXIF chunk.
Bytes EncodeWebp(const Image& im, const Bytes& exif) {
  uint8_t* out = nullptr;
  const size_t n = WebPEncodeLosslessRGB(im.pixels.data(), im.width, im.height, im.width * 3, &out);
  Bytes simple(out, out + n);
  WebPFree(out);
  if (exif.empty()) return simple;
  Bytes body = {'W', 'E', 'B', 'P', 'V', 'P', '8', 'X'};
  Put32(&body, 10, false);
  body.insert(body.end(), {0x08, 0, 0, 0});  // EXIF present
  for (int v : {im.width - 1, im.height - 1})
    body.insert(body.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16)});
  body.insert(body.end(), simple.begin() + 12, simple.end());  // the VP8L chunk as is
  body.insert(body.end(), {'E', 'X', 'I', 'F'});
  Put32(&body, uint32_t(exif.size()), false);
  body.insert(body.end(), exif.begin(), exif.end());
  if (exif.size() & 1) body.push_back(0);
  Bytes riff = {'R', 'I', 'F', 'F'};
  Put32(&riff, uint32_t(body.size()), false);
  riff.insert(riff.end(), body.begin(), body.end());
  return riff;
}

// The expected transform, written independently of image_orient.cc: display pixel (dx, dy) comes
// from stored pixel (sx, sy) as the EXIF specification's row-0/column-0 table says.
Image Reference(const Image& in, int o) {
  const int w = in.width, h = in.height;
  const bool swap = o >= 5;
  Image out;
  out.width = swap ? h : w, out.height = swap ? w : h, out.channels = in.channels;
  out.pixels.resize(in.pixels.size());
  for (int dy = 0; dy < out.height; ++dy) {
    for (int dx = 0; dx < out.width; ++dx) {
      int sx = dx, sy = dy;
      switch (o) {
        case 2:
          sx = w - 1 - dx, sy = dy;
          break;
        case 3:
          sx = w - 1 - dx, sy = h - 1 - dy;
          break;
        case 4:
          sx = dx, sy = h - 1 - dy;
          break;
        case 5:
          sx = dy, sy = dx;
          break;
        case 6:
          sx = dy, sy = h - 1 - dx;
          break;
        case 7:
          sx = w - 1 - dy, sy = h - 1 - dx;
          break;
        case 8:
          sx = w - 1 - dy, sy = dx;
          break;
      }
      for (int c = 0; c < in.channels; ++c) {
        out.pixels[(size_t(dy) * out.width + dx) * in.channels + c] =
            in.pixels[(size_t(sy) * w + sx) * in.channels + c];
      }
    }
  }
  return out;
}

Image MustDecode(const Bytes& b, bool orient) {
  DecodeOptions o;
  o.apply_exif_orientation = orient;
  auto r = DecodeImage(b, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *std::move(r) : Image{};
}

int Value(const Image& im, int x, int y, int c = 0) {
  return im.pixels[(size_t(y) * im.width + x) * im.channels + c];
}

// ---- the TIFF reader

TEST(ExifTiff, ReadsEveryValueInBothByteOrders) {
  for (bool be : {false, true}) {
    for (int o = 1; o <= 8; ++o) EXPECT_EQ(exif::OrientationFromTiff(OrientationTiff(o, be)), o);
  }
  // LONG instead of SHORT, from writers that get the type wrong.
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(true, {{0x0112, 4, 1, 6}})), 6);
}

TEST(ExifTiff, NoTagOrBadValueIsOne) {
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(false, {{0x0100, 4, 1, 6}})), 1);
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(false, {})), 1);
  for (uint32_t v : {0u, 9u, 0xffffu}) {
    EXPECT_EQ(exif::OrientationFromTiff(Tiff(false, {{0x0112, 3, 1, v}})), 1) << v;
  }
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(false, {{0x0112, 2, 1, 6}})), 1);  // ASCII
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(false, {{0x0112, 3, 2, 6}})), 1);  // count 2
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(false, {{0x0112, 3, 0, 6}})), 1);  // count 0
}

TEST(ExifTiff, BadHeaderIsOne) {
  Bytes t = OrientationTiff(6);
  for (auto [at, v] : {std::pair{0, 'M'}, {1, 'X'}, {2, 43}, {3, 1}}) {
    Bytes bad = t;
    bad[at] = uint8_t(v);
    EXPECT_EQ(exif::OrientationFromTiff(bad), 1) << at;
  }
  EXPECT_EQ(exif::OrientationFromTiff({}), 1);
}

TEST(ExifTiff, EveryTruncationIsSafe) {
  for (bool be : {false, true}) {
    const Bytes t = OrientationTiff(3, be);
    // The Orientation entry (second of two) ends at 8 + 2 + 24 bytes; any shorter prefix has none.
    for (size_t n = 0; n <= t.size(); ++n) {
      const int o = exif::OrientationFromTiff(std::span(t.data(), n));
      EXPECT_EQ(o, n >= 34 ? 3 : 1) << n;
    }
  }
}

TEST(ExifTiff, OffsetsOutOfBounds) {
  const Bytes t = OrientationTiff(6);
  for (uint32_t ifd0 : {uint32_t(t.size()), uint32_t(t.size() - 1), 0xfffffff0u, 0xffffffffu}) {
    Bytes bad = t;
    bad[4] = uint8_t(ifd0), bad[5] = uint8_t(ifd0 >> 8), bad[6] = uint8_t(ifd0 >> 16),
    bad[7] = uint8_t(ifd0 >> 24);
    EXPECT_EQ(exif::OrientationFromTiff(bad), 1) << ifd0;
  }
  // An entry count far beyond the data: the entries that exist are read, the rest not trusted.
  Bytes many = Tiff(false, {{0x0100, 4, 1, 1}});
  many[8] = 0xff, many[9] = 0xff;
  EXPECT_EQ(exif::OrientationFromTiff(many), 1);
  Bytes found = OrientationTiff(8);
  found[8] = 0xff, found[9] = 0xff;
  EXPECT_EQ(exif::OrientationFromTiff(found), 8);
}

TEST(ExifTiff, IfdLoopsTerminate) {
  // IFD0's next link points at itself, an Exif sub-IFD pointer (0x8769) points back at IFD0,
  // and IFD0 is the header itself (offset 0): the reader walks IFD0 only, so each ends at once.
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(false, {{0x8769, 4, 1, 8}}, /*next_ifd=*/8)), 1);
  EXPECT_EQ(exif::OrientationFromTiff(Tiff(true, {{0x8769, 4, 1, 8}, {0x0112, 3, 1, 5}}, 8)), 5);
  Bytes self = OrientationTiff(6);
  self[4] = 0;  // IFD0 at offset 0: the "II" header read as a count of 0x4949 entries
  EXPECT_EQ(exif::OrientationFromTiff(self), 1);
}

TEST(ExifTiff, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Bytes b(rng() % 64);
    for (auto& v : b) v = uint8_t(rng());
    if (b.size() >= 8 && (i & 1)) {  // a valid header half the time, so the IFD walk is reached
      const Bytes h = Tiff(i & 2, {});
      std::copy(h.begin(), h.begin() + 4, b.begin());
      b[i & 2 ? 7 : 4] = uint8_t(rng() % 64);
    }
    const int o = exif::OrientationFromTiff(b);
    ASSERT_TRUE(o >= 1 && o <= 8);
  }
}

// ---- the container readers

TEST(ExifContainers, JpegSegments) {
  const Bytes tiff = OrientationTiff(6);
  const Bytes good = EncodeJpeg(Blocks(1, 1, 1), ExifApp1(tiff));
  EXPECT_EQ(exif::OrientationFromJpeg(good), 6);
  EXPECT_EQ(exif::OrientationFromImageBytes(good), 6);
  EXPECT_EQ(exif::OrientationFromJpeg(EncodeJpeg(Blocks(1, 1, 1), {})), 1);
  // "Exif" without its two NULs, and an APP1 with only the identifier: not EXIF / empty.
  EXPECT_EQ(exif::OrientationFromJpeg(EncodeJpeg(Blocks(1, 1, 1), Concat({"Exif"}, tiff))), 1);
  EXPECT_EQ(exif::OrientationFromJpeg(EncodeJpeg(Blocks(1, 1, 1), ExifApp1({}))), 1);
  // Every prefix of the file, and every single-byte corruption of the segment headers.
  for (size_t n = 0; n < good.size(); ++n) {
    const int o = exif::OrientationFromJpeg(std::span(good.data(), n));
    ASSERT_TRUE(o == 1 || o == 6) << n;
  }
  for (size_t at = 0; at < 64 && at < good.size(); ++at) {
    for (uint8_t v : {0x00, 0x01, 0x7f, 0xd9, 0xda, 0xe1, 0xff}) {
      Bytes bad = good;
      bad[at] = v;
      const int o = exif::OrientationFromJpeg(bad);
      ASSERT_TRUE(o >= 1 && o <= 8) << at;
    }
  }
  // A segment length running past the end of the data.
  const Bytes head = {0xff, 0xd8, 0xff, 0xe1, 0xff, 0xf0, 'E', 'x', 'i', 'f', 0, 0};
  EXPECT_EQ(exif::OrientationFromJpeg(Concat({}, head)), 1);
  // A length under 2, and EXIF after the start of scan (not read).
  EXPECT_EQ(exif::OrientationFromJpeg(Bytes{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01}), 1);
  Bytes after_sos = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xe1};
  Put16(&after_sos, uint16_t(2 + 6 + tiff.size()), true);
  const Bytes app1 = ExifApp1(tiff);
  after_sos.insert(after_sos.end(), app1.begin(), app1.end());
  EXPECT_EQ(exif::OrientationFromJpeg(after_sos), 1);
}

TEST(ExifContainers, PngChunks) {
  const Image im = Blocks(1, 1, 3);
  EXPECT_EQ(exif::OrientationFromPng(EncodePng(im, OrientationTiff(7, true))), 7);
  EXPECT_EQ(exif::OrientationFromPng(EncodePng(im, OrientationTiff(7), true)), 7);
  EXPECT_EQ(exif::OrientationFromPng(EncodePng(im, {})), 1);
  const Bytes good = EncodePng(im, OrientationTiff(2));
  for (size_t n = 0; n < good.size(); ++n) {
    const int o = exif::OrientationFromPng(std::span(good.data(), n));
    ASSERT_TRUE(o == 1 || o == 2) << n;
  }
  Bytes huge = good;  // IHDR's length set to 0xfffffff0: past the end
  huge[8] = 0xff, huge[9] = 0xff, huge[10] = 0xff, huge[11] = 0xf0;
  EXPECT_EQ(exif::OrientationFromPng(huge), 1);
}

TEST(ExifContainers, WebpChunks) {
  const Image im = Blocks(1, 1, 3);
  EXPECT_EQ(exif::OrientationFromWebp(EncodeWebp(im, OrientationTiff(8))), 8);
  EXPECT_EQ(exif::OrientationFromWebp(EncodeWebp(im, ExifApp1(OrientationTiff(3)))), 3);
  EXPECT_EQ(exif::OrientationFromWebp(EncodeWebp(im, {})), 1);
  const Bytes good = EncodeWebp(im, OrientationTiff(4));
  for (size_t n = 0; n < good.size(); ++n) {
    const int o = exif::OrientationFromWebp(std::span(good.data(), n));
    ASSERT_TRUE(o == 1 || o == 4) << n;
  }
}

// ---- the transform and the decode path

TEST(ExifOrient, TransformMatchesTheSpecificationTable) {
  for (int channels : {1, 3}) {
    Image in;  // every sample distinct
    in.width = 5, in.height = 3, in.channels = channels;
    for (int i = 0; i < 5 * 3 * channels; ++i) in.pixels.push_back(uint8_t(i));
    for (int o = 0; o <= 9; ++o) {
      Image got = in;
      exif::ApplyOrientation(o, &got);
      const Image want = Reference(in, o >= 1 && o <= 8 ? o : 1);
      EXPECT_EQ(got.width, want.width) << o;
      EXPECT_EQ(got.height, want.height) << o;
      EXPECT_EQ(got.pixels, want.pixels) << o << " channels " << channels;
    }
  }
  // Larger than one 64-pixel tile, odd sizes.
  Image big;
  big.width = 131, big.height = 70, big.channels = 3;
  std::mt19937 rng(1);
  big.pixels.resize(131 * 70 * 3);
  for (auto& v : big.pixels) v = uint8_t(rng());
  for (int o = 2; o <= 8; ++o) {
    Image got = big;
    exif::ApplyOrientation(o, &got);
    EXPECT_EQ(got.pixels, Reference(big, o).pixels) << o;
  }
}

// Where the stored top-left and top-right blocks show, as (x, y) block corners of the display:
// the EXIF meaning of each value, independent of any formula. 0 = left/top, 1 = right/bottom.
struct Corners {
  int tl_x, tl_y, tr_x, tr_y;
};
constexpr Corners kCorners[9] = {{},           {0, 0, 1, 0}, {1, 0, 0, 0},
                                 {1, 1, 0, 1}, {0, 1, 1, 1}, {0, 0, 0, 1},
                                 {1, 0, 1, 1}, {1, 1, 1, 0}, {0, 1, 0, 0}};

TEST(ExifOrient, JpegAllEightOrientations) {
  for (int channels : {1, 3}) {
    const Image stored = Blocks(3, 2, channels);  // 24x16, six blocks
    for (int o = 1; o <= 8; ++o) {
      SCOPED_TRACE("orientation " + std::to_string(o) + ", channels " + std::to_string(channels));
      const Bytes jpeg = EncodeJpeg(stored, ExifApp1(OrientationTiff(o, o % 2 == 0)));
      const Image plain = MustDecode(jpeg, false);
      const Image shown = MustDecode(jpeg, true);
      EXPECT_EQ(plain.width, 24);  // the default leaves the stored pixels alone
      const Image want = Reference(plain, o);
      ASSERT_EQ(shown.width, want.width);
      ASSERT_EQ(shown.height, want.height);
      EXPECT_EQ(shown.pixels, want.pixels);
      // The stored top-left and top-right blocks' centres land where the EXIF table says.
      const Corners k = kCorners[o];
      auto centre = [&](int cx, int cy, int c) {
        return Value(shown, cx ? shown.width - 4 : 3, cy ? shown.height - 4 : 3, c);
      };
      for (int c = 0; c < channels; ++c) {
        EXPECT_NEAR(centre(k.tl_x, k.tl_y, c), Value(stored, 3, 3, c), 3);
        EXPECT_NEAR(centre(k.tr_x, k.tr_y, c), Value(stored, 20, 3, c), 3);
      }
    }
  }
}

TEST(ExifOrient, PngAndWebp) {
  const Image stored = Blocks(3, 2, 3);
  for (int o = 1; o <= 8; ++o) {
    SCOPED_TRACE("orientation " + std::to_string(o));
    const Image png = MustDecode(EncodePng(stored, OrientationTiff(o)), true);
    EXPECT_EQ(png.pixels, Reference(stored, o).pixels);  // lossless: exact
    EXPECT_EQ(png.width, Reference(stored, o).width);
    const Image webp = MustDecode(EncodeWebp(stored, OrientationTiff(o, true)), true);
    EXPECT_EQ(webp.pixels, Reference(stored, o).pixels);
  }
}

TEST(ExifOrient, MalformedExifStillDecodesAsStored) {
  const Image stored = Blocks(3, 2, 1);
  Bytes loop = OrientationTiff(6);
  loop[4] = 0;
  for (const Bytes& app1 :
       {ExifApp1({}), ExifApp1(Bytes(7, 0xff)), ExifApp1(loop),
        ExifApp1(Tiff(false, {{0x0112, 3, 1, 77}})), Concat({"Exif"}, OrientationTiff(6))}) {
    const Bytes jpeg = EncodeJpeg(stored, app1);
    EXPECT_EQ(MustDecode(jpeg, true).pixels, MustDecode(jpeg, false).pixels);
  }
  // Decode errors are the decoder's, whether or not orientation was asked for.
  DecodeOptions o;
  o.apply_exif_orientation = true;
  const Bytes junk = {'n', 'o', 't'};
  EXPECT_EQ(DecodeImage(junk, o).status(), DecodeImage(junk).status());
  const Bytes jpeg = EncodeJpeg(Blocks(8, 8, 1), ExifApp1(OrientationTiff(6)));
  o.max_pixels = 100;
  EXPECT_EQ(DecodeImage(jpeg, o).status().code(), StatusCode::kOutOfRange);
}

TEST(ExifOrient, TruncatedJpegKeepsItsFlag) {
  const Bytes full = EncodeJpeg(Blocks(4, 4, 1), ExifApp1(OrientationTiff(6)));
  // Cut halfway through the entropy-coded data, after the start-of-scan header.
  size_t sos = 0;
  while (sos + 1 < full.size() && !(full[sos] == 0xff && full[sos + 1] == 0xda)) ++sos;
  const Bytes cut(full.begin(), full.begin() + (sos + full.size()) / 2);
  DecodeOptions o;
  o.apply_exif_orientation = true;
  auto r = DecodeImage(cut, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->truncated);
}

// The shared reference file: base.jpg with Orientation=6 in its EXIF. Not applied by default
// (the published hash); applied, its hash is the one formats/expected.tsv gives for the rotation.
TEST(ExifOrient, SharedReferenceFile) {
  HM_REQUIRE_SHARED("pdq-reference/formats/exif-orientation-6.jpg");
  const auto path = testing::SharedDir() / "pdq-reference/formats/exif-orientation-6.jpg";
  PdqHasher hasher;
  auto plain = DecodeImageFile(path);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(ToHex(hasher.Hash(*plain).hash),
            "f8f8f0cee0f4a84f0e37022a078f63f0b36e2ed596221e1d33e6339c4e9c9b22");
  DecodeOptions o;
  o.apply_exif_orientation = true;
  auto shown = DecodeImageFile(path, o);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->width, plain->height);
  EXPECT_EQ(ToHex(hasher.Hash(*shown).hash),
            "a5f0a457a48995e8c9065c275aaa5498b61ba4bdf8fcf80387c32e8b5bfc4f05");
}

}  // namespace
}  // namespace hashmatch

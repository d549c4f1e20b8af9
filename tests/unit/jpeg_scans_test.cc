// The PDQ fast path's progressive-scan skipping (core/src/jpeg_scans.h, image_jpeg.cc): the scan
// parser on libjpeg's own progressive streams, which scans are left out and why, robustness on
// damaged streams, and that what the fast decoder returns is unchanged where the skipped scans
// cannot matter (full scale: only chroma scans are left out, so the Y plane is libjpeg's own).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "../photo_like_jpeg.h"
#include "image_internal.h"
#include "jpeg_scans.h"

namespace hashmatch::image_internal {
namespace {

std::vector<uint8_t> Progressive(int w, int h, bool grey = false) {
  testing::PhotoLikeSpec s;
  s.width = w;
  s.height = h;
  s.progressive = true;
  s.grey = grey;
  return testing::MakePhotoLikeJpeg(s);
}

// libjpeg's grey decode of the whole stream at full size (its Y plane for a YCbCr JPEG).
std::vector<uint8_t> LibjpegY(const std::vector<uint8_t>& jpeg, int* w, int* h) {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, jpeg.data(), static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_GRAYSCALE;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_block_smoothing = FALSE;
  jpeg_start_decompress(&cinfo);
  *w = int(cinfo.output_width);
  *h = int(cinfo.output_height);
  std::vector<uint8_t> y(size_t(*w) * *h);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = y.data() + size_t(cinfo.output_scanline) * *w;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return y;
}

TEST(JpegScans, ParsesLibjpegSimpleProgression) {
  const auto jpeg = Progressive(320, 240);
  JpegScanLayout layout;
  ParseJpegScans(jpeg, 256, &layout);
  EXPECT_TRUE(layout.progressive_huffman);
  EXPECT_FALSE(layout.scans_over_limit);
  // jpeg_simple_progression for YCbCr: 10 scans.
  ASSERT_EQ(layout.scans.size(), 10u);
  for (const JpegScan& s : layout.scans) {
    ASSERT_LT(s.begin + 1, s.end);
    ASSERT_LT(s.end + 1, jpeg.size());
    EXPECT_EQ(jpeg[s.begin], 0xFF);
    EXPECT_EQ(jpeg[s.begin + 1], 0xDA);
    EXPECT_EQ(jpeg[s.end], 0xFF);  // the next marker
    EXPECT_NE(jpeg[s.end + 1], 0x00);
  }
  EXPECT_EQ(jpeg[layout.scans.back().end + 1], 0xD9);  // EOI
  const JpegScan& dc = layout.scans[0];
  EXPECT_EQ(dc.components, 3);
  EXPECT_EQ(dc.ss, 0);
  EXPECT_EQ(dc.se, 0);
  EXPECT_EQ(dc.ah, 0);
  EXPECT_EQ(dc.al, 1);
  const JpegScan& y_low = layout.scans[1];
  EXPECT_EQ(y_low.components, 1);
  EXPECT_EQ(y_low.ss, 1);
  EXPECT_EQ(y_low.se, 5);
  EXPECT_EQ(y_low.al, 2);
}

TEST(JpegScans, SkipsChromaHighBandsAndOrphanedRefinements) {
  const auto jpeg = Progressive(320, 240);
  JpegScanLayout layout;
  ParseJpegScans(jpeg, 256, &layout);
  ASSERT_EQ(layout.scans.size(), 10u);
  const uint8_t y = layout.scans[0].ids[0];
  auto skipped = [&](int max_zigzag) {
    MarkSkippableScans(&layout, y, max_zigzag);
    std::string s;
    for (const JpegScan& sc : layout.scans) s += sc.skip ? 'x' : '.';
    return s;
  };
  // Scans: DC, Y 1-5, Cr, Cb, Y 6-63, Y 1-63 refine, DC refine, Cr refine, Cb refine, Y 1-63
  // refine. Below 6, Y 6-63 goes, and with it both Y refinements (they refine 6-63 too).
  EXPECT_EQ(skipped(5), "..xxxx.xxx");
  EXPECT_EQ(skipped(0), ".xxxxx.xxx");
  // All of Y: only chroma goes.
  EXPECT_EQ(skipped(63), "..xx...xx.");
}

TEST(JpegScans, RefinementOfACompleteBandIsKept) {
  JpegScanLayout layout;
  layout.progressive_huffman = true;
  auto scan = [](int ss, int se, int ah, int al) {
    JpegScan s;
    s.components = 1;
    s.ids[0] = 1;
    s.ss = ss, s.se = se, s.ah = ah, s.al = al;
    s.header_ok = true;
    return s;
  };
  layout.scans = {scan(0, 0, 0, 0), scan(1, 5, 0, 1), scan(6, 63, 0, 1), scan(1, 5, 1, 0),
                  scan(6, 63, 1, 0)};
  MarkSkippableScans(&layout, 1, 5);
  EXPECT_FALSE(layout.scans[1].skip);
  EXPECT_TRUE(layout.scans[2].skip);
  EXPECT_FALSE(layout.scans[3].skip);  // refines 1-5 only, all of whose bits were kept
  EXPECT_TRUE(layout.scans[4].skip);
  // A refinement that reaches into a left-out band is left out even where it starts low.
  layout.scans = {scan(0, 0, 0, 0), scan(1, 9, 0, 1), scan(10, 63, 0, 1), scan(1, 63, 1, 0)};
  MarkSkippableScans(&layout, 1, 9);
  EXPECT_FALSE(layout.scans[1].skip);
  EXPECT_TRUE(layout.scans[2].skip);
  EXPECT_TRUE(layout.scans[3].skip);
}

TEST(JpegScans, BaselineStopsAtFirstScan) {
  testing::PhotoLikeSpec s;
  s.width = 64;
  s.height = 48;
  const auto jpeg = testing::MakePhotoLikeJpeg(s);
  JpegScanLayout layout;
  ParseJpegScans(jpeg, 256, &layout);
  EXPECT_FALSE(layout.progressive_huffman);
  EXPECT_TRUE(layout.scans.empty());
}

TEST(JpegScans, ScanLimit) {
  const auto jpeg = Progressive(96, 64);
  JpegScanLayout layout;
  ParseJpegScans(jpeg, 3, &layout);
  EXPECT_TRUE(layout.scans_over_limit);
  EXPECT_EQ(layout.scans.size(), 3u);
}

// Every truncation and many single-byte corruptions: the parser stays in bounds (ASan) and its
// scans are ordered and within the data; the fast decoder either fails cleanly or decodes, and
// a stream cut inside any scan (kept or left out) is flagged truncated.
TEST(JpegScans, DamagedStreams) {
  const auto jpeg = Progressive(96, 64);
  JpegScanLayout full;
  ParseJpegScans(jpeg, 256, &full);
  ASSERT_EQ(full.scans.size(), 10u);
  std::vector<float> luma;
  size_t cut_ok = 0;
  for (size_t n = 0; n <= jpeg.size(); ++n) {
    const std::span<const uint8_t> cut(jpeg.data(), n);
    JpegScanLayout layout;
    ParseJpegScans(cut, 256, &layout);
    size_t prev = 0;
    for (const JpegScan& s : layout.scans) {
      ASSERT_LE(prev, s.begin);
      ASSERT_LT(s.begin, s.end);
      ASSERT_LE(s.end, n);
      prev = s.end;
    }
    // The same outcome as the exact decoder, which reads every scan: success and the truncated
    // flag, or an error of the same kind.
    JpegLuma info;
    const Status st = DecodeJpegLuma(cut, DecodeOptions{}, JpegLumaRequest{}, &luma, &info);
    auto exact = DecodeJpeg(cut, DecodeOptions{});
    ASSERT_EQ(st.ok(), exact.ok()) << n << ": " << st.ToString();
    if (st.ok()) {
      EXPECT_EQ(info.truncated, exact->truncated) << n;
      cut_ok += n < full.scans.back().end && info.truncated;
    } else {
      EXPECT_EQ(st.code(), exact.status().code()) << n;
    }
  }
  // Most cuts fall inside scan data: decodable and flagged.
  EXPECT_GT(cut_ok, (full.scans.back().end - full.scans[0].end) * 9 / 10);
  std::vector<uint8_t> bad = jpeg;
  for (size_t i = 2; i < bad.size(); i += 7) {
    const uint8_t keep = bad[i];
    for (uint8_t v : {uint8_t(0xFF), uint8_t(0x00), uint8_t(keep ^ 0x5A)}) {
      bad[i] = v;
      JpegScanLayout layout;
      ParseJpegScans(bad, 256, &layout);
      for (const JpegScan& s : layout.scans) ASSERT_LE(s.end, bad.size());
      JpegLuma info;
      (void)DecodeJpegLuma(bad, DecodeOptions{}, JpegLumaRequest{}, &luma, &info);
    }
    bad[i] = keep;
  }
}

// A malformed header in a scan the fast path would leave out (here the first Cr scan): the scan is
// kept, so libjpeg refuses the stream on the fast path exactly as on the exact path.
TEST(JpegScans, MalformedSkippableScanStillRefused) {
  const auto jpeg = Progressive(320, 240);
  JpegScanLayout layout;
  ParseJpegScans(jpeg, 256, &layout);
  ASSERT_EQ(layout.scans.size(), 10u);
  for (const JpegScan& s : layout.scans) EXPECT_EQ(s.header_ok, s.components == 1);
  const size_t cr = layout.scans[2].begin;
  ASSERT_EQ(jpeg[cr + 4], 1);  // Ns
  struct Damage {
    size_t at;
    uint8_t value;
    const char* what;
  };
  const Damage damages[] = {
      {cr + 5, 9, "component id not in the frame"},
      {cr + 8, 0, "Se below Ss"},
      {cr + 8, 64, "Se past 63"},
      {cr + 9, 0x31, "Ah without Al = Ah - 1"},
  };
  std::vector<float> luma;
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.what);
    std::vector<uint8_t> bad = jpeg;
    bad[d.at] = d.value;
    JpegScanLayout l;
    ParseJpegScans(bad, 256, &l);
    ASSERT_EQ(l.scans.size(), 10u);
    EXPECT_FALSE(l.scans[2].header_ok);
    MarkSkippableScans(&l, l.scans[0].ids[0], 5);
    EXPECT_FALSE(l.scans[2].skip);
    auto exact = DecodeJpeg(bad, DecodeOptions{});
    JpegLuma info;
    const Status fast = DecodeJpegLuma(bad, DecodeOptions{}, JpegLumaRequest{}, &luma, &info);
    ASSERT_FALSE(exact.ok());
    ASSERT_FALSE(fast.ok());
    EXPECT_EQ(fast.code(), exact.status().code());
  }
}

// At full scale the fast decoder reads all of Y and leaves out only the chroma scans: its luma
// must be exactly libjpeg's grey decode of the whole stream.
TEST(JpegScans, FullScaleYPlaneUnchanged) {
  for (bool grey : {false, true}) {
    const auto jpeg = Progressive(200, 120, grey);
    int w = 0, h = 0;
    const auto y = LibjpegY(jpeg, &w, &h);
    std::vector<float> luma;
    JpegLuma info;
    JpegLumaRequest full;
    full.min_side = 1 << 20;
    ASSERT_TRUE(DecodeJpegLuma(jpeg, DecodeOptions{}, full, &luma, &info).ok());
    ASSERT_EQ(info.scale_num, 8);
    ASSERT_EQ(info.cols, w);
    ASSERT_EQ(info.rows, h);
    size_t same = 0;
    for (size_t i = 0; i < y.size(); ++i) same += luma[i] == float(y[i]);
    EXPECT_EQ(same, y.size()) << "grey " << grey;
    EXPECT_FALSE(info.truncated);
  }
}

// A reduced decode reads Y's DC and lowest band only; the result stays close to the decode of
// every scan (the hash-level drift bar is in pdq_fast_drift_test).
TEST(JpegScans, ReducedDecodeCloseToAllScans) {
  const auto jpeg = Progressive(640, 480);
  std::vector<float> luma;
  JpegLuma info;
  JpegLumaRequest quarter;
  quarter.min_side = 120;  // 1/4: 160x120
  ASSERT_TRUE(DecodeJpegLuma(jpeg, DecodeOptions{}, quarter, &luma, &info).ok());
  ASSERT_EQ(info.scale_num, 2);
  // The same picture at 1/4 from every scan: libjpeg on the whole stream.
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, jpeg.data(), static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_GRAYSCALE;
  cinfo.scale_num = 2;
  cinfo.scale_denom = 8;
  jpeg_start_decompress(&cinfo);
  ASSERT_EQ(int(cinfo.output_width), info.cols);
  ASSERT_EQ(int(cinfo.output_height), info.rows);
  std::vector<uint8_t> all(size_t(info.cols) * info.rows);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = all.data() + size_t(cinfo.output_scanline) * info.cols;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  double sum = 0;
  for (size_t i = 0; i < all.size(); ++i) sum += std::abs(luma[i] - float(all[i]));
  const double mean = sum / double(all.size());
  EXPECT_GT(mean, 0.0);  // scans were left out
  EXPECT_LT(mean, 8.0);
  std::cout << "mean |difference| at 1/4, lowest band only vs all scans: " << mean << "\n";
}

}  // namespace
}  // namespace hashmatch::image_internal

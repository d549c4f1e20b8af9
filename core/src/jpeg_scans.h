// Internal: the scans of a JPEG byte stream, for the PDQ fast path's progressive-scan skipping.
//
// A progressive JPEG spreads each component's coefficients over several scans (DC first, then
// bands of AC coefficients, possibly in successive-approximation refinements). The fast path
// needs only the Y component's low frequencies, yet libjpeg Huffman-decodes every scan it is
// given, and that entropy decoding is nearly all of the fast path's cost. So the fast decoder
// hands libjpeg the byte stream with the unneeded scans cut out (no copy: a source manager that
// serves the kept byte ranges), and libjpeg sees their coefficients as zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace hashmatch::image_internal {

struct JpegScan {
  size_t begin = 0;  // offset of the SOS marker's 0xFF
  size_t end = 0;    // offset of the marker after the entropy-coded data (or the stream's end)
  int components = 0;
  uint8_t ids[4] = {};  // component ids, as in the SOS header
  int ss = 0, se = 0, ah = 0, al = 0;
  // The header passes the checks with which libjpeg would refuse the scan (length, component ids
  // of the frame and not repeated, progression parameters), and has one component. Only such
  // scans are ever left out: a malformed one reaches libjpeg, which fails on it as the exact path
  // does.
  bool header_ok = false;
  bool skip = false;  // MarkSkippableScans
  bool Has(uint8_t id) const;
};

struct JpegScanLayout {
  bool progressive_huffman = false;  // SOF2
  int frame_components = 0;          // from the SOF (up to 10, libjpeg's limit)
  uint8_t frame_ids[10] = {};
  std::vector<JpegScan> scans;
  bool scans_over_limit = false;  // more than `max_scans` SOS markers: parsing stopped there
};

// Walks the marker segments of `bytes` (from SOI) and records each scan's header and extent, up
// to `max_scans` + 1 scans. Never reads out of bounds; on anything malformed it stops and
// returns what it found (libjpeg, which decodes the stream, reports the error).
void ParseJpegScans(std::span<const uint8_t> bytes, int max_scans, JpegScanLayout* out);

// Marks (JpegScan::skip) the scans of a progressive JPEG that can be left out when only component
// `y_id` is decoded, and of it only the coefficients of zigzag index <= max_zigzag: scans without
// that component (chroma; single-component scans with a well-formed header only), AC scans whose
// band starts above max_zigzag, and successive- approximation refinements (Ah > 0) of any
// coefficient whose earlier scan was left out: a refinement's bits are read against the
// coefficients already decoded (correction bits only for the nonzero ones), so it must see all of
// them or none. A refinement of a kept band is kept (it carries that band's low bits). The first
// scan is always kept (libjpeg's header reading ends inside it).
void MarkSkippableScans(JpegScanLayout* layout, uint8_t y_id, int max_zigzag);

}  // namespace hashmatch::image_internal

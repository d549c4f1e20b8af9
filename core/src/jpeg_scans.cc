#include "jpeg_scans.h"

#include <algorithm>
#include <cstring>

namespace hashmatch::image_internal {

bool JpegScan::Has(uint8_t id) const {
  for (int c = 0; c < components; ++c) {
    if (ids[c] == id) return true;
  }
  return false;
}

namespace {

// libjpeg's refusals of a progressive scan header (jdmarker.c get_sos, jdphuff.c start_pass):
// length 2 * Ns + 6, every component in the frame and none twice, and the progression
// parameters. Single-component scans only (an interleaved scan also has an MCU size limit).
bool HeaderOk(const JpegScanLayout& layout, const JpegScan& s, size_t seg_len) {
  if (s.components != 1 || seg_len != size_t(1 + 2 * s.components + 3)) return false;
  for (int c = 0; c < s.components; ++c) {
    bool in_frame = false;
    for (int f = 0; f < layout.frame_components; ++f) in_frame |= layout.frame_ids[f] == s.ids[c];
    if (!in_frame) return false;
    for (int e = 0; e < c; ++e) {
      if (s.ids[e] == s.ids[c]) return false;
    }
  }
  if (s.ss == 0 ? s.se != 0 : (s.ss > s.se || s.se > 63)) return false;
  if (s.ah != 0 && s.al != s.ah - 1) return false;
  return s.al <= 13;
}

}  // namespace

void ParseJpegScans(std::span<const uint8_t> bytes, int max_scans, JpegScanLayout* out) {
  *out = JpegScanLayout{};
  const uint8_t* d = bytes.data();
  const size_t n = bytes.size();
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return;
  size_t i = 2;
  while (i + 1 < n) {
    if (d[i] != 0xFF) return;  // not at a marker: leave the rest to libjpeg
    size_t m = i + 1;
    while (m < n && d[m] == 0xFF) ++m;  // fill bytes
    if (m >= n) return;
    const uint8_t code = d[m];
    const size_t marker = m - 1;  // the 0xFF right before the code
    if (code == 0xD9) return;     // EOI
    if (code == 0x00 || code == 0x01 || (code >= 0xD0 && code <= 0xD8)) {
      i = m + 1;  // standalone markers (and stray RSTn)
      continue;
    }
    if (m + 2 >= n) return;
    const size_t length = size_t(d[m + 1]) << 8 | d[m + 2];
    if (length < 2 || m + 1 + length > n) return;
    const uint8_t* seg = d + m + 3;  // after the length
    const size_t seg_len = length - 2;
    if (code == 0xC2) out->progressive_huffman = true;
    const bool sof = code >= 0xC0 && code <= 0xCF && code != 0xC4 && code != 0xC8 && code != 0xCC;
    if (sof && seg_len >= 6) {
      const int nf = seg[5];
      if (nf <= 10 && seg_len >= size_t(6 + 3 * nf)) {
        out->frame_components = nf;
        for (int c = 0; c < nf; ++c) out->frame_ids[c] = seg[6 + 3 * c];
      }
    }
    // Only progressive streams have scans worth skipping: the others stop at their first SOS.
    if (code == 0xDA && !out->progressive_huffman) return;
    if (code != 0xDA) {
      i = m + 1 + length;
      continue;
    }
    // SOS: Ns, Ns x (id, tables), Ss, Se, Ah:Al.
    if (seg_len < 1) return;
    const int ns = seg[0];
    if (ns < 1 || ns > 4 || seg_len < size_t(1 + 2 * ns + 3)) return;
    if (int(out->scans.size()) >= max_scans) {
      out->scans_over_limit = true;
      return;
    }
    JpegScan s;
    s.begin = marker;
    s.components = ns;
    for (int c = 0; c < ns; ++c) s.ids[c] = seg[1 + 2 * c];
    s.ss = seg[1 + 2 * ns];
    s.se = seg[2 + 2 * ns];
    s.ah = seg[3 + 2 * ns] >> 4;
    s.al = seg[3 + 2 * ns] & 15;
    s.header_ok = HeaderOk(*out, s, seg_len);
    // Entropy-coded data runs to the first 0xFF that is neither a stuffed 0xFF00 nor RSTn.
    size_t j = m + 1 + length;
    s.end = n;
    while (j + 1 < n) {
      const void* ff = std::memchr(d + j, 0xFF, n - 1 - j);
      if (ff == nullptr) break;
      j = size_t(static_cast<const uint8_t*>(ff) - d);
      const uint8_t next = d[j + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        j += 2;
        continue;
      }
      s.end = j;
      break;
    }
    out->scans.push_back(s);
    if (s.end >= n) return;
    i = s.end;
  }
}

void MarkSkippableScans(JpegScanLayout* layout, uint8_t y_id, int max_zigzag) {
  bool complete[64];  // Y's coefficient k has seen every scan so far
  std::fill(complete, complete + 64, true);
  for (size_t i = 0; i < layout->scans.size(); ++i) {
    JpegScan& s = layout->scans[i];
    s.skip = false;
    if (i == 0 || !s.header_ok) continue;
    if (!s.Has(y_id)) {
      s.skip = true;
      continue;
    }
    if (s.ss == 0) continue;  // DC (first or refinement): always kept
    const int lo = std::clamp(s.ss, 0, 63), hi = std::clamp(s.se, lo, 63);
    bool skip = s.ss > max_zigzag;
    if (s.ah > 0) {
      for (int k = lo; k <= hi; ++k) skip = skip || !complete[k];
    }
    if (skip) {
      s.skip = true;
      std::fill(complete + lo, complete + hi + 1, false);
    }
  }
}

}  // namespace hashmatch::image_internal

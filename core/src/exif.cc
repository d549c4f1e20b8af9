// Bounds-checked readers for the EXIF Orientation tag. Every read goes through Bytes, which checks
// the offset against the span first, in 64-bit arithmetic so that offset + length cannot wrap; any
// failed check ends the search with orientation 1 (see exif.h for why malformed means "ignore").
#include "exif.h"

#include <cstring>

namespace hashmatch::exif {
namespace {

constexpr int kNone = 1;
constexpr uint16_t kOrientationTag = 0x0112;
constexpr uint16_t kTypeShort = 3;
constexpr uint16_t kTypeLong = 4;

// A bounds-checked view: reads at an offset succeed only when the whole field is inside.
class Bytes {
 public:
  explicit Bytes(std::span<const uint8_t> b, bool big_endian = true) : b_(b), be_(big_endian) {}

  size_t size() const { return b_.size(); }
  bool Has(uint64_t offset, uint64_t length) const {
    return offset <= b_.size() && length <= b_.size() - offset;
  }
  bool U8(uint64_t at, uint8_t* v) const {
    if (!Has(at, 1)) return false;
    *v = b_[at];
    return true;
  }
  bool U16(uint64_t at, uint16_t* v) const {
    if (!Has(at, 2)) return false;
    const uint8_t* p = b_.data() + at;
    *v = be_ ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]);
    return true;
  }
  bool U32(uint64_t at, uint32_t* v) const {
    if (!Has(at, 4)) return false;
    const uint8_t* p = b_.data() + at;
    *v = be_ ? uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]
             : uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
    return true;
  }
  bool Equals(uint64_t at, const char* s, size_t n) const {
    return Has(at, n) && std::memcmp(b_.data() + at, s, n) == 0;
  }
  // The n bytes at `at`; callers check Has(at, n) first.
  std::span<const uint8_t> Sub(uint64_t at, uint64_t n) const { return b_.subspan(at, n); }

 private:
  std::span<const uint8_t> b_;
  bool be_;
};

int Valid(uint32_t v) {
  return v >= 1 && v <= 8 ? int(v) : kNone;
}

}  // namespace

int OrientationFromTiff(std::span<const uint8_t> tiff) {
  bool big_endian;
  if (tiff.size() >= 2 && tiff[0] == 'I' && tiff[1] == 'I') {
    big_endian = false;
  } else if (tiff.size() >= 2 && tiff[0] == 'M' && tiff[1] == 'M') {
    big_endian = true;
  } else {
    return kNone;
  }
  const Bytes t(tiff, big_endian);
  uint16_t magic, count;
  uint32_t ifd0;
  if (!t.U16(2, &magic) || magic != 42 || !t.U32(4, &ifd0) || !t.U16(ifd0, &count)) return kNone;
  // Only IFD0, and only its entries that lie wholly inside the block: a count that overruns the
  // data is not trusted past the end. Each entry: tag, type, count (u32), value or offset (4).
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t entry = uint64_t(ifd0) + 2 + uint64_t(i) * 12;
    uint16_t tag, type;
    uint32_t n;
    if (!t.Has(entry, 12) || !t.U16(entry, &tag) || !t.U16(entry + 2, &type) ||
        !t.U32(entry + 4, &n)) {
      return kNone;
    }
    if (tag != kOrientationTag) continue;
    // The first Orientation entry decides. SHORT is the specified type; LONG is accepted from
    // writers that get it wrong, since both fit in the entry's inline value field.
    if (n != 1) return kNone;
    if (type == kTypeShort) {
      uint16_t v;
      return t.U16(entry + 8, &v) ? Valid(v) : kNone;
    }
    if (type == kTypeLong) {
      uint32_t v;
      return t.U32(entry + 8, &v) ? Valid(v) : kNone;
    }
    return kNone;
  }
  return kNone;
}

int OrientationFromJpeg(std::span<const uint8_t> jpeg) {
  const Bytes j(jpeg);
  if (!j.Equals(0, "\xff\xd8", 2)) return kNone;
  uint64_t pos = 2;
  // Marker segments up to the first scan; EXIF must precede it. Each step advances pos by at
  // least one byte, so the walk ends.
  while (true) {
    uint8_t b;
    if (!j.U8(pos, &b) || b != 0xff) return kNone;
    while (j.U8(pos, &b) && b == 0xff) ++pos;  // fill bytes
    uint8_t marker;
    if (!j.U8(pos, &marker)) return kNone;
    ++pos;
    if (marker == 0xda || marker == 0xd9) return kNone;  // SOS or EOI: no EXIF before the data
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;  // no length field
    uint16_t length;
    if (!j.U16(pos, &length) || length < 2 || !j.Has(pos, length)) return kNone;
    if (marker == 0xe1 && length >= 8 && j.Equals(pos + 2, "Exif\0\0", 6)) {
      return OrientationFromTiff(j.Sub(pos + 8, length - 8u));
    }
    pos += length;
  }
}

int OrientationFromPng(std::span<const uint8_t> png) {
  const Bytes p(png);
  if (!p.Equals(0, "\x89PNG\r\n\x1a\n", 8)) return kNone;
  // Chunks: length (u32 BE), type, data, CRC. eXIf belongs before IDAT but is read anywhere, as
  // libpng and Pillow do. The CRC is not checked: a damaged eXIf at worst gives a wrong rotation.
  for (uint64_t pos = 8;;) {
    uint32_t length;
    if (!p.U32(pos, &length) || !p.Has(pos, uint64_t(length) + 12)) return kNone;
    if (p.Equals(pos + 4, "eXIf", 4)) return OrientationFromTiff(p.Sub(pos + 8, length));
    if (p.Equals(pos + 4, "IEND", 4)) return kNone;
    pos += uint64_t(length) + 12;
  }
}

int OrientationFromWebp(std::span<const uint8_t> webp) {
  const Bytes w(webp, /*big_endian=*/false);
  if (!w.Equals(0, "RIFF", 4) || !w.Equals(8, "WEBP", 4)) return kNone;
  // Metadata lives only in the extended format, whose first chunk is VP8X.
  if (!w.Equals(12, "VP8X", 4)) return kNone;
  // Chunks: FourCC, size (u32 LE), payload padded to an even length. The RIFF size is not
  // trusted; the span's end bounds the walk.
  for (uint64_t pos = 12;;) {
    uint32_t size;
    if (!w.U32(pos + 4, &size) || !w.Has(pos + 8, size)) return kNone;
    if (w.Equals(pos, "EXIF", 4)) {
      uint64_t start = pos + 8, n = size;
      if (n >= 6 && w.Equals(start, "Exif\0\0", 6)) start += 6, n -= 6;
      return OrientationFromTiff(w.Sub(start, n));
    }
    pos += 8 + uint64_t(size) + (size & 1);
  }
}

int OrientationFromImageBytes(std::span<const uint8_t> bytes) {
  switch (SniffImageFormat(bytes)) {
    case ImageFormat::kJpeg:
      return OrientationFromJpeg(bytes);
    case ImageFormat::kPng:
      return OrientationFromPng(bytes);
    case ImageFormat::kWebp:
      return OrientationFromWebp(bytes);
    case ImageFormat::kUnknown:
      break;
  }
  return kNone;
}

}  // namespace hashmatch::exif

// Byte encoding helpers for the store's files (LevelDB's util/coding): little-endian fixed-width
// integers, LEB128 varints and length-prefixed strings. Encoders append to a std::string; a Decoder
// walks a string_view and reports the first failure, never reading past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace hashmatch::store {

inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // x86-64 only (the build targets it): little-endian in memory
  dst->append(b, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  dst->append(b, 8);
}
inline uint32_t LoadFixed32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadFixed64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(char(v | 0x80));
    v >>= 7;
  }
  dst->push_back(char(v));
}
// Signed values (times) as zigzag varints.
inline void PutVarsint64(std::string* dst, int64_t v) {
  PutVarint64(dst, (uint64_t(v) << 1) ^ uint64_t(v >> 63));
}
inline void PutBytes(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

  uint64_t Varint64() {
    uint64_t v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return Fail();
      const uint8_t b = uint8_t(in_[0]);
      in_.remove_prefix(1);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  int64_t Varsint64() {
    const uint64_t z = Varint64();
    return int64_t(z >> 1) ^ -int64_t(z & 1);
  }
  uint32_t Varint32() {
    const uint64_t v = Varint64();
    if (v > UINT32_MAX) return uint32_t(Fail());
    return uint32_t(v);
  }
  uint8_t Byte() {
    if (in_.empty()) return uint8_t(Fail());
    const uint8_t b = uint8_t(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  std::string_view Bytes() {
    const uint64_t n = Varint64();
    if (!ok_ || n > in_.size()) {
      Fail();
      return {};
    }
    std::string_view s = in_.substr(0, size_t(n));
    in_.remove_prefix(size_t(n));
    return s;
  }
  std::string String() { return std::string(Bytes()); }

 private:
  uint64_t Fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace hashmatch::store

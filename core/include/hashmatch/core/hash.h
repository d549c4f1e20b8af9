// Fixed-size hash codes: Hash256 (PDQ), Hash64 (64-bit perceptual hashes) and the exact digests.
//
// A code is a value type holding its bytes in hex order (see signal_type.h). Distinct C++ types
// keep a PDQ hash from being compared with a SHA-256 of the same size by accident.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "hashmatch/core/status.h"

namespace hashmatch {

template <size_t kBytes, class Tag>
class FixedCode {
 public:
  static constexpr size_t kSize = kBytes;
  static constexpr size_t kBits = kBytes * 8;

  constexpr FixedCode() : bytes_{} {}
  explicit FixedCode(std::span<const uint8_t, kBytes> b) {
    std::memcpy(bytes_.data(), b.data(), kBytes);
  }

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  std::span<const uint8_t, kBytes> bytes() const { return bytes_; }

  // Bit k in the hex string's big-endian numbering: bit 0 is the least significant bit of the
  // last byte. For PDQ this is DCT coefficient k.
  bool bit(size_t k) const { return (bytes_[kBytes - 1 - k / 8] >> (k % 8)) & 1u; }
  void set_bit(size_t k, bool v) {
    uint8_t& b = bytes_[kBytes - 1 - k / 8];
    const uint8_t m = uint8_t(1u << (k % 8));
    b = v ? uint8_t(b | m) : uint8_t(b & ~m);
  }
  int popcount() const {
    int n = 0;
    for (uint8_t b : bytes_) n += std::popcount(b);
    return n;
  }

  friend auto operator<=>(const FixedCode&, const FixedCode&) = default;
  friend bool operator==(const FixedCode&, const FixedCode&) = default;

 private:
  std::array<uint8_t, kBytes> bytes_;
};

struct Hash256Tag {};
struct Hash64Tag {};
struct Md5Tag {};
struct Sha1Tag {};
struct Sha256Tag {};

using Hash256 = FixedCode<32, Hash256Tag>;  // PDQ
using Hash64 = FixedCode<8, Hash64Tag>;     // aHash, dHash, pHash, wHash (imagehash convention)
using Md5Digest = FixedCode<16, Md5Tag>;
using Sha1Digest = FixedCode<20, Sha1Tag>;
using Sha256Digest = FixedCode<32, Sha256Tag>;

// Hamming distance between two codes of the same type (scalar; the batch kernels are in
// distance.h).
template <size_t N, class T>
int HammingDistance(const FixedCode<N, T>& a, const FixedCode<N, T>& b) {
  int d = 0;
  for (size_t i = 0; i < N; ++i) d += std::popcount(uint8_t(a.data()[i] ^ b.data()[i]));
  return d;
}

}  // namespace hashmatch

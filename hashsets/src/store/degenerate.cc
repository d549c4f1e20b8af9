#include "hashmatch/hashsets/degenerate.h"

#include <array>
#include <bit>
#include <cstring>
#include <string_view>

#include "hashmatch/core/hex.h"

namespace hashmatch {
namespace {

// PDQ bit (i, j) of the 16x16 DCT grid is bit k = 16 i + j of the big-endian 256-bit value.
bool PdqBit(std::span<const uint8_t> c, int i, int j) {
  const int k = 16 * i + j;
  return (c[31 - k / 8] >> (k % 8)) & 1u;
}

// True when the set bits (or, with `invert`, the clear bits) form a staircase anchored at (0, 0).
bool IsStaircase(std::span<const uint8_t> c, bool invert) {
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 16; ++j) {
      if (PdqBit(c, i, j) == invert) continue;
      if (i > 0 && PdqBit(c, i - 1, j) == invert) return false;
      if (j > 0 && PdqBit(c, i, j - 1) == invert) return false;
    }
  }
  return true;
}

// Portable popcount (the build has no -mpopcnt, and std::popcount then calls libgcc per byte).
int Popcount(std::span<const uint8_t> c) {
  int n = 0;
  size_t i = 0;
  for (; i + 8 <= c.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, c.data() + i, 8);
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    n += int((x * 0x0101010101010101ull) >> 56);
  }
  for (; i < c.size(); ++i) n += std::popcount(c[i]);
  return n;
}

bool Periodic(std::span<const uint8_t> c, size_t period) {
  for (size_t i = period; i < c.size(); ++i) {
    if (c[i] != c[i - period]) return false;
  }
  return true;
}

constexpr std::string_view kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";
constexpr std::string_view kEmptySha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

std::optional<std::string> DegenerateReason(SignalType signal, std::span<const uint8_t> code,
                                            const DegenerateOptions& options) {
  const SignalInfo& info = GetSignalInfo(signal);
  if (code.size() != info.code_bytes) {
    return "code of " + std::to_string(code.size()) + " bytes for " + std::string(info.name) +
           " (expected " + std::to_string(info.code_bytes) + ")";
  }
  const int bits = Popcount(code);
  if (bits == 0) return std::string("all-zero code (a placeholder or a blank image)");
  if (bits == int(code.size() * 8)) return std::string("all-one code (a placeholder)");
  if (signal == SignalType::kPdq) {
    if (bits < options.pdq_min_bits || bits > options.pdq_max_bits) {
      return "PDQ with " + std::to_string(bits) +
             " bits set (a real PDQ hash has about 128; allowed " +
             std::to_string(options.pdq_min_bits) + ".." + std::to_string(options.pdq_max_bits) +
             ")";
    }
    if (IsStaircase(code, false) || IsStaircase(code, true)) {
      return std::string(
          "PDQ quality-0 ramp pattern (set bits form a low-frequency staircase: a smooth "
          "gradient)");
    }
  }
  if (signal == SignalType::kPdq || !info.perceptual) {
    for (size_t period : {1, 2, 4}) {
      if (Periodic(code, period)) {
        return "placeholder: a " + std::to_string(period) + "-byte pattern repeated (" +
               EncodeHex(code.first(period)) + ")";
      }
    }
  }
  if (!info.perceptual) {
    const std::string hex = EncodeHex(code);
    if (hex == kEmptyMd5 || hex == kEmptySha1 || hex == kEmptySha256) {
      return std::string("digest of the empty input (a zero-byte file)");
    }
  }
  return std::nullopt;
}

}  // namespace hashmatch

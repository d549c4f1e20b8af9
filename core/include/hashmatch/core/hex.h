// Hex codec for hash codes.
//
// Output is always lower case. Input accepts either case and nothing else: no whitespace, no "0x"
// prefix, no separators; trimming belongs to the list importers. A value of the wrong length is
// refused, never truncated or padded. Errors name the problem and its 0-based position:
//   "expected 64 hex digits, got 63"
//   "invalid hex character 'g' (0x67) at position 12"
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hashmatch/core/hash.h"
#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"

namespace hashmatch {

// Decodes exactly out.size() bytes from 2 * out.size() hex digits. On error, `out` is unchanged.
Status DecodeHex(std::string_view hex, std::span<uint8_t> out);

// Lower-case hex of `bytes`.
std::string EncodeHex(std::span<const uint8_t> bytes);

template <class Code>
Result<Code> ParseCode(std::string_view hex) {
  Code c;
  Status s = DecodeHex(hex, std::span<uint8_t>(c.data(), Code::kSize));
  if (!s.ok()) return s;
  return c;
}

template <class Code>
std::string ToHex(const Code& c) {
  return EncodeHex(c.bytes());
}

inline Result<Hash256> ParseHash256(std::string_view hex) {
  return ParseCode<Hash256>(hex);
}
inline Result<Hash64> ParseHash64(std::string_view hex) {
  return ParseCode<Hash64>(hex);
}

}  // namespace hashmatch

#include "hashmatch/core/hex.h"

#include <cstdio>

namespace hashmatch {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DescribeChar(char c) {
  char buf[32];
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c' (0x%02x)", c, u);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  }
  return buf;
}

}  // namespace

Status DecodeHex(std::string_view hex, std::span<uint8_t> out) {
  const size_t want = out.size() * 2;
  if (hex.size() != want) {
    return Status::InvalidArgument("expected " + std::to_string(want) + " hex digits, got " +
                                   std::to_string(hex.size()));
  }
  // Validate everything before writing so that `out` is unchanged on error.
  for (size_t i = 0; i < hex.size(); ++i) {
    if (HexValue(hex[i]) < 0) {
      return Status::InvalidArgument("invalid hex character " + DescribeChar(hex[i]) +
                                     " at position " + std::to_string(i));
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = uint8_t(HexValue(hex[2 * i]) << 4 | HexValue(hex[2 * i + 1]));
  }
  return Status::Ok();
}

std::string EncodeHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    s[2 * i] = kDigits[bytes[i] >> 4];
    s[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return s;
}

}  // namespace hashmatch

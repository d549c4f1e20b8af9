// The kinds of signal a hash list can carry, and their fixed code sizes.
//
// Perceptual hashes (PDQ, the 64-bit image hashes) are matched by Hamming distance; exact digests
// (MD5, SHA-1, SHA-256) only by equality. Every code is stored as the bytes of its hex string, in
// the order written: byte 0 holds the first two hex digits. Hamming distance is independent of
// that choice; it keeps parsing, printing and digest comparison trivial.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace hashmatch {

enum class SignalType : uint8_t {
  kPdq = 0,  // Meta PDQ, 256 bits; hex: one big-endian 256-bit integer, bit k = DCT coefficient k
  kAHash64,  // imagehash average_hash, 64 bits, row-major, first bit most significant
  kDHash64,  // imagehash dhash
  kPHash64,  // imagehash phash
  kWHash64,  // imagehash whash (Haar)
  kMd5,      // exact digests, matched by equality
  kSha1,
  kSha256,
};

struct SignalInfo {
  SignalType type;
  std::string_view name;  // stable lower-case name used in files, CLI and RPC: "pdq", "md5", ...
  size_t code_bytes;      // fixed size of one code
  bool perceptual;        // true: Hamming distance; false: equality only
  uint32_t max_distance;  // largest meaningful distance (bits), 0 for exact digests
};

// All signal types, in enum order.
std::span<const SignalInfo> AllSignalTypes();

const SignalInfo& GetSignalInfo(SignalType type);

// Looks a type up by its name (case-insensitive); nullopt when unknown.
std::optional<SignalType> SignalTypeFromName(std::string_view name);

}  // namespace hashmatch

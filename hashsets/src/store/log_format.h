// The record framing shared by the write-ahead log (NNNNNN.log) and staging files (NNNNNN.stage):
// a sequence of checksummed, length-prefixed records. docs/store.md has the full description.
//
//   record  := header(16 bytes) payload(length bytes)
//   header  := length:u32  type:u8  zero:u8[3]  payload_crc:u32  header_crc:u32   (little-endian)
//
// payload_crc is the masked CRC-32C of the payload; header_crc the masked CRC-32C of the header's
// first 12 bytes. Checking the header on its own is what lets recovery tell a torn tail (the
// record that was being written when the machine stopped) from corruption in the middle: a damaged
// length can never make a middle record look like one that runs past the end of the file.
//
// The first record of every file is a kFileHeader naming the file's kind and number, so a file that
// was renamed or copied into the wrong place is refused rather than replayed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hashmatch/core/crc32c.h"

namespace hashmatch::store {

inline constexpr size_t kRecordHeaderBytes = 16;
// Upper bound of one record's payload: a bigger import goes through a staging file in chunks.
inline constexpr uint32_t kMaxRecordBytes = 1u << 30;

enum class RecordType : uint8_t {
  kFileHeader = 1,  // payload: magic, format version, file kind, file number
  // Write-ahead log: one record per transaction (txn_codec.h).
  kTxn = 2,
  // Staging file: the chunks of one large import, referenced by the kTxn that commits them.
  kStageChunk = 3,
};

enum class FileKind : uint8_t { kLog = 1, kStage = 2 };

// LevelDB's mask: CRCs of data that itself contains CRCs are otherwise weak.
inline uint32_t MaskCrc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
inline uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace hashmatch::store

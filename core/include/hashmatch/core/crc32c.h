// CRC-32C (Castagnoli), the checksum of the index files and the store's log records.
//
// Uses the SSE4.2 CRC32 instruction when the CPU has it (chosen at run time) and a table
// otherwise; both give the same values (tested against RFC 3720's vectors). Debian ships no
// CRC32C library, hence this one.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hashmatch {

// Extends `crc` (the value of a previous call, or 0 to start) with `size` bytes.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

// The table implementation, for tests that compare the two.
uint32_t Crc32cPortable(const void* data, size_t size, uint32_t crc = 0);

}  // namespace hashmatch

// Multi-index hashing: the geometry of the substring tables, the per-table probe radii, and the
// cost model that chooses the number of tables and decides between probing and a flat scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace hashmatch::mih {

// One substring table: bits [start, start + bits) of the code (little-endian 64-bit words over
// the code's bytes) form the key. Its top `top_bits` select the bucket (CSR offsets, about four
// rows per bucket); the next `resid_bits` (at most 8) are stored beside each row so most
// non-candidates are rejected without touching the code; the lowest `low_bits` are not indexed
// (only small sets, whose buckets are few, have any) and are checked at verification.
struct TableGeom {
  uint32_t start = 0;
  uint32_t bits = 0;
  uint32_t top_bits = 0;
  uint32_t resid_bits = 0;
  uint32_t low_bits = 0;
};

inline constexpr uint32_t kMaxSubstringBits = 32;
inline constexpr uint32_t kMaxResidBits = 8;
inline constexpr uint32_t kMaxTopBits = 30;
inline constexpr size_t kMaxTables = 64;

std::vector<TableGeom> Geometry(size_t num_codes, size_t code_bits, int num_tables);

// Per-table radii r_i with sum(r_i + 1) = radius + 1 (r_i = -1: the table is not probed). By the
// pigeonhole principle a code within `radius` of the query is within r_i in some table i.
std::vector<int> Radii(int num_tables, uint32_t radius);

// Estimated nanoseconds of one query: probing the tables at `radius`, or scanning every code.
double EstimateProbeNs(size_t num_codes, const std::vector<TableGeom>& geom, uint32_t radius);
double EstimateFlatNs(size_t num_codes, size_t code_bytes, size_t batch_queries);

// Cheapest number of tables for `expected_radius` (at least 2, substrings at most 32 bits).
int ChooseNumTables(size_t num_codes, size_t code_bytes, uint32_t expected_radius);

inline uint32_t ExtractBits(const uint8_t* code, uint32_t start, uint32_t bits) {
  const uint32_t w = start / 64, off = start % 64;
  uint64_t lo;
  std::memcpy(&lo, code + 8 * w, 8);
  uint64_t v = lo >> off;
  if (off + bits > 64) {
    uint64_t hi;
    std::memcpy(&hi, code + 8 * (w + 1), 8);
    v |= hi << (64 - off);
  }
  return uint32_t(v & ((uint64_t(1) << bits) - 1));
}

}  // namespace hashmatch::mih

// Data generators and the brute-force oracle for the index tests.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "hashmatch/core/index.h"

namespace hashmatch::testing {

struct Codes {
  size_t code_bytes = 32;
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> ids;
  size_t size() const { return ids.size(); }
  CodeView view() const { return {bytes.data(), ids.size(), code_bytes}; }
  const uint8_t* code(size_t i) const { return bytes.data() + i * code_bytes; }
  void Append(const uint8_t* c, uint64_t id) {
    bytes.insert(bytes.end(), c, c + code_bytes);
    ids.push_back(id);
  }
};

inline std::vector<uint8_t> RandomCode(std::mt19937_64& rng, size_t code_bytes) {
  std::vector<uint8_t> c(code_bytes);
  for (auto& b : c) b = uint8_t(rng());
  return c;
}

// Flips exactly `d` distinct bits of `c`.
inline void FlipBits(std::mt19937_64& rng, std::vector<uint8_t>* c, size_t d) {
  std::vector<size_t> pos(c->size() * 8);
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = i;
  std::shuffle(pos.begin(), pos.end(), rng);
  for (size_t i = 0; i < d; ++i) (*c)[pos[i] / 8] ^= uint8_t(1u << (pos[i] % 8));
}

inline uint32_t OracleDistance(const uint8_t* a, const uint8_t* b, size_t n) {
  // Byte by byte, independent of the word kernels under test.
  uint32_t d = 0;
  for (size_t i = 0; i < n; ++i) d += uint32_t(std::popcount(unsigned(a[i] ^ b[i])));
  return d;
}

// Oracle hits of one query: (distance, id) sorted.
inline std::vector<std::pair<uint32_t, uint64_t>> OracleRange(
    const std::map<uint64_t, std::vector<uint8_t>>& live, const uint8_t* q, size_t code_bytes,
    uint32_t radius) {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (const auto& [id, code] : live) {
    const uint32_t d = OracleDistance(q, code.data(), code_bytes);
    if (d <= radius) out.push_back({d, id});
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::map<uint64_t, std::vector<uint8_t>> AsMap(const Codes& c) {
  std::map<uint64_t, std::vector<uint8_t>> m;
  for (size_t i = 0; i < c.size(); ++i) m[c.ids[i]] = {c.code(i), c.code(i) + c.code_bytes};
  return m;
}

}  // namespace hashmatch::testing

// A bit-by-bit Hamming oracle, deliberately independent of the kernels' code.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "hashmatch/core/distance.h"

namespace hashmatch::testing {

inline uint32_t OracleDistance(const uint8_t* a, const uint8_t* b, size_t cb) {
  uint32_t d = 0;
  for (size_t i = 0; i < cb; ++i)
    for (int bit = 0; bit < 8; ++bit) d += ((a[i] >> bit) & 1) != ((b[i] >> bit) & 1);
  return d;
}

inline std::vector<RangeHit> OracleRange(CodeView q, CodeView c, uint32_t radius) {
  std::vector<RangeHit> hits;
  for (size_t i = 0; i < q.count; ++i)
    for (size_t j = 0; j < c.count; ++j) {
      const uint32_t d = OracleDistance(q.code(i), c.code(j), c.code_bytes);
      if (d <= radius) hits.push_back({uint32_t(i), d, j});
    }
  return hits;
}

inline void SortHits(std::vector<RangeHit>* h) {
  std::sort(h->begin(), h->end(), [](const RangeHit& a, const RangeHit& b) {
    return a.query != b.query ? a.query < b.query : a.row < b.row;
  });
}

inline std::vector<uint8_t> RandomCodes(size_t n, size_t cb, std::mt19937_64& rng) {
  std::vector<uint8_t> v(n * cb);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

// Copies `src` with exactly `flips` distinct bits flipped.
inline std::vector<uint8_t> FlipBits(const uint8_t* src, size_t cb, size_t flips,
                                     std::mt19937_64& rng) {
  std::vector<uint8_t> out(src, src + cb);
  std::vector<size_t> bits(cb * 8);
  for (size_t i = 0; i < bits.size(); ++i) bits[i] = i;
  std::shuffle(bits.begin(), bits.end(), rng);
  for (size_t i = 0; i < flips; ++i) out[bits[i] / 8] ^= uint8_t(1u << (bits[i] % 8));
  return out;
}

}  // namespace hashmatch::testing

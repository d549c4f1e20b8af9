// Internal: the per-path kernel entry points and the blocking driver they share.
//
// Each path lives in its own translation unit. SIMD code is enabled with function-level
// __attribute__((target(...))), never with TU-wide -m flags: a TU compiled with -mavx2 would also
// emit AVX2 copies of inline library functions (std::vector::push_back, ...) that the linker may
// pick for the whole program, crashing baseline CPUs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "hashmatch/core/distance.h"

namespace hashmatch {

struct DistanceKernels::Table {
  // out[i] = distance(q, codes[i]) for i < n.
  void (*distances)(const uint8_t* q, const uint8_t* codes, size_t n, size_t cb, uint16_t* out);
  // Hits of queries[0..nq) against codes[0..n) within radius; rows offset by row_base, query
  // numbers offset by q_base. radius < cb * 8 (the driver handles larger radii).
  void (*range_tile)(const uint8_t* queries, size_t nq, uint32_t q_base, const uint8_t* codes,
                     size_t n, size_t cb, uint32_t radius, uint64_t row_base,
                     std::vector<RangeHit>* hits);
  size_t tile_queries;  // how many queries range_tile handles at once, at most
};

namespace kernels {

const DistanceKernels::Table& ScalarTable();
const DistanceKernels::Table& PopcntTable();
const DistanceKernels::Table* Avx2Table();    // nullptr when not compiled in
const DistanceKernels::Table* Avx512Table();  // nullptr when not compiled in

// Out of line and compiled for the baseline ISA, so SIMD TUs never instantiate vector code.
void EmitHit(std::vector<RangeHit>* hits, uint32_t q, uint64_t row, uint32_t d);

// Codes are scanned in blocks that stay in L1 while every tile of queries passes over them.
inline constexpr size_t kBlockBytes = 16 * 1024;

// Calls f(std::integral_constant<size_t, NT>{}) with NT = min(nq, 4), nq >= 1, so that a tile
// kernel can hold its NT queries in registers.
template <class F>
inline void WithTileSize(size_t nq, F&& f) {
  switch (nq) {
    case 1:
      return f(std::integral_constant<size_t, 1>{});
    case 2:
      return f(std::integral_constant<size_t, 2>{});
    case 3:
      return f(std::integral_constant<size_t, 3>{});
    default:
      return f(std::integral_constant<size_t, 4>{});
  }
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace kernels
}  // namespace hashmatch

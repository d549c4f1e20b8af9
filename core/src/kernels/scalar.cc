// The scalar path: portable x86-64 with a SWAR popcount, no POPCNT instruction. It is the
// baseline every other path must equal, and the "own scalar path" of the benchmarks.
#include "kernel_table.h"

namespace {
inline uint64_t SwarPopcount(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (x * 0x0101010101010101ull) >> 56;
}
}  // namespace

#define HM_WORD_TARGET
#define HM_POP64(x) SwarPopcount(x)
#include "word_kernels.inc"

namespace hashmatch::kernels {

const DistanceKernels::Table& ScalarTable() {
  static const DistanceKernels::Table t{&WordDistances, &WordRangeTile, 4};
  return t;
}

}  // namespace hashmatch::kernels

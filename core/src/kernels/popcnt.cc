// The x86-64-v2 path: the POPCNT instruction on 64-bit words.
#include "kernel_table.h"

#define HM_WORD_TARGET __attribute__((target("popcnt")))
#define HM_POP64(x) __builtin_popcountll(x)
#include "word_kernels.inc"

namespace hashmatch::kernels {

const DistanceKernels::Table& PopcntTable() {
  static const DistanceKernels::Table t{&WordDistances, &WordRangeTile, 4};
  return t;
}

}  // namespace hashmatch::kernels

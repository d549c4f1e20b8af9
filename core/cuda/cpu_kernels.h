// CPU brute-force distance kernels for the GPU matcher's self-contained program (gpu_check).
//
// This directory builds with only the CUDA toolkit, CMake and the C++ standard library (a GPU
// machine may lack the project's other dependencies), so it carries its own small kernel set
// instead of linking hashmatch::core. Three paths compute the same thing:
//   scalar  - the oracle (std::popcount per 64-bit word);
//   avx2    - nibble-table popcount (vpshufb), function-level target attribute;
//   avx512  - AVX-512 VPOPCNTDQ (vpopcntq), function-level target attribute.
// The best one is chosen at run time with __builtin_cpu_supports (no -march flags), and the
// kernel-equivalence test runs every path the host supports against the scalar oracle.
//
// Codes are `words` 64-bit words each (1 for 64-bit hashes, 4 for PDQ), stored row-major.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hashmatch::gpu {

// out[i] = Hamming distance between `query` and code i, for i < n.
using DistanceFn = void (*)(const uint64_t* query, const uint64_t* codes, size_t n, size_t words,
                            uint32_t* out);

void DistancesScalar(const uint64_t* query, const uint64_t* codes, size_t n, size_t words,
                     uint32_t* out);
// Only callable when the matching Has*() is true.
void DistancesAvx2(const uint64_t* query, const uint64_t* codes, size_t n, size_t words,
                   uint32_t* out);
void DistancesAvx512(const uint64_t* query, const uint64_t* codes, size_t n, size_t words,
                     uint32_t* out);

bool HasAvx2();
bool HasAvx512Vpopcntdq();

// The fastest path this CPU supports, and its name ("avx512-vpopcntdq", "avx2", "scalar").
DistanceFn BestDistanceFn();
const char* BestDistanceName();

}  // namespace hashmatch::gpu

#include "cpu_kernels.h"

#include <bit>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hashmatch::gpu {

void DistancesScalar(const uint64_t* query, const uint64_t* codes, size_t n, size_t words,
                     uint32_t* out) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t d = 0;
    for (size_t w = 0; w < words; ++w) d += std::popcount(query[w] ^ codes[i * words + w]);
    out[i] = d;
  }
}

#if defined(__x86_64__)

namespace {

// Popcount of each 64-bit lane via the nibble table (Mula's method) and a horizontal add.
__attribute__((target("avx2"))) inline __m256i Popcnt64Avx2(__m256i v) {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                         1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i lo = _mm256_and_si256(v, low);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  __m256i bytes = _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
  return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

}  // namespace

__attribute__((target("avx2"))) void DistancesAvx2(const uint64_t* query, const uint64_t* codes,
                                                   size_t n, size_t words, uint32_t* out) {
  if (words == 4) {
    // One PDQ code per 256-bit vector.
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(query));
    for (size_t i = 0; i < n; ++i) {
      __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + i * 4));
      __m256i p = Popcnt64Avx2(_mm256_xor_si256(q, c));
      __m128i s = _mm_add_epi64(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
      out[i] = static_cast<uint32_t>(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1));
    }
    return;
  }
  if (words == 1) {
    // Four 64-bit codes per vector.
    const __m256i q = _mm256_set1_epi64x(static_cast<long long>(query[0]));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + i));
      __m256i p = Popcnt64Avx2(_mm256_xor_si256(q, c));
      alignas(32) uint64_t lanes[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), p);
      for (int k = 0; k < 4; ++k) out[i + k] = static_cast<uint32_t>(lanes[k]);
    }
    DistancesScalar(query, codes + i, n - i, 1, out + i);
    return;
  }
  DistancesScalar(query, codes, n, words, out);
}

__attribute__((target("avx512f,avx512vl,avx512vpopcntdq"))) void DistancesAvx512(
    const uint64_t* query, const uint64_t* codes, size_t n, size_t words, uint32_t* out) {
  if (words == 4) {
    // Two PDQ codes per 512-bit vector; the tail (odd n) uses a masked load.
    const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(query));
    const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(q4), q4, 1);
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
      __m512i c = _mm512_loadu_si512(codes + i * 4);
      __m512i p = _mm512_popcnt_epi64(_mm512_xor_si512(q, c));
      __m256i a = _mm512_castsi512_si256(p), b = _mm512_extracti64x4_epi64(p, 1);
      alignas(32) uint64_t la[4], lb[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(la), a);
      _mm256_store_si256(reinterpret_cast<__m256i*>(lb), b);
      out[i] = static_cast<uint32_t>(la[0] + la[1] + la[2] + la[3]);
      out[i + 1] = static_cast<uint32_t>(lb[0] + lb[1] + lb[2] + lb[3]);
    }
    if (i < n) {
      __m512i c = _mm512_maskz_loadu_epi64(0x0f, codes + i * 4);
      out[i] = static_cast<uint32_t>(
          _mm512_reduce_add_epi64(_mm512_maskz_popcnt_epi64(0x0f, _mm512_xor_si512(q, c))));
    }
    return;
  }
  if (words == 1) {
    // Eight 64-bit codes per vector; masked tail.
    const __m512i q = _mm512_set1_epi64(static_cast<long long>(query[0]));
    for (size_t i = 0; i < n; i += 8) {
      const size_t left = n - i < 8 ? n - i : 8;
      const __mmask8 m = static_cast<__mmask8>((1u << left) - 1u);
      __m512i c = _mm512_maskz_loadu_epi64(m, codes + i);
      __m256i d = _mm512_cvtepi64_epi32(_mm512_popcnt_epi64(_mm512_xor_si512(q, c)));
      _mm256_mask_storeu_epi32(out + i, m, d);
    }
    return;
  }
  DistancesScalar(query, codes, n, words, out);
}

bool HasAvx2() {
  return __builtin_cpu_supports("avx2");
}
bool HasAvx512Vpopcntdq() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vpopcntdq");
}

#else  // not x86-64: the scalar path only.

void DistancesAvx2(const uint64_t* q, const uint64_t* c, size_t n, size_t w, uint32_t* o) {
  DistancesScalar(q, c, n, w, o);
}
void DistancesAvx512(const uint64_t* q, const uint64_t* c, size_t n, size_t w, uint32_t* o) {
  DistancesScalar(q, c, n, w, o);
}
bool HasAvx2() {
  return false;
}
bool HasAvx512Vpopcntdq() {
  return false;
}

#endif

DistanceFn BestDistanceFn() {
  if (HasAvx512Vpopcntdq()) return DistancesAvx512;
  if (HasAvx2()) return DistancesAvx2;
  return DistancesScalar;
}

const char* BestDistanceName() {
  if (HasAvx512Vpopcntdq()) return "avx512-vpopcntdq";
  if (HasAvx2()) return "avx2";
  return "scalar";
}

}  // namespace hashmatch::gpu

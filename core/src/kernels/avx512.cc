// The AVX-512 path: VPOPCNTQ on 512-bit registers (AVX512_VPOPCNTDQ), two 256-bit codes or eight
// 64-bit codes per register. For 256-bit codes, eight distances are packed into 16-bit fields
// (codes 0,2,4,6 in the low half, 1,3,5,7 in the high half) and tested with one VPCMPUW.
#include <immintrin.h>

#include "kernel_table.h"

#define HM_WORD_TARGET __attribute__((target("popcnt")))
#define HM_POP64(x) __builtin_popcountll(x)
#include "word_kernels.inc"

#define HM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,popcnt")))

namespace {

HM_AVX512 inline __m512i Load512(const uint8_t* p) {
  return _mm512_loadu_si512(p);
}

// Eight 256-bit distances of query q2 (the query in both halves) against c0..c3 (two codes each).
// Result: every 64-bit lane of the low half holds [d0, d2, d4, d6] as 16-bit fields, every lane of
// the high half [d1, d3, d5, d7].
HM_AVX512 inline __m512i Packed8x256(__m512i q2, __m512i c0, __m512i c1, __m512i c2, __m512i c3) {
  const __m512i p0 = _mm512_popcnt_epi64(_mm512_xor_si512(q2, c0));
  const __m512i p1 = _mm512_popcnt_epi64(_mm512_xor_si512(q2, c1));
  const __m512i p2 = _mm512_popcnt_epi64(_mm512_xor_si512(q2, c2));
  const __m512i p3 = _mm512_popcnt_epi64(_mm512_xor_si512(q2, c3));
  __m512i u =
      _mm512_add_epi64(_mm512_add_epi64(p0, _mm512_slli_epi64(p1, 16)),
                       _mm512_add_epi64(_mm512_slli_epi64(p2, 32), _mm512_slli_epi64(p3, 48)));
  u = _mm512_add_epi64(u, _mm512_permutex_epi64(u, 0xB1));  // swap neighbours within 256 bits
  u = _mm512_add_epi64(u, _mm512_permutex_epi64(u, 0x4E));  // swap 128-bit halves within 256
  return u;
}

// The eight distances of Packed8x256's result, in code order.
HM_AVX512 inline __m128i Unpack8(__m512i u) {
  return _mm_unpacklo_epi16(_mm512_castsi512_si128(u), _mm512_extracti32x4_epi32(u, 2));
}

template <size_t NT>
HM_AVX512 void Tile256(const uint8_t* queries, uint32_t q_base, const uint8_t* codes, size_t n,
                       uint32_t radius, uint64_t row_base, std::vector<hashmatch::RangeHit>* hits) {
  __m512i q[NT];
  for (size_t t = 0; t < NT; ++t) {
    q[t] = _mm512_broadcast_i64x4(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(queries + 32 * t)));
  }
  const __m512i r = _mm512_set1_epi16(int16_t(radius));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint8_t* c = codes + 32 * i;
    const __m512i c0 = Load512(c), c1 = Load512(c + 64), c2 = Load512(c + 128),
                  c3 = Load512(c + 192);
    for (size_t t = 0; t < NT; ++t) {
      const __m512i u = Packed8x256(q[t], c0, c1, c2, c3);
      const __mmask32 m = _mm512_cmple_epu16_mask(u, r) & 0x000F000Fu;
      if (m) {
        alignas(16) uint16_t d[8];
        _mm_store_si128(reinterpret_cast<__m128i*>(d), Unpack8(u));
        for (uint32_t bits = m; bits; bits &= bits - 1) {
          const unsigned b = unsigned(__builtin_ctz(bits));
          const unsigned j = b < 16 ? 2 * b : 2 * (b - 16) + 1;
          EmitHit(hits, q_base + uint32_t(t), row_base + i + j, d[j]);
        }
      }
    }
  }
  if (i < n)
    WordTileFixed<4, NT>(queries, q_base, codes + 32 * i, n - i, radius, row_base + i, hits);
}

template <size_t NT>
HM_AVX512 void Tile64(const uint8_t* queries, uint32_t q_base, const uint8_t* codes, size_t n,
                      uint32_t radius, uint64_t row_base, std::vector<hashmatch::RangeHit>* hits) {
  __m512i q[NT];
  for (size_t t = 0; t < NT; ++t) q[t] = _mm512_set1_epi64(int64_t(Load64(queries + 8 * t)));
  const __m512i r = _mm512_set1_epi64(radius);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i c = Load512(codes + 8 * i);
    for (size_t t = 0; t < NT; ++t) {
      const __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(q[t], c));
      const __mmask8 m = _mm512_cmple_epu64_mask(d, r);
      if (m) {
        alignas(64) uint64_t dv[8];
        _mm512_store_si512(dv, d);
        for (unsigned bits = m; bits; bits &= bits - 1) {
          const unsigned j = unsigned(__builtin_ctz(bits));
          EmitHit(hits, q_base + uint32_t(t), row_base + i + j, uint32_t(dv[j]));
        }
      }
    }
  }
  if (i < n)
    WordTileFixed<1, NT>(queries, q_base, codes + 8 * i, n - i, radius, row_base + i, hits);
}

HM_AVX512 void Avx512RangeTile(const uint8_t* queries, size_t nq, uint32_t q_base,
                               const uint8_t* codes, size_t n, size_t cb, uint32_t radius,
                               uint64_t row_base, std::vector<hashmatch::RangeHit>* hits) {
  if (cb == 32) {
    return WithTileSize(nq, [&](auto nt) {
      Tile256<decltype(nt)::value>(queries, q_base, codes, n, radius, row_base, hits);
    });
  }
  if (cb == 8) {
    return WithTileSize(nq, [&](auto nt) {
      Tile64<decltype(nt)::value>(queries, q_base, codes, n, radius, row_base, hits);
    });
  }
  WordRangeTile(queries, nq, q_base, codes, n, cb, radius, row_base, hits);
}

HM_AVX512 void Avx512Distances(const uint8_t* q, const uint8_t* codes, size_t n, size_t cb,
                               uint16_t* out) {
  size_t i = 0;
  if (cb == 32) {
    const __m512i q2 =
        _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    for (; i + 8 <= n; i += 8) {
      const uint8_t* c = codes + 32 * i;
      const __m512i u =
          Packed8x256(q2, Load512(c), Load512(c + 64), Load512(c + 128), Load512(c + 192));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), Unpack8(u));
    }
  } else if (cb == 8) {
    const __m512i qv = _mm512_set1_epi64(int64_t(Load64(q)));
    for (; i + 8 <= n; i += 8) {
      const __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(qv, Load512(codes + 8 * i)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi64_epi16(d));
    }
  }
  if (i < n) WordDistances(q, codes + i * cb, n - i, cb, out + i);
}

}  // namespace

namespace hashmatch::kernels {

const DistanceKernels::Table* Avx512Table() {
  static const DistanceKernels::Table t{&Avx512Distances, &Avx512RangeTile, 4};
  return &t;
}

}  // namespace hashmatch::kernels

// The AVX2 path: per-byte popcount by nibble table lookup (VPSHUFB), summed with VPSADBW. Four
// 256-bit distances are packed into one 64-bit word of 16-bit fields, so the radius test for four
// codes is one add and one mask.
#include <immintrin.h>

#include "kernel_table.h"

#define HM_WORD_TARGET __attribute__((target("popcnt")))
#define HM_POP64(x) __builtin_popcountll(x)
#include "word_kernels.inc"

#define HM_AVX2 __attribute__((target("avx2,popcnt")))

namespace {

HM_AVX2 inline __m256i PopcountBytes(__m256i x) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(x, low);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

// Four 4-lane partial sums (one per 64-bit chunk) of four 256-bit distances.
HM_AVX2 inline uint64_t Packed4x256(__m256i q, __m256i c0, __m256i c1, __m256i c2, __m256i c3) {
  const __m256i z = _mm256_setzero_si256();
  const __m256i s0 = _mm256_sad_epu8(PopcountBytes(_mm256_xor_si256(q, c0)), z);
  const __m256i s1 = _mm256_sad_epu8(PopcountBytes(_mm256_xor_si256(q, c1)), z);
  const __m256i s2 = _mm256_sad_epu8(PopcountBytes(_mm256_xor_si256(q, c2)), z);
  const __m256i s3 = _mm256_sad_epu8(PopcountBytes(_mm256_xor_si256(q, c3)), z);
  // Each 64-bit lane holds one chunk's count (<= 64) of each code: field j = code j.
  const __m256i u =
      _mm256_add_epi64(_mm256_add_epi64(s0, _mm256_slli_epi64(s1, 16)),
                       _mm256_add_epi64(_mm256_slli_epi64(s2, 32), _mm256_slli_epi64(s3, 48)));
  __m128i h = _mm_add_epi64(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
  h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
  return uint64_t(_mm_cvtsi128_si64(h));  // four 16-bit distances, code 0 in the low field
}

HM_AVX2 inline __m256i Load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <size_t NT>
HM_AVX2 void Tile256(const uint8_t* queries, uint32_t q_base, const uint8_t* codes, size_t n,
                     uint32_t radius, uint64_t row_base, std::vector<hashmatch::RangeHit>* hits) {
  __m256i q[NT];
  for (size_t t = 0; t < NT; ++t) q[t] = Load256(queries + 32 * t);
  // Field + bias has bit 15 clear exactly when the field is <= radius (fields are <= 256).
  const uint64_t bias = uint64_t(0x8000 - (radius + 1)) * 0x0001000100010001ull;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint8_t* c = codes + 32 * i;
    const __m256i c0 = Load256(c), c1 = Load256(c + 32), c2 = Load256(c + 64), c3 = Load256(c + 96);
    for (size_t t = 0; t < NT; ++t) {
      const uint64_t p = Packed4x256(q[t], c0, c1, c2, c3);
      uint64_t m = ~(p + bias) & 0x8000800080008000ull;
      while (m) {
        const unsigned j = unsigned(__builtin_ctzll(m)) / 16;
        EmitHit(hits, q_base + uint32_t(t), row_base + i + j, uint32_t(p >> (16 * j)) & 0xffff);
        m &= m - 1;
      }
    }
  }
  if (i < n) {
    WordTileFixed<4, NT>(queries, q_base, codes + 32 * i, n - i, radius, row_base + i, hits);
  }
}

template <size_t NT>
HM_AVX2 void Tile64(const uint8_t* queries, uint32_t q_base, const uint8_t* codes, size_t n,
                    uint32_t radius, uint64_t row_base, std::vector<hashmatch::RangeHit>* hits) {
  __m256i q[NT];
  for (size_t t = 0; t < NT; ++t) q[t] = _mm256_set1_epi64x(int64_t(Load64(queries + 8 * t)));
  const __m256i r = _mm256_set1_epi64x(radius);
  const __m256i z = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256i c = Load256(codes + 8 * i);
    for (size_t t = 0; t < NT; ++t) {
      const __m256i d = _mm256_sad_epu8(PopcountBytes(_mm256_xor_si256(q[t], c)), z);
      unsigned m =
          ~unsigned(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(d, r)))) & 15u;
      if (m) {
        alignas(32) uint64_t dv[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(dv), d);
        while (m) {
          const unsigned j = unsigned(__builtin_ctz(m));
          EmitHit(hits, q_base + uint32_t(t), row_base + i + j, uint32_t(dv[j]));
          m &= m - 1;
        }
      }
    }
  }
  if (i < n)
    WordTileFixed<1, NT>(queries, q_base, codes + 8 * i, n - i, radius, row_base + i, hits);
}

HM_AVX2 void Avx2RangeTile(const uint8_t* queries, size_t nq, uint32_t q_base, const uint8_t* codes,
                           size_t n, size_t cb, uint32_t radius, uint64_t row_base,
                           std::vector<hashmatch::RangeHit>* hits) {
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

HM_AVX2 void Avx2Distances(const uint8_t* q, const uint8_t* codes, size_t n, size_t cb,
                           uint16_t* out) {
  size_t i = 0;
  if (cb == 32) {
    const __m256i qv = Load256(q);
    for (; i + 4 <= n; i += 4) {
      const uint8_t* c = codes + 32 * i;
      const uint64_t p =
          Packed4x256(qv, Load256(c), Load256(c + 32), Load256(c + 64), Load256(c + 96));
      std::memcpy(out + i, &p, 8);  // little-endian fields: code i in the low field
    }
  } else if (cb == 8) {
    const __m256i qv = _mm256_set1_epi64x(int64_t(Load64(q)));
    const __m256i z = _mm256_setzero_si256();
    for (; i + 4 <= n; i += 4) {
      const __m256i d =
          _mm256_sad_epu8(PopcountBytes(_mm256_xor_si256(qv, Load256(codes + 8 * i))), z);
      // Each 64-bit lane is <= 64: gather the low 16 bits of the four lanes.
      const __m256i w = _mm256_shuffle_epi8(
          d, _mm256_setr_epi8(0, 1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                              0, 1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
      const uint32_t lo = uint32_t(_mm256_extract_epi32(w, 0));
      const uint32_t hi = uint32_t(_mm256_extract_epi32(w, 4));
      const uint64_t p = uint64_t(lo) | (uint64_t(hi) << 32);
      std::memcpy(out + i, &p, 8);
    }
  }
  if (i < n) WordDistances(q, codes + i * cb, n - i, cb, out + i);
}

}  // namespace

namespace hashmatch::kernels {

const DistanceKernels::Table* Avx2Table() {
  static const DistanceKernels::Table t{&Avx2Distances, &Avx2RangeTile, 4};
  return &t;
}

}  // namespace hashmatch::kernels

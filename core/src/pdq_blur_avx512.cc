// The PDQ blur pipeline (pdq_blur.h) with AVX-512F: sixteen floats per vector, 16x16 transposes
// in registers; luma conversion as on the AVX2 path.
#include <immintrin.h>

#include "pdq_blur.h"

namespace hashmatch::pdq_internal {
namespace avx512 {
namespace {

#define HM_PDQ_T __attribute__((target("avx2,avx512f")))
#define HM_PDQ_LANES 16
#define HM_PDQ_STRIP 32

#include "pdq_luma_avx2.inc"

HM_PDQ_T inline void Transpose(const float* s, size_t ss, float* d, size_t ds) {
  __m512 r[16], t[16], u[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(s + i * ss);
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + m], 128-bit lane q: column 4q + m of rows 4i .. 4i + 3.
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
    const __m512 v1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
    _mm512_storeu_ps(d + m * ds, _mm512_shuffle_f32x4(v0, v2, 0x88));
    _mm512_storeu_ps(d + (4 + m) * ds, _mm512_shuffle_f32x4(v1, v3, 0x88));
    _mm512_storeu_ps(d + (8 + m) * ds, _mm512_shuffle_f32x4(v0, v2, 0xDD));
    _mm512_storeu_ps(d + (12 + m) * ds, _mm512_shuffle_f32x4(v1, v3, 0xDD));
  }
}

#include "pdq_blur.inc"

}  // namespace
}  // namespace avx512

BlurFn BlurAvx512() {
  return &avx512::Blur;
}

}  // namespace hashmatch::pdq_internal

// The PDQ blur pipeline (pdq_blur.h) for baseline x86-64: SSE2, four floats per vector. Also the
// path for CPUs without AVX2, and the one the others are compared with in tests.
#include <emmintrin.h>

#include "pdq_blur.h"

namespace hashmatch::pdq_internal {
namespace sse2 {
namespace {

#define HM_PDQ_T
#define HM_PDQ_LANES 4
#define HM_PDQ_STRIP 16

inline void Transpose(const float* s, size_t ss, float* d, size_t ds) {
  __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + ss), r2 = _mm_loadu_ps(s + 2 * ss),
         r3 = _mm_loadu_ps(s + 3 * ss);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(d, r0);
  _mm_storeu_ps(d + ds, r1);
  _mm_storeu_ps(d + 2 * ds, r2);
  _mm_storeu_ps(d + 3 * ds, r3);
}

// Without a byte shuffle, RGB is deinterleaved by table: t[c][v] is the product coefficient_c * v
// computed once in float, the very value the reference's multiplication gives; the two additions
// are the reference's, in its order.
struct LumaTables {
  float r[256], g[256], b[256];
  LumaTables() {
    static constexpr float kR = 0.299f, kG = 0.587f, kB = 0.114f;
    for (int v = 0; v < 256; ++v) {
      r[v] = kR * float(v);
      g[v] = kG * float(v);
      b[v] = kB * float(v);
    }
  }
};

inline void RgbToLuma(const uint8_t* p, int n, float* out) {
  static const LumaTables t;
  for (int x = 0; x < n; ++x, p += 3) out[x] = t.r[p[0]] + t.g[p[1]] + t.b[p[2]];
}

inline void GreyToLuma(const uint8_t* p, int n, float* out) {
  for (int x = 0; x < n; ++x) out[x] = float(p[x]);
}

#include "pdq_blur.inc"

}  // namespace
}  // namespace sse2

BlurFn BlurSse2() {
  return &sse2::Blur;
}

}  // namespace hashmatch::pdq_internal

// Dispatch of the PDQ blur pipeline (pdq_blur.h): which instruction sets this CPU runs, the
// HASHMATCH_PDQ_SIMD override, and the workspace layout (sized here, in baseline code, so that
// the SIMD functions never allocate).
#include "pdq_blur.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace hashmatch {
namespace {

using pdq_internal::BlurPlan;

struct IsaShape {
  int lanes, strip;
};
IsaShape Shape(PdqSimd simd) {
  switch (simd) {
    case PdqSimd::kAvx2:
      return {8, 32};
    case PdqSimd::kAvx512:
      return {16, 32};
    case PdqSimd::kSse2:
      break;
  }
  return {4, 16};
}

int RoundUp(int x, int m) {
  return (x + m - 1) / m * m;
}

void Plan(PdqSimd simd, int rows, int cols, std::vector<float>* arena, BlurPlan* p) {
  const IsaShape shape = Shape(simd);
  p->rows = rows;
  p->cols = cols;
  p->lanes = shape.lanes;
  p->strip = shape.strip;
  p->cols_padded = RoundUp(cols, shape.lanes);
  p->h_window = pdq_internal::JaroszWindow(cols);
  p->v_window = pdq_internal::JaroszWindow(rows);
  // The first vertical pass reads row r - window while the strip holding r is in the ring.
  p->ring_rows = RoundUp(p->v_window, shape.strip) + shape.strip;
  for (int j = 0; j < 64; ++j) {
    p->sample_cols[j] = int(((j + 0.5) * cols) / 64);
    p->sample_rows[j] = int(((j + 0.5) * rows) / 64);
  }
  const size_t cp = size_t(p->cols_padded), strip = size_t(shape.strip);
  const struct {
    float** ptr;
    size_t floats;
  } buffers[] = {
      {&p->strip_rows, strip * cp},
      {&p->v1_rows, strip * cp},
      {&p->t_in, cp * strip},
      {&p->t_out, cp * strip},
      {&p->ring, size_t(p->ring_rows) * cp},
      {&p->v_sums, cp},
      {&p->sampled, size_t(RoundUp(rows, shape.strip)) * 64},
      {&p->sampled_out, size_t(rows) * 64},
      {&p->v2_sums, 64},
  };
  // Each buffer starts on a 64-byte boundary (16 floats).
  auto padded = [](size_t n) { return (n + 15) / 16 * 16; };
  size_t total = 16;  // slack to align the first one
  for (const auto& b : buffers) total += padded(b.floats);
  if (arena->size() < total) arena->resize(total);
  float* base = arena->data();
  base += (16 - (reinterpret_cast<uintptr_t>(base) / sizeof(float)) % 16) % 16;
  for (const auto& b : buffers) {
    *b.ptr = base;
    base += padded(b.floats);
  }
}

bool CpuHas(PdqSimd simd) {
  __builtin_cpu_init();
  switch (simd) {
    case PdqSimd::kSse2:
      return true;  // baseline x86-64
    case PdqSimd::kAvx2:
      return __builtin_cpu_supports("avx2");
    case PdqSimd::kAvx512:
      // GCC's check includes the OS's XSAVE support for the ZMM state.
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f");
  }
  return false;
}

}  // namespace

const char* PdqSimdName(PdqSimd simd) {
  switch (simd) {
    case PdqSimd::kSse2:
      return "sse2";
    case PdqSimd::kAvx2:
      return "avx2";
    case PdqSimd::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool PdqSimdSupported(PdqSimd simd) {
  return CpuHas(simd);
}

PdqSimd DefaultPdqSimd() {
  static const PdqSimd kDefault = [] {
    PdqSimd best = PdqSimd::kSse2;
    for (PdqSimd s : kAllPdqSimd) {
      if (PdqSimdSupported(s)) best = s;
    }
    const char* env = std::getenv("HASHMATCH_PDQ_SIMD");
    if (env == nullptr || *env == '\0') return best;
    for (PdqSimd s : kAllPdqSimd) {
      if (std::strcmp(env, PdqSimdName(s)) == 0) {
        if (PdqSimdSupported(s)) return s;
        std::fprintf(stderr, "hashmatch: HASHMATCH_PDQ_SIMD=%s is not supported here; using %s\n",
                     env, PdqSimdName(best));
        return best;
      }
    }
    std::fprintf(stderr, "hashmatch: HASHMATCH_PDQ_SIMD=%s is not sse2, avx2 or avx512; using %s\n",
                 env, PdqSimdName(best));
    return best;
  }();
  return kDefault;
}

namespace pdq_internal {

void BlurDecimate(PdqSimd simd, const LumaSource& src, std::vector<float>* arena,
                  float out[64][64]) {
  BlurPlan plan;
  Plan(simd, src.rows, src.cols, arena, &plan);
  switch (simd) {
    case PdqSimd::kAvx512:
      return BlurAvx512()(src, plan, out);
    case PdqSimd::kAvx2:
      return BlurAvx2()(src, plan, out);
    case PdqSimd::kSse2:
      break;
  }
  BlurSse2()(src, plan, out);
}

}  // namespace pdq_internal
}  // namespace hashmatch

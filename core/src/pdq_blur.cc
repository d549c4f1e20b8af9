// Dispatch of the PDQ blur pipeline (pdq_blur.h): which instruction sets this CPU runs, the
// HASHMATCH_PDQ_SIMD override, and the workspace layout (sized here, in baseline code, so that
// the SIMD functions never allocate). Also the full-size scalar blur for images with few rows,
// where the streaming layout's strips and ring (~200 rows' worth of a row) would need more memory
// than the image itself. Compiled with -ffp-contract=off like the rest of PDQ.
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

// Fills the plan and sizes the arena for the streaming pipeline, unless that layout would take
// more floats than two full-size buffers (few rows, many columns: up to 20 M columns of 5 rows
// under the default pixel limit); then returns false and allocates nothing.
bool Plan(PdqSimd simd, int rows, int cols, std::vector<float>* arena, BlurPlan* p) {
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
  if (total > 2 * size_t(rows) * size_t(cols) + 16) return false;
  if (arena->size() < total) arena->resize(total);
  float* base = arena->data();
  base += (16 - (reinterpret_cast<uintptr_t>(base) / sizeof(float)) % 16) % 16;
  for (const auto& b : buffers) {
    *b.ptr = base;
    base += padded(b.floats);
  }
  return true;
}

// The full-size path, scalar: luma into one buffer, the reference's box1DFloat along every row
// into a second and down every column back, twice, then the decimation (the reference's own
// structure; speed does not matter for these shapes).
void Box1D(const float* in, float* out, int length, size_t stride, int window) {
  const int half = (window + 2) / 2;
  const int phase1 = half - 1, phase2 = window - half + 1, phase3 = length - window,
            phase4 = half - 1;
  float sum = 0.0f, current = 0.0f;
  size_t li = 0, ri = 0, oi = 0;
  for (int i = 0; i < phase1; ++i, ri += stride) {
    sum += in[ri];
    current += 1;
  }
  for (int i = 0; i < phase2; ++i, ri += stride, oi += stride) {
    current += 1;
    sum += in[ri];
    out[oi] = sum / current;
  }
  for (int i = 0; i < phase3; ++i, li += stride, ri += stride, oi += stride) {
    sum += in[ri];
    sum -= in[li];
    out[oi] = sum / current;
  }
  for (int i = 0; i < phase4; ++i, li += stride, oi += stride) {
    current -= 1;
    sum -= in[li];
    out[oi] = sum / current;
  }
}

void FillLumaScalar(const pdq_internal::LumaSource& s, int y, float* dst) {
  static constexpr float kR = 0.299f, kG = 0.587f, kB = 0.114f;
  if (s.luma != nullptr) {
    std::memcpy(dst, s.luma + size_t(y) * s.cols, size_t(s.cols) * sizeof(float));
    return;
  }
  const int sy = s.nearest_512 ? int(int64_t(y) * s.src_height / 512) : y;
  const uint8_t* row = s.pixels + size_t(sy) * s.src_width * s.channels;
  for (int x = 0; x < s.cols; ++x) {
    const int sx = s.nearest_512 ? int(int64_t(x) * s.src_width / 512) : x;
    const uint8_t* p = row + size_t(sx) * s.channels;
    dst[x] = s.channels == 1 ? float(p[0]) : kR * float(p[0]) + kG * float(p[1]) + kB * float(p[2]);
  }
}

void BlurFullSize(const pdq_internal::LumaSource& src, std::vector<float>* arena,
                  float out[64][64]) {
  const int rows = src.rows, cols = src.cols;
  if (rows == 64 && cols == 64) {  // already downsampled: no blur, as the reference
    for (int y = 0; y < 64; ++y) FillLumaScalar(src, y, out[y]);
    return;
  }
  const size_t n = size_t(rows) * size_t(cols);
  if (arena->size() < 2 * n) arena->resize(2 * n);
  float* a = arena->data();
  float* b = a + n;
  for (int y = 0; y < rows; ++y) FillLumaScalar(src, y, a + size_t(y) * cols);
  const int wr = pdq_internal::JaroszWindow(cols), wc = pdq_internal::JaroszWindow(rows);
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < rows; ++i) Box1D(a + size_t(i) * cols, b + size_t(i) * cols, cols, 1, wr);
    for (int j = 0; j < cols; ++j) Box1D(b + j, a + j, rows, size_t(cols), wc);
  }
  for (int i = 0; i < 64; ++i) {
    const size_t ini = size_t(((i + 0.5) * rows) / 64);
    for (int j = 0; j < 64; ++j) out[i][j] = a[ini * cols + size_t(((j + 0.5) * cols) / 64)];
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
  if (!Plan(simd, src.rows, src.cols, arena, &plan)) return BlurFullSize(src, arena, out);
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

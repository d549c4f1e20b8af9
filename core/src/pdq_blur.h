// Internal: PDQ's luma, two-pass Jarosz blur and 64x64 decimation as one streaming pipeline,
// with SSE2 (baseline), AVX2 and AVX-512 implementations chosen at run time.
//
// Bit-exactness: every float the reference (pdqhashing.cpp) computes that this pipeline also
// computes goes through the same operations in the same order. Vectors only ever hold independent
// values side by side: the horizontal box runs on several rows at once (a strip of rows, transposed
// in registers so that one vector holds one column of the strip), the vertical box on several
// columns at once; each lane's running sum is the reference's, add before subtract. Divisions
// by a power-of-two count are multiplications by its exact reciprocal, which round the same real
// number the same way. The files are compiled with -ffp-contract=off and without -ffast-math.
//
// What is skipped: the second vertical pass only produces the 64x64 samples the decimation reads,
// and the second horizontal pass only divides at the 64 sampled columns (its running sums are
// still computed along the whole row, as they must be). No full-size float buffer exists: rows
// stream from the pixels through a ring of the first pass's output, a few dozen rows deep, so the
// working set stays in L2 and nothing is allocated per call once the workspace has grown. Shapes
// for which that layout (about 200 rows' worth of one row, plus 128 floats per row) would exceed
// two image-sized float buffers, i.e. very few rows or very few columns, take a full-size scalar
// path instead (pdq_blur.cc), so the workspace never exceeds 2 * rows * cols floats.
//
// SIMD code is enabled with function-level target attributes (see kernels/kernel_table.h for why
// not TU-wide -m flags).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hashmatch/core/pdq.h"

namespace hashmatch::pdq_internal {

// Where the luma of a rows x cols image comes from.
struct LumaSource {
  int rows = 0, cols = 0;
  // Either a float luma buffer (row-major, rows x cols) ...
  const float* luma = nullptr;
  // ... or 8-bit pixels: 1 channel (used as luma) or 3 (Y = .299R + .587G + .114B), rows of
  // src_width * channels bytes. With nearest_512, rows x cols (512 x 512) is a nearest-neighbour
  // resize of the src_height x src_width image (the reference tool's 512 path).
  const uint8_t* pixels = nullptr;
  int channels = 0, src_width = 0, src_height = 0;
  bool nearest_512 = false;
};

// Geometry and buffer layout of one call, computed by the dispatcher (baseline code) so that the
// SIMD functions never allocate. All pointers are 64-byte aligned; strides are in floats.
struct BlurPlan {
  int rows = 0, cols = 0;
  int lanes = 0;        // floats per vector
  int strip = 0;        // rows per strip (a multiple of lanes)
  int cols_padded = 0;  // cols rounded up to a multiple of lanes
  int h_window = 0;     // box window along a row: JaroszWindow(cols)
  int v_window = 0;     // box window along a column: JaroszWindow(rows)
  int ring_rows = 0;    // rows of the first pass's ring (a multiple of strip)
  int sample_cols[64];  // the decimation's columns and rows
  int sample_rows[64];
  float* strip_rows;   // strip x cols_padded: luma rows of the strip being filtered
  float* v1_rows;      // strip x cols_padded: rows of the first vertical pass, by row % strip
  float* t_in;         // cols_padded x strip: a strip transposed (one column's rows per vector)
  float* t_out;        // cols_padded x strip: the horizontal pass's output, transposed
  float* ring;         // ring_rows x cols_padded: the first horizontal pass, row-major
  float* v_sums;       // cols_padded: the first vertical pass's running sums
  float* sampled;      // rows rounded up to a strip x 64: the second horizontal pass at the
                       // sampled columns
  float* sampled_out;  // rows x 64: the second vertical pass on those
  float* v2_sums;      // 64
};

// out = decimate64(jarosz(jarosz(luma))) exactly as the reference, for a prepared plan; a 64x64
// source is only converted to luma (the reference does not blur it). One per PdqSimd.
using BlurFn = void (*)(const LumaSource& src, const BlurPlan& plan, float out[64][64]);
BlurFn BlurSse2();
BlurFn BlurAvx2();
BlurFn BlurAvx512();

// The luma, blur and decimation of src (rows, cols >= 1) on the given instruction set, which must
// be supported. `arena` is the caller's reusable workspace: grown as needed, never shrunk.
void BlurDecimate(PdqSimd simd, const LumaSource& src, std::vector<float>* arena,
                  float out[64][64]);

// The reference's window of the box filter along an axis of old_dim samples.
inline int JaroszWindow(int old_dim) {
  return (old_dim + 2 * 64 - 1) / (2 * 64);
}

}  // namespace hashmatch::pdq_internal

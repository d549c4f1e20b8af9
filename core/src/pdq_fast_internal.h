// Internal: the PDQ fast path's blur-and-decimate on a reduced-scale luma buffer.
#pragma once

#include <vector>

namespace hashmatch::pdq_internal {

// Fills out[64][64] with what the exact PDQ pipeline's blur-and-decimate (two Jarosz box passes
// per axis with windows from the stored size, then 64 point samples per axis) would produce on
// the stored height x width image, computed from its reduced decode `luma` (rows x cols, each
// pixel covering a (8 / scale_num)-pixel square of the stored image; scale_num in {1, 2, 4}).
// Scaled pixel k covers stored pixels [k * step - pad, (k + 1) * step - pad) on its axis, step =
// 8 / scale_num: pad is 0 as decoded, and rows * step - height (cols * step - width) once the axis
// has been reversed (EXIF orientation), which moves the partial edge block to the start.
// Exact for a stored image that is constant on each such square; otherwise off by the extra
// averaging within one square, which is small next to PDQ's own blur (about 2 * size / 128).
// `scratch` is reused between calls.
void DecimateFromScaled(const float* luma, int rows, int cols, int height, int width, int scale_num,
                        int pad_y, int pad_x, float out[64][64], std::vector<float>* scratch);

}  // namespace hashmatch::pdq_internal

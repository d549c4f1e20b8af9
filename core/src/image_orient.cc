// Applying EXIF orientation to decoded pixels, and the decode path that does it on request
// (DecodeOptions::apply_exif_orientation; off by default because published lists hash the stored
// pixels).
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "exif.h"
#include "image_internal.h"

namespace hashmatch {
namespace exif {
namespace {

// out(dx, dy) = in[origin + dx * step_x + dy * step_y] (in pixels), walked in square tiles so that
// the transposing orientations read the source a few cache lines per row instead of one line per
// pixel.
template <int C>
void Remap(const uint8_t* in, uint8_t* out, int out_w, int out_h, ptrdiff_t origin,
           ptrdiff_t step_x, ptrdiff_t step_y) {
  constexpr int kTile = 64;
  for (int ty = 0; ty < out_h; ty += kTile) {
    const int y_end = std::min(out_h, ty + kTile);
    for (int tx = 0; tx < out_w; tx += kTile) {
      const int x_end = std::min(out_w, tx + kTile);
      for (int y = ty; y < y_end; ++y) {
        uint8_t* dst = out + (ptrdiff_t(y) * out_w + tx) * C;
        ptrdiff_t src = origin + ptrdiff_t(y) * step_y + ptrdiff_t(tx) * step_x;
        for (int x = tx; x < x_end; ++x, src += step_x, dst += C) {
          for (int c = 0; c < C; ++c) dst[c] = in[src * C + c];
        }
      }
    }
  }
}

}  // namespace

void ApplyOrientation(int orientation, Image* image) {
  if (orientation < 2 || orientation > 8 || image->width <= 0 || image->height <= 0) return;
  const ptrdiff_t w = image->width, h = image->height;
  // Where display pixel (0, 0) comes from, and how the source index moves per display step in x
  // and in y. Derived from exif.h's table: e.g. 6 (row 0 is the right edge) takes display column
  // dx from stored row h-1-dx.
  ptrdiff_t origin = 0, sx = 1, sy = w;
  switch (orientation) {
    case kTopRight:  // (w-1-dx, dy)
      origin = w - 1, sx = -1, sy = w;
      break;
    case kBottomRight:  // (w-1-dx, h-1-dy)
      origin = (h - 1) * w + w - 1, sx = -1, sy = -w;
      break;
    case kBottomLeft:  // (dx, h-1-dy)
      origin = (h - 1) * w, sx = 1, sy = -w;
      break;
    case kLeftTop:  // (dy, dx)
      origin = 0, sx = w, sy = 1;
      break;
    case kRightTop:  // (dy, h-1-dx)
      origin = (h - 1) * w, sx = -w, sy = 1;
      break;
    case kRightBottom:  // (w-1-dy, h-1-dx)
      origin = (h - 1) * w + w - 1, sx = -w, sy = -1;
      break;
    case kLeftBottom:  // (w-1-dy, dx)
      origin = w - 1, sx = w, sy = -1;
      break;
  }
  const bool swap = orientation >= kLeftTop;
  const int out_w = swap ? image->height : image->width;
  const int out_h = swap ? image->width : image->height;
  std::vector<uint8_t> out(image->pixels.size());
  switch (image->channels) {
    case 1:
      Remap<1>(image->pixels.data(), out.data(), out_w, out_h, origin, sx, sy);
      break;
    case 3:
      Remap<3>(image->pixels.data(), out.data(), out_w, out_h, origin, sx, sy);
      break;
    default:
      return;  // decoders produce 1 or 3 channels only
  }
  image->pixels = std::move(out);
  image->width = out_w;
  image->height = out_h;
}

}  // namespace exif

namespace image_internal {

Result<Image> DecodeImageOriented(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  DecodeOptions plain = options;
  plain.apply_exif_orientation = false;
  auto image = DecodeImage(bytes, plain);
  // The tag is read only after a successful decode: a failure reports the decoder's reason, and
  // nothing about EXIF can turn a decodable image into an error.
  if (image.ok()) exif::ApplyOrientation(exif::OrientationFromImageBytes(bytes), &*image);
  return image;
}

}  // namespace image_internal
}  // namespace hashmatch

// PNG decoding through libpng, whose errors longjmp back here (never abort). libpng's simplified
// API is avoided on purpose: it converts 16-bit data as linear light, where the reference keeps
// the high byte (png_set_strip_16).
#include <png.h>

#include <csetjmp>
#include <cstring>
#include <string>
#include <vector>

#include "image_internal.h"

namespace hashmatch::image_internal {
namespace {

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char message[256];
};

void ReadFn(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "Read Error: the data ends early");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

void ErrorFn(png_structp png, png_const_charp msg) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg);
  png_longjmp(png, 1);
}

void WarningFn(png_structp, png_const_charp) {}

// Everything after setjmp writes only through pointers to caller-owned objects (reader, out,
// rows, status), so the longjmp skips no destructor.
bool DecodePngInto(Reader* reader, const DecodeOptions& opt, Image* out,
                   std::vector<png_bytep>* rows, Status* status) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, ErrorFn, WarningFn);
  if (png == nullptr) {
    *status = Status::Internal("png_create_read_struct failed");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    if (status->ok())
      *status = Status::Corruption(std::string("PNG decode error: ") + reader->message);
    return false;
  }
  png_set_read_fn(png, reader, ReadFn);
  // libpng's own per-side limit is 1,000,000; the product is ours to check.
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if (uint64_t(w) * h > opt.max_pixels) {
    *status = PixelLimitError("PNG", w, h, opt.max_pixels);
    png_longjmp(png, 1);
  }
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  // Pillow mode (clamp_grey16): 16-bit grey stays 16-bit here and is clamped after reading.
  const bool clamp16 = opt.clamp_grey16 && color == PNG_COLOR_TYPE_GRAY && depth == 16;
  if (depth == 16 && !clamp16) png_set_strip_16(png);  // keep the high byte
  // Palette expansion also turns tRNS into an alpha channel: drop it like any alpha.
  if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) {
    png_set_strip_alpha(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  const size_t sample_bytes = clamp16 ? 2 : 1;
  if ((channels != 1 && channels != 3) ||
      png_get_rowbytes(png, info) != size_t(w) * channels * sample_bytes) {
    std::snprintf(reader->message, sizeof reader->message,
                  "unexpected layout after conversion (%d channels)", channels);
    png_longjmp(png, 1);
  }
  out->width = int(w);
  out->height = int(h);
  out->channels = channels;
  out->pixels.resize(size_t(w) * h * channels * sample_bytes);
  rows->resize(h);
  for (png_uint_32 y = 0; y < h; ++y)
    (*rows)[y] = out->pixels.data() + size_t(y) * w * channels * sample_bytes;
  png_read_image(png, rows->data());
  png_destroy_read_struct(&png, &info, nullptr);
  if (clamp16) {
    // Big-endian 16-bit samples to min(v, 255), in place (sample i is read from 2i, 2i + 1 >= i).
    uint8_t* p = out->pixels.data();
    const size_t n = size_t(w) * h;
    for (size_t i = 0; i < n; ++i) p[i] = p[2 * i] != 0 ? 255 : p[2 * i + 1];
    out->pixels.resize(n);
    out->pixels.shrink_to_fit();
  }
  return true;
}

}  // namespace

Result<Image> DecodePng(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  Reader reader{bytes.data(), bytes.size(), 0, {}};
  Image image;
  std::vector<png_bytep> rows;
  Status status;
  if (!DecodePngInto(&reader, options, &image, &rows, &status)) return status;
  return image;
}

}  // namespace hashmatch::image_internal

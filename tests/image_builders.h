// Test helpers that build image files in memory: baseline JPEG through libjpeg's compressor (with
// an optional APP1 segment) and minimal PNGs written chunk by chunk with zlib (any depth, optional
// eXIf chunk). Tests that use them link JPEG::JPEG and ZLIB::ZLIB.
#pragma once

// jpeglib.h needs size_t and FILE declared first.
#include <cstdio>
// clang-format off
#include <jpeglib.h>
// clang-format on
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "hashmatch/core/image.h"

namespace hashmatch::testing {

using Bytes = std::vector<uint8_t>;

inline void Put16(Bytes* b, uint32_t v, bool big_endian) {
  if (big_endian) {
    b->push_back(uint8_t(v >> 8)), b->push_back(uint8_t(v));
  } else {
    b->push_back(uint8_t(v)), b->push_back(uint8_t(v >> 8));
  }
}
inline void Put32(Bytes* b, uint32_t v, bool big_endian) {
  if (big_endian) {
    Put16(b, v >> 16, true), Put16(b, v & 0xffff, true);
  } else {
    Put16(b, v & 0xffff, false), Put16(b, v >> 16, false);
  }
}

// A picture with edges and texture (so PDQ quality is high), deterministic in `seed`.
inline Image PatternImage(int w, int h, int channels, uint32_t seed) {
  Image im;
  im.width = w, im.height = h, im.channels = channels;
  im.pixels.resize(size_t(w) * h * channels);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < channels; ++c) {
        uint32_t v = uint32_t(x) * 73856093u ^ uint32_t(y) * 19349663u ^ (seed + c) * 83492791u;
        v ^= v >> 13, v *= 0x5bd1e995u, v ^= v >> 15;
        const int block = ((x * 5 / w + y * 3 / h + int(seed)) & 1) ? 170 : 50;
        im.pixels[(size_t(y) * w + x) * channels + c] = uint8_t(block + int(v % 48) + 20 * c);
      }
    }
  }
  return im;
}

// Baseline JPEG (4:4:4) at `quality`, with `app1` written as an APP1 segment when not empty.
inline Bytes EncodeJpeg(const Image& im, const Bytes& app1 = {}, int quality = 100) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = JDIMENSION(im.width);
  c.image_height = JDIMENSION(im.height);
  c.input_components = im.channels;
  c.in_color_space = im.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  for (int i = 0; i < c.num_components; ++i) c.comp_info[i].h_samp_factor = 1;
  for (int i = 0; i < c.num_components; ++i) c.comp_info[i].v_samp_factor = 1;
  jpeg_start_compress(&c, TRUE);
  if (!app1.empty()) jpeg_write_marker(&c, JPEG_APP0 + 1, app1.data(), unsigned(app1.size()));
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(im.row(int(c.next_scanline)));
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  Bytes b(out, out + size);
  std::free(out);
  return b;
}

inline void PutPngChunk(Bytes* png, const char* type, const Bytes& data) {
  Put32(png, uint32_t(data.size()), true);
  const size_t start = png->size();
  png->insert(png->end(), type, type + 4);
  png->insert(png->end(), data.begin(), data.end());
  Put32(png, uint32_t(crc32(0, png->data() + start, uInt(png->size() - start))), true);
}

// A PNG of `w` x `h` with `color` (0 grey, 2 RGB) at `depth` bits from raw big-endian samples
// (unfiltered rows, one IDAT), with an eXIf chunk before or after IDAT when `exif` is not empty.
inline Bytes EncodePngSamples(int w, int h, int depth, int color, const Bytes& samples,
                              const Bytes& exif = {}, bool exif_after_idat = false) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  Put32(&ihdr, uint32_t(w), true);
  Put32(&ihdr, uint32_t(h), true);
  ihdr.insert(ihdr.end(), {uint8_t(depth), uint8_t(color), 0, 0, 0});
  PutPngChunk(&png, "IHDR", ihdr);
  const size_t stride = samples.size() / size_t(h);
  Bytes raw;
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), samples.begin() + y * stride, samples.begin() + (y + 1) * stride);
  }
  uLongf zsize = compressBound(uLong(raw.size()));
  Bytes z(zsize);
  compress(z.data(), &zsize, raw.data(), uLong(raw.size()));
  z.resize(zsize);
  if (!exif.empty() && !exif_after_idat) PutPngChunk(&png, "eXIf", exif);
  PutPngChunk(&png, "IDAT", z);
  if (!exif.empty() && exif_after_idat) PutPngChunk(&png, "eXIf", exif);
  PutPngChunk(&png, "IEND", {});
  return png;
}

// An 8-bit grey or RGB PNG of `im`.
inline Bytes EncodePng(const Image& im, const Bytes& exif = {}, bool exif_after_idat = false) {
  return EncodePngSamples(im.width, im.height, 8, im.channels == 1 ? 0 : 2, im.pixels, exif,
                          exif_after_idat);
}

}  // namespace hashmatch::testing

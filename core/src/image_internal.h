// Internal: one decoder per format, dispatched by image.cc from the sniffed magic bytes.
#pragma once

#include <span>
#include <vector>

#include "hashmatch/core/image.h"

namespace hashmatch::image_internal {

Result<Image> DecodeJpeg(std::span<const uint8_t> bytes, const DecodeOptions& options);
// DecodeJpeg into a caller's Image whose pixel buffer is reused (no fresh multi-megabyte
// allocation, page faults and zero-fill per image when one Image serves many). EXIF orientation
// is not applied. On error *image is unspecified.
Status DecodeJpegReusing(std::span<const uint8_t> bytes, const DecodeOptions& options,
                         Image* image);
Result<Image> DecodePng(std::span<const uint8_t> bytes, const DecodeOptions& options);
Result<Image> DecodeWebp(std::span<const uint8_t> bytes, const DecodeOptions& options);

// DecodeImage for options.apply_exif_orientation: decodes, then applies the EXIF orientation.
Result<Image> DecodeImageOriented(std::span<const uint8_t> bytes, const DecodeOptions& options);

Status PixelLimitError(const char* format, uint64_t width, uint64_t height, uint64_t limit);

// The PDQ fast path's JPEG decoder (image_jpeg.cc): DCT-domain scaled decode straight to float
// luma, with the exact decoder's protections. The scale is the smallest of 1/8, 1/4, 1/2 whose
// output keeps both sides >= min_side, else full size.
struct JpegLumaRequest {
  int min_side = 160;
};
struct JpegLuma {
  int width = 0, height = 0;  // stored size
  int rows = 0, cols = 0;     // decoded size, the luma buffer's shape
  int scale_num = 8;          // decoded at scale_num / 8
  bool truncated = false;
};
Status DecodeJpegLuma(std::span<const uint8_t> bytes, const DecodeOptions& options,
                      const JpegLumaRequest& request, std::vector<float>* luma, JpegLuma* info);

}  // namespace hashmatch::image_internal

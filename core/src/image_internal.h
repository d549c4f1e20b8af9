// Internal: one decoder per format, dispatched by image.cc from the sniffed magic bytes.
#pragma once

#include <span>

#include "hashmatch/core/image.h"

namespace hashmatch::image_internal {

Result<Image> DecodeJpeg(std::span<const uint8_t> bytes, const DecodeOptions& options);
Result<Image> DecodePng(std::span<const uint8_t> bytes, const DecodeOptions& options);
Result<Image> DecodeWebp(std::span<const uint8_t> bytes, const DecodeOptions& options);

// DecodeImage for options.apply_exif_orientation: decodes, then applies the EXIF orientation.
Result<Image> DecodeImageOriented(std::span<const uint8_t> bytes, const DecodeOptions& options);

Status PixelLimitError(const char* format, uint64_t width, uint64_t height, uint64_t limit);

}  // namespace hashmatch::image_internal

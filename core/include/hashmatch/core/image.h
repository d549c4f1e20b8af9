// Decoded images and the decoders (JPEG, PNG, WebP) that produce them.
//
// Decoding conventions follow the PDQ reference harness (../shared/specs/pdq.md): 8-bit samples;
// grey stays one channel (grey+alpha too); everything else becomes RGB; alpha is dropped, not
// composited; palettes expand; 1/2/4-bit grey expands to 0..255; 16-bit samples keep their high
// byte; Adobe CMYK JPEGs convert with R = C*K/255, G = M*K/255, B = Y*K/255 on the stored values;
// JPEG uses libjpeg-turbo's ISLOW IDCT with fancy upsampling; WebP libwebp's default decode.
// EXIF orientation is not applied unless DecodeOptions::apply_exif_orientation asks for it (every
// published list hashes the stored pixels).
//
// Bad input never crashes or aborts: every failure is a Status naming the reason. The pixel limit
// is checked from the header, before any pixel buffer is allocated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "hashmatch/core/status.h"

namespace hashmatch {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (grey) or 3 (RGB), interleaved, row-major, no padding
  std::vector<uint8_t> pixels;  // width * height * channels
  bool truncated = false;       // the data ended early; the decoder filled the rest (JPEG)

  const uint8_t* row(int y) const { return pixels.data() + size_t(y) * width * channels; }
};

enum class ImageFormat : uint8_t { kUnknown = 0, kJpeg, kPng, kWebp };
const char* ImageFormatName(ImageFormat f);
// Recognises the format from the first bytes (not the file name).
ImageFormat SniffImageFormat(std::span<const uint8_t> bytes);

struct DecodeOptions {
  uint64_t max_pixels = 100'000'000;  // width * height above this is refused before decoding
  // Progressive JPEGs with more scans than this are refused (scan bombs).
  int max_jpeg_scans = 256;
  // Pillow's reading of a 16-bit grey PNG, for the imagehash hashes (../shared/specs/hash64.md):
  // Pillow opens it as mode I and convert('L') clamps each sample at 255, where the default (the
  // PDQ reference) keeps the high byte. Only 16-bit grey without alpha is affected.
  bool clamp_grey16 = false;
  // Rotate/mirror the decoded pixels as the EXIF Orientation tag says (JPEG APP1, PNG eXIf, WebP
  // EXIF). Off by default: published lists hash the stored pixels. Malformed EXIF is ignored
  // (treated as "as stored"); it never makes a decodable image fail.
  bool apply_exif_orientation = false;
};

Result<Image> DecodeImage(std::span<const uint8_t> bytes, const DecodeOptions& options = {});
Result<Image> DecodeImageFile(const std::filesystem::path& path, const DecodeOptions& options = {});

// Reads a whole file (for hashing and digests); limited to max_bytes.
Result<std::vector<uint8_t>> ReadFileBytes(const std::filesystem::path& path,
                                           uint64_t max_bytes = uint64_t(1) << 31);

}  // namespace hashmatch

#include <webp/decode.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "hashmatch/core/image.h"
#include "image_internal.h"

namespace hashmatch {

namespace image_internal {

Status PixelLimitError(const char* format, uint64_t width, uint64_t height, uint64_t limit) {
  return Status::OutOfRange("pixel limit: " + std::string(format) + " " + std::to_string(width) +
                            "x" + std::to_string(height) + " is " + std::to_string(width * height) +
                            " pixels, over the limit of " + std::to_string(limit));
}

Result<Image> DecodeWebp(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  WebPBitstreamFeatures features;
  const VP8StatusCode st = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (st != VP8_STATUS_OK) {
    return Status::Corruption("WebP decode error: header status " + std::to_string(int(st)));
  }
  if (uint64_t(features.width) * uint64_t(features.height) > options.max_pixels) {
    return PixelLimitError("WebP", uint64_t(features.width), uint64_t(features.height),
                           options.max_pixels);
  }
  Image image;
  image.width = features.width;
  image.height = features.height;
  image.channels = 3;
  image.pixels.resize(size_t(image.width) * image.height * 3);
  // Whole-image decode (never partial rows); RGB output drops alpha without compositing.
  if (WebPDecodeRGBInto(bytes.data(), bytes.size(), image.pixels.data(), image.pixels.size(),
                        image.width * 3) == nullptr) {
    return Status::Corruption("WebP decode error: the data is truncated or corrupt");
  }
  return image;
}

}  // namespace image_internal

const char* ImageFormatName(ImageFormat f) {
  switch (f) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

ImageFormat SniffImageFormat(std::span<const uint8_t> b) {
  auto starts = [&](std::initializer_list<uint8_t> magic, size_t at = 0) {
    if (b.size() < at + magic.size()) return false;
    return std::equal(magic.begin(), magic.end(), b.begin() + at);
  };
  if (starts({0xff, 0xd8, 0xff})) return ImageFormat::kJpeg;
  if (starts({0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a})) return ImageFormat::kPng;
  if (starts({'R', 'I', 'F', 'F'}) && starts({'W', 'E', 'B', 'P'}, 8)) return ImageFormat::kWebp;
  return ImageFormat::kUnknown;
}

namespace {

// Formats we recognise but do not decode get "unsupported", not "not an image".
const char* KnownUnsupportedFormat(std::span<const uint8_t> b) {
  auto starts = [&](const char* magic) {
    const size_t n = std::strlen(magic);
    return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
  };
  if (starts("GIF87a") || starts("GIF89a")) return "GIF";
  if (starts("BM")) return "BMP";
  if (starts("II*") || starts("MM\x00*")) return "TIFF";
  if (b.size() >= 12 && std::memcmp(b.data() + 4, "ftyp", 4) == 0) return "HEIF/AVIF (ISO BMFF)";
  return nullptr;
}

}  // namespace

Result<Image> DecodeImage(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.empty()) return Status::InvalidArgument("not an image: empty input");
  if (options.apply_exif_orientation) return image_internal::DecodeImageOriented(bytes, options);
  switch (SniffImageFormat(bytes)) {
    case ImageFormat::kJpeg:
      return image_internal::DecodeJpeg(bytes, options);
    case ImageFormat::kPng:
      return image_internal::DecodePng(bytes, options);
    case ImageFormat::kWebp:
      return image_internal::DecodeWebp(bytes, options);
    case ImageFormat::kUnknown:
      break;
  }
  if (const char* name = KnownUnsupportedFormat(bytes)) {
    return Status::Unsupported(std::string("unsupported image format: ") + name +
                               " (supported: JPEG, PNG, WebP)");
  }
  return Status::InvalidArgument("not an image: unknown format (no JPEG, PNG or WebP signature)");
}

Result<std::vector<uint8_t>> ReadFileBytes(const std::filesystem::path& path, uint64_t max_bytes) {
  // The callers pass the message on, so it says why: a directory opens as a stream on Linux
  // (and then sizes as 2^63 - 1 bytes), a failed open leaves the reason in errno.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::IoError(path.string() + ": cannot read: is a directory");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return Status::IoError(
        path.string() + ": cannot open: " + (errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  const std::streamoff size = in.tellg();
  if (size < 0) return Status::IoError(path.string() + ": cannot size");
  if (uint64_t(size) > max_bytes) {
    return Status::OutOfRange(path.string() + ": " + std::to_string(size) +
                              " bytes, over the limit of " + std::to_string(max_bytes));
  }
  std::vector<uint8_t> data(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(data.data()), size)) {
    return Status::IoError(path.string() + ": read error");
  }
  return data;
}

Result<Image> DecodeImageFile(const std::filesystem::path& path, const DecodeOptions& options) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  auto image = DecodeImage(*bytes, options);
  if (!image.ok())
    return Status(image.status().code(), path.string() + ": " + image.status().message());
  return image;
}

}  // namespace hashmatch

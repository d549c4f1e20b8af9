// JPEG decoding through libjpeg (libjpeg-turbo). libjpeg's default error handler calls exit():
// every error here goes through ErrorExit, which longjmps back with the message. Nothing with a
// destructor lives between setjmp and longjmp: the caller owns the output image.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>
#include <cstring>
#include <string>

#include "image_internal.h"

namespace hashmatch::image_internal {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool hit_eof;  // JWRN_JPEG_EOF: data ended; libjpeg inserted a fake EOI
  bool pixel_limit;
  bool scan_limit;
};

struct Progress {
  jpeg_progress_mgr pub;
  int max_scans;
};

[[noreturn]] void ErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void EmitMessage(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level < 0) {  // a warning: corrupt or truncated data that libjpeg recovers from
    ++err->pub.num_warnings;
    if (err->pub.msg_code == JWRN_JPEG_EOF) err->hit_eof = true;
  }
}

void OutputMessage(j_common_ptr) {}

// Bounds progressive "scan bombs": many tiny scans make libjpeg re-run the coefficient pass.
void ProgressMonitor(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  auto* p = reinterpret_cast<Progress*>(cinfo->progress);
  if (d->input_scan_number > p->max_scans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    err->scan_limit = true;
    std::snprintf(err->message, sizeof err->message, "more than %d progressive scans",
                  p->max_scans);
    std::longjmp(err->jump, 1);
  }
}

// Returns true on success; on failure *error says why. Only POD state crosses the longjmp.
bool DecodeJpegInto(const uint8_t* data, size_t size, const DecodeOptions& opt, Image* out,
                    std::string* error, bool* pixel_limit) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  std::memset(&err, 0, sizeof err);
  Progress progress;
  std::memset(&progress, 0, sizeof progress);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = ErrorExit;
  err.pub.emit_message = EmitMessage;
  err.pub.output_message = OutputMessage;
  progress.pub.progress_monitor = ProgressMonitor;
  progress.max_scans = opt.max_jpeg_scans;

  if (setjmp(err.jump)) {
    *error = err.message;
    *pixel_limit = err.pixel_limit;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress.pub;
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  const uint64_t pixels = uint64_t(cinfo.image_width) * cinfo.image_height;
  if (pixels > opt.max_pixels) {
    err.pixel_limit = true;
    std::snprintf(err.message, sizeof err.message, "%ux%u is %llu pixels, over the limit of %llu",
                  cinfo.image_width, cinfo.image_height, static_cast<unsigned long long>(pixels),
                  static_cast<unsigned long long>(opt.max_pixels));
    std::longjmp(err.jump, 1);
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (cmyk) {
    cinfo.out_color_space = JCS_CMYK;
  } else {
    cinfo.out_color_space = JCS_RGB;
  }
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  // Library-internal buffers (progressive coefficients) stay within a budget tied to the limit.
  cinfo.mem->max_memory_to_use = long(std::min<uint64_t>(opt.max_pixels * 16, 1ull << 40));
  jpeg_start_decompress(&cinfo);

  const int channels = cmyk ? 3 : int(cinfo.output_components);
  out->width = int(cinfo.output_width);
  out->height = int(cinfo.output_height);
  out->channels = channels;
  out->pixels.resize(size_t(out->width) * out->height * channels);
  // CMYK staging row from libjpeg's image pool: freed by jpeg_destroy on every path.
  JSAMPROW row4 = cmyk ? (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo),
                                                    JPOOL_IMAGE, JDIMENSION(out->width) * 4, 1)[0]
                       : nullptr;
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* dst = out->pixels.data() + size_t(cinfo.output_scanline) * out->width * channels;
    JSAMPROW row = cmyk ? row4 : dst;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk) {
      // Adobe CMYK is stored inverted; the reference converts the stored values directly.
      for (int x = 0; x < out->width; ++x) {
        const unsigned k = row4[4 * x + 3];
        dst[3 * x + 0] = uint8_t(row4[4 * x + 0] * k / 255);
        dst[3 * x + 1] = uint8_t(row4[4 * x + 1] * k / 255);
        dst[3 * x + 2] = uint8_t(row4[4 * x + 2] * k / 255);
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  out->truncated = err.hit_eof;
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

Result<Image> DecodeJpeg(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  Image image;
  std::string error;
  bool pixel_limit = false;
  if (!DecodeJpegInto(bytes.data(), bytes.size(), options, &image, &error, &pixel_limit)) {
    if (pixel_limit) return Status::OutOfRange("pixel limit: JPEG " + error);
    return Status::Corruption("JPEG decode error: " + error);
  }
  return image;
}

}  // namespace hashmatch::image_internal

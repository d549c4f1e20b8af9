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
#include <utility>
#include <vector>

#include "image_internal.h"
#include "jpeg_scans.h"

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

// The error manager (longjmp instead of exit, messages kept, warnings counted) and the scan-bomb
// progress monitor, shared by both decoders. setjmp itself must stay in each decoder's own frame.
void InitErrorHandling(const DecodeOptions& opt, jpeg_decompress_struct* cinfo, ErrorManager* err,
                       Progress* progress) {
  std::memset(err, 0, sizeof *err);
  std::memset(progress, 0, sizeof *progress);
  cinfo->err = jpeg_std_error(&err->pub);
  err->pub.error_exit = ErrorExit;
  err->pub.emit_message = EmitMessage;
  err->pub.output_message = OutputMessage;
  progress->pub.progress_monitor = ProgressMonitor;
  progress->max_scans = opt.max_jpeg_scans;
}

// Refuses, from the header and before any allocation, an image over the pixel limit (on the
// stored size, so the exact and fast paths refuse the same files). Jumps to the caller's setjmp.
void CheckPixelLimit(const jpeg_decompress_struct& cinfo, const DecodeOptions& opt,
                     ErrorManager* err) {
  const uint64_t pixels = uint64_t(cinfo.image_width) * cinfo.image_height;
  if (pixels > opt.max_pixels) {
    err->pixel_limit = true;
    std::snprintf(err->message, sizeof err->message, "%ux%u is %llu pixels, over the limit of %llu",
                  cinfo.image_width, cinfo.image_height, static_cast<unsigned long long>(pixels),
                  static_cast<unsigned long long>(opt.max_pixels));
    std::longjmp(err->jump, 1);
  }
}

// Returns true on success; on failure *error says why. Only POD state crosses the longjmp.
bool DecodeJpegInto(const uint8_t* data, size_t size, const DecodeOptions& opt, Image* out,
                    std::string* error, bool* pixel_limit) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  Progress progress;
  InitErrorHandling(opt, &cinfo, &err, &progress);

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
  CheckPixelLimit(cinfo, opt, &err);
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
  if (Status s = DecodeJpegReusing(bytes, options, &image); !s.ok()) return s;
  return image;
}

Status DecodeJpegReusing(std::span<const uint8_t> bytes, const DecodeOptions& options,
                         Image* image) {
  std::string error;
  bool pixel_limit = false;
  image->truncated = false;
  if (!DecodeJpegInto(bytes.data(), bytes.size(), options, image, &error, &pixel_limit)) {
    if (pixel_limit) return Status::OutOfRange("pixel limit: JPEG " + error);
    return Status::Corruption("JPEG decode error: " + error);
  }
  return Status::Ok();
}

}  // namespace hashmatch::image_internal

// ---------------------------------------------------------------------------------------------
// The PDQ fast path (PdqOptions::fast): a JPEG decoded in the DCT domain at a reduced scale and
// straight to float luma. libjpeg-turbo's scaled IDCTs (1/2, 1/4, 1/8 are the dedicated reduced
// kernels; 1/8 is the DC term alone) replace the full IDCT, and asking for JCS_GRAYSCALE output
// from a YCbCr image makes libjpeg skip the chroma components' IDCT, upsampling and colour
// conversion altogether: the Y plane it returns is JFIF's Y = .299R + .587G + .114B, PDQ's luma,
// up to rounding. No full-resolution buffer exists; one strip of 8-bit rows (libjpeg's own pool)
// is converted to float per read. Every protection of the exact decoder holds: the same error
// manager and setjmp discipline, the scan-bomb monitor, the memory budget, the pixel limit on the
// stored size (so both paths refuse the same files), and the truncated flag.

namespace hashmatch::image_internal {
namespace {

// A libjpeg source over the kept byte ranges of a buffer (jpeg_scans.h: a progressive JPEG with
// its unneeded scans cut out). Every range starts at a marker, so libjpeg's entropy decoder, which
// stops at the next marker, sees each kept scan end exactly where it ended in the file. The
// ranges after the first are appended once the header has been read (the drop decision needs the
// colour space and the scale); at the end of the data it does what jpeg_mem_src does: a warning
// (JWRN_JPEG_EOF, hence the truncated flag) and a fake EOI.
struct RangeSource {
  jpeg_source_mgr pub;
  const uint8_t* data;
  size_t size;
  std::vector<std::pair<size_t, size_t>>* ranges;
  size_t next;
  // Set while the header is read. Should libjpeg need more than the first range then (it never
  // does when jpeg_scans.h parsed the stream as libjpeg does), the rest of the stream follows
  // unfiltered and `unfiltered` is set.
  bool in_header;
  bool unfiltered;
};

const JOCTET kFakeEoi[2] = {0xFF, JPEG_EOI};

void RangeInit(j_decompress_ptr) {}
void RangeTerm(j_decompress_ptr) {}

boolean RangeFill(j_decompress_ptr cinfo) {
  auto* src = reinterpret_cast<RangeSource*>(cinfo->src);
  while (src->next < src->ranges->size()) {
    const auto [begin, end] = (*src->ranges)[src->next++];
    if (end > begin) {
      src->pub.next_input_byte = src->data + begin;
      src->pub.bytes_in_buffer = end - begin;
      return TRUE;
    }
  }
  if (src->in_header && !src->ranges->empty() && src->ranges->back().second < src->size) {
    src->in_header = false;
    src->unfiltered = true;
    src->pub.next_input_byte = src->data + src->ranges->back().second;
    src->pub.bytes_in_buffer = src->size - src->ranges->back().second;
    return TRUE;
  }
  WARNMS(cinfo, JWRN_JPEG_EOF);
  src->pub.next_input_byte = kFakeEoi;
  src->pub.bytes_in_buffer = 2;
  return TRUE;
}

void RangeSkip(j_decompress_ptr cinfo, long num_bytes) {
  if (num_bytes <= 0) return;
  jpeg_source_mgr* src = cinfo->src;
  while (size_t(num_bytes) > src->bytes_in_buffer) {
    num_bytes -= long(src->bytes_in_buffer);
    (*src->fill_input_buffer)(cinfo);
  }
  src->next_input_byte += num_bytes;
  src->bytes_in_buffer -= size_t(num_bytes);
}

// The highest zigzag coefficient of Y that the fast path reads at a scale. 1/8 is libjpeg's
// DC-only IDCT. 1/4 and 1/2 are its reduced IDCTs, which read higher coefficients too, but the
// emulated PDQ blur (two boxes about size / 128 wide, then 64 samples) is a low-pass that barely
// sees them: both keep zigzag 0-5 (u + v <= 2), the first AC band of libjpeg's and most encoders'
// progressive scripts. Measured (docs/benchmarks.md; pdq_fast_drift_test's progressive
// re-encodings of every reference JPEG): keeping 0-5 or 0-14 gives the same hashes; keeping DC
// alone at 1/2 drifts the 640x402 images 4 bits more and fails the mean bar.
int MaxZigzagForScale(unsigned scale_num) {
  switch (scale_num) {
    case 1:
      return 0;
    case 2:
    case 4:
      return 5;
    default:
      return 63;
  }
}

// The scale (in eighths) for a stored w x h: the smallest of 1/8, 1/4, 1/2 whose output keeps
// both sides >= min_side, else full size. Output sides are ceil(side * num / 8), as libjpeg
// computes them; these three are the scales whose pixels cover whole squares of stored pixels,
// which the fast path's decimation (pdq_fast.cc) relies on.
unsigned PickScaleNum(JDIMENSION w, JDIMENSION h, int min_side) {
  for (unsigned num : {1u, 2u, 4u}) {
    const uint64_t sw = (uint64_t(w) * num + 7) / 8, sh = (uint64_t(h) * num + 7) / 8;
    if (sw >= uint64_t(min_side) && sh >= uint64_t(min_side)) return num;
  }
  return 8;
}

bool DecodeJpegLumaInto(const uint8_t* data, size_t size, const DecodeOptions& opt,
                        const JpegLumaRequest& req, JpegScanLayout* layout,
                        std::vector<std::pair<size_t, size_t>>* ranges, std::vector<float>* luma,
                        JpegLuma* out, std::string* error, bool* pixel_limit) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  Progress progress;
  InitErrorHandling(opt, &cinfo, &err, &progress);

  if (setjmp(err.jump)) {
    *error = err.message;
    *pixel_limit = err.pixel_limit;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress.pub;
  RangeSource src;
  src.pub.init_source = RangeInit;
  src.pub.fill_input_buffer = RangeFill;
  src.pub.skip_input_data = RangeSkip;
  src.pub.resync_to_restart = jpeg_resync_to_restart;
  src.pub.term_source = RangeTerm;
  src.pub.bytes_in_buffer = 0;
  src.pub.next_input_byte = nullptr;
  src.data = data;
  src.size = size;
  src.ranges = ranges;
  src.next = 0;
  src.in_header = true;
  src.unfiltered = false;
  cinfo.src = &src.pub;
  // Until the header is read, only the bytes through the first scan (all of a stream that is not
  // progressive): the header ends inside them.
  const size_t cut = layout->scans.empty() ? size : layout->scans[0].end;
  ranges->assign(1, {0, cut});
  jpeg_read_header(&cinfo, TRUE);
  src.in_header = false;
  CheckPixelLimit(cinfo, opt, &err);
  if (layout->scans_over_limit) {
    // The scans left out below would never reach the progress monitor: the same limit, checked
    // on the whole stream, with the same message.
    std::snprintf(err.message, sizeof err.message, "more than %d progressive scans",
                  opt.max_jpeg_scans);
    err.scan_limit = true;
    std::longjmp(err.jump, 1);
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  const unsigned scale_num = PickScaleNum(cinfo.image_width, cinfo.image_height, req.min_side);
  // Scans left out: a progressive YCbCr or grey JPEG, decoded to its Y plane, needs neither the
  // chroma scans nor Y's bands above what the scale reads.
  const bool skipping =
      cinfo.progressive_mode && !cinfo.arith_code &&
      (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_GRAYSCALE) &&
      !layout->scans.empty() && !src.unfiltered;
  size_t at = cut;
  if (skipping) {
    const uint8_t y_id = uint8_t(cinfo.comp_info[0].component_id);
    MarkSkippableScans(layout, y_id, MaxZigzagForScale(scale_num));
    for (size_t k = 1; k < layout->scans.size(); ++k) {
      if (!layout->scans[k].skip) continue;
      ranges->emplace_back(at, layout->scans[k].begin);
      at = layout->scans[k].end;
    }
  }
  if (!src.unfiltered) ranges->emplace_back(at, size);
  // Grey, YCbCr and RGB JPEGs all give one luma channel from libjpeg (YCbCr: the Y plane as
  // stored; RGB: libjpeg's integer Y). Adobe CMYK needs its stored C, M, Y, K (below).
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  cinfo.scale_num = scale_num;
  cinfo.scale_denom = 8;
  // With scans left out libjpeg would estimate the missing low AC coefficients from the
  // neighbouring blocks' DC terms (block smoothing); off, the output is the kept coefficients'
  // alone (smoothing measured no better: docs/benchmarks.md).
  cinfo.do_block_smoothing = FALSE;
  cinfo.mem->max_memory_to_use = long(std::min<uint64_t>(opt.max_pixels * 16, 1ull << 40));
  jpeg_start_decompress(&cinfo);

  out->width = int(cinfo.image_width);
  out->height = int(cinfo.image_height);
  out->cols = int(cinfo.output_width);
  out->rows = int(cinfo.output_height);
  out->scale_num = int(cinfo.scale_num);
  luma->resize(size_t(out->rows) * size_t(out->cols));
  const int comps = int(cinfo.output_components);
  const int strip = std::max(1, cinfo.rec_outbuf_height);
  // The strip comes from libjpeg's image pool, freed by jpeg_destroy on every path.
  JSAMPARRAY rows = (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
                                               cinfo.output_width * comps, JDIMENSION(strip));
  static constexpr float kR = 0.299f, kG = 0.587f, kB = 0.114f;
  while (cinfo.output_scanline < cinfo.output_height) {
    const JDIMENSION y0 = cinfo.output_scanline;
    const JDIMENSION n = jpeg_read_scanlines(&cinfo, rows, JDIMENSION(strip));
    for (JDIMENSION r = 0; r < n; ++r) {
      const uint8_t* src = rows[r];
      float* dst = luma->data() + size_t(y0 + r) * out->cols;
      if (!cmyk) {
        for (int x = 0; x < out->cols; ++x) dst[x] = float(src[x]);
        continue;
      }
      // Adobe CMYK is stored inverted; as in the exact path, R = C*K/255 on the stored values.
      for (int x = 0; x < out->cols; ++x) {
        const unsigned k = src[4 * x + 3];
        const uint8_t cr = uint8_t(src[4 * x + 0] * k / 255);
        const uint8_t cg = uint8_t(src[4 * x + 1] * k / 255);
        const uint8_t cb = uint8_t(src[4 * x + 2] * k / 255);
        dst[x] = kR * float(cr) + kG * float(cg) + kB * float(cb);
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  out->truncated = err.hit_eof;
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

Status DecodeJpegLuma(std::span<const uint8_t> bytes, const DecodeOptions& options,
                      const JpegLumaRequest& request, std::vector<float>* luma, JpegLuma* info) {
  std::string error;
  bool pixel_limit = false;
  *info = JpegLuma{};
  JpegScanLayout layout;
  ParseJpegScans(bytes, options.max_jpeg_scans, &layout);
  std::vector<std::pair<size_t, size_t>> ranges;
  if (!DecodeJpegLumaInto(bytes.data(), bytes.size(), options, request, &layout, &ranges, luma,
                          info, &error, &pixel_limit)) {
    if (pixel_limit) return Status::OutOfRange("pixel limit: JPEG " + error);
    return Status::Corruption("JPEG decode error: " + error);
  }
  return Status::Ok();
}

}  // namespace hashmatch::image_internal

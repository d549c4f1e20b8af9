// Writes the generated seeds of fuzz/corpus/: small images (a few KB at most) that between them
// reach every decoder branch: JPEG grey/RGB/CMYK/YCCK, every chroma layout, progressive,
// arithmetic-coded, restart markers; PNG in every colour type and bit depth, palette and colour-key
// transparency, Adam7; WebP lossy, lossless, with alpha, extended with EXIF; EXIF orientation in
// each container; recognised-but-unsupported signatures. Small seeds keep the fuzzer fast: the
// mutations then land in headers and tables, where the parsing is.
//
//   fuzz_corpus_gen OUT_DIR
// jpeglib.h needs size_t and FILE declared first.
#include <cstdio>
// clang-format off
#include <jpeglib.h>
// clang-format on
#include <webp/encode.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;
std::filesystem::path g_out;

void Write(const std::string& name, const Bytes& b) {
  std::ofstream(g_out / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  std::printf("%6zu %s\n", b.size(), name.c_str());
}

// Deterministic content with edges and gradients, so PDQ sees features and quality varies.
uint8_t Sample(int x, int y, int c, uint32_t seed) {
  uint32_t h = uint32_t(x) * 73856093u ^ uint32_t(y) * 19349663u ^ uint32_t(c) * 83492791u ^ seed;
  h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
  const int base = ((x / 4 + y / 4) & 1) ? 180 : 60;
  return uint8_t(base + int(h % 40) + c * 10 + x);
}

Bytes Pixels(int w, int h, int channels, uint32_t seed = 1) {
  Bytes p(size_t(w) * h * channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        p[(size_t(y) * w + x) * channels + c] = Sample(x, y, c, seed);
  return p;
}

Bytes TiffOrientation(int o) {  // little-endian TIFF, IFD0 with one SHORT Orientation entry
  return {'I', 'I', 42, 0, 8, 0,          0, 0, 1, 0, 0x12, 0x01, 3,
          0,   1,   0,  0, 0, uint8_t(o), 0, 0, 0, 0, 0,    0,    0};
}

// ---- JPEG through libjpeg's compressor; `tweak` adjusts cinfo after the defaults.
Bytes Jpeg(int w, int h, int channels, J_COLOR_SPACE in_space, int quality,
           const std::function<void(jpeg_compress_struct&)>& tweak, const Bytes& app1 = {}) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = JDIMENSION(w);
  c.image_height = JDIMENSION(h);
  c.input_components = channels;
  c.in_color_space = in_space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (tweak) tweak(c);
  jpeg_start_compress(&c, TRUE);
  if (!app1.empty()) jpeg_write_marker(&c, JPEG_APP0 + 1, app1.data(), unsigned(app1.size()));
  const Bytes px = Pixels(w, h, channels);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(px.data() + size_t(c.next_scanline) * w * channels);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  Bytes b(out, out + size);
  std::free(out);
  return b;
}

void Sampling(jpeg_compress_struct& c, int h0, int v0) {
  c.comp_info[0].h_samp_factor = h0, c.comp_info[0].v_samp_factor = v0;
  for (int i = 1; i < c.num_components; ++i)
    c.comp_info[i].h_samp_factor = 1, c.comp_info[i].v_samp_factor = 1;
}

void Jpegs() {
  const auto none = [](jpeg_compress_struct&) {};
  Write("jpeg-grey.jpg", Jpeg(16, 16, 1, JCS_GRAYSCALE, 90, none));
  Write("jpeg-420.jpg", Jpeg(24, 16, 3, JCS_RGB, 75, [](auto& c) { Sampling(c, 2, 2); }));
  Write("jpeg-422.jpg", Jpeg(24, 16, 3, JCS_RGB, 50, [](auto& c) { Sampling(c, 2, 1); }));
  Write("jpeg-440.jpg", Jpeg(16, 24, 3, JCS_RGB, 60, [](auto& c) { Sampling(c, 1, 2); }));
  Write("jpeg-411.jpg", Jpeg(40, 8, 3, JCS_RGB, 60, [](auto& c) { Sampling(c, 4, 1); }));
  Write("jpeg-444.jpg", Jpeg(16, 16, 3, JCS_RGB, 95, [](auto& c) { Sampling(c, 1, 1); }));
  Write("jpeg-progressive.jpg",
        Jpeg(32, 24, 3, JCS_RGB, 80, [](auto& c) { jpeg_simple_progression(&c); }));
  Write("jpeg-progressive-grey.jpg",
        Jpeg(17, 13, 1, JCS_GRAYSCALE, 80, [](auto& c) { jpeg_simple_progression(&c); }));
  Write("jpeg-restart.jpg", Jpeg(32, 32, 3, JCS_RGB, 70, [](auto& c) { c.restart_in_rows = 1; }));
  Write("jpeg-arith.jpg", Jpeg(24, 24, 3, JCS_RGB, 70, [](auto& c) { c.arith_code = TRUE; }));
  Write("jpeg-arith-progressive.jpg", Jpeg(24, 24, 3, JCS_RGB, 70, [](auto& c) {
          c.arith_code = TRUE;
          jpeg_simple_progression(&c);
        }));
  Write("jpeg-optimized.jpg",
        Jpeg(24, 24, 3, JCS_RGB, 85, [](auto& c) { c.optimize_coding = TRUE; }));
  Write("jpeg-rgb-nontransformed.jpg",
        Jpeg(16, 16, 3, JCS_RGB, 85, [](auto& c) { jpeg_set_colorspace(&c, JCS_RGB); }));
  Write("jpeg-cmyk-adobe.jpg", Jpeg(16, 16, 4, JCS_CMYK, 85, none));
  Write("jpeg-ycck.jpg",
        Jpeg(16, 16, 4, JCS_CMYK, 85, [](auto& c) { jpeg_set_colorspace(&c, JCS_YCCK); }));
  Write("jpeg-1x1.jpg", Jpeg(1, 1, 3, JCS_RGB, 90, none));
  Write("jpeg-5x5.jpg", Jpeg(5, 5, 1, JCS_GRAYSCALE, 90, none));
  Write("jpeg-wide-600x8.jpg", Jpeg(600, 8, 1, JCS_GRAYSCALE, 30, none));  // the 512 path
  Bytes app1 = {'E', 'x', 'i', 'f', 0, 0};
  const Bytes tiff = TiffOrientation(6);
  app1.insert(app1.end(), tiff.begin(), tiff.end());
  Write("jpeg-exif-6.jpg", Jpeg(24, 16, 3, JCS_RGB, 80, none, app1));
  Bytes cut = Jpeg(32, 32, 3, JCS_RGB, 90, none);
  cut.resize(cut.size() * 3 / 4);
  Write("jpeg-truncated.jpg", cut);
}

// ---- PNG: written chunk by chunk (zlib for IDAT and CRCs) so that every colour type, depth and
// ancillary chunk is under control; rows are unfiltered except where noted.
void Chunk(Bytes* png, const char* type, const Bytes& data) {
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) png->push_back(uint8_t(v >> s));
  };
  put32(uint32_t(data.size()));
  const size_t start = png->size();
  png->insert(png->end(), type, type + 4);
  png->insert(png->end(), data.begin(), data.end());
  put32(uint32_t(crc32(0, png->data() + start, uInt(png->size() - start))));
}

// `raw` is the already-filtered image data (each row prefixed by its filter byte), or in Adam7
// order for interlaced images.
Bytes Png(int w, int h, int depth, int color, const Bytes& raw, int interlace = 0,
          const std::vector<std::pair<const char*, Bytes>>& extra = {}) {
  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  for (uint32_t v : {uint32_t(w), uint32_t(h)})
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back(uint8_t(v >> s));
  ihdr.insert(ihdr.end(), {uint8_t(depth), uint8_t(color), 0, 0, uint8_t(interlace)});
  Chunk(&png, "IHDR", ihdr);
  for (const auto& [type, data] : extra) Chunk(&png, type, data);
  uLongf zsize = compressBound(uLong(raw.size()));
  Bytes z(zsize);
  compress2(z.data(), &zsize, raw.data(), uLong(raw.size()), 9);
  z.resize(zsize);
  Chunk(&png, "IDAT", z);
  Chunk(&png, "IEND", {});
  return png;
}

// Rows of `bits_per_pixel` packed samples, filter byte `filter` (0 none, 1 sub) in front.
Bytes Rows(int w, int h, int bits_per_pixel, int filter = 0, uint32_t seed = 3) {
  const size_t stride = (size_t(w) * bits_per_pixel + 7) / 8;
  Bytes raw;
  for (int y = 0; y < h; ++y) {
    raw.push_back(uint8_t(filter));
    for (size_t i = 0; i < stride; ++i) raw.push_back(Sample(int(i), y, 0, seed));
  }
  return raw;
}

void Pngs() {
  const int kGrey = 0, kRgb = 2, kPalette = 3, kGreyAlpha = 4, kRgba = 6;
  for (int d : {1, 2, 4, 8, 16}) {
    Write("png-grey" + std::to_string(d) + ".png", Png(9, 7, d, kGrey, Rows(9, 7, d)));
  }
  Write("png-rgb8.png", Png(8, 8, 8, kRgb, Rows(8, 8, 24, 1)));
  Write("png-rgb16.png", Png(6, 6, 16, kRgb, Rows(6, 6, 48)));
  Write("png-greyalpha8.png", Png(8, 8, 8, kGreyAlpha, Rows(8, 8, 16)));
  Write("png-greyalpha16.png", Png(5, 5, 16, kGreyAlpha, Rows(5, 5, 32)));
  Write("png-rgba8.png", Png(8, 8, 8, kRgba, Rows(8, 8, 32, 1)));
  Write("png-rgba16.png", Png(5, 5, 16, kRgba, Rows(5, 5, 64)));
  Bytes plte;
  for (int i = 0; i < 256; ++i)
    plte.insert(plte.end(), {uint8_t(i), uint8_t(255 - i), uint8_t(i * 7)});
  for (int d : {1, 2, 4, 8}) {
    const Bytes pal(plte.begin(), plte.begin() + 3 * (1 << d));
    Write("png-palette" + std::to_string(d) + ".png",
          Png(10, 6, d, kPalette, Rows(10, 6, d), 0, {{"PLTE", pal}}));
  }
  Write("png-palette8-trns.png", Png(8, 8, 8, kPalette, Rows(8, 8, 8), 0,
                                     {{"PLTE", plte}, {"tRNS", Bytes{0, 128, 255, 7}}}));
  Write("png-grey8-trns.png", Png(8, 8, 8, kGrey, Rows(8, 8, 8), 0, {{"tRNS", Bytes{0, 60}}}));
  Write("png-rgb8-trns.png",
        Png(8, 8, 8, kRgb, Rows(8, 8, 24), 0, {{"tRNS", Bytes{0, 60, 0, 70, 0, 80}}}));
  Write("png-rgb8-exif-3.png",
        Png(8, 8, 8, kRgb, Rows(8, 8, 24), 0, {{"eXIf", TiffOrientation(3)}}));
  Write("png-gama-srgb.png",
        Png(8, 8, 8, kRgb, Rows(8, 8, 24), 0, {{"gAMA", Bytes{0, 0, 0xb1, 0x8f}}, {"sRGB", {0}}}));
  // Adam7: the seven passes of a 9x9 grey image, each row with filter 0 (sizes from the spec).
  const int pw[7] = {2, 1, 3, 2, 5, 4, 9}, ph[7] = {2, 2, 1, 3, 2, 5, 4};
  Bytes adam;
  for (int p = 0; p < 7; ++p) {
    const Bytes r = Rows(pw[p], ph[p], 8, 0, 10 + uint32_t(p));
    adam.insert(adam.end(), r.begin(), r.end());
  }
  Write("png-grey8-adam7.png", Png(9, 9, 8, kGrey, adam, 1));
  Write("png-1x1.png", Png(1, 1, 8, kRgb, Rows(1, 1, 24)));
  Write("png-strip-600x2.png", Png(600, 2, 8, kGrey, Rows(600, 2, 8, 1)));  // the 512 path
  Bytes cut = Png(16, 16, 8, kRgb, Rows(16, 16, 24));
  cut.resize(cut.size() - 20);  // inside IDAT
  Write("png-truncated.png", cut);
}

// ---- WebP
Bytes Extended(const Bytes& simple, int w, int h, uint8_t flags, const Bytes& exif) {
  auto put32 = [](Bytes* b, uint32_t v) {
    for (int s = 0; s < 32; s += 8) b->push_back(uint8_t(v >> s));
  };
  Bytes body = {'W', 'E', 'B', 'P', 'V', 'P', '8', 'X'};
  put32(&body, 10);
  body.insert(body.end(), {flags, 0, 0, 0});
  for (int v : {w - 1, h - 1})
    body.insert(body.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16)});
  body.insert(body.end(), simple.begin() + 12, simple.end());
  body.insert(body.end(), {'E', 'X', 'I', 'F'});
  put32(&body, uint32_t(exif.size()));
  body.insert(body.end(), exif.begin(), exif.end());
  if (exif.size() & 1) body.push_back(0);
  Bytes riff = {'R', 'I', 'F', 'F'};
  put32(&riff, uint32_t(body.size()));
  riff.insert(riff.end(), body.begin(), body.end());
  return riff;
}

void Webps() {
  // Each encoder returns the size and sets `out`; Take copies and frees it.
  uint8_t* out = nullptr;
  auto take = [&](size_t n) {
    Bytes b(out, out + n);
    WebPFree(out);
    out = nullptr;
    return b;
  };
  const Bytes rgb = Pixels(16, 16, 3), rgba = Pixels(16, 16, 4);
  Write("webp-lossy.webp", take(WebPEncodeRGB(rgb.data(), 16, 16, 48, 60, &out)));
  Write("webp-lossless.webp", take(WebPEncodeLosslessRGB(rgb.data(), 16, 16, 48, &out)));
  Write("webp-lossy-alpha.webp", take(WebPEncodeRGBA(rgba.data(), 16, 16, 64, 60, &out)));
  const Bytes ll = take(WebPEncodeLosslessRGB(rgb.data(), 16, 16, 48, &out));
  Write("webp-exif-8.webp", Extended(ll, 16, 16, 0x08, TiffOrientation(8)));
  Write("webp-5x5.webp", take(WebPEncodeRGB(rgb.data(), 5, 5, 48, 50, &out)));
}

void Others() {
  Write("gif-header.gif", Bytes{'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0});
  Write("bmp-header.bmp", Bytes{'B', 'M', 0x3a, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0});
  Write("tiff-header.tif", Bytes{'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0});
  Write("heif-header.heic", Bytes{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0});
  Write("text.txt", Bytes{'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e', '\n'});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_corpus_gen OUT_DIR\n");
    return 2;
  }
  g_out = argv[1];
  std::filesystem::create_directories(g_out);
  Jpegs();
  Pngs();
  Webps();
  Others();
  return 0;
}

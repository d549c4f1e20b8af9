// Synthetic photo-like JPEGs for the PDQ fast-path drift test and benchmark: deterministic RGB
// pictures with what makes downscaled decoding drift (smooth gradients, value-noise texture,
// hard-edged shapes, a patch of fine stripes near the Nyquist limit of a 1/8 decode, per-pixel
// grain), encoded by libjpeg at a chosen quality, chroma subsampling and progression.
//
// Header-only; needs libjpeg (JPEG::JPEG) linked.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

namespace hashmatch::testing {

struct PhotoLikeSpec {
  int width = 2000, height = 1500;
  uint64_t seed = 1;
  int quality = 90;            // libjpeg quality 1..100
  int h_samp = 2, v_samp = 2;  // luma sampling factors: 1x1 = 4:4:4, 2x1 = 4:2:2, 2x2 = 4:2:0
  bool grey = false;           // one-channel JPEG
  bool progressive = false;
  double texture = 1.0;      // scales the texture, stripes and grain (0: smooth shapes only)
  int exif_orientation = 0;  // 1..8: write an EXIF APP1 block with this Orientation; 0: none
};

namespace photo_like_detail {

inline uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
inline double Uniform(uint64_t& s) {
  return double(SplitMix(s) >> 11) * (1.0 / 9007199254740992.0);
}
// Hash of a lattice point to [-1, 1], for value noise.
inline double Lattice(uint64_t seed, int x, int y) {
  uint64_t s = seed ^ (uint64_t(uint32_t(x)) * 0x9e3779b1ull) ^ (uint64_t(uint32_t(y)) << 32);
  return Uniform(s) * 2 - 1;
}
}  // namespace photo_like_detail

// Interleaved 8-bit RGB, width * height * 3.
inline std::vector<uint8_t> MakePhotoLikeRgb(const PhotoLikeSpec& spec) {
  using namespace photo_like_detail;
  const int w = spec.width, h = spec.height;
  uint64_t rng = spec.seed * 0x2545f4914f6cdd1dull + 7;
  // Background: a few low-frequency waves per channel (sky, walls, lighting).
  double freq[3][4], phase[3][4];
  for (auto& c : freq)
    for (double& f : c) f = 0.3 + 2.5 * Uniform(rng);
  for (auto& c : phase)
    for (double& p : c) p = 6.2832 * Uniform(rng);
  // Shapes with hard edges: ellipses and rectangles, each a flat colour plus a little shading.
  struct Shape {
    bool ellipse;
    double cx, cy, rx, ry, col[3];
  };
  std::vector<Shape> shapes(14);
  for (Shape& s : shapes) {
    s.ellipse = Uniform(rng) < 0.5;
    s.cx = Uniform(rng) * w;
    s.cy = Uniform(rng) * h;
    s.rx = (0.03 + 0.15 * Uniform(rng)) * w;
    s.ry = (0.03 + 0.15 * Uniform(rng)) * h;
    for (double& c : s.col) c = 20 + 215 * Uniform(rng);
  }
  // A patch of fine stripes (period 5..9 px): aliasing bait for reduced-scale decoding.
  const double sx0 = Uniform(rng) * w * 0.6, sy0 = Uniform(rng) * h * 0.6;
  const double sx1 = sx0 + w * 0.25, sy1 = sy0 + h * 0.2;
  const double period = 5 + 4 * Uniform(rng), angle = 3.1416 * Uniform(rng);
  const double ca = std::cos(angle), sa = std::sin(angle);
  const uint64_t noise_seed = SplitMix(rng), grain_seed = SplitMix(rng);

  // Every sine and lattice value comes from per-row / per-column tables: the test makes tens of
  // megapixels and should not spend seconds on trigonometry.
  constexpr double kTwoPi = 6.283185307179586;
  std::vector<double> col_a[3], col_s[3], col_c[3], row_b[3], row_s[3], row_c[3];
  for (int c = 0; c < 3; ++c) {
    for (int x = 0; x < w; ++x) {
      const double u = double(x) / w, t = kTwoPi * freq[c][2] * u + phase[c][2];
      col_a[c].push_back(45 * std::sin(kTwoPi * freq[c][0] * u + phase[c][0]));
      col_s[c].push_back(25 * std::sin(t));
      col_c[c].push_back(25 * std::cos(t));
    }
    for (int y = 0; y < h; ++y) {
      const double v = double(y) / h, t = kTwoPi * freq[c][3] * v;
      row_b[c].push_back(std::cos(kTwoPi * freq[c][1] * v + phase[c][1]));
      row_s[c].push_back(std::sin(t));
      row_c[c].push_back(std::cos(t));
    }
  }
  // Value noise (foliage, fabric) at two scales, the same on every channel.
  struct Noise {
    int cell, gw;
    std::vector<double> grid;
  } noise[2] = {{24, 0, {}}, {6, 0, {}}};
  for (Noise& n : noise) {
    n.gw = w / n.cell + 2;
    const int gh = h / n.cell + 2;
    for (int gy = 0; gy < gh; ++gy)
      for (int gx = 0; gx < n.gw; ++gx) n.grid.push_back(Lattice(noise_seed + n.cell, gx, gy));
  }
  auto value_noise = [](const Noise& n, int x, int y) {
    const int x0 = x / n.cell, y0 = y / n.cell;
    double tx = double(x % n.cell) / n.cell, ty = double(y % n.cell) / n.cell;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const double* g = n.grid.data() + size_t(y0) * n.gw + x0;
    return (g[0] * (1 - tx) + g[1] * tx) * (1 - ty) + (g[n.gw] * (1 - tx) + g[n.gw + 1] * tx) * ty;
  };

  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  uint64_t grain = grain_seed;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      double px[3];
      for (int c = 0; c < 3; ++c) {
        // 45 sin(a) cos(b) + 25 sin(t_u + t_v), the second by the angle-sum identity.
        px[c] =
            128 + col_a[c][x] * row_b[c][y] + col_s[c][x] * row_c[c][y] + col_c[c][x] * row_s[c][y];
      }
      for (const Shape& s : shapes) {
        if (std::abs(x - s.cx) > s.rx || std::abs(y - s.cy) > s.ry) continue;  // quick reject
        const double dx = (x - s.cx) / s.rx, dy = (y - s.cy) / s.ry;
        const bool in = s.ellipse ? dx * dx + dy * dy <= 1 : std::abs(dx) <= 1 && std::abs(dy) <= 1;
        if (!in) continue;
        const double shade = 0.85 + 0.15 * dy;
        for (int c = 0; c < 3; ++c) px[c] = s.col[c] * shade;
      }
      const double tex =
          spec.texture * (22 * value_noise(noise[0], x, y) + 10 * value_noise(noise[1], x, y));
      double stripe = 0;
      if (x >= sx0 && x < sx1 && y >= sy0 && y < sy1) {
        stripe = 40 * spec.texture * std::sin(kTwoPi * (x * ca + y * sa) / period);
      }
      const double g = 8 * spec.texture * (Uniform(grain) - 0.5);
      for (int c = 0; c < 3; ++c) {
        const double val = px[c] + tex + stripe + g;
        rgb[(size_t(y) * w + x) * 3 + c] = uint8_t(std::clamp(val, 0.0, 255.0) + 0.5);
      }
    }
  }
  return rgb;
}

// Encodes spec's picture (or `rgb`, when given) as a JPEG. Aborts on a libjpeg error: the input
// is ours and well formed.
inline std::vector<uint8_t> EncodeJpeg(const PhotoLikeSpec& spec, const std::vector<uint8_t>& rgb) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buf, &size);
  cinfo.image_width = JDIMENSION(spec.width);
  cinfo.image_height = JDIMENSION(spec.height);
  cinfo.input_components = spec.grey ? 1 : 3;
  cinfo.in_color_space = spec.grey ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, spec.quality, TRUE);
  if (!spec.grey) {
    cinfo.comp_info[0].h_samp_factor = spec.h_samp;
    cinfo.comp_info[0].v_samp_factor = spec.v_samp;
  }
  if (spec.progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  if (spec.exif_orientation > 0) {
    // "Exif\0\0", a little-endian TIFF header, IFD0 with one entry: Orientation (0x0112), SHORT,
    // count 1, the value; no next IFD.
    const uint8_t o = uint8_t(spec.exif_orientation);
    const uint8_t app1[] = {'E',  'x',  'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                            0x12, 0x01, 3,   0,   1, 0, 0,   0,   o,  0, 0, 0, 0, 0, 0, 0};
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1, sizeof app1);
  }
  std::vector<uint8_t> row(size_t(spec.width) * 3);
  while (cinfo.next_scanline < cinfo.image_height) {
    const uint8_t* src = rgb.data() + size_t(cinfo.next_scanline) * spec.width * 3;
    if (spec.grey) {
      // Grey from the same picture, by JFIF's luma weights.
      for (int x = 0; x < spec.width; ++x) {
        row[x] =
            uint8_t((299 * src[3 * x] + 587 * src[3 * x + 1] + 114 * src[3 * x + 2] + 500) / 1000);
      }
    } else {
      std::copy(src, src + row.size(), row.begin());
    }
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> out(buf, buf + size);
  std::free(buf);
  jpeg_destroy_compress(&cinfo);
  return out;
}

inline std::vector<uint8_t> MakePhotoLikeJpeg(const PhotoLikeSpec& spec) {
  return EncodeJpeg(spec, MakePhotoLikeRgb(spec));
}

}  // namespace hashmatch::testing

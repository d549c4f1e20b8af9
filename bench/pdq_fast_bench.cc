// PDQ exact path vs fast path (PdqOptions::fast), one thread, side by side in one run: images per
// second for decode alone, hash alone and decode + hash, on
//   - the eight 1600x1004 / 1004x1600 reference JPEGs (../shared/pdq-reference/reg-test-input/dih),
//   - eight synthetic photo-like 640x480 JPEGs (tests/photo_like_jpeg.h; quality 75..95, 4:2:0,
//     4:2:2, 4:4:4, one progressive, one grey),
//   - four synthetic 2000x1500 JPEGs (the same generator).
//
//   build/release/bench/pdq_fast_bench [--min-time S] [--rounds N] [--min-side N] [--wall]
//
// (docs/benchmarks.md; --min-side sets PdqOptions::fast_min_side, for the scale trade-off.)
// Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that figures taken on a machine
// shared with other work still mean images per second of one core; --wall times wall-clock
// instead (what an idle machine gives).
//
// "decode" is the exact path's DecodeImage (full-size RGB) against the fast path's reduced,
// luma-only JPEG decode; "hash" is PdqHasher::Hash on the decoded image against the fast path's
// blur-and-decimate emulation plus the same DCT and bits; "decode + hash" is PdqHasher::HashBytes
// with fast off and on, what a caller runs. Each figure is the best of --rounds (5) timed rounds,
// each cycling over the set for at least --min-time (0.5) seconds, the six measurements'
// rounds interleaved. Single-threaded, so images/s is per core.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"
#include "image_internal.h"     // core/src: the fast path's decoder, timed alone
#include "pdq_fast_internal.h"  // core/src: the fast path's decimation, timed alone
#include "photo_like_jpeg.h"    // tests/: the synthetic JPEGs

namespace {

namespace fs = std::filesystem;

double g_min_time = 0.5;
int g_rounds = 5;
int g_min_side = hashmatch::PdqOptions{}.fast_min_side;
bool g_wall = false;

double Now() {
  timespec ts;
  clock_gettime(g_wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Images per second of each `ones[k](i)` cycling over n images: the best of g_rounds timed rounds,
// each at least g_min_time long. Rounds of the different measurements are interleaved, so a load
// spike on a shared machine hits exact and fast alike, and the best round is the least disturbed.
std::vector<double> Rates(size_t n, const std::vector<std::function<void(size_t)>>& ones) {
  std::vector<double> best(ones.size(), 0.0);
  for (const auto& one : ones) {
    for (size_t i = 0; i < n; ++i) one(i);  // warm-up: buffers sized, caches filled
  }
  for (int round = 0; round < g_rounds; ++round) {
    for (size_t k = 0; k < ones.size(); ++k) {
      size_t done = 0;
      const double start = Now();
      double elapsed = 0;
      do {
        for (size_t i = 0; i < n; ++i) ones[k](i);
        done += n;
        elapsed = Now() - start;
      } while (elapsed < g_min_time);
      best[k] = std::max(best[k], double(done) / elapsed);
    }
  }
  return best;
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "pdq_fast_bench: %s\n", what.c_str());
  std::exit(1);
}

struct Set {
  std::string name;
  std::vector<std::vector<uint8_t>> jpegs;
};

void RunSet(const Set& set) {
  using namespace hashmatch;
  const size_t n = set.jpegs.size();
  PdqHasher hasher;
  PdqOptions fast_opt;
  fast_opt.fast = true;
  fast_opt.fast_min_side = g_min_side;
  image_internal::JpegLumaRequest request;
  request.min_side = fast_opt.fast_min_side;

  // Inputs of the "hash alone" rows, decoded once.
  std::vector<Image> images;
  struct Luma {
    std::vector<float> px;
    image_internal::JpegLuma info;
  };
  std::vector<Luma> lumas(n);
  for (size_t i = 0; i < n; ++i) {
    auto image = DecodeImage(set.jpegs[i]);
    if (!image.ok()) Fail(set.name + ": " + image.status().ToString());
    images.push_back(std::move(*image));
    if (Status s =
            image_internal::DecodeJpegLuma(set.jpegs[i], {}, request, &lumas[i].px, &lumas[i].info);
        !s.ok()) {
      Fail(set.name + ": " + s.ToString());
    }
  }

  volatile int sink = 0;  // keeps results live
  std::vector<float> luma, scratch;
  image_internal::JpegLuma info;
  const std::vector<std::function<void(size_t)>> ones = {
      [&](size_t i) {  // exact decode
        auto image = DecodeImage(set.jpegs[i]);
        sink = sink + image->width;
      },
      [&](size_t i) { sink = sink + hasher.Hash(images[i]).quality; },  // exact hash
      [&](size_t i) { sink = sink + hasher.HashBytes(set.jpegs[i])->pdq[0].quality; },
      [&](size_t i) {  // fast decode
        if (!image_internal::DecodeJpegLuma(set.jpegs[i], {}, request, &luma, &info).ok()) {
          Fail("fast decode failed");
        }
        sink = sink + info.rows;
      },
      [&](size_t i) {  // fast hash: decimation emulation + the core on 64x64
        const Luma& l = lumas[i];
        if (l.info.scale_num == 8) {
          sink = sink + hasher.HashLuma(l.px.data(), l.info.rows, l.info.cols).quality;
          return;
        }
        float d[64][64];
        pdq_internal::DecimateFromScaled(l.px.data(), l.info.rows, l.info.cols, l.info.height,
                                         l.info.width, l.info.scale_num, 0, 0, d, &scratch);
        sink = sink + hasher.HashLuma(&d[0][0], 64, 64).quality;
      },
      [&](size_t i) { sink = sink + hasher.HashBytes(set.jpegs[i], {}, fast_opt)->pdq[0].quality; },
  };
  const std::vector<double> r = Rates(n, ones);
  const double exact_decode = r[0], exact_hash = r[1], exact_both = r[2];
  const double fast_decode = r[3], fast_hash = r[4], fast_both = r[5];

  std::string scales;
  for (const Luma& l : lumas) {
    const std::string s = "1/" + std::to_string(8 / l.info.scale_num);
    if (scales.find(s) == std::string::npos) scales += (scales.empty() ? "" : ",") + s;
  }
  std::printf("%-34s | %9s | %9s | %9s\n", (set.name + " (" + std::to_string(n) + ")").c_str(),
              "decode/s", "hash/s", "dec+hash/s");
  std::printf("  %-32s | %9.1f | %9.1f | %9.1f\n", "exact", exact_decode, exact_hash, exact_both);
  std::printf("  %-32s | %9.1f | %9.1f | %9.1f\n", ("fast (decoded at " + scales + ")").c_str(),
              fast_decode, fast_hash, fast_both);
  std::printf("  %-32s | %8.2fx | %8.2fx | %8.2fx\n", "fast / exact", fast_decode / exact_decode,
              fast_hash / exact_hash, fast_both / exact_both);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--min-time") == 0 && i + 1 < argc) {
      g_min_time = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      g_rounds = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--wall") == 0) {
      g_wall = true;
    } else if (std::strcmp(argv[i], "--min-side") == 0 && i + 1 < argc) {
      g_min_side = std::max(65, std::atoi(argv[++i]));
    } else {
      Fail(std::string("usage: pdq_fast_bench [--min-time S] [--rounds N] [--min-side N] [--wall]; "
                       "unknown ") +
           argv[i]);
    }
  }
  std::vector<Set> sets;
  const fs::path dih = fs::path(HASHMATCH_SHARED_DIR) / "pdq-reference/reg-test-input/dih";
  Set bridge{"reference JPEG 1600x1004", {}};
  if (fs::is_directory(dih)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dih)) {
      if (e.path().extension() == ".jpg") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto bytes = hashmatch::ReadFileBytes(f);
      if (!bytes.ok()) Fail(bytes.status().ToString());
      bridge.jpegs.push_back(std::move(*bytes));
    }
    sets.push_back(std::move(bridge));
  } else {
    std::fprintf(stderr, "pdq_fast_bench: %s not found; skipping the reference JPEGs\n",
                 dih.c_str());
  }
  Set small{"synthetic JPEG 640x480", {}};
  for (int k = 0; k < 8; ++k) {
    hashmatch::testing::PhotoLikeSpec spec;
    spec.width = 640;
    spec.height = 480;
    spec.seed = 1000 + uint64_t(k);
    spec.quality = 75 + 5 * (k % 5);
    spec.h_samp = k % 3 == 2 ? 1 : 2;
    spec.v_samp = k % 3 == 0 ? 2 : 1;
    spec.progressive = k == 6;
    spec.grey = k == 7;
    small.jpegs.push_back(hashmatch::testing::MakePhotoLikeJpeg(spec));
  }
  sets.push_back(std::move(small));
  Set large{"synthetic JPEG 2000x1500", {}};
  for (int k = 0; k < 4; ++k) {
    hashmatch::testing::PhotoLikeSpec spec;
    spec.seed = 2000 + uint64_t(k);
    spec.quality = 80 + 5 * k;
    large.jpegs.push_back(hashmatch::testing::MakePhotoLikeJpeg(spec));
  }
  sets.push_back(std::move(large));
  std::printf(
      "PDQ exact vs fast path (fast_min_side %d, PDQ instruction set %s), one thread, images per "
      "second of %s time (best of %d interleaved rounds of >= %.2g s)\n",
      g_min_side, hashmatch::PdqSimdName(hashmatch::DefaultPdqSimd()),
      g_wall ? "wall-clock" : "thread CPU", g_rounds, g_min_time);
  for (const Set& s : sets) RunSet(s);
  return 0;
}

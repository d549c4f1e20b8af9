// PDQ exact path vs fast path (PdqOptions::fast), one thread, side by side in one run: images per
// second for decode alone, hash alone and decode + hash, on
//   - the eight 1600x1004 / 1004x1600 reference JPEGs (../shared/pdq-reference/reg-test-input/dih),
//   - eight synthetic photo-like 640x480 JPEGs (tests/photo_like_jpeg.h; quality 75..95, 4:2:0,
//     4:2:2, 4:4:4, one progressive, one grey),
//   - four synthetic 2000x1500 JPEGs (the same generator).
//
//   build/release/bench/pdq_fast_bench [--min-time SECONDS]      (see docs/benchmarks.md)
//
// "decode" is the exact path's DecodeImage (full-size RGB) against the fast path's reduced,
// luma-only JPEG decode; "hash" is PdqHasher::Hash on the decoded image against the fast path's
// blur-and-decimate emulation plus the same DCT and bits; "decode + hash" is PdqHasher::HashBytes
// with fast off and on, what a caller runs. Each figure is the best of three timed rounds, each
// round cycling over the set for at least --min-time seconds. Single-threaded, so images/s is
// per core.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
using Clock = std::chrono::steady_clock;

double g_min_time = 1.0;

// Images per second of `one(i)` cycling over n images; best of three rounds.
double Rate(size_t n, const std::function<void(size_t)>& one) {
  for (size_t i = 0; i < n; ++i) one(i);  // warm-up: buffers sized, caches filled
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    size_t done = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      for (size_t i = 0; i < n; ++i) one(i);
      done += n;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < g_min_time);
    best = std::max(best, double(done) / elapsed);
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
  const double exact_decode = Rate(n, [&](size_t i) {
    auto image = DecodeImage(set.jpegs[i]);
    sink = sink + image->width;
  });
  const double exact_hash =
      Rate(n, [&](size_t i) { sink = sink + hasher.Hash(images[i]).quality; });
  const double exact_both =
      Rate(n, [&](size_t i) { sink = sink + hasher.HashBytes(set.jpegs[i])->pdq[0].quality; });
  std::vector<float> luma, scratch;
  image_internal::JpegLuma info;
  const double fast_decode = Rate(n, [&](size_t i) {
    if (!image_internal::DecodeJpegLuma(set.jpegs[i], {}, request, &luma, &info).ok()) {
      Fail("fast decode failed");
    }
    sink = sink + info.rows;
  });
  const double fast_hash = Rate(n, [&](size_t i) {
    const Luma& l = lumas[i];
    if (l.info.scale_num == 8) {
      sink = sink + hasher.HashLuma(l.px.data(), l.info.rows, l.info.cols).quality;
      return;
    }
    float d[64][64];
    pdq_internal::DecimateFromScaled(l.px.data(), l.info.rows, l.info.cols, l.info.height,
                                     l.info.width, l.info.scale_num, 0, 0, d, &scratch);
    sink = sink + hasher.HashLuma(&d[0][0], 64, 64).quality;
  });
  const double fast_both = Rate(n, [&](size_t i) {
    sink = sink + hasher.HashBytes(set.jpegs[i], {}, fast_opt)->pdq[0].quality;
  });

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
    } else {
      Fail(std::string("usage: pdq_fast_bench [--min-time SECONDS]; unknown argument ") + argv[i]);
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
      "PDQ exact vs fast path, one thread, images per second (best of 3 rounds of >= %.2g s)\n",
      g_min_time);
  for (const Set& s : sets) RunSet(s);
  return 0;
}

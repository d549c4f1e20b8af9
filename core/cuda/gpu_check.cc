// gpu_check: the GPU matcher's self-contained check and benchmark program (needs only the CUDA
// runtime and the C++ standard library).
//
//   gpu_check                 CPU kernel equivalence, then (GPU visible) a small GPU exactness
//   check gpu_check --step cpu      CPU only: scalar vs AVX2 vs AVX-512 VPOPCNTDQ distances, and
//   the
//                             scan driver's host logic (caps, overflow passes, chunking, k-NN
//                             merge) on the CPU backend, against the brute-force oracle
//   gpu_check --step peaks    device roofs: copy and read bandwidth, XOR+popcount rate
//   gpu_check --step verify [--n N]   GPU == oracle: full at small N (resident and streamed),
//                             sampled queries at N (random and clustered data)
//   --require-gpu             a step that needs a GPU fails (instead of skipping) without one
//   gpu_check --step bench --n N      QPS, popcount rate and bandwidth for batches 1, 8, 1000,
//                             10000 and d = 31, 64 (PDQ-sized codes), plus k-NN (k = 10)
//
// Exit status: 0 when every check passed (GPU steps print "no GPU visible" and pass when there
// is no device), 1 on a mismatch or error, 2 on bad arguments.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu_kernels.h"
#include "hamming_cuda.cuh"
#include "scan_driver.h"

using namespace hashmatch::gpu;

namespace {

int g_failures = 0;
bool g_require_gpu = false;  // --require-gpu: a missing device is a failure (the bench script)

void Fail(const std::string& what) {
  std::printf("FAIL: %s\n", what.c_str());
  ++g_failures;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Data {
  size_t n = 0, words = 0;
  std::vector<uint64_t> codes, ids, queries;
  size_t nq = 0;
};

// Random codes, or clustered ones (centres with up to `spread` flipped bits, many exact
// duplicates, so distances tie often). Ids are unique and not in row order, so the (distance,
// id) tie-break is really exercised. Queries: half near codes of the set, half random.
Data MakeData(size_t n, size_t words, size_t nq, bool clustered, uint64_t seed) {
  Data d;
  d.n = n;
  d.words = words;
  d.nq = nq;
  std::mt19937_64 rng(seed);
  const size_t bits = 64 * words;
  d.codes.resize(n * words);
  std::vector<uint64_t> centres(64 * words);
  for (auto& c : centres) c = rng();
  const size_t nc = centres.size() / words;
  for (size_t i = 0; i < n; ++i) {
    uint64_t* c = &d.codes[i * words];
    if (!clustered) {
      for (size_t w = 0; w < words; ++w) c[w] = rng();
      continue;
    }
    const size_t k = rng() % nc;
    std::memcpy(c, &centres[k * words], words * 8);
    const size_t flips = rng() % (bits / 4 + 1) * (rng() % 4 == 0 ? 0 : 1);
    for (size_t f = 0; f < flips; ++f) {
      const size_t b = rng() % bits;
      c[b / 64] ^= uint64_t{1} << (b % 64);
    }
  }
  d.ids.resize(n);
  for (size_t i = 0; i < n; ++i) d.ids[i] = (i * 0x9e3779b97f4a7c15ull) ^ 0x5bd1e995ull;
  d.queries.resize(nq * words);
  for (size_t q = 0; q < nq; ++q) {
    uint64_t* out = &d.queries[q * words];
    if (q % 2 == 0 && n > 0) {
      std::memcpy(out, &d.codes[(rng() % n) * words], words * 8);
      const size_t flips = rng() % (bits / 8 + 1);
      for (size_t f = 0; f < flips; ++f) {
        const size_t b = rng() % bits;
        out[b / 64] ^= uint64_t{1} << (b % 64);
      }
    } else {
      for (size_t w = 0; w < words; ++w) out[w] = rng();
    }
  }
  return d;
}

// ---- CPU kernel equivalence -------------------------------------------------------------------

void CheckDistanceKernels() {
  struct Path {
    const char* name;
    DistanceFn fn;
    bool supported;
  };
  const Path paths[] = {{"avx2", DistancesAvx2, HasAvx2()},
                        {"avx512-vpopcntdq", DistancesAvx512, HasAvx512Vpopcntdq()}};
  for (const Path& p : paths) {
    if (!p.supported) {
      std::printf("cpu: %s not supported by this CPU, not exercised\n", p.name);
      continue;
    }
    size_t checked = 0;
    for (size_t words : {1, 2, 4}) {
      for (size_t n : {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 1031}) {
        Data d = MakeData(n, words, 6, n % 2 == 1, 1000 + n * 7 + words);
        // Extremes: all-zero and all-one words.
        if (n >= 2) {
          std::memset(&d.codes[0], 0, words * 8);
          std::memset(&d.codes[words], 0xff, words * 8);
        }
        std::vector<uint32_t> a(n), b(n);
        for (size_t q = 0; q < d.nq; ++q) {
          DistancesScalar(&d.queries[q * words], d.codes.data(), n, words, a.data());
          p.fn(&d.queries[q * words], d.codes.data(), n, words, b.data());
          if (a != b)
            Fail(std::string(p.name) + " distances differ from scalar, words=" +
                 std::to_string(words) + " n=" + std::to_string(n));
          checked += n;
        }
      }
    }
    std::printf("cpu: %s == scalar on %zu distances\n", p.name, checked);
  }
}

bool Same(const GroupedHits& got, const GroupedHits& want, const std::string& what) {
  if (got == want) return true;
  size_t q = 0;
  while (q + 1 < want.offsets.size() && q + 1 < got.offsets.size() &&
         got.offsets[q + 1] == want.offsets[q + 1])
    ++q;
  Fail(what + ": differs from the oracle (first differing group near query " + std::to_string(q) +
       ", hits " + std::to_string(got.hits.size()) + " vs " + std::to_string(want.hits.size()) +
       ")");
  return false;
}

// The driver over `backend` against the oracle, for a grid of radii, caps, buffer sizes and k.
void CheckDriver(ScanBackend& be, const Data& d, const std::string& label, bool thorough) {
  const uint32_t bits = static_cast<uint32_t>(64 * d.words);
  std::vector<uint32_t> radii = {0, 8, 31, bits / 4, bits};
  std::vector<size_t> caps = {0, 1, 5, 100};
  std::vector<DriverOptions> opts(1);
  if (thorough) {
    DriverOptions tiny;
    tiny.buffer_bytes = 64;  // forces one query a group and the overflow passes
    tiny.first_pass_hits = 2;
    opts.push_back(tiny);
  }
  size_t cases = 0;
  for (const DriverOptions& o : opts) {
    for (uint32_t r : radii) {
      for (size_t cap : caps) {
        GroupedHits got;
        GpuStatus s = RangeSearch(be, d.ids.data(), d.queries.data(), d.nq, r, cap, o, &got);
        if (!s.ok()) {
          Fail(label + " range: " + s.message);
          continue;
        }
        GroupedHits want =
            OracleRange(d.codes.data(), d.ids.data(), d.n, d.words, d.queries.data(), d.nq, r, cap);
        Same(got, want, label + " range r=" + std::to_string(r) + " cap=" + std::to_string(cap));
        ++cases;
      }
    }
    for (size_t k : {size_t{1}, size_t{5}, size_t{50}, d.n + 3}) {
      GroupedHits got;
      GpuStatus s = Knn(be, d.ids.data(), d.queries.data(), d.nq, k, o, &got);
      if (!s.ok()) {
        Fail(label + " knn: " + s.message);
        continue;
      }
      GroupedHits want =
          OracleKnn(d.codes.data(), d.ids.data(), d.n, d.words, d.queries.data(), d.nq, k);
      Same(got, want, label + " knn k=" + std::to_string(k));
      ++cases;
    }
  }
  GroupedHits bad;
  if (RangeSearch(be, d.ids.data(), d.queries.data(), d.nq, bits + 1, 0, DriverOptions{}, &bad)
          .ok())
    Fail(label + ": radius above the code's bits was accepted");
  std::printf("%s: %zu cases checked\n", label.c_str(), cases);
}

void StepCpu() {
  std::printf("cpu: best path %s\n", BestDistanceName());
  CheckDistanceKernels();
  for (size_t words : {1, 4}) {
    for (bool clustered : {false, true}) {
      Data d = MakeData(3000, words, 24, clustered, 77 + words + clustered);
      for (size_t chunk : {size_t{3000}, size_t{997}, size_t{64}}) {
        CpuScanBackend be(d.codes.data(), d.n, d.words, chunk, BestDistanceFn(), chunk + words);
        CheckDriver(be, d,
                    "cpu-backend words=" + std::to_string(words) +
                        (clustered ? " clustered" : " random") + " chunk=" + std::to_string(chunk),
                    chunk != 64);
      }
    }
  }
}

// ---- GPU steps --------------------------------------------------------------------------------

bool GpuVisible(DeviceInfo* info) {
  std::string why;
  GpuStatus s = QueryDevice(info, &why);
  if (!s.ok()) {
    Fail("device query: " + s.message);
    return false;
  }
  if (!info->present) {
    std::printf("no GPU visible (%s): GPU steps skipped\n", why.c_str());
    if (g_require_gpu) Fail("--require-gpu given and no GPU visible");
    return false;
  }
  std::printf("device: %s, sm_%d%d, %d SMs, %.1f GiB (%.1f GiB free)\n", info->name.c_str(),
              info->cc_major, info->cc_minor, info->sm_count, info->total_bytes / 1073741824.0,
              info->free_bytes / 1073741824.0);
  return true;
}

struct Peaks {
  double copy = 0, read = 0, popc = 0;
};

Peaks StepPeaks() {
  Peaks p;
  GpuStatus s = MeasureCopyBandwidth(size_t{1} << 30, &p.copy);
  if (s.ok()) s = MeasureReadBandwidth(size_t{2} << 30, &p.read);
  if (s.ok()) s = MeasurePopcountPeak(&p.popc);
  if (!s.ok()) {
    Fail("peaks: " + s.message);
    return p;
  }
  std::printf("peaks: copy %.0f GB/s (read+write), read %.0f GB/s, xor+popcount %.3g words/s\n",
              p.copy / 1e9, p.read / 1e9, p.popc);
  return p;
}

void StepVerify(size_t big_n) {
  for (size_t words : {1, 4}) {
    for (bool clustered : {false, true}) {
      Data d = MakeData(200'000, words, 40, clustered, 900 + words + clustered);
      for (size_t budget : {size_t{0}, size_t{1} << 20}) {  // resident, then streamed 1 MiB chunks
        std::unique_ptr<CudaScanBackend> be;
        CudaBackendOptions o;
        o.code_budget_bytes = budget;
        GpuStatus s = CudaScanBackend::Create(d.codes.data(), d.n, d.words, o, &be);
        if (!s.ok()) {
          Fail("create: " + s.message);
          return;
        }
        CheckDriver(*be, d,
                    std::string("gpu words=") + std::to_string(words) +
                        (clustered ? " clustered" : " random") +
                        (be->streaming() ? " streamed" : " resident"),
                    budget == 0);
      }
    }
  }
  // Large N: a batch on the GPU, a sample of its queries against the oracle.
  for (bool clustered : {false, true}) {
    const double t0 = Now();
    Data d = MakeData(big_n, 4, 1000, clustered, 4242 + clustered);
    std::unique_ptr<CudaScanBackend> be;
    GpuStatus s = CudaScanBackend::Create(d.codes.data(), d.n, 4, CudaBackendOptions{}, &be);
    if (!s.ok()) {
      Fail("create: " + s.message);
      return;
    }
    for (uint32_t r : {31u, 64u}) {
      GroupedHits got, knn;
      // k-NN's full-radius histogram is the slow kernel (atomics): its batch is the first 100.
      const size_t knn_nq = 100;
      s = RangeSearch(*be, d.ids.data(), d.queries.data(), d.nq, r, 1000, DriverOptions{}, &got);
      if (s.ok()) s = Knn(*be, d.ids.data(), d.queries.data(), knn_nq, 10, DriverOptions{}, &knn);
      if (!s.ok()) {
        Fail("large range/knn: " + s.message);
        return;
      }
      size_t bad = 0;
      std::vector<size_t> sample;
      for (size_t q = 0; q < d.nq; q += d.nq / 6 + 1) sample.push_back(q);
      for (size_t q = 5; q < knn_nq; q += 17) sample.push_back(q);
      for (size_t q : sample) {
        GroupedHits want =
            OracleRange(d.codes.data(), d.ids.data(), d.n, 4, &d.queries[q * 4], 1, r, 1000);
        GroupedHits wk = OracleKnn(d.codes.data(), d.ids.data(), d.n, 4, &d.queries[q * 4], 1, 10);
        auto slice = [&](const GroupedHits& g) {
          std::vector<std::pair<uint32_t, uint64_t>> v;
          for (size_t i = g.offsets[q]; i < g.offsets[q + 1]; ++i)
            v.push_back({g.hits[i].distance, g.hits[i].id});
          return v;
        };
        auto flat = [](const GroupedHits& g) {
          std::vector<std::pair<uint32_t, uint64_t>> v;
          for (const Hit& h : g.hits) v.push_back({h.distance, h.id});
          return v;
        };
        if (slice(got) != flat(want) || got.truncated[q] != want.truncated[0] ||
            (q < knn_nq && slice(knn) != flat(wk)))
          ++bad;
      }
      if (bad) Fail("large N sampled queries differ: " + std::to_string(bad));
      std::printf("gpu N=%zu %s r=%u: sampled queries equal the oracle (range cap 1000, k=10)\n",
                  d.n, clustered ? "clustered" : "random", r);
    }
    std::printf("  (%.1f s)\n", Now() - t0);
  }
}

void StepBench(size_t n, const Peaks& peaks) {
  const size_t words = 4;
  const double t0 = Now();
  Data d = MakeData(n, words, 10'000, false, 31337);
  std::printf("bench: N=%zu PDQ codes (%.2f GB), data %.1f s\n", n, n * 32 / 1e9, Now() - t0);
  const double t1 = Now();
  std::unique_ptr<CudaScanBackend> be;
  GpuStatus s = CudaScanBackend::Create(d.codes.data(), n, words, CudaBackendOptions{}, &be);
  if (!s.ok()) {
    Fail("create: " + s.message);
    return;
  }
  std::printf("bench: upload %.2f s, %s, %zu chunk(s)\n", Now() - t1,
              be->streaming() ? "streamed" : "resident", be->num_chunks());
  std::printf("%-6s %-6s %-4s %12s %12s %14s %8s %10s %8s\n", "op", "batch", "d", "QPS(wall)",
              "QPS(kern)", "words/s", "%popc", "GB/s", "%read");
  auto row = [&](const char* op, size_t batch, uint32_t r, auto&& call) {
    be->ResetStats();
    int reps = 0;
    const double start = Now();
    do {
      GpuStatus st = call();
      if (!st.ok()) {
        Fail(std::string("bench: ") + st.message);
        return;
      }
      ++reps;
    } while (Now() - start < 1.0 && reps < 50);
    const double wall = Now() - start, ks = be->kernel_seconds();
    const double wps = be->words_compared() / ks, bps = be->code_bytes_read() / ks;
    std::printf("%-6s %-6zu %-4u %12.1f %12.1f %14.3g %7.1f%% %10.0f %7.1f%%\n", op, batch, r,
                batch * reps / wall, batch * reps / ks, wps,
                peaks.popc > 0 ? 100 * wps / peaks.popc : 0.0, bps / 1e9,
                peaks.read > 0 ? 100 * bps / peaks.read : 0.0);
    std::fflush(stdout);
  };
  for (size_t batch : {1, 8, 1000, 10000}) {
    for (uint32_t r : {31u, 64u}) {
      row("range", batch, r, [&] {
        GroupedHits out;
        return RangeSearch(*be, d.ids.data(), d.queries.data(), batch, r, 100'000, DriverOptions{},
                           &out);
      });
    }
  }
  // k-NN last: its histogram pass (shared atomics) is the slowest kernel and may hit the limit.
  for (size_t batch : {1, 8, 100}) {
    row("knn10", batch, 0, [&] {
      GroupedHits out;
      return Knn(*be, d.ids.data(), d.queries.data(), batch, 10, DriverOptions{}, &out);
    });
  }
  // The CPU flat scan on the same data for reference (one query, best path, one thread).
  std::vector<uint32_t> dist(n);
  const double c0 = Now();
  BestDistanceFn()(d.queries.data(), d.codes.data(), n, words, dist.data());
  std::printf("cpu flat scan (%s, 1 thread, distances only): %.2f QPS\n", BestDistanceName(),
              1.0 / (Now() - c0));
}

}  // namespace

int main(int argc, char** argv) {
  std::string step = "default";
  size_t n = 10'000'000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--require-gpu") {
      g_require_gpu = true;
    } else if (a == "--step" && i + 1 < argc) {
      step = argv[++i];
    } else if (a == "--n" && i + 1 < argc) {
      char* end = nullptr;
      n = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || n == 0) {
        std::fprintf(stderr, "--n needs a positive integer\n");
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: gpu_check [--step cpu|peaks|verify|bench] [--n N] [--require-gpu]\n");
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  DeviceInfo info;
  if (step == "default") {
    StepCpu();
    if (GpuVisible(&info)) StepVerify(1'000'000);
  } else if (step == "cpu") {
    StepCpu();
  } else if (step == "peaks") {
    if (GpuVisible(&info)) StepPeaks();
  } else if (step == "verify") {
    if (GpuVisible(&info)) StepVerify(n);
  } else if (step == "bench") {
    if (GpuVisible(&info)) StepBench(n, StepPeaks());
  } else {
    std::fprintf(stderr, "unknown step %s\n", step.c_str());
    return 2;
  }
  if (g_failures) {
    std::printf("%d check(s) FAILED\n", g_failures);
    return 1;
  }
  std::printf("gpu_check %s: ok\n", step.c_str());
  return 0;
}

// The index at 100M codes (issue 4's largest size; no FAISS baselines: they do not fit in RAM):
// build time on the machine's cores, bytes of RAM per hash, single-query rate on one core, and
// the time from a cold page cache to a steady query rate after loading the saved index file.
//
//   index_scale_bench [--n 100000000] [--radius 31] [--queries 1000] [--threads 2]
//                     [--oracle 8] [--dir /tmp/hm-scale] [--keep-file 0] [--tables m]
//
// Data: uniform random 256-bit codes (MIH's worst case: no structure to exploit), each query
// with planted neighbours at every distance 0..radius. Exactness: every planted neighbour must
// be found, and for --oracle queries the whole answer is compared with a brute-force scan of all
// N codes. Cold start: the index file is saved, its pages are evicted from the page cache
// (posix_fadvise DONTNEED), and the clock runs from LoadStaticIndex until the rate of 200-query
// windows settles (within 10% of the warm rate).
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bench_clock.h"
#include "hashmatch/core/distance.h"
#include "hashmatch/core/static_index.h"

namespace {

using namespace hashmatch;
using namespace hashmatch::bench;

void FlipBit(uint8_t* c, uint32_t p) {
  c[p / 8] ^= uint8_t(1u << (p % 8));
}

struct Args {
  size_t n = 100'000'000;
  uint32_t radius = 31;
  size_t queries = 1000;
  int threads = 2;
  size_t oracle = 8;
  std::string dir = "/tmp/hm-scale";
  bool keep_file = false;
  int tables = 0;  // 0: the planner's choice
};

// Single queries on one thread: returns queries per CPU second; counts planted neighbours found.
double SingleRate(const StaticIndex& index, const std::vector<uint8_t>& queries, size_t q0,
                  size_t q1, uint32_t radius, size_t* planted_found,
                  const std::vector<std::vector<uint64_t>>* planted) {
  RangeSearchOptions o;
  o.radius = radius;
  o.max_threads = 1;
  o.max_hits_per_query = 0;
  RangeSearchResult res;
  const double c0 = ThreadCpuSeconds();
  for (size_t q = q0; q < q1; ++q) {
    const Status st = index.RangeSearch(CodeView{queries.data() + 32 * q, 1, 32}, o, &res);
    if (!st.ok()) {
      std::fprintf(stderr, "search failed: %s\n", st.ToString().c_str());
      std::exit(1);
    }
    if (planted_found) {
      for (uint64_t id : (*planted)[q]) {
        for (const IndexHit& h : res.hits) {
          if (h.id == id) {
            ++*planted_found;
            break;
          }
        }
      }
    }
  }
  return double(q1 - q0) / std::max(1e-9, ThreadCpuSeconds() - c0);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n")
      a.n = std::stoull(v);
    else if (k == "--radius")
      a.radius = uint32_t(std::stoul(v));
    else if (k == "--queries")
      a.queries = std::stoull(v);
    else if (k == "--threads")
      a.threads = std::stoi(v);
    else if (k == "--oracle")
      a.oracle = std::stoull(v);
    else if (k == "--dir")
      a.dir = v;
    else if (k == "--tables")
      a.tables = std::stoi(v);
    else if (k == "--keep-file")
      a.keep_file = v != "0";
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  const size_t planted_per_query = a.radius + 1;
  const size_t n_random = a.n - a.queries * planted_per_query;
  std::printf("index_scale_bench: N=%zu queries=%zu radius=%u build threads=%d kernel=%s\n", a.n,
              a.queries, a.radius, a.threads,
              std::string(KernelPathName(DistanceKernels::Default().path())).c_str());

  // Data: random codes, then each query's planted neighbours (ids are row numbers).
  auto t0 = Clock::now();
  std::vector<uint8_t> codes(a.n * 32);
  std::vector<uint8_t> queries(a.queries * 32);
  std::vector<std::vector<uint64_t>> planted(a.queries);
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < n_random * 4; ++i) {
    const uint64_t w = rng();
    std::memcpy(codes.data() + 8 * i, &w, 8);
  }
  size_t row = n_random;
  for (size_t q = 0; q < a.queries; ++q) {
    uint8_t* qc = queries.data() + 32 * q;
    for (int w = 0; w < 4; ++w) {
      const uint64_t x = rng();
      std::memcpy(qc + 8 * w, &x, 8);
    }
    for (uint32_t d = 0; d <= a.radius; ++d, ++row) {
      uint8_t* c = codes.data() + 32 * row;
      std::memcpy(c, qc, 32);
      std::vector<uint32_t> bits(256);
      for (uint32_t b = 0; b < 256; ++b) bits[b] = b;
      for (uint32_t f = 0; f < d; ++f) {
        std::swap(bits[f], bits[f + rng() % (256 - f)]);
        FlipBit(c, bits[f]);
      }
      planted[q].push_back(row);
    }
  }
  std::vector<uint64_t> ids(a.n);
  for (size_t i = 0; i < a.n; ++i) ids[i] = i;
  std::printf("data: %.1f s\n", Seconds(t0, Clock::now()));

  // Build.
  const MihPlan plan = PlanMih(a.n, 32, a.radius);
  MihOptions mo;
  mo.expected_radius = a.radius;
  mo.max_threads = a.threads;
  mo.num_tables = a.tables;
  const size_t rss_before = RssBytes();
  const double cpu0 = ProcessCpuSeconds();
  t0 = Clock::now();
  auto built = BuildMihIndex(CodeView{codes.data(), a.n, 32}, ids, mo);
  const double build_wall = Seconds(t0, Clock::now());
  const double build_cpu = ProcessCpuSeconds() - cpu0;
  if (!built.ok()) {
    std::fprintf(stderr, "build failed: %s\n", built.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<const StaticIndex> index = std::move(built).value();
  const IndexStats st = index->Stats();
  std::printf("build: %s, %.1f s wall, %.1f CPU s (m=%d planned), peak RSS %.1f GB\n",
              st.method.c_str(), build_wall, build_cpu, plan.num_tables,
              double(PeakRssBytes()) / 1e9);
  std::printf(
      "RAM: %.1f bytes/hash by the index's own count (codes, ids, tables); process RSS "
      "grew %.1f bytes/hash with the build (input arrays kept beside it)\n",
      double(st.memory_bytes) / double(a.n), double(RssBytes() - rss_before) / double(a.n));

  // Single queries, warm.
  size_t found = 0;
  const double warm = SingleRate(*index, queries, 0, a.queries, a.radius, &found, &planted);
  std::printf("single queries (one core, warm): %.0f q/s; planted neighbours found %zu/%zu\n", warm,
              found, a.queries * planted_per_query);
  if (found != a.queries * planted_per_query) {
    std::printf("FAIL: planted neighbours missed\n");
    return 1;
  }

  // Exactness against a brute-force scan of every code.
  const DistanceKernels& k = DistanceKernels::Default();
  size_t oracle_hits = 0;
  for (size_t q = 0; q < std::min(a.oracle, a.queries); ++q) {
    const uint8_t* qc = queries.data() + 32 * q;
    std::vector<std::pair<uint32_t, uint64_t>> want, got;
    for (size_t r = 0; r < a.n; ++r) {
      const uint32_t d = k.Distance(qc, codes.data() + 32 * r, 32);
      if (d <= a.radius) want.push_back({d, ids[r]});
    }
    std::sort(want.begin(), want.end());
    RangeSearchOptions o;
    o.radius = a.radius;
    o.max_hits_per_query = 0;
    RangeSearchResult res;
    if (!index->RangeSearch(CodeView{qc, 1, 32}, o, &res).ok()) return 1;
    for (const IndexHit& h : res.hits) got.push_back({h.distance, h.id});
    if (got != want) {
      std::printf("FAIL: query %zu differs from the brute-force scan (%zu vs %zu hits)\n", q,
                  got.size(), want.size());
      return 1;
    }
    oracle_hits += want.size();
  }
  std::printf("oracle: %zu queries equal to a brute-force scan of all %zu codes (%zu hits)\n",
              std::min(a.oracle, a.queries), a.n, oracle_hits);

  // Save, evict, cold load.
  std::filesystem::create_directories(a.dir);
  const std::filesystem::path file = std::filesystem::path(a.dir) / "scale.idx";
  t0 = Clock::now();
  if (Status s = index->Save(file); !s.ok()) {
    std::fprintf(stderr, "save failed: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("save: %.1f s, %.2f GB file\n", Seconds(t0, Clock::now()),
              double(std::filesystem::file_size(file)) / 1e9);
  index.reset();
  std::vector<uint8_t>().swap(codes);
  std::vector<uint64_t>().swap(ids);
  {
    const int fd = ::open(file.c_str(), O_RDONLY);
    ::fdatasync(fd);
    const int rc = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
    std::printf("page cache: file evicted (posix_fadvise rc=%d)\n", rc);
  }
  t0 = Clock::now();
  auto loaded = LoadStaticIndex(file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "load failed: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  index = std::move(loaded).value();
  const double load_s = Seconds(t0, Clock::now());
  std::printf("cold load (checksums verified, structure checked): %.2f s\n", load_s);
  size_t q = 0;
  double steady_at = -1;
  while (Seconds(t0, Clock::now()) < 60) {
    const size_t q1 = std::min(q + 200, a.queries);
    const double rate = SingleRate(*index, queries, q, q1, a.radius, nullptr, nullptr);
    const double at = Seconds(t0, Clock::now());
    std::printf("  t=%.2f s: %.0f q/s\n", at, rate);
    q = q1 % a.queries;
    if (rate >= 0.9 * warm) {
      steady_at = at;
      break;
    }
  }
  if (steady_at >= 0) {
    std::printf("cold start to steady rate: %.2f s\n", steady_at);
  } else {
    std::printf("cold start: no steady rate within 60 s\n");
  }
  if (!a.keep_file) std::filesystem::remove(file);
  return 0;
}

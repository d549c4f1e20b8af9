// Flat Hamming scan throughput: every kernel path, 256- and 64-bit codes, N = 1M and 10M,
// Q = 1, 8, 64 queries per call; beside them, in the same run and on the same data, a plain
// memcpy of the codes (the memory roof) and FAISS IndexBinaryFlat::range_search on one thread.
//
//   build/release/bench/hamming_bench [--benchmark_filter=...]   (see docs/benchmarks.md)
//
// Counters: cmp_per_s = query-code comparisons per second; scan_GBps = code bytes streamed per
// second (the Q = 1 figure to compare with copy_GBps).
#include <benchmark/benchmark.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <omp.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hashmatch/core/distance.h"

namespace {

using hashmatch::CodeView;
using hashmatch::DistanceKernels;
using hashmatch::KernelPath;
using hashmatch::RangeHit;

struct Data {
  size_t cb, n;
  std::vector<uint8_t> codes, queries;
};

// Uniform random codes with fixed seeds; 64 queries, each with a planted neighbour at distance 3.
const Data& GetData(size_t cb, size_t n) {
  static std::map<std::pair<size_t, size_t>, std::unique_ptr<Data>> cache;
  auto& slot = cache[{cb, n}];
  if (!slot) {
    slot = std::make_unique<Data>();
    slot->cb = cb;
    slot->n = n;
    std::mt19937_64 rng(cb * 1000003 + n);
    slot->codes.resize(n * cb);
    for (size_t i = 0; i < slot->codes.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(slot->codes.data() + i, &v, 8);
    }
    slot->queries.resize(64 * cb);
    for (size_t q = 0; q < 64; ++q) {
      const size_t row = rng() % n;
      std::memcpy(slot->queries.data() + q * cb, slot->codes.data() + row * cb, cb);
      for (int f = 0; f < 3; ++f) slot->queries[q * cb + (f * 3) % cb] ^= uint8_t(1u << f);
    }
  }
  return *slot;
}

uint32_t RadiusFor(size_t cb) {
  return cb == 32 ? 31 : 8;
}  // PDQ default; a typical 64-bit one

void SetCounters(benchmark::State& st, size_t n, size_t nq, size_t cb) {
  st.counters["cmp_per_s"] =
      benchmark::Counter(double(n) * double(nq), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["scan_GBps"] =
      benchmark::Counter(double(n * cb) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Copy(benchmark::State& st, size_t cb, size_t n) {
  const Data& d = GetData(cb, n);
  std::vector<uint8_t> dst(d.codes.size());
  std::memset(dst.data(), 1, dst.size());  // fault the pages in before timing
  for (auto _ : st) {
    std::memcpy(dst.data(), d.codes.data(), d.codes.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  st.counters["copy_GBps"] = benchmark::Counter(double(d.codes.size()) / 1e9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Range(benchmark::State& st, KernelPath path, size_t cb, size_t n, size_t nq) {
  const Data& d = GetData(cb, n);
  auto k = DistanceKernels::ForPath(path);
  if (!k.ok()) {
    st.SkipWithError(k.status().ToString().c_str());
    return;
  }
  std::vector<RangeHit> hits;
  size_t total = 0;
  for (auto _ : st) {
    hits.clear();
    auto s =
        k->RangeSearch({d.queries.data(), nq, cb}, {d.codes.data(), n, cb}, RadiusFor(cb), &hits);
    if (!s.ok()) st.SkipWithError(s.ToString().c_str());
    total = hits.size();
    benchmark::DoNotOptimize(hits.data());
  }
  st.counters["hits"] = double(total);
  SetCounters(st, n, nq, cb);
}

void BM_FaissRange(benchmark::State& st, size_t cb, size_t n, size_t nq) {
  const Data& d = GetData(cb, n);
  omp_set_num_threads(1);
  faiss::IndexBinaryFlat index(int(cb * 8));
  index.add(faiss::Index::idx_t(n), d.codes.data());
  size_t total = 0;
  for (auto _ : st) {
    faiss::RangeSearchResult res{faiss::Index::idx_t(nq)};
    // FAISS's binary range search is strict (< radius): pass our inclusive radius + 1.
    index.range_search(faiss::Index::idx_t(nq), d.queries.data(), int(RadiusFor(cb)) + 1, &res);
    total = res.lims[nq];
  }
  st.counters["hits"] = double(total);
  SetCounters(st, n, nq, cb);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t kSizes[] = {1'000'000, 10'000'000};
  const size_t kBatches[] = {1, 8, 64};
  for (size_t cb : {32u, 8u}) {
    const std::string bits = std::to_string(cb * 8);
    for (size_t n : kSizes) {
      const std::string ns = n == 1'000'000 ? "1M" : "10M";
      benchmark::RegisterBenchmark(("copy/" + bits + "/" + ns).c_str(), BM_Copy, cb, n)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      for (size_t nq : kBatches) {
        for (KernelPath p : hashmatch::kAllKernelPaths) {
          if (!hashmatch::KernelPathSupported(p)) continue;
          const std::string name = "range/" + std::string(hashmatch::KernelPathName(p)) + "/" +
                                   bits + "/" + ns + "/q" + std::to_string(nq);
          benchmark::RegisterBenchmark(name.c_str(), BM_Range, p, cb, n, nq)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        }
        const std::string name = "range/faiss_flat/" + bits + "/" + ns + "/q" + std::to_string(nq);
        benchmark::RegisterBenchmark(name.c_str(), BM_FaissRange, cb, n, nq)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("kernel_paths_supported", [] {
    std::string s;
    for (KernelPath p : hashmatch::kAllKernelPaths)
      if (hashmatch::KernelPathSupported(p)) s += std::string(hashmatch::KernelPathName(p)) + " ";
    return s;
  }());
  benchmark::AddCustomContext("faiss_note",
                              "Debian libfaiss 1.7.3, built without POPCNT; one OpenMP thread");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

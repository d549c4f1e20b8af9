// PDQ throughput on one core: decode alone, hash alone (bit-exact path), and both, then the fast
// path's decode + hash (PdqOptions::fast) beside them in the same run, on the reference JPEGs
// (../shared/pdq-reference; the 1600x1004 bridge, baseline, and its progressive 90-degree rotation,
// and the 640x402 formats/base.jpg).
//
//   build/release/bench/pdq_bench [--benchmark_filter=...]   (see docs/benchmarks.md)
//
// images_per_s is per thread CPU second (Google Benchmark's rate counters divide by CPU time), so
// it stays meaningful on a loaded machine. The exact path's instruction set is the default one
// (HASHMATCH_PDQ_SIMD=sse2|avx2|avx512 to force another); it is printed in the context.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <iostream>

#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"

namespace {

namespace fs = std::filesystem;

void BM_Decode(benchmark::State& st, std::vector<uint8_t> bytes) {
  for (auto _ : st) {
    auto image = hashmatch::DecodeImage(bytes);
    if (!image.ok()) st.SkipWithError(image.status().ToString().c_str());
    benchmark::DoNotOptimize(image);
  }
  st.counters["images_per_s"] =
      benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Hash(benchmark::State& st, std::vector<uint8_t> bytes, bool dihedral) {
  auto image = hashmatch::DecodeImage(bytes);
  if (!image.ok()) {
    st.SkipWithError(image.status().ToString().c_str());
    return;
  }
  hashmatch::PdqHasher hasher;
  for (auto _ : st) {
    if (dihedral) {
      benchmark::DoNotOptimize(hasher.HashDihedral(*image));
    } else {
      benchmark::DoNotOptimize(hasher.Hash(*image));
    }
  }
  st.counters["images_per_s"] =
      benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DecodeAndHash(benchmark::State& st, std::vector<uint8_t> bytes) {
  hashmatch::PdqHasher hasher;
  for (auto _ : st) {
    auto image = hashmatch::DecodeImage(bytes);
    if (!image.ok()) st.SkipWithError(image.status().ToString().c_str());
    benchmark::DoNotOptimize(hasher.Hash(*image));
  }
  st.counters["images_per_s"] =
      benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

// What a caller runs: PdqHasher::HashBytes, exact (the default) or fast.
void BM_HashBytes(benchmark::State& st, std::vector<uint8_t> bytes, bool fast) {
  hashmatch::PdqHasher hasher;
  hashmatch::PdqOptions options;
  options.fast = fast;
  for (auto _ : st) {
    auto h = hasher.HashBytes(bytes, {}, options);
    if (!h.ok()) st.SkipWithError(h.status().ToString().c_str());
    benchmark::DoNotOptimize(h);
  }
  st.counters["images_per_s"] =
      benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path shared = fs::path(HASHMATCH_SHARED_DIR) / "pdq-reference";
  const std::pair<const char*, fs::path> inputs[] = {
      {"jpeg_1600x1004", shared / "reg-test-input/dih/bridge-1-original.jpg"},
      // The other seven reference orientations are progressive 4:4:4 (bridge-1 is baseline 4:2:0).
      {"jpeg_1004x1600_progressive", shared / "reg-test-input/dih/bridge-2-rotate-90.jpg"},
      {"jpeg_640x402", shared / "formats/base.jpg"},
  };
  for (const auto& [name, path] : inputs) {
    auto bytes = hashmatch::ReadFileBytes(path);
    if (!bytes.ok()) {
      std::cerr << "pdq_bench: skipping " << name << ": " << bytes.status().ToString() << "\n";
      continue;
    }
    const std::string n = name;
    benchmark::RegisterBenchmark(("decode/" + n).c_str(), BM_Decode, *bytes)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("pdq_hash/" + n).c_str(), BM_Hash, *bytes, false)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("pdq_hash_dihedral/" + n).c_str(), BM_Hash, *bytes, true)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("decode_and_hash/" + n).c_str(), BM_DecodeAndHash, *bytes)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("hash_bytes_exact/" + n).c_str(), BM_HashBytes, *bytes, false)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("hash_bytes_fast/" + n).c_str(), BM_HashBytes, *bytes, true)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::AddCustomContext("pdq_simd", hashmatch::PdqSimdName(hashmatch::DefaultPdqSimd()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// GpuIndex (core/cuda/gpu_index.h) against the flat index: the same RangeSearch and Knn results,
// field for field, over the CPU implementation of the GPU scan primitives (always) and over CUDA
// (skipped with a message when no GPU is visible).
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "gpu_index.h"
#include "hashmatch/core/static_index.h"
#include "index/index_test_util.h"

namespace hashmatch {
namespace {

using testing::Codes;
using testing::FlipBits;
using testing::RandomCode;

// Clustered codes (many within small distances, some exact duplicates, so distances tie) plus
// random ones; ids unique and not in row order.
Codes MakeCodes(size_t n, size_t code_bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Codes c;
  c.code_bytes = code_bytes;
  std::vector<std::vector<uint8_t>> centres;
  for (int i = 0; i < 12; ++i) centres.push_back(RandomCode(rng, code_bytes));
  for (size_t i = 0; i < n; ++i) {
    std::vector<uint8_t> code = i % 5 == 4 ? RandomCode(rng, code_bytes) : centres[rng() % 12];
    if (i % 3 != 0) FlipBits(rng, &code, rng() % (code_bytes * 2));
    c.Append(code.data(), (i * 0x9e3779b97f4a7c15ull) ^ 0xabcdefull);
  }
  return c;
}

Codes MakeQueries(const Codes& set, size_t nq, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Codes q;
  q.code_bytes = set.code_bytes;
  for (size_t i = 0; i < nq; ++i) {
    const uint8_t* from = set.code(rng() % set.size());
    std::vector<uint8_t> code(from, from + set.code_bytes);
    if (i % 4 == 3) code = RandomCode(rng, set.code_bytes);
    FlipBits(rng, &code, rng() % 8);
    q.Append(code.data(), i);
  }
  return q;
}

void ExpectSameAsFlat(const HammingIndex& index, const Codes& set, const Codes& queries) {
  auto flat = BuildFlatIndex(set.view(), set.ids).value();
  const uint32_t bits = static_cast<uint32_t>(set.code_bytes * 8);
  for (uint32_t radius : {0u, 10u, 31u, 64u, bits, bits + 5}) {
    for (size_t cap : {size_t{0}, size_t{3}, size_t{100'000}}) {
      RangeSearchOptions o;
      o.radius = radius;
      o.max_hits_per_query = cap;
      RangeSearchResult want, got;
      ASSERT_TRUE(flat->RangeSearch(queries.view(), o, &want).ok());
      ASSERT_TRUE(index.RangeSearch(queries.view(), o, &got).ok());
      EXPECT_EQ(got.offsets, want.offsets) << "radius " << radius << " cap " << cap;
      EXPECT_EQ(got.hits, want.hits) << "radius " << radius << " cap " << cap;
      EXPECT_EQ(got.truncated, want.truncated) << "radius " << radius << " cap " << cap;
    }
  }
  for (size_t k : {size_t{1}, size_t{7}, set.size() + 2}) {
    KnnOptions o;
    o.k = k;
    KnnResult want, got;
    ASSERT_TRUE(flat->Knn(queries.view(), o, &want).ok());
    ASSERT_TRUE(index.Knn(queries.view(), o, &got).ok());
    EXPECT_EQ(got.k, want.k);
    EXPECT_EQ(got.count, want.count) << "k " << k;
    for (size_t q = 0; q < queries.size(); ++q) {
      const auto a = got.of(q), b = want.of(q);
      EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << "k " << k << " q " << q;
    }
  }
}

TEST(GpuIndex, CpuBackendEqualsFlat) {
  for (size_t code_bytes : {8, 16, 32}) {
    const Codes set = MakeCodes(2500, code_bytes, 11 + code_bytes);
    const Codes queries = MakeQueries(set, 30, 99 + code_bytes);
    for (size_t chunk : {size_t{1} << 20, size_t{333}}) {
      SCOPED_TRACE("code_bytes " + std::to_string(code_bytes) + " chunk " + std::to_string(chunk));
      GpuIndexOptions o;
      o.buffer_bytes = 4096;  // small buffers: grouping and the overflow passes
      auto index = GpuIndex::BuildOnCpu(set.view(), set.ids, chunk, o);
      ASSERT_TRUE(index.ok()) << index.status().message();
      EXPECT_EQ((*index)->size(), set.size());
      ExpectSameAsFlat(**index, set, queries);
    }
  }
}

TEST(GpuIndex, CudaEqualsFlat) {
  for (size_t code_bytes : {8, 32}) {
    const Codes set = MakeCodes(20'000, code_bytes, 5 + code_bytes);
    const Codes queries = MakeQueries(set, 40, 7 + code_bytes);
    for (size_t budget : {size_t{0}, size_t{64} << 10}) {  // resident, then streamed 64 KiB chunks
      GpuIndexOptions o;
      o.device_code_budget_bytes = budget;
      auto index = GpuIndex::Build(set.view(), set.ids, o);
      if (!index.ok() && index.status().code() == StatusCode::kUnavailable)
        GTEST_SKIP() << index.status().message();
      ASSERT_TRUE(index.ok()) << index.status().message();
      ExpectSameAsFlat(**index, set, queries);
    }
  }
}

TEST(GpuIndex, BadInputIsRefused) {
  Codes set = MakeCodes(10, 32, 1);
  set.ids[3] = set.ids[4];
  EXPECT_EQ(GpuIndex::BuildOnCpu(set.view(), set.ids, 100).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(GpuIndex::BuildOnCpu(CodeView{set.bytes.data(), 10, 12}, set.ids, 100).status().code(),
            StatusCode::kInvalidArgument);
  const Codes good = MakeCodes(10, 32, 2);
  auto index = GpuIndex::BuildOnCpu(good.view(), good.ids, 100).value();
  const Codes q8 = MakeCodes(2, 8, 3);
  RangeSearchResult r;
  EXPECT_EQ(index->RangeSearch(q8.view(), {}, &r).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.hits.empty());
}

}  // namespace
}  // namespace hashmatch

// The store with LiveIndexOptions::gpu (every set's LiveIndex gets a GPU mirror; here over the GPU
// matcher's CPU backend, so no GPU is needed, with every batch routed to it) answers exactly as
// the same store without it: the same imports, tombstones, background merges and a reopen
// (index files mapped, mirrors rebuilt), matched at several thresholds and caps.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "gpu_index.h"
#include "store_test_util.h"

namespace hashmatch {
namespace {

using testing::RandomCode;
using testing::Rec;
using testing::TempDir;
using testing::Tombstone;

std::string Describe(const MatchResult& r) {
  std::ostringstream o;
  for (size_t q = 0; q < r.queries.size(); ++q) {
    const QueryMatches& m = r.queries[q];
    o << "q" << q << (m.truncated ? " truncated" : "") << ":";
    for (const MatchHit& h : m.hits) o << " " << h.set << "/" << h.entry.key << "@" << h.distance;
    o << "\n";
  }
  return o.str();
}

StoreOptions Options(bool gpu) {
  StoreOptions o;
  o.create_if_missing = true;
  o.index.merge_min_delta = 512;  // background merges, each with a new mirror
  if (gpu) {
    o.index.gpu.mode = LiveIndexGpuOptions::Mode::kOn;
    o.index.gpu.force_cpu_backend = true;
    o.index.gpu.cpu_chunk_rows = 257;
    o.index.gpu.buffer_bytes = 8192;
    o.index.gpu.min_batch = 1;  // every search's base part runs on the mirror
  }
  return o;
}

TEST(StoreGpu, MatchesExactlyAsWithout) {
  EnableGpuMirrors();
  TempDir plain_dir("gpu-plain"), gpu_dir("gpu-mirror");
  auto plain = HashSetStore::Open(plain_dir.path(), Options(false)).value();
  auto gpu = HashSetStore::Open(gpu_dir.path(), Options(true)).value();
  std::vector<std::vector<uint8_t>> centres;
  for (int i = 0; i < 6; ++i) centres.push_back(RandomCode(32, 91, uint64_t(i)));
  auto near = [&](int i) {
    std::vector<uint8_t> c = centres[size_t(i) % centres.size()];
    for (int b = 0; b < (i * 7) % 45; ++b) c[size_t((b * 13) % 32)] ^= uint8_t(1u << (b % 8));
    return c;
  };
  for (HashSetStore* s : {plain.get(), gpu.get()}) {
    ASSERT_TRUE(s->CreateSet({"A", SignalType::kPdq, 64, SetKind::kMatch}).ok());
    ASSERT_TRUE(s->CreateSet({"B", SignalType::kPdq, 31, SetKind::kMatch}).ok());
    ImportPage a, b, del;
    for (int i = 0; i < 2500; ++i) {
      a.records.push_back(Rec(testing::Str("a", i), i % 3 ? near(i) : RandomCode(32, 5, i)));
    }
    for (int i = 0; i < 900; ++i) b.records.push_back(Rec(testing::Str("b", i), near(i + 1)));
    ASSERT_TRUE(s->ApplyPage("A", a).ok());
    ASSERT_TRUE(s->ApplyPage("B", b).ok());
    for (int i = 0; i < 2500; i += 4) del.records.push_back(Tombstone(testing::Str("a", i)));
    ASSERT_TRUE(s->ApplyPage("A", del).ok());
  }
  std::vector<uint8_t> flat;
  for (int q = 0; q < 30; ++q) {
    const auto c = q % 3 == 2 ? RandomCode(32, 17, uint64_t(q)) : near(q * 5);
    flat.insert(flat.end(), c.begin(), c.end());
  }
  auto compare = [&](const std::string& when) {
    for (const std::optional<uint32_t> thr :
         {std::optional<uint32_t>(), std::optional<uint32_t>(0), std::optional<uint32_t>(20)}) {
      for (size_t cap : {size_t{0}, size_t{1}, size_t{5}, size_t{1000}}) {
        for (size_t nq : {size_t{1}, size_t{30}}) {
          MatchOptions mo;
          mo.threshold = thr;
          mo.max_hits_per_query = cap;
          auto want = plain->Match(SignalType::kPdq, CodeView{flat.data(), nq, 32}, mo);
          auto got = gpu->Match(SignalType::kPdq, CodeView{flat.data(), nq, 32}, mo);
          ASSERT_TRUE(want.ok() && got.ok()) << got.status().ToString();
          ASSERT_EQ(Describe(*got), Describe(*want))
              << when << " threshold " << thr.value_or(999) << " cap " << cap << " nq " << nq;
        }
      }
    }
  };
  compare("after import");
  ASSERT_NE(gpu->GetSet("A")->index_method.find("gpu-flat(cpu-backend)"), std::string::npos)
      << gpu->GetSet("A")->index_method;
  EXPECT_EQ(plain->GetSet("A")->index_method.find("gpu"), std::string::npos);
  ASSERT_TRUE(plain->WriteSnapshot().ok());
  ASSERT_TRUE(gpu->WriteSnapshot().ok());
  gpu.reset();
  gpu = HashSetStore::Open(gpu_dir.path(), Options(true)).value();
  compare("after reopening");
  EXPECT_NE(gpu->GetSet("B")->index_method.find("gpu-flat"), std::string::npos);
}

}  // namespace
}  // namespace hashmatch

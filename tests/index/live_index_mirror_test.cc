// LiveIndex's GPU route (gpu_route.h: the mirror per base, routing, tombstones under caps) in
// every build, CUDA or not, and under the sanitizers (which leave core/cuda out): the mirror
// factory installed here builds the flat index, the reference implementation of the contract a
// GPU mirror must keep (exact, capped to the nearest by (distance, id), truncated flags). The GPU
// matcher itself as the mirror is live_index_gpu_test's subject (CUDA builds). Checked against the
// brute-force oracle over the live rows; and readers on the mirror route while a writer updates
// and background merges build new mirrors (the TSan pass runs this too).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "hashmatch/core/gpu_mirror.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/core/static_index.h"
#include "index/index_test_util.h"

namespace hashmatch {
namespace {

using testing::Codes;
using testing::FlipBits;
using testing::RandomCode;
using Live = std::map<uint64_t, std::vector<uint8_t>>;

Status FlatAvailable(const LiveIndexGpuOptions&) {
  return Status::Ok();
}
Result<std::shared_ptr<const HammingIndex>> FlatMirror(CodeView codes,
                                                       std::span<const uint64_t> ids,
                                                       const LiveIndexGpuOptions&) {
  auto built = BuildFlatIndex(codes, ids);
  if (!built.ok()) return built.status();
  return std::shared_ptr<const HammingIndex>(std::move(built).value());
}
const GpuMirrorFactory kFlatFactory{&FlatAvailable, &FlatMirror, "flat (test)"};

LiveIndexOptions MirrorOptions(size_t min_batch) {
  LiveIndexOptions o;
  o.method = LiveIndexOptions::Method::kMih;
  o.mih.max_threads = 1;  // merges on their own thread only (TSan cannot see into libtbb)
  o.gpu.mode = LiveIndexGpuOptions::Mode::kOn;
  o.gpu.min_batch = min_batch;
  o.gpu.overhead_ns = 1e15;  // only min_batch routes
  return o;
}

TEST(LiveIndexMirror, MatchesOracleWithTombstonesUnderCaps) {
  SetGpuMirrorFactory(&kFlatFactory);
  std::mt19937_64 rng(41);
  LiveIndexOptions opt = MirrorOptions(4);
  opt.background_merge = false;
  auto li = LiveIndex::Create(32, opt).value();
  const std::vector<uint8_t> centre = RandomCode(rng, 32);
  Live live;
  uint64_t next = 10;
  auto add = [&](size_t n) {
    Codes c;
    for (size_t i = 0; i < n; ++i) {
      std::vector<uint8_t> code = i % 2 ? RandomCode(rng, 32) : centre;
      if (i % 4 == 2) FlipBits(rng, &code, rng() % 20);
      next += 1 + rng() % 5;
      c.Append(code.data(), next);
      live[next] = code;
    }
    ASSERT_TRUE(li->Add(c.view(), c.ids).ok());
  };
  add(800);
  ASSERT_TRUE(li->Compact().ok());
  ASSERT_EQ(li->LiveStats().gpu_mirror, "flat");
  // Remove most exact copies of the centre from the base: the nearest rows of a query at the
  // centre are then mostly dead, more than the mirror's first pass allows for.
  std::vector<uint64_t> gone;
  for (const auto& [id, code] : live) {
    if (code == centre && gone.size() < 150) gone.push_back(id);
  }
  ASSERT_TRUE(li->Remove(gone).ok());
  for (uint64_t id : gone) live.erase(id);
  add(100);  // a delta beside the base

  Codes queries;
  queries.Append(centre.data(), 0);
  for (uint64_t q = 1; q < 6; ++q) {
    std::vector<uint8_t> c = q % 2 ? centre : RandomCode(rng, 32);
    FlipBits(rng, &c, q);
    queries.Append(c.data(), q);
  }
  for (size_t nq : {size_t{2}, size_t{6}}) {  // below and at min_batch: both routes
    const CodeView view{queries.bytes.data(), nq, 32};
    const LiveIndexStats before = li->LiveStats();
    for (uint32_t radius : {0u, 16u, 64u, 96u, 256u}) {
      for (size_t cap : {size_t{0}, size_t{1}, size_t{5}, size_t{60}}) {
        RangeSearchOptions o;
        o.radius = radius;
        o.max_hits_per_query = cap;
        o.max_threads = 1;  // no TBB: the TSan pass runs this test (libtbb is uninstrumented)
        RangeSearchResult r;
        ASSERT_TRUE(li->RangeSearch(view, o, &r).ok());
        for (size_t q = 0; q < nq; ++q) {
          auto want = testing::OracleRange(live, queries.code(q), 32, radius);
          const bool truncated = cap != 0 && want.size() > cap;
          if (truncated) want.resize(cap);
          std::vector<std::pair<uint32_t, uint64_t>> have;
          for (const IndexHit& h : r.of(q)) have.push_back({h.distance, h.id});
          ASSERT_EQ(have, want) << "nq " << nq << " radius " << radius << " cap " << cap;
          ASSERT_EQ(r.truncated[q], truncated ? 1 : 0) << "radius " << radius << " cap " << cap;
        }
      }
    }
    for (size_t k : {size_t{1}, size_t{5}, size_t{40}}) {
      KnnOptions o;
      o.k = k;
      o.max_threads = 1;
      KnnResult r;
      ASSERT_TRUE(li->Knn(view, o, &r).ok());
      for (size_t q = 0; q < nq; ++q) {
        auto want = testing::OracleRange(live, queries.code(q), 32, 256);
        if (want.size() > k) want.resize(k);
        std::vector<std::pair<uint32_t, uint64_t>> have;
        for (const Neighbor& n : r.of(q)) have.push_back({n.distance, n.row});
        ASSERT_EQ(have, want) << "nq " << nq << " k " << k;
      }
    }
    const LiveIndexStats after = li->LiveStats();
    if (nq < opt.gpu.min_batch) {
      EXPECT_EQ(after.gpu_searches, before.gpu_searches);
    } else {
      EXPECT_EQ(after.cpu_searches, before.cpu_searches);
      EXPECT_GT(after.gpu_searches, before.gpu_searches);
    }
  }
  SetGpuMirrorFactory(nullptr);
}

// Readers search through the mirror (min_batch 1) while a writer adds and removes and background
// merges replace base and mirror: the untouched rows are always found, a removed row never is.
TEST(LiveIndexMirror, ReadersOnTheMirrorRouteDuringMerges) {
  SetGpuMirrorFactory(&kFlatFactory);
  std::mt19937_64 rng(43);
  LiveIndexOptions opt = MirrorOptions(1);
  opt.merge_min_delta = 150;
  opt.merge_fraction = 0.0;
  auto li = LiveIndex::Create(32, opt).value();
  Codes stable;
  for (uint64_t i = 0; i < 1000; ++i) stable.Append(RandomCode(rng, 32).data(), i);
  ASSERT_TRUE(li->Add(stable.view(), stable.ids).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 r(200 + t);
      while (!stop.load()) {
        const size_t q = r() % stable.size();
        RangeSearchOptions o;
        o.radius = 4;
        o.max_hits_per_query = 3;
        o.max_threads = 1;
        RangeSearchResult res;
        if (!li->RangeSearch(CodeView{stable.code(q), 1, 32}, o, &res).ok() || res.of(0).empty() ||
            res.of(0)[0].id != stable.ids[q] || res.of(0)[0].distance != 0) {
          failures.fetch_add(1);
        }
      }
    });
  }
  uint64_t next = 1'000'000;
  std::vector<uint64_t> added;
  for (int step = 0; step < 40; ++step) {
    Codes c;
    for (int i = 0; i < 40; ++i) c.Append(RandomCode(rng, 32).data(), next++);
    ASSERT_TRUE(li->Add(c.view(), c.ids).ok());
    added.insert(added.end(), c.ids.begin(), c.ids.end());
    const std::vector<uint64_t> gone(added.end() - 20, added.end());
    ASSERT_TRUE(li->Remove(gone).ok());
    added.resize(added.size() - 20);
    // A removed row is never found once Remove returned (its own code, radius 0).
    const Codes& batch = c;
    RangeSearchOptions o;
    o.radius = 0;
    o.max_threads = 1;
    RangeSearchResult res;
    ASSERT_TRUE(li->RangeSearch(CodeView{batch.code(39), 1, 32}, o, &res).ok());
    EXPECT_TRUE(res.of(0).empty());
    // Half way, let a merge finish, so that the readers meet versions with a mirror for sure.
    if (step == 20) {
      ASSERT_TRUE(li->WaitForMerge().ok());
    }
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  ASSERT_TRUE(li->WaitForMerge().ok());
  EXPECT_EQ(failures.load(), 0);
  // The final version (merged, with its mirror): every stable row is found through it.
  RangeSearchOptions o;
  o.radius = 0;
  o.max_threads = 1;  // passed on to the mirror: no TBB (uninstrumented) under TSan
  RangeSearchResult res;
  ASSERT_TRUE(li->RangeSearch(stable.view(), o, &res).ok());
  for (size_t q = 0; q < stable.size(); ++q) {
    ASSERT_EQ(res.of(q).size(), 1u);
    EXPECT_EQ(res.of(q)[0].id, stable.ids[q]);
  }
  const LiveIndexStats s = li->LiveStats();
  EXPECT_GT(s.merges, 0u);
  EXPECT_EQ(s.gpu_mirror, "flat");
  EXPECT_GT(s.gpu_searches, 0u);
  EXPECT_EQ(li->size(), stable.size() + added.size());
  SetGpuMirrorFactory(nullptr);
}

}  // namespace
}  // namespace hashmatch

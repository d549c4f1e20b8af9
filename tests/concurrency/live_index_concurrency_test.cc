// Readers search a LiveIndex while a writer adds and removes with background merges (run under
// ThreadSanitizer in CI). Readers must always find the rows nobody touches, never see a removed
// row after its removal returned, and the writer must see its own adds at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hashmatch/core/live_index.h"
#include "index/index_test_util.h"

namespace hashmatch {
namespace {

TEST(LiveIndexConcurrency, ReadersNeverBlockOrMissStableRows) {
  std::mt19937_64 rng(21);
  LiveIndexOptions opt;
  opt.merge_min_delta = 200;
  opt.merge_fraction = 0.0;
  opt.method = LiveIndexOptions::Method::kMih;
  // Background merges build on their own thread, not TBB's pool: Debian's libtbb is not built
  // with ThreadSanitizer, whose reports inside it would be about TBB's own (invisible) locks.
  opt.mih.max_threads = 1;
  auto li = LiveIndex::Create(32, opt).value();
  testing::Codes stable;
  for (uint64_t i = 0; i < 2000; ++i) stable.Append(testing::RandomCode(rng, 32).data(), i);
  ASSERT_TRUE(li->Add(stable.view(), stable.ids).ok());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> searches{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 r(100 + t);
      while (!stop.load()) {
        const size_t q = r() % stable.size();
        RangeSearchOptions o;
        o.radius = 8;
        RangeSearchResult res;
        if (!li->RangeSearch(CodeView{stable.code(q), 1, 32}, o, &res).ok()) ++failures;
        bool found = false;
        for (const IndexHit& h : res.of(0)) found |= h.id == stable.ids[q] && h.distance == 0;
        if (!found) ++failures;
        ++searches;
      }
    });
  }
  uint64_t next = 1'000'000;
  for (int round = 0; round < 60; ++round) {
    testing::Codes batch;
    for (int i = 0; i < 50; ++i) batch.Append(testing::RandomCode(rng, 32).data(), next++);
    ASSERT_TRUE(li->Add(batch.view(), batch.ids).ok());
    RangeSearchOptions o;
    o.radius = 0;
    RangeSearchResult res;
    ASSERT_TRUE(li->RangeSearch(CodeView{batch.code(7), 1, 32}, o, &res).ok());
    ASSERT_EQ(res.of(0).size(), 1u) << "an add must be visible when Add returns";
    std::vector<uint64_t> gone(batch.ids.begin(), batch.ids.begin() + 25);
    ASSERT_TRUE(li->Remove(gone).ok());
    ASSERT_TRUE(li->RangeSearch(CodeView{batch.code(3), 1, 32}, o, &res).ok());
    ASSERT_EQ(res.of(0).size(), 0u) << "a removal must be visible when Remove returns";
  }
  ASSERT_TRUE(li->WaitForMerge().ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(searches.load(), 0u);
  EXPECT_GT(li->LiveStats().merges, 0u);
  EXPECT_EQ(li->size(), 2000u + 60 * 25);
}

}  // namespace
}  // namespace hashmatch

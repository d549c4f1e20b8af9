// Readers during writes: while one thread commits pages, stages imports and writes snapshots,
// readers match and list continuously. Every snapshot a reader takes must be one consistent
// version: its checkpoint, its counts and what it matches agree. (Run under TSan: label
// "concurrency".)
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store_test_util.h"

namespace hashmatch {
namespace {

using testing::RandomCode;
using testing::Rec;

constexpr int kPerTxn = 64;

std::string Key(int t, int j) {
  std::string k = "t";
  k += std::to_string(t);
  k += '-';
  k += std::to_string(j);
  return k;
}

TEST(StoreConcurrency, ReadersSeeConsistentVersionsDuringWrites) {
  testing::TempDir dir("conc");
  StoreOptions o;
  o.create_if_missing = true;
  o.snapshot_log_bytes = 32 << 10;  // background snapshots during the run
  o.index.merge_min_delta = 256;    // and index merges
  // Merges, index builds and searches on the calling threads: oneTBB's pool is not instrumented,
  // so TSan cannot see its synchronisation (as in live_index_concurrency_test).
  o.index.mih.max_threads = 1;
  auto store = std::move(HashSetStore::Open(dir.path(), o)).value();
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  const int txns = 40;
  std::atomic<bool> done{false};
  std::atomic<int> checks{0};
  auto reader = [&] {
    while (!done.load()) {
      auto snap = store->GetSnapshot();
      auto info = snap->GetSet("S");
      ASSERT_TRUE(info.ok());
      const int c = info->checkpoint ? std::stoi(info->checkpoint->value) : -1;
      ASSERT_EQ(info->counts.live, uint64_t(kPerTxn) * uint64_t(c + 1));
      // The newest transaction in this version matches; the next one does not.
      std::vector<uint8_t> q = RandomCode(32, 7, uint64_t(c + 1) * 1000);
      if (c >= 0) {
        auto cur = RandomCode(32, 7, uint64_t(c) * 1000);
        q.insert(q.begin(), cur.begin(), cur.end());
      }
      MatchOptions mo;
      mo.max_threads = 1;
      auto r = snap->Match(SignalType::kPdq, CodeView{q.data(), q.size() / 32, 32}, mo);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->searched.size(), 1u);
      ASSERT_EQ(r->searched[0].version, info->version);
      if (c >= 0) {
        ASSERT_EQ(r->queries[0].hits.size(), 1u);
        ASSERT_EQ(r->queries[0].hits[0].entry.key, Key(c, 0));
      }
      ASSERT_TRUE(r->queries.back().hits.empty());
      checks.fetch_add(1);
    }
  };
  std::thread r1(reader), r2(reader);
  auto writer = [&] {
    for (int t = 0; t < txns; ++t) {
      std::vector<EntryRecord> recs;
      for (int j = 0; j < kPerTxn; ++j) {
        recs.push_back(Rec(Key(t, j), RandomCode(32, 7, uint64_t(t) * 1000 + uint64_t(j))));
      }
      if (t % 4 == 3) {
        auto txn = store->BeginImport("S").value();
        ASSERT_TRUE(txn->Add(recs).ok());
        ASSERT_TRUE(txn->Commit(Checkpoint{std::to_string(t)}).ok());
      } else {
        ImportPage p;
        p.records = std::move(recs);
        p.checkpoint = Checkpoint{std::to_string(t)};
        ASSERT_TRUE(store->ApplyPage("S", p).ok());
      }
      if (t % 10 == 9) {
        ASSERT_TRUE(store->WriteSnapshot().ok());
      }
    }
  };
  writer();  // (an ASSERT failure returns from here; the readers are still stopped and joined)
  done = true;
  r1.join();
  r2.join();
  EXPECT_TRUE(store->WaitForSnapshot().ok());
  EXPECT_GT(checks.load(), 0);
}

}  // namespace
}  // namespace hashmatch

// Matching through the store against a brute-force check: several sets and signal types, per-set
// and per-query thresholds, caps with the truncated flag, suppress sets, digests by equality,
// disabled sets, and the versions every answer names.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <map>

#include "store_test_util.h"

namespace hashmatch {
namespace {

using testing::RandomCode;
using testing::Rec;
using testing::TempDir;

std::string Key(std::string_view prefix, uint64_t i) {
  std::string k(prefix);
  k += std::to_string(i);
  return k;
}

uint32_t Distance(const std::vector<uint8_t>& a, const uint8_t* b) {
  uint32_t d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += std::popcount(uint8_t(a[i] ^ b[i]));
  return d;
}

// A code at distance `d` from `base` (flips the first d bits).
std::vector<uint8_t> Near(std::vector<uint8_t> base, int d) {
  for (int i = 0; i < d; ++i) base[size_t(i / 8)] ^= uint8_t(1u << (i % 8));
  return base;
}

struct Listed {
  std::string set;
  std::string key;
  std::vector<uint8_t> code;
  uint32_t threshold;
  bool suppress;
};

class StoreMatch : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.create_if_missing = true;
    o.index.merge_min_delta = 512;  // exercise background merges under the store
    store_ = std::move(HashSetStore::Open(dir_.path(), o)).value();
  }
  void AddSet(const std::string& name, uint32_t threshold, SetKind kind, int n,
              const std::vector<std::vector<uint8_t>>& centres) {
    SetConfig c{name, SignalType::kPdq, threshold, kind};
    ASSERT_TRUE(store_->CreateSet(c).ok());
    ImportPage p;
    for (int i = 0; i < n; ++i) {
      // Half near one of the query centres, half random.
      std::vector<uint8_t> code = i % 2 ? RandomCode(32, std::hash<std::string>{}(name), i)
                                        : Near(centres[size_t(i / 2) % centres.size()], i % 40);
      p.records.push_back(Rec(Key("k", uint64_t(i)), code));
      listed_.push_back({name, Key("k", uint64_t(i)), code, threshold, kind == SetKind::kSuppress});
    }
    ASSERT_TRUE(store_->ApplyPage(name, p).ok());
  }
  TempDir dir_;
  std::unique_ptr<HashSetStore> store_;
  std::vector<Listed> listed_;
};

TEST_F(StoreMatch, EqualsBruteForce) {
  std::vector<std::vector<uint8_t>> queries;
  for (int q = 0; q < 40; ++q) queries.push_back(RandomCode(32, 77, q));
  AddSet("A", 31, SetKind::kMatch, 3000, queries);
  AddSet("B", 12, SetKind::kMatch, 2000, queries);
  AddSet("C", 50, SetKind::kMatch, 1000, queries);
  std::vector<uint8_t> flat;
  for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
  const CodeView view{flat.data(), queries.size(), 32};
  for (const std::optional<uint32_t> thr :
       {std::optional<uint32_t>(), std::optional<uint32_t>(20), std::optional<uint32_t>(0)}) {
    MatchOptions mo;
    mo.threshold = thr;
    mo.max_hits_per_query = 0;
    auto r = store_->Match(SignalType::kPdq, view, mo);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->searched.size(), 3u);
    for (const SearchedSet& s : r->searched) {
      EXPECT_EQ(s.version, store_->GetSet(s.set)->version);
    }
    for (size_t q = 0; q < queries.size(); ++q) {
      std::multiset<std::tuple<uint32_t, std::string, std::string>> want, got;
      for (const Listed& l : listed_) {
        const uint32_t d = Distance(l.code, queries[q].data());
        if (d <= std::min(thr.value_or(l.threshold), l.threshold)) want.insert({d, l.set, l.key});
      }
      for (const MatchHit& h : r->queries[q].hits) {
        got.insert({h.distance, h.set, h.entry.key});
        EXPECT_EQ(h.distance, Distance(h.entry.code, queries[q].data()));
      }
      EXPECT_EQ(got, want) << "query " << q;
      EXPECT_FALSE(r->queries[q].truncated);
      // Sorted by distance.
      const auto& hits = r->queries[q].hits;
      EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
        return a.distance < b.distance;
      }));
    }
  }
  // Per-query thresholds and a set filter.
  MatchOptions mo;
  mo.sets = {"A"};
  mo.max_hits_per_query = 0;
  for (size_t q = 0; q < queries.size(); ++q) mo.query_thresholds.push_back(uint32_t(q));
  auto r = store_->Match(SignalType::kPdq, view, mo);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->searched.size(), 1u);
  for (size_t q = 0; q < queries.size(); ++q) {
    size_t want = 0;
    for (const Listed& l : listed_) {
      if (l.set == "A" && Distance(l.code, queries[q].data()) <= std::min<uint32_t>(q, 31)) ++want;
    }
    EXPECT_EQ(r->queries[q].hits.size(), want) << q;
  }
}

TEST_F(StoreMatch, CapSetsTruncated) {
  const auto centre = RandomCode(32, 5, 5);
  AddSet("A", 64, SetKind::kMatch, 200, {centre});
  MatchOptions mo;
  mo.max_hits_per_query = 10;
  auto r = store_->Match(SignalType::kPdq, CodeView{centre.data(), 1, 32}, mo);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->queries[0].hits.size(), 10u);
  EXPECT_TRUE(r->queries[0].truncated);
  // The nearest are kept.
  std::vector<uint32_t> all;
  for (const Listed& l : listed_) {
    const uint32_t d = Distance(l.code, centre.data());
    if (d <= 64) all.push_back(d);
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(r->queries[0].hits[i].distance, all[i]);
  // A narrower per-query threshold whose hits all fit is not truncated.
  mo.threshold = 0;
  r = store_->Match(SignalType::kPdq, CodeView{centre.data(), 1, 32}, mo);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->queries[0].truncated);
}

TEST_F(StoreMatch, SuppressSetsCancelHits) {
  const auto q1 = RandomCode(32, 9, 1), q2 = RandomCode(32, 9, 2);
  ASSERT_TRUE(store_->CreateSet({"M", SignalType::kPdq, 31}).ok());
  ASSERT_TRUE(store_->CreateSet({"OK", SignalType::kPdq, 8, SetKind::kSuppress}).ok());
  ImportPage m, s;
  m.records = {Rec("m1", Near(q1, 3)), Rec("m2", Near(q2, 3))};
  s.records = {Rec("fp1", Near(q1, 5))};
  ASSERT_TRUE(store_->ApplyPage("M", m).ok());
  ASSERT_TRUE(store_->ApplyPage("OK", s).ok());
  std::vector<uint8_t> flat(q1);
  flat.insert(flat.end(), q2.begin(), q2.end());
  auto r = store_->Match(SignalType::kPdq, CodeView{flat.data(), 2, 32});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->queries[0].hits.empty());
  ASSERT_EQ(r->queries[0].suppressed.size(), 1u);
  EXPECT_EQ(r->queries[0].suppressed[0].entry.key, "m1");
  ASSERT_EQ(r->queries[0].suppressors.size(), 1u);
  EXPECT_EQ(r->queries[0].suppressors[0].entry.key, "fp1");
  ASSERT_EQ(r->queries[1].hits.size(), 1u);
  EXPECT_EQ(r->queries[1].hits[0].entry.key, "m2");
  // A disabled suppress set suppresses nothing (and is not searched).
  ASSERT_TRUE(store_->UpdateSet("OK", SetUpdate{.enabled = false}).ok());
  r = store_->Match(SignalType::kPdq, CodeView{flat.data(), 2, 32});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->queries[0].hits.size(), 1u);
  EXPECT_EQ(r->searched.size(), 1u);
}

TEST_F(StoreMatch, DigestsMatchByEquality) {
  ASSERT_TRUE(store_->CreateSet({"MD5", SignalType::kMd5, 0}).ok());
  ASSERT_TRUE(store_->CreateSet({"MD5b", SignalType::kMd5, 0}).ok());
  ImportPage p;
  for (int i = 0; i < 500; ++i)
    p.records.push_back(Rec(Key("d", i), RandomCode(16, 3, i), SignalType::kMd5));
  // Two keys with the same digest both match.
  p.records.push_back(Rec("dup", RandomCode(16, 3, 7), SignalType::kMd5));
  ASSERT_TRUE(store_->ApplyPage("MD5", p).ok());
  ImportPage p2;
  p2.records = {Rec("other", RandomCode(16, 3, 7), SignalType::kMd5)};
  ASSERT_TRUE(store_->ApplyPage("MD5b", p2).ok());
  std::vector<uint8_t> flat;
  for (int i : {7, 100, 1000}) {
    auto c = RandomCode(16, 3, i);
    flat.insert(flat.end(), c.begin(), c.end());
  }
  auto near = Near(RandomCode(16, 3, 100), 1);  // one bit off: no match for a digest
  flat.insert(flat.end(), near.begin(), near.end());
  auto r = store_->Match(SignalType::kMd5, CodeView{flat.data(), 4, 16});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->queries[0].hits.size(), 3u);
  EXPECT_EQ(r->queries[1].hits.size(), 1u);
  EXPECT_EQ(r->queries[2].hits.size(), 0u);
  EXPECT_EQ(r->queries[3].hits.size(), 0u);
  // Deleting and changing entries updates the table.
  ImportPage del;
  del.records = {testing::Tombstone("d7"), Rec("dup", RandomCode(16, 3, 8), SignalType::kMd5)};
  ASSERT_TRUE(store_->ApplyPage("MD5", del).ok());
  r = store_->Match(SignalType::kMd5, CodeView{flat.data(), 4, 16});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->queries[0].hits.size(), 1u);
  EXPECT_EQ(r->queries[0].hits[0].set, "MD5b");
  // Wrong code size or signal: refused.
  EXPECT_FALSE(store_->Match(SignalType::kMd5, CodeView{flat.data(), 1, 32}).ok());
  MatchOptions mo;
  mo.sets = {"MD5"};
  EXPECT_FALSE(store_->Match(SignalType::kSha1, CodeView{flat.data(), 1, 20}, mo).ok());
}

TEST_F(StoreMatch, UpdatesChangeWhatMatches) {
  const auto a = RandomCode(32, 21, 1), b = RandomCode(32, 21, 2);
  ASSERT_TRUE(store_->CreateSet({"S", SignalType::kPdq, 10}).ok());
  ImportPage p;
  p.records = {Rec("k", a)};
  ASSERT_TRUE(store_->ApplyPage("S", p).ok());
  auto snap_before = store_->GetSnapshot();  // a reader holding the old version
  p.records = {Rec("k", b)};
  ASSERT_TRUE(store_->ApplyPage("S", p).ok());
  auto hits = [&](const StoreSnapshot& s, const std::vector<uint8_t>& q) {
    return s.Match(SignalType::kPdq, CodeView{q.data(), 1, 32})->queries[0].hits.size();
  };
  EXPECT_EQ(hits(*store_->GetSnapshot(), a), 0u);
  EXPECT_EQ(hits(*store_->GetSnapshot(), b), 1u);
  EXPECT_EQ(hits(*snap_before, a), 1u);  // consistent old version
  EXPECT_EQ(hits(*snap_before, b), 0u);
}

}  // namespace
}  // namespace hashmatch

// LiveIndex: random update sequences checked against a map oracle after every step (with
// background merges forced often), all-or-nothing errors, and persistence of index files
// including refusal of damaged files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hashmatch/core/live_index.h"
#include "index/index_test_util.h"

namespace hashmatch {
namespace {

using testing::Codes;

void ExpectSameAsOracle(const HammingIndex& index,
                        const std::map<uint64_t, std::vector<uint8_t>>& live, const Codes& queries,
                        uint32_t radius, const std::string& what) {
  ASSERT_EQ(index.size(), live.size()) << what;
  RangeSearchOptions o;
  o.radius = radius;
  o.max_hits_per_query = 0;
  RangeSearchResult res;
  ASSERT_TRUE(index.RangeSearch(queries.view(), o, &res).ok());
  for (size_t q = 0; q < queries.size(); ++q) {
    std::vector<std::pair<uint32_t, uint64_t>> got;
    for (const IndexHit& h : res.of(q)) got.push_back({h.distance, h.id});
    ASSERT_EQ(got, testing::OracleRange(live, queries.code(q), queries.code_bytes, radius))
        << what << " query " << q;
  }
}

std::filesystem::path TempDir() {
  auto d = std::filesystem::temp_directory_path() / ("hm_live_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

class LiveIndexRandomOps : public ::testing::TestWithParam<LiveIndexOptions::Method> {};

TEST_P(LiveIndexRandomOps, MatchesOracleThroughUpdatesAndMerges) {
  std::mt19937_64 rng(11);
  LiveIndexOptions opt;
  opt.method = GetParam();
  opt.merge_min_delta = 300;  // merge often
  opt.merge_fraction = 0.05;
  auto li = LiveIndex::Create(32, opt).value();
  std::map<uint64_t, std::vector<uint8_t>> oracle;
  // Queries with neighbours planted among the adds, so hits come from base and delta alike.
  Codes queries;
  std::vector<std::vector<uint8_t>> centres;
  for (size_t q = 0; q < 8; ++q) {
    centres.push_back(testing::RandomCode(rng, 32));
    queries.Append(centres.back().data(), q);
  }
  uint64_t next_id = 1;
  for (int step = 0; step < 60; ++step) {
    const int action = int(rng() % 10);
    if (action < 6) {  // add a batch
      Codes batch;
      const size_t n = 1 + rng() % 200;
      for (size_t i = 0; i < n; ++i) {
        auto c = rng() % 4 == 0 ? centres[rng() % centres.size()] : testing::RandomCode(rng, 32);
        testing::FlipBits(rng, &c, rng() % 40);
        batch.Append(c.data(), next_id++);
      }
      ASSERT_TRUE(li->Add(batch.view(), batch.ids).ok());
      for (size_t i = 0; i < n; ++i) oracle[batch.ids[i]] = {batch.code(i), batch.code(i) + 32};
    } else if (action < 9 && !oracle.empty()) {  // remove a batch of live ids
      std::vector<uint64_t> ids;
      for (auto it = oracle.begin(); it != oracle.end() && ids.size() < 80; ++it) {
        if (rng() % 3 == 0) ids.push_back(it->first);
      }
      ASSERT_TRUE(li->Remove(ids).ok());
      for (uint64_t id : ids) oracle.erase(id);
    } else {
      ASSERT_TRUE(li->Compact().ok());
    }
    ExpectSameAsOracle(*li, oracle, queries, 31, "step " + std::to_string(step));
    if (::testing::Test::HasFatalFailure()) return;
  }
  ASSERT_TRUE(li->WaitForMerge().ok());
  ExpectSameAsOracle(*li, oracle, queries, 40, "after merges");
  EXPECT_GT(li->LiveStats().merges, 0u);
  // Re-adding a removed id is allowed; its new code is the one reported.
  ASSERT_TRUE(li->Compact().ok());
  ExpectSameAsOracle(*li, oracle, queries, 31, "compacted");
}

INSTANTIATE_TEST_SUITE_P(Methods, LiveIndexRandomOps,
                         ::testing::Values(LiveIndexOptions::Method::kFlat,
                                           LiveIndexOptions::Method::kMih,
                                           LiveIndexOptions::Method::kAuto));

TEST(LiveIndex, UpdatesAreAllOrNothing) {
  std::mt19937_64 rng(12);
  LiveIndexOptions opt;
  opt.background_merge = false;
  auto li = LiveIndex::Create(32, opt).value();
  Codes a;
  for (uint64_t i = 0; i < 10; ++i) a.Append(testing::RandomCode(rng, 32).data(), i);
  ASSERT_TRUE(li->Add(a.view(), a.ids).ok());
  const uint64_t v = li->LiveStats().version;

  Codes b;  // ids 100..104 plus 3, which is live: nothing of b may be added
  for (uint64_t i = 100; i < 105; ++i) b.Append(testing::RandomCode(rng, 32).data(), i);
  b.Append(testing::RandomCode(rng, 32).data(), 3);
  EXPECT_EQ(li->Add(b.view(), b.ids).code(), StatusCode::kAlreadyExists);
  Codes c;  // an id repeated within the batch
  c.Append(testing::RandomCode(rng, 32).data(), 200);
  c.Append(testing::RandomCode(rng, 32).data(), 200);
  EXPECT_EQ(li->Add(c.view(), c.ids).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(li->Add(CodeView{a.bytes.data(), 1, 8}, std::vector<uint64_t>{300}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(li->Remove(std::vector<uint64_t>{1, 2, 999}).code(), StatusCode::kNotFound);
  EXPECT_EQ(li->Remove(std::vector<uint64_t>{1, 1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(li->size(), 10u);
  EXPECT_EQ(li->LiveStats().version, v);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(li->Contains(i));
  EXPECT_FALSE(li->Contains(100));

  // Remove then re-add the same id with another code.
  ASSERT_TRUE(li->Remove(std::vector<uint64_t>{4}).ok());
  EXPECT_FALSE(li->Contains(4));
  auto fresh = testing::RandomCode(rng, 32);
  ASSERT_TRUE(li->Add(CodeView{fresh.data(), 1, 32}, std::vector<uint64_t>{4}).ok());
  RangeSearchResult res;
  RangeSearchOptions o;
  o.radius = 0;
  ASSERT_TRUE(li->RangeSearch(CodeView{fresh.data(), 1, 32}, o, &res).ok());
  ASSERT_EQ(res.of(0).size(), 1u);
  EXPECT_EQ(res.of(0)[0].id, 4u);
  ASSERT_TRUE(li->RangeSearch(CodeView{a.code(4), 1, 32}, o, &res).ok());
  EXPECT_EQ(res.of(0).size(), 0u);
}

TEST(LiveIndex, SnapshotsAreStable) {
  std::mt19937_64 rng(13);
  auto li = LiveIndex::Create(32).value();
  auto code = testing::RandomCode(rng, 32);
  ASSERT_TRUE(li->Add(CodeView{code.data(), 1, 32}, std::vector<uint64_t>{7}).ok());
  auto snap = li->GetSnapshot();
  ASSERT_TRUE(li->Remove(std::vector<uint64_t>{7}).ok());
  RangeSearchResult res;
  RangeSearchOptions o;
  o.radius = 0;
  ASSERT_TRUE(snap->RangeSearch(CodeView{code.data(), 1, 32}, o, &res).ok());
  EXPECT_EQ(res.of(0).size(), 1u);  // the old version still has it
  ASSERT_TRUE(li->RangeSearch(CodeView{code.data(), 1, 32}, o, &res).ok());
  EXPECT_EQ(res.of(0).size(), 0u);  // the current one does not
  EXPECT_LT(snap->version(), li->GetSnapshot()->version());
}

TEST(IndexFile, SaveLoadRoundTripAndReopen) {
  std::mt19937_64 rng(14);
  Codes data;
  for (uint64_t i = 0; i < 5000; ++i) data.Append(testing::RandomCode(rng, 32).data(), i * 2 + 1);
  Codes queries;
  for (size_t q = 0; q < 10; ++q) {
    auto c = std::vector<uint8_t>(data.code(q * 100), data.code(q * 100) + 32);
    testing::FlipBits(rng, &c, q * 3);
    queries.Append(c.data(), q);
  }
  const auto dir = TempDir();
  LiveIndexOptions opt;
  opt.method = LiveIndexOptions::Method::kMih;
  opt.background_merge = false;
  auto li = LiveIndex::Create(32, opt).value();
  ASSERT_TRUE(li->Add(data.view(), data.ids).ok());
  ASSERT_TRUE(li->Remove(std::vector<uint64_t>{201}).ok());  // row 100: query 1's source
  auto oracle = testing::AsMap(data);
  oracle.erase(201);
  ASSERT_TRUE(li->Save(dir / "live.idx").ok());
  auto reopened = LiveIndex::Open(dir / "live.idx", opt).value();
  ExpectSameAsOracle(*reopened, oracle, queries, 31, "reopened");
  EXPECT_NE(reopened->Stats().method.find("mih"), std::string::npos);
  // Flat files too, and a second save over the first (atomic replace).
  auto flat = BuildFlatIndex(data.view(), data.ids).value();
  ASSERT_TRUE(flat->Save(dir / "live.idx").ok());
  ExpectSameAsOracle(*LoadStaticIndex(dir / "live.idx").value(), testing::AsMap(data), queries, 31,
                     "flat");
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(IndexFile, DamagedFilesAreRefusedWithReason) {
  std::mt19937_64 rng(15);
  Codes data;
  for (uint64_t i = 0; i < 3000; ++i) data.Append(testing::RandomCode(rng, 32).data(), i);
  const auto dir = TempDir();
  const auto path = dir / "good.idx";
  ASSERT_TRUE(BuildMihIndex(data.view(), data.ids).value()->Save(path).ok());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& b) {
    const auto p = dir / "bad.idx";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
    return p;
  };
  auto expect_corrupt = [&](const std::string& b, const std::string& needle, bool verify = true) {
    LoadOptions lo;
    lo.verify_checksums = verify;
    auto r = LoadStaticIndex(write(b), lo);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("bad.idx"), std::string::npos) << r.status().ToString();
  };
  expect_corrupt(bytes.substr(0, 10), "too short");
  expect_corrupt(bytes.substr(0, bytes.size() - 100), "truncated");
  std::string b = bytes;
  b[0] = 'X';
  expect_corrupt(b, "magic");
  b = bytes;
  b[20] ^= 1;
  expect_corrupt(b, "header checksum");
  b = bytes;
  b[70] ^= 1;
  expect_corrupt(b, "section table");
  // A flipped bit deep in the data: found by the checksums.
  b = bytes;
  b[bytes.size() / 2] ^= 0x10;
  expect_corrupt(b, "checksum mismatch in section");
  EXPECT_EQ(LoadStaticIndex(dir / "missing.idx").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(LoadStaticIndex(write(bytes)).ok());
}

}  // namespace
}  // namespace hashmatch

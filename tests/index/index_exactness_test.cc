// Every index method against the brute-force oracle: random data with planted neighbours at
// every distance, clustered near-duplicates, and MIH's tight pigeonhole cases (each substring
// differs by exactly its probe radius + 1, except one that differs by exactly its radius).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "hashmatch/core/dihedral_search.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/core/static_index.h"
#include "index/index_test_util.h"
#include "index/mih_layout.h"

namespace hashmatch {
namespace {

using testing::Codes;

struct Method {
  std::string name;
  std::function<std::shared_ptr<const HammingIndex>(const Codes&)> build;
};

std::filesystem::path TempFile(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("hm_index_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::vector<Method> Methods(size_t code_bytes) {
  std::vector<Method> m;
  m.push_back({"flat", [](const Codes& c) -> std::shared_ptr<const HammingIndex> {
                 return BuildFlatIndex(c.view(), c.ids).value();
               }});
  m.push_back({"mih-auto", [](const Codes& c) -> std::shared_ptr<const HammingIndex> {
                 return BuildMihIndex(c.view(), c.ids).value();
               }});
  const std::vector<int> tables =
      code_bytes == 32 ? std::vector<int>{8, 10, 13, 16} : std::vector<int>{2, 3, 4, 6};
  for (int t : tables) {
    m.push_back(
        {"mih-m" + std::to_string(t), [t](const Codes& c) -> std::shared_ptr<const HammingIndex> {
           MihOptions o;
           o.num_tables = t;
           o.flat_fallback = false;  // probe at every radius
           return BuildMihIndex(c.view(), c.ids, o).value();
         }});
  }
  m.push_back({"mih-saved-loaded", [](const Codes& c) -> std::shared_ptr<const HammingIndex> {
                 auto built = BuildMihIndex(c.view(), c.ids).value();
                 const auto path = TempFile("exact.idx");
                 EXPECT_TRUE(built->Save(path).ok());
                 return LoadStaticIndex(path).value();
               }});
  // Live: half the rows in an MIH base, the rest in the delta, plus rows added then removed
  // from both the base and the delta (they must never be reported).
  m.push_back({"live", [](const Codes& c) -> std::shared_ptr<const HammingIndex> {
                 const size_t half = c.size() / 2, cb = c.code_bytes;
                 std::vector<uint8_t> codes(c.bytes.begin(), c.bytes.begin() + half * cb);
                 std::vector<uint64_t> ids(c.ids.begin(), c.ids.begin() + half);
                 // Decoys: copies of real codes under fresh ids, in base and delta, removed later.
                 std::vector<uint64_t> decoys;
                 for (size_t i = 0; i < std::min<size_t>(64, c.size()); ++i) {
                   codes.insert(codes.end(), c.code(i), c.code(i) + cb);
                   ids.push_back((uint64_t(1) << 63) + i);
                   decoys.push_back(ids.back());
                 }
                 LiveIndexOptions o;
                 o.method = LiveIndexOptions::Method::kMih;
                 o.background_merge = false;
                 auto base = BuildMihIndex(CodeView{codes.data(), ids.size(), cb}, ids).value();
                 std::shared_ptr<LiveIndex> li = LiveIndex::FromBase(base, o).value();
                 EXPECT_TRUE(li->Add(CodeView{c.code(half), c.size() - half, cb},
                                     std::span(c.ids).subspan(half))
                                 .ok());
                 std::vector<uint64_t> delta_decoys;
                 for (size_t i = 0; i < std::min<size_t>(64, c.size()); ++i) {
                   delta_decoys.push_back((uint64_t(1) << 62) + i);
                   EXPECT_TRUE(li->Add(CodeView{c.code(c.size() - 1 - i), 1, cb},
                                       std::span(&delta_decoys.back(), 1))
                                   .ok());
                 }
                 EXPECT_TRUE(li->Remove(decoys).ok());
                 EXPECT_TRUE(li->Remove(delta_decoys).ok());
                 return li;
               }});
  return m;
}

// Checks every query at every radius against the oracle; returns the number of hits compared.
size_t CheckAgainstOracle(const HammingIndex& index, const Codes& data, const Codes& queries,
                          const std::vector<uint32_t>& radii, const std::string& what) {
  // The oracle's distances, once per query: (distance, id) sorted, filtered per radius below.
  std::vector<std::vector<std::pair<uint32_t, uint64_t>>> all(queries.size());
  const auto live = testing::AsMap(data);
  for (size_t q = 0; q < queries.size(); ++q) {
    all[q] = testing::OracleRange(live, queries.code(q), data.code_bytes, UINT32_MAX);
  }
  size_t compared = 0;
  for (uint32_t radius : radii) {
    RangeSearchOptions opt;
    opt.radius = radius;
    opt.max_hits_per_query = 0;
    RangeSearchResult res;
    const Status st = index.RangeSearch(queries.view(), opt, &res);
    EXPECT_TRUE(st.ok()) << what << ": " << st.ToString();
    if (!st.ok()) return compared;
    EXPECT_EQ(res.num_queries(), queries.size());
    for (size_t q = 0; q < queries.size(); ++q) {
      std::vector<std::pair<uint32_t, uint64_t>> want;
      for (const auto& p : all[q]) {
        if (p.first > radius) break;
        want.push_back(p);
      }
      std::vector<std::pair<uint32_t, uint64_t>> got;
      for (const IndexHit& h : res.of(q)) {
        EXPECT_EQ(h.query, q);
        got.push_back({h.distance, h.id});
      }
      EXPECT_EQ(got, want) << what << ": query " << q << " radius " << radius;
      if (got != want) return compared;
      EXPECT_FALSE(res.truncated[q]);
      compared += want.size();
    }
  }
  return compared;
}

Codes RandomWithPlants(size_t n, size_t code_bytes, size_t num_queries, uint32_t max_plant,
                       uint64_t seed, Codes* queries) {
  std::mt19937_64 rng(seed);
  Codes data;
  data.code_bytes = code_bytes;
  queries->code_bytes = code_bytes;
  queries->bytes.clear();
  queries->ids.clear();
  uint64_t next_id = 1000;
  for (size_t i = 0; i < n; ++i)
    data.Append(testing::RandomCode(rng, code_bytes).data(), next_id += 1 + rng() % 7);
  for (size_t q = 0; q < num_queries; ++q) {
    auto qc = testing::RandomCode(rng, code_bytes);
    queries->Append(qc.data(), q);
    for (uint32_t d = 0; d <= max_plant; ++d) {
      auto c = qc;
      testing::FlipBits(rng, &c, d);
      data.Append(c.data(), next_id += 1 + rng() % 7);
    }
  }
  return data;
}

TEST(IndexExactness, RandomPlanted256) {
  Codes queries;
  const Codes data = RandomWithPlants(20000, 32, 24, 48, 1, &queries);
  for (const Method& m : Methods(32)) {
    auto index = m.build(data);
    EXPECT_EQ(index->size(), data.size()) << m.name;
    const size_t n =
        CheckAgainstOracle(*index, data, queries, {0, 1, 5, 15, 31, 32, 40, 64}, m.name);
    EXPECT_GT(n, 24u * 32) << m.name;
  }
}

TEST(IndexExactness, RandomPlanted64) {
  Codes queries;
  const Codes data = RandomWithPlants(20000, 8, 24, 20, 2, &queries);
  for (const Method& m : Methods(8)) {
    auto index = m.build(data);
    CheckAgainstOracle(*index, data, queries, {0, 1, 4, 8, 10, 15, 16, 17, 24, 64}, m.name);
  }
}

TEST(IndexExactness, ClusteredNearDuplicates) {
  // 5% of rows in tight groups (within 24 bits of a centre), as real lists have.
  std::mt19937_64 rng(3);
  Codes data, queries;
  uint64_t id = 0;
  for (size_t i = 0; i < 19000; ++i) data.Append(testing::RandomCode(rng, 32).data(), id++);
  for (size_t g = 0; g < 40; ++g) {
    const auto centre = testing::RandomCode(rng, 32);
    for (size_t k = 0; k < 25; ++k) {
      auto c = centre;
      testing::FlipBits(rng, &c, rng() % 25);
      data.Append(c.data(), id++);
    }
    auto q = centre;
    testing::FlipBits(rng, &q, rng() % 12);
    queries.Append(q.data(), g);
  }
  for (const Method& m : Methods(32)) {
    auto index = m.build(data);
    CheckAgainstOracle(*index, data, queries, {8, 24, 31, 36, 48}, m.name);
  }
}

TEST(IndexExactness, CrowdedBucketsPastTheInlineResiduals) {
  // MIH keeps the residuals of a bucket's first 12 entries beside its start and reads the rest
  // from a separate array: buckets of hundreds of rows (codes sharing long runs of bits, as
  // near-blank images do) with residuals that differ in 0, 1, 2 or more bits from the query's.
  std::mt19937_64 rng(11);
  Codes data, queries;
  uint64_t id = 0;
  for (size_t i = 0; i < 4000; ++i) data.Append(testing::RandomCode(rng, 32).data(), id++);
  for (size_t g = 0; g < 6; ++g) {
    const auto centre = testing::RandomCode(rng, 32);
    for (size_t k = 0; k < 300; ++k) {
      auto c = centre;
      // Flip bits only in the second half: the first half's substrings share their buckets.
      for (uint32_t f = 0, n = uint32_t(rng() % 40); f < n; ++f) {
        const size_t bit = 128 + rng() % 128;
        c[bit / 8] ^= uint8_t(1u << (bit % 8));
      }
      if (k % 3 == 0) {  // and some in the first half too, a few bits
        const size_t bit = rng() % 128;
        c[bit / 8] ^= uint8_t(1u << (bit % 8));
      }
      data.Append(c.data(), id++);
    }
    queries.Append(centre.data(), g);
    auto q = centre;
    testing::FlipBits(rng, &q, 3);
    queries.Append(q.data(), 100 + g);
  }
  for (const Method& m : Methods(32)) {
    auto index = m.build(data);
    const size_t n = CheckAgainstOracle(*index, data, queries, {0, 4, 16, 31, 40}, m.name);
    EXPECT_GT(n, 6u * 100) << m.name;
  }
}

// For an m-table MIH at `radius`: codes at distance exactly radius (each probed substring off by
// r_i + 1 except one off by r_i; each is found by that one table only) and exactly radius + 1
// (every substring off by r_i + 1: no table finds it, and it must not be reported).
TEST(IndexExactness, TightPigeonhole) {
  std::mt19937_64 rng(4);
  for (size_t code_bytes : {size_t(32), size_t(8)}) {
    const size_t bits = code_bytes * 8;
    const std::vector<int> table_counts =
        code_bytes == 32 ? std::vector<int>{8, 10, 13, 16} : std::vector<int>{2, 3, 4, 6};
    for (int m : table_counts) {
      for (uint32_t radius : code_bytes == 32 ? std::vector<uint32_t>{7, 15, 31, 40}
                                              : std::vector<uint32_t>{3, 8, 10, 16}) {
        const auto geom = mih::Geometry(5000, bits, m);
        const auto radii = mih::Radii(m, radius);
        Codes data, queries;
        data.code_bytes = queries.code_bytes = code_bytes;
        uint64_t id = 0;
        for (size_t i = 0; i < 4000; ++i)
          data.Append(testing::RandomCode(rng, code_bytes).data(), id++);
        bool feasible = true;
        for (size_t q = 0; q < 6 && feasible; ++q) {
          const auto qc = testing::RandomCode(rng, code_bytes);
          queries.Append(qc.data(), q);
          // `exception` = -1 builds the radius + 1 code.
          for (int exception = -1; exception < m; ++exception) {
            if (exception >= 0 && radii[size_t(exception)] < 0) continue;
            auto c = qc;
            for (int t = 0; t < m; ++t) {
              int flips = radii[size_t(t)] + 1 - (t == exception ? 1 : 0);
              if (flips > int(geom[size_t(t)].bits)) feasible = false;
              flips = std::min(flips, int(geom[size_t(t)].bits));
              std::vector<uint32_t> pos(geom[size_t(t)].bits);
              for (uint32_t b = 0; b < pos.size(); ++b) pos[b] = geom[size_t(t)].start + b;
              std::shuffle(pos.begin(), pos.end(), rng);
              for (int f = 0; f < flips; ++f) {
                // Bit p of the code in MIH's numbering: little-endian 64-bit words over bytes.
                const uint32_t p = pos[size_t(f)];
                c[(p / 64) * 8 + (p % 64) / 8] ^= uint8_t(1u << (p % 8));
              }
            }
            data.Append(c.data(), id++);
          }
        }
        if (!feasible) continue;
        MihOptions o;
        o.num_tables = m;
        o.flat_fallback = false;
        auto mih = BuildMihIndex(data.view(), data.ids, o).value();
        const std::string what = "m=" + std::to_string(m) + " bytes=" + std::to_string(code_bytes);
        // The planted codes sit at exactly radius and radius + 1.
        const size_t hits = CheckAgainstOracle(*mih, data, queries, {radius, radius + 1}, what);
        EXPECT_GE(hits, 6u);
        auto flat = BuildFlatIndex(data.view(), data.ids).value();
        CheckAgainstOracle(*flat, data, queries, {radius}, what + " flat");
      }
    }
  }
}

TEST(IndexExactness, EdgeRadiiAndSizes) {
  std::mt19937_64 rng(5);
  for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(300)}) {
    Codes data, queries;
    for (size_t i = 0; i < n; ++i) data.Append(testing::RandomCode(rng, 32).data(), i * 3);
    for (size_t q = 0; q < 3; ++q) queries.Append(testing::RandomCode(rng, 32).data(), q);
    // All-zero and all-one codes, in the data and as queries.
    std::vector<uint8_t> zero(32, 0), one(32, 0xFF);
    data.Append(zero.data(), 1'000'001);
    data.Append(one.data(), 1'000'002);
    queries.Append(zero.data(), 3);
    queries.Append(one.data(), 4);
    for (const Method& m : Methods(32)) {
      auto index = m.build(data);
      CheckAgainstOracle(*index, data, queries, {0, 128, 255, 256, 1000},
                         m.name + " n=" + std::to_string(n));
    }
  }
}

TEST(IndexExactness, CapKeepsNearestAndFlagsTruncation) {
  std::mt19937_64 rng(6);
  Codes data, queries;
  const auto qc = testing::RandomCode(rng, 32);
  queries.Append(qc.data(), 0);
  for (uint64_t i = 0; i < 50; ++i) {
    auto c = qc;
    testing::FlipBits(rng, &c, i % 10);
    data.Append(c.data(), 100 - i);
  }
  for (size_t i = 0; i < 5000; ++i) data.Append(testing::RandomCode(rng, 32).data(), 1000 + i);
  const auto want = testing::OracleRange(testing::AsMap(data), qc.data(), 32, 31);
  ASSERT_EQ(want.size(), 50u);
  for (const Method& m : Methods(32)) {
    auto index = m.build(data);
    for (size_t cap : {size_t(1), size_t(7), size_t(49), size_t(50), size_t(51)}) {
      RangeSearchOptions o;
      o.radius = 31;
      o.max_hits_per_query = cap;
      RangeSearchResult res;
      ASSERT_TRUE(index->RangeSearch(queries.view(), o, &res).ok());
      const size_t expect = std::min(cap, want.size());
      ASSERT_EQ(res.of(0).size(), expect) << m.name;
      for (size_t i = 0; i < expect; ++i) {
        EXPECT_EQ(res.of(0)[i].distance, want[i].first) << m.name;
        EXPECT_EQ(res.of(0)[i].id, want[i].second) << m.name;
      }
      EXPECT_EQ(bool(res.truncated[0]), cap < want.size()) << m.name << " cap " << cap;
    }
  }
}

TEST(IndexExactness, KnnMatchesOracleWithTies) {
  Codes queries;
  Codes data = RandomWithPlants(8000, 32, 12, 20, 7, &queries);
  // Duplicate codes under different ids: ties broken by the smaller id.
  for (size_t i = 0; i < 40; ++i) data.Append(data.code(i * 3), 9'000'000 + i);
  const auto live = testing::AsMap(data);
  for (const Method& m : Methods(32)) {
    auto index = m.build(data);
    for (size_t k : {size_t(1), size_t(5), size_t(64), size_t(20000)}) {
      KnnOptions o;
      o.k = k;
      KnnResult res;
      ASSERT_TRUE(index->Knn(queries.view(), o, &res).ok());
      for (size_t q = 0; q < queries.size(); ++q) {
        std::vector<std::pair<uint32_t, uint64_t>> all;
        for (const auto& [id, c] : live) {
          all.push_back({testing::OracleDistance(queries.code(q), c.data(), 32), id});
        }
        std::sort(all.begin(), all.end());
        all.resize(std::min(k, all.size()));
        std::vector<std::pair<uint32_t, uint64_t>> got;
        for (const Neighbor& nb : res.of(q)) got.push_back({nb.distance, nb.row});
        ASSERT_EQ(got, all) << m.name << " k=" << k << " q=" << q;
      }
    }
  }
}

TEST(IndexErrors, BadInputChangesNothing) {
  std::mt19937_64 rng(8);
  Codes data;
  for (size_t i = 0; i < 100; ++i) data.Append(testing::RandomCode(rng, 32).data(), i);
  auto dup = data;
  dup.ids[50] = dup.ids[49];
  EXPECT_EQ(BuildFlatIndex(dup.view(), dup.ids).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildMihIndex(dup.view(), dup.ids).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildFlatIndex(CodeView{data.bytes.data(), 100, 12}, data.ids).status().code(),
            StatusCode::kInvalidArgument);
  MihOptions bad;
  bad.num_tables = 4;  // 64-bit substrings: too long
  EXPECT_EQ(BuildMihIndex(data.view(), data.ids, bad).status().code(),
            StatusCode::kInvalidArgument);

  auto index = BuildMihIndex(data.view(), data.ids).value();
  RangeSearchResult res;
  const std::vector<uint8_t> q8(8, 0);
  EXPECT_EQ(index->RangeSearch(CodeView{q8.data(), 1, 8}, {}, &res).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(res.num_queries(), 0u);
  KnnOptions k0;
  k0.k = 0;
  KnnResult kr;
  EXPECT_EQ(index->Knn(data.view(), k0, &kr).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hashmatch

namespace hashmatch {
namespace {

TEST(DihedralSearch, OneCallTagsTheNearestOrientation) {
  std::mt19937_64 rng(31);
  std::array<PdqHash, kNumDihedral> orient;
  for (auto& o : orient) {
    const auto c = testing::RandomCode(rng, 32);
    o.hash = Hash256(std::span<const uint8_t, 32>(c.data(), 32));
  }
  Codes data;
  for (size_t i = 0; i < 3000; ++i) data.Append(testing::RandomCode(rng, 32).data(), 10'000 + i);
  // id 1: near orientation 5 (flipY) at 3 bits; id 2: equally near orientations 2 and 6 (the lower
  // wins); id 3: near 0 at 20 bits and near 7 at 4 bits (7 wins).
  auto near = [&](size_t o, size_t d) {
    std::vector<uint8_t> c(orient[o].hash.data(), orient[o].hash.data() + 32);
    testing::FlipBits(rng, &c, d);
    return c;
  };
  data.Append(near(5, 3).data(), 1);
  auto two = near(2, 5);
  data.Append(two.data(), 2);
  orient[6].hash = Hash256(std::span<const uint8_t, 32>(two.data(), 32));  // distance 0 from 6
  auto three = near(7, 4);
  data.Append(three.data(), 3);
  for (const Method& m : Methods(32)) {
    auto index = m.build(data);
    DihedralSearchResult res;
    RangeSearchOptions o;
    o.radius = 31;
    ASSERT_TRUE(RangeSearchDihedral(*index, orient, o, &res).ok());
    // Oracle: per id, the minimum over orientations.
    std::map<uint64_t, std::pair<uint32_t, int>> want;
    for (size_t q = 0; q < kNumDihedral; ++q) {
      for (const auto& [d, id] :
           testing::OracleRange(testing::AsMap(data), orient[q].hash.data(), 32, 31)) {
        auto it = want.find(id);
        if (it == want.end() || d < it->second.first) want[id] = {d, int(q)};
      }
    }
    ASSERT_EQ(res.hits.size(), want.size()) << m.name;
    for (const OrientedHit& h : res.hits) {
      EXPECT_EQ(h.distance, want[h.id].first) << m.name;
      EXPECT_EQ(int(h.orientation), want[h.id].second) << m.name << " id " << h.id;
    }
    EXPECT_EQ(want[2].second, 6);  // distance 0 via orientation 6 beats 5 bits via 2
    EXPECT_EQ(want[3].second, 7);
    EXPECT_FALSE(res.truncated);
  }
}

}  // namespace
}  // namespace hashmatch

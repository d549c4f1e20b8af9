// LiveIndex with a GPU mirror (LiveIndexOptions::gpu, gpu_route.h) against a brute-force oracle
// over the live rows: random and clustered data, adds, removals and merges (explicit and in the
// background) interleaved with searches; radii 0..256 (64 and 96 included), caps 0, 1, 5 and
// 100000, k-NN; batches below and above min_batch, so both routes run, and the routes are checked
// to have been taken. The mirror runs the GPU matcher's host logic on its CPU backend
// (force_cpu_backend, small chunks and buffers), so this runs without a GPU. Also: mode "on" with
// the real CUDA backend and no GPU is a clear error, "auto" falls back to the CPU, no factory is a
// clear error, and a store configured with the GPU option matches exactly as one without.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "gpu_index.h"
#include "hashmatch/core/gpu_mirror.h"
#include "hashmatch/core/live_index.h"
#include "index/index_test_util.h"

namespace hashmatch {
namespace {

using testing::Codes;
using testing::FlipBits;
using testing::RandomCode;
using Live = std::map<uint64_t, std::vector<uint8_t>>;

constexpr size_t kMinBatch = 8;

LiveIndexOptions GpuOptions(LiveIndexOptions::Method method) {
  LiveIndexOptions o;
  o.method = method;
  o.gpu.mode = LiveIndexGpuOptions::Mode::kOn;
  o.gpu.force_cpu_backend = true;
  o.gpu.cpu_chunk_rows = 333;  // several chunks per base
  o.gpu.buffer_bytes = 4096;   // small hit buffers: the driver's overflow passes run
  o.gpu.min_batch = kMinBatch;
  o.gpu.overhead_ns = 1e15;  // only min_batch routes (the cost model is tested on its own)
  return o;
}

// A code generator: clustered (12 centres, a third of the codes exact copies, so distances tie
// and many rows sit at distance 0 of a centre) or uniformly random.
struct Gen {
  std::mt19937_64 rng;
  bool clustered;
  std::vector<std::vector<uint8_t>> centres;
  Gen(uint64_t seed, bool clustered_) : rng(seed), clustered(clustered_) {
    for (int i = 0; i < 12; ++i) centres.push_back(RandomCode(rng, 32));
  }
  std::vector<uint8_t> Next(size_t i) {
    if (!clustered) return RandomCode(rng, 32);
    std::vector<uint8_t> c = centres[i % 3 == 0 ? 0 : rng() % centres.size()];
    if (i % 3 != 0) FlipBits(rng, &c, rng() % 70);
    return c;
  }
};

void ExpectRange(const LiveIndex& li, const Live& live, const Codes& queries, uint32_t radius,
                 size_t cap, const std::string& what) {
  RangeSearchOptions o;
  o.radius = radius;
  o.max_hits_per_query = cap;
  RangeSearchResult got;
  ASSERT_TRUE(li.RangeSearch(queries.view(), o, &got).ok()) << what;
  ASSERT_EQ(got.num_queries(), queries.size()) << what;
  for (size_t q = 0; q < queries.size(); ++q) {
    auto want = testing::OracleRange(live, queries.code(q), 32, radius);
    const bool truncated = cap != 0 && want.size() > cap;
    if (truncated) want.resize(cap);
    std::vector<std::pair<uint32_t, uint64_t>> have;
    for (const IndexHit& h : got.of(q)) {
      EXPECT_EQ(h.query, q);
      have.push_back({h.distance, h.id});
    }
    ASSERT_EQ(have, want) << what << " radius " << radius << " cap " << cap << " query " << q;
    ASSERT_EQ(got.truncated[q], truncated ? 1 : 0)
        << what << " radius " << radius << " cap " << cap << " query " << q;
  }
}

void ExpectKnn(const LiveIndex& li, const Live& live, const Codes& queries, size_t k,
               const std::string& what) {
  KnnOptions o;
  o.k = k;
  KnnResult got;
  ASSERT_TRUE(li.Knn(queries.view(), o, &got).ok()) << what;
  for (size_t q = 0; q < queries.size(); ++q) {
    auto want = testing::OracleRange(live, queries.code(q), 32, 256);
    if (want.size() > k) want.resize(k);
    std::vector<std::pair<uint32_t, uint64_t>> have;
    for (const Neighbor& n : got.of(q)) have.push_back({n.distance, n.row});
    ASSERT_EQ(have, want) << what << " k " << k << " query " << q;
  }
}

// Queries: copies of live codes (distance-0 hits, often tombstoned ones' twins), near copies,
// cluster centres and random codes.
Codes MakeQueries(const Live& live, Gen& gen, size_t n) {
  Codes q;
  std::vector<const std::vector<uint8_t>*> codes;
  for (const auto& [id, c] : live) codes.push_back(&c);
  for (size_t i = 0; i < n; ++i) {
    std::vector<uint8_t> c;
    if (i % 4 == 0) {
      c = gen.centres[i % gen.centres.size()];
    } else if (i % 4 == 3 || codes.empty()) {
      c = RandomCode(gen.rng, 32);
    } else {
      c = *codes[gen.rng() % codes.size()];
      FlipBits(gen.rng, &c, gen.rng() % 6);
    }
    q.Append(c.data(), i);
  }
  return q;
}

// Every radius and cap on a batch below min_batch (CPU route) and one above (GPU route); the
// route counters must show both.
void CheckAll(const LiveIndex& li, const Live& live, Gen& gen, const std::string& what) {
  ASSERT_EQ(li.size(), live.size()) << what;
  const Codes small = MakeQueries(live, gen, kMinBatch - 3);
  const Codes large = MakeQueries(live, gen, kMinBatch + 13);
  for (const Codes* batch : {&small, &large}) {
    const LiveIndexStats before = li.LiveStats();
    const std::string w = what + (batch == &small ? " (small batch)" : " (large batch)");
    for (uint32_t radius : {0u, 8u, 31u, 64u, 96u, 128u, 256u}) {
      for (size_t cap : {size_t{0}, size_t{1}, size_t{5}, size_t{100'000}}) {
        ExpectRange(li, live, *batch, radius, cap, w);
      }
    }
    for (size_t k : {size_t{1}, size_t{5}, size_t{50}}) ExpectKnn(li, live, *batch, k, w);
    const LiveIndexStats after = li.LiveStats();
    if (after.gpu_mirror.empty()) continue;  // an empty base has no mirror: CPU only
    if (batch == &small) {
      EXPECT_EQ(after.gpu_searches, before.gpu_searches) << w;
      EXPECT_GT(after.cpu_searches, before.cpu_searches) << w;
    } else {
      EXPECT_GT(after.gpu_searches, before.gpu_searches) << w;
    }
  }
}

struct Param {
  LiveIndexOptions::Method method;
  bool clustered;
  bool background;
};

class LiveIndexGpu : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override { EnableGpuMirrors(); }
};

TEST_P(LiveIndexGpu, MatchesOracleThroughUpdatesAndMerges) {
  const Param p = GetParam();
  LiveIndexOptions opt = GpuOptions(p.method);
  opt.background_merge = p.background;
  opt.merge_min_delta = 700;
  opt.merge_fraction = 0.05;
  auto created = LiveIndex::Create(32, opt);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto li = std::move(created).value();
  Gen gen(p.clustered ? 21 : 22, p.clustered);
  Live live;
  uint64_t next_id = 1000;
  size_t row = 0;
  auto add = [&](size_t n) {
    Codes c;
    for (size_t i = 0; i < n; ++i) {
      const std::vector<uint8_t> code = gen.Next(row++);
      next_id += 1 + gen.rng() % 7;  // ids not dense, and not in insertion-rank order later
      c.Append(code.data(), next_id);
      live[next_id] = code;
    }
    ASSERT_TRUE(li->Add(c.view(), c.ids).ok());
  };
  // Removes `n` live ids, preferring exact copies of centre 0 when clustered (so a query at the
  // centre has many tombstoned rows among its nearest: the route's refinement must run).
  auto remove = [&](size_t n) {
    std::vector<uint64_t> ids;
    for (const auto& [id, code] : live) {
      if (ids.size() >= n) break;
      if (!p.clustered || code == gen.centres[0] || gen.rng() % 8 == 0) ids.push_back(id);
    }
    ASSERT_TRUE(li->Remove(ids).ok());
    for (uint64_t id : ids) live.erase(id);
  };

  CheckAll(*li, live, gen, "empty");
  add(1500);
  ASSERT_TRUE(li->Compact().ok());
  ASSERT_FALSE(li->LiveStats().gpu_mirror.empty()) << "the merged base has a mirror";
  CheckAll(*li, live, gen, "after the first merge");
  for (int step = 0; step < 4; ++step) {
    add(300);
    remove(step == 0 ? 260 : 90);  // step 0: more tombstones than the first pass allows for
    CheckAll(*li, live, gen, std::string("step ").append(std::to_string(step)));
    if (step == 2 && !p.background) {
      ASSERT_TRUE(li->Compact().ok());
    }
  }
  ASSERT_TRUE(li->WaitForMerge().ok());
  const LiveIndexStats s = li->LiveStats();
  EXPECT_GT(s.merges, 1u);
  EXPECT_FALSE(s.gpu_mirror.empty());
  EXPECT_NE(li->Stats().method.find("gpu-flat(cpu-backend)"), std::string::npos)
      << li->Stats().method;
  CheckAll(*li, live, gen, "final");
}

INSTANTIATE_TEST_SUITE_P(Bases, LiveIndexGpu,
                         ::testing::Values(Param{LiveIndexOptions::Method::kMih, true, false},
                                           Param{LiveIndexOptions::Method::kMih, false, true},
                                           Param{LiveIndexOptions::Method::kFlat, true, true},
                                           Param{LiveIndexOptions::Method::kFlat, false, false}));

// FromBase (a base loaded or built elsewhere) gets its mirror at once.
TEST(LiveIndexGpuBase, FromBaseMirrorsTheBase) {
  EnableGpuMirrors();
  Gen gen(5, true);
  Codes c;
  Live live;
  for (size_t i = 0; i < 2000; ++i) {
    const auto code = gen.Next(i);
    c.Append(code.data(), 7 * i + 3);
    live[7 * i + 3] = code;
  }
  auto base = BuildMihIndex(c.view(), c.ids).value();
  auto li = LiveIndex::FromBase(base, GpuOptions(LiveIndexOptions::Method::kMih)).value();
  EXPECT_FALSE(li->LiveStats().gpu_mirror.empty());
  std::vector<uint64_t> gone;
  for (size_t i = 0; i < 2000; i += 3) gone.push_back(7 * i + 3);  // every exact centre copy
  ASSERT_TRUE(li->Remove(gone).ok());
  for (uint64_t id : gone) live.erase(id);
  CheckAll(*li, live, gen, "from base");
}

// The planner: min_batch routes any radius; below it, the cost model compares MIH probing (cheap
// at small radii, then a scan) with the GPU's overhead plus its scan.
TEST(LiveIndexGpuBase, CostModelRoutesLargeRadiiOfSmallBatches) {
  EnableGpuMirrors();
  Gen gen(9, false);
  Codes c;
  for (size_t i = 0; i < 50'000; ++i) c.Append(gen.Next(i).data(), i);
  LiveIndexOptions o = GpuOptions(LiveIndexOptions::Method::kMih);
  o.gpu.min_batch = 1'000'000;
  o.gpu.overhead_ns = 10'000;
  o.gpu.cpu_chunk_rows = 1 << 20;
  auto li = LiveIndex::FromBase(BuildMihIndex(c.view(), c.ids).value(), o).value();
  const Codes q = MakeQueries(Live{}, gen, 1);
  RangeSearchOptions ro;
  RangeSearchResult r;
  ro.radius = 4;
  ASSERT_TRUE(li->RangeSearch(q.view(), ro, &r).ok());
  EXPECT_EQ(li->LiveStats().gpu_searches, 0u) << "radius 4: MIH probing is cheap";
  ro.radius = 96;
  ASSERT_TRUE(li->RangeSearch(q.view(), ro, &r).ok());
  EXPECT_EQ(li->LiveStats().gpu_searches, 1u) << "radius 96: MIH would scan; the GPU scans faster";
}

TEST(LiveIndexGpuModes, OnWithoutAGpuIsAClearErrorAutoFallsBack) {
  EnableGpuMirrors();
  LiveIndexOptions o;
  o.gpu.mode = LiveIndexGpuOptions::Mode::kOn;  // the real CUDA backend
  auto on = LiveIndex::Create(32, o);
  const Status available = GetGpuMirrorFactory()->available(o.gpu);
  if (available.ok()) {
    // A GPU is visible: mode on works and builds a CUDA mirror once the base has rows.
    ASSERT_TRUE(on.ok()) << on.status().ToString();
    std::vector<uint8_t> code(32, 0x5a);
    const uint64_t id = 1;
    ASSERT_TRUE(on.value()->Add(CodeView{code.data(), 1, 32}, {&id, 1}).ok());
    ASSERT_TRUE(on.value()->Compact().ok());
    EXPECT_NE(on.value()->LiveStats().gpu_mirror.find("cuda"), std::string::npos);
    GTEST_SKIP() << "a GPU is visible: the no-GPU error cannot be observed here";
  }
  ASSERT_FALSE(on.ok());
  EXPECT_EQ(on.status().code(), StatusCode::kUnavailable) << on.status().ToString();
  EXPECT_NE(on.status().message().find("gpu mode 'on'"), std::string::npos);
  EXPECT_NE(on.status().message().find("no GPU visible"), std::string::npos)
      << on.status().message();

  o.gpu.mode = LiveIndexGpuOptions::Mode::kAuto;
  auto li = LiveIndex::Create(32, o);
  ASSERT_TRUE(li.ok()) << li.status().ToString();
  Gen gen(3, true);
  Codes c;
  Live live;
  for (size_t i = 0; i < 500; ++i) {
    c.Append(gen.Next(i).data(), i);
    live[i] = {c.code(i), c.code(i) + 32};
  }
  ASSERT_TRUE(li.value()->Add(c.view(), c.ids).ok());
  ASSERT_TRUE(li.value()->Compact().ok());
  EXPECT_EQ(li.value()->LiveStats().gpu_mirror, "");
  const Codes q = MakeQueries(live, gen, 300);
  ExpectRange(*li.value(), live, q, 31, 5, "auto without GPU");
  EXPECT_EQ(li.value()->LiveStats().gpu_searches, 0u);
}

TEST(LiveIndexGpuModes, NoFactoryOrUnsupportedCodeSize) {
  SetGpuMirrorFactory(nullptr);
  LiveIndexOptions o = GpuOptions(LiveIndexOptions::Method::kFlat);
  auto on = LiveIndex::Create(32, o);
  ASSERT_FALSE(on.ok());
  EXPECT_EQ(on.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(on.status().message().find("no GPU matcher"), std::string::npos);
  o.gpu.mode = LiveIndexGpuOptions::Mode::kAuto;
  EXPECT_TRUE(LiveIndex::Create(32, o).ok());

  // 16-byte codes: the CUDA index holds 8- or 32-byte codes only.
  EnableGpuMirrors();
  std::vector<uint8_t> codes(16 * 3, 1);
  const std::vector<uint64_t> ids = {1, 2, 3};
  auto base = BuildFlatIndex(CodeView{codes.data(), 3, 16}, ids).value();
  LiveIndexOptions real;
  real.gpu.mode = LiveIndexGpuOptions::Mode::kOn;
  EXPECT_FALSE(LiveIndex::FromBase(base, real).ok());
  real.gpu.mode = LiveIndexGpuOptions::Mode::kAuto;
  auto li = LiveIndex::FromBase(base, real);
  ASSERT_TRUE(li.ok());
  EXPECT_EQ(li.value()->LiveStats().gpu_mirror, "");
}

TEST(LiveIndexGpuModes, ParseMode) {
  EXPECT_EQ(ParseGpuMode("off").value(), LiveIndexGpuOptions::Mode::kOff);
  EXPECT_EQ(ParseGpuMode("auto").value(), LiveIndexGpuOptions::Mode::kAuto);
  EXPECT_EQ(ParseGpuMode("on").value(), LiveIndexGpuOptions::Mode::kOn);
  EXPECT_FALSE(ParseGpuMode("yes").ok());
  EXPECT_FALSE(ParseGpuMode("").ok());
}

}  // namespace
}  // namespace hashmatch

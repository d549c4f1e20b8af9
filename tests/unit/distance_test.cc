// Every kernel path the CPU supports must equal the bit-by-bit oracle.
#include "hashmatch/core/distance.h"

#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <string>

#include "../kernel_oracle.h"

namespace hashmatch {
namespace {

using testing::FlipBits;
using testing::OracleDistance;
using testing::OracleRange;
using testing::RandomCodes;
using testing::SortHits;

std::vector<KernelPath> PathsToTest() {
  std::vector<KernelPath> paths;
  std::string skipped;
  for (KernelPath p : kAllKernelPaths) {
    if (KernelPathSupported(p)) {
      paths.push_back(p);
    } else {
      skipped.append(" ").append(KernelPathName(p));
    }
  }
  std::cout << "kernel paths not run (CPU lacks them):" << (skipped.empty() ? " none" : skipped)
            << std::endl;
  return paths;
}

class KernelPathTest : public ::testing::TestWithParam<KernelPath> {
 protected:
  DistanceKernels K() const {
    auto k = DistanceKernels::ForPath(GetParam());
    EXPECT_TRUE(k.ok());
    return *k;
  }
};

// Random data with planted neighbours at every distance 0..bits, so that every radius has hits on
// both sides of the boundary.
struct Dataset {
  size_t cb;
  std::vector<uint8_t> codes, queries;
  CodeView cv() const { return {codes.data(), codes.size() / cb, cb}; }
  CodeView qv() const { return {queries.data(), queries.size() / cb, cb}; }
};

Dataset MakeDataset(size_t cb, size_t n, size_t nq, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Dataset d{cb, RandomCodes(n, cb, rng), RandomCodes(nq, cb, rng)};
  // Plant, for each query, codes at distances spread over 0..bits.
  for (size_t q = 0; q < nq && n > 0; ++q) {
    for (size_t k = 0; k < 8; ++k) {
      const size_t row = rng() % n;
      const size_t flips = (q * 8 + k) * 7 % (cb * 8 + 1);
      auto v = FlipBits(d.queries.data() + q * cb, cb, flips, rng);
      std::copy(v.begin(), v.end(), d.codes.begin() + row * cb);
    }
  }
  return d;
}

TEST_P(KernelPathTest, PairDistanceEdgeCases) {
  const DistanceKernels k = K();
  for (size_t cb : {8u, 16u, 32u, 64u}) {
    std::vector<uint8_t> zero(cb, 0), ones(cb, 0xff);
    EXPECT_EQ(k.Distance(zero.data(), zero.data(), cb), 0u);
    EXPECT_EQ(k.Distance(ones.data(), ones.data(), cb), 0u);
    EXPECT_EQ(k.Distance(zero.data(), ones.data(), cb), cb * 8);
    std::mt19937_64 rng(cb);
    for (int i = 0; i < 200; ++i) {
      auto a = RandomCodes(1, cb, rng), b = RandomCodes(1, cb, rng);
      EXPECT_EQ(k.Distance(a.data(), b.data(), cb), OracleDistance(a.data(), b.data(), cb));
    }
  }
}

TEST_P(KernelPathTest, DistancesMatchOracleAllSizesAndTails) {
  const DistanceKernels k = K();
  for (size_t cb : {8u, 16u, 24u, 32u, 40u, 128u}) {
    for (size_t n : {0u, 1u, 3u, 4u, 7u, 8u, 9u, 15u, 16u, 17u, 100u, 1000u, 5000u}) {
      Dataset d = MakeDataset(cb, n, 1, cb * 1000 + n);
      std::vector<uint16_t> out(n + 1, 0xdead);
      ASSERT_TRUE(k.Distances(d.queries.data(), d.cv(), std::span(out.data(), n)).ok());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], OracleDistance(d.queries.data(), d.cv().code(i), cb))
            << "cb=" << cb << " n=" << n << " i=" << i;
      }
      EXPECT_EQ(out[n], 0xdead) << "wrote past the end";
    }
  }
}

TEST_P(KernelPathTest, AllZeroAndAllOneCodes) {
  const DistanceKernels k = K();
  for (size_t cb : {8u, 32u}) {
    std::vector<uint8_t> codes;
    for (size_t i = 0; i < 37; ++i) codes.insert(codes.end(), cb, i % 2 ? 0xff : 0x00);
    std::vector<uint8_t> q(cb, 0);
    CodeView cv{codes.data(), 37, cb}, qv{q.data(), 1, cb};
    for (uint32_t r : {0u, uint32_t(cb * 8 - 1), uint32_t(cb * 8), 100000u}) {
      std::vector<RangeHit> hits;
      ASSERT_TRUE(k.RangeSearch(qv, cv, r, &hits).ok());
      SortHits(&hits);
      auto want = OracleRange(qv, cv, r);
      EXPECT_EQ(hits, want) << "cb=" << cb << " r=" << r;
    }
  }
}

TEST_P(KernelPathTest, RangeMatchesOracle) {
  const DistanceKernels k = K();
  for (size_t cb : {8u, 16u, 32u, 64u}) {
    const uint32_t bits = uint32_t(cb * 8);
    for (size_t nq : {1u, 2u, 3u, 4u, 5u, 8u, 9u, 13u}) {
      for (size_t n : {1u, 7u, 8u, 33u, 700u, 2053u}) {
        Dataset d = MakeDataset(cb, n, nq, cb * 7919 + nq * 31 + n);
        for (uint32_t r : {0u, 1u, bits / 8, bits / 4, bits / 2 - 1, bits / 2, bits - 1, bits}) {
          std::vector<RangeHit> hits;
          ASSERT_TRUE(k.RangeSearch(d.qv(), d.cv(), r, &hits).ok());
          SortHits(&hits);
          auto want = OracleRange(d.qv(), d.cv(), r);
          ASSERT_EQ(hits, want) << "cb=" << cb << " nq=" << nq << " n=" << n << " r=" << r;
        }
      }
    }
  }
}

TEST_P(KernelPathTest, RangeBoundaryExactlyRadiusAndRadiusPlusOne) {
  const DistanceKernels k = K();
  std::mt19937_64 rng(42);
  for (size_t cb : {8u, 32u}) {
    const uint32_t bits = uint32_t(cb * 8);
    for (uint32_t r = 0; r < bits; r += (cb == 8 ? 1 : 3)) {
      auto q = RandomCodes(1, cb, rng);
      std::vector<uint8_t> codes;
      for (size_t i = 0; i < 16; ++i) {  // alternate d = r and d = r + 1
        auto v = FlipBits(q.data(), cb, r + (i % 2), rng);
        codes.insert(codes.end(), v.begin(), v.end());
      }
      std::vector<RangeHit> hits;
      ASSERT_TRUE(k.RangeSearch({q.data(), 1, cb}, {codes.data(), 16, cb}, r, &hits).ok());
      SortHits(&hits);
      ASSERT_EQ(hits.size(), 8u) << "cb=" << cb << " r=" << r;
      for (size_t i = 0; i < hits.size(); ++i) {
        EXPECT_EQ(hits[i].row, 2 * i);
        EXPECT_EQ(hits[i].distance, r);
      }
    }
  }
}

TEST_P(KernelPathTest, RowBaseOffsetsRows) {
  const DistanceKernels k = K();
  Dataset d = MakeDataset(32, 50, 2, 7);
  std::vector<RangeHit> a, b;
  ASSERT_TRUE(k.RangeSearch(d.qv(), d.cv(), 256, &a).ok());
  ASSERT_TRUE(k.RangeSearch(d.qv(), d.cv(), 256, &b, 1000000007ull).ok());
  ASSERT_EQ(a.size(), 100u);
  ASSERT_EQ(b.size(), 100u);
  SortHits(&a);
  SortHits(&b);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].row + 1000000007ull, b[i].row);
}

TEST_P(KernelPathTest, KnnMatchesSortedOracle) {
  const DistanceKernels k = K();
  for (size_t cb : {8u, 32u}) {
    for (size_t n : {1u, 5u, 100u, 3000u}) {
      Dataset d = MakeDataset(cb, n, 9, n + cb);
      // Duplicate rows so that ties must break by row.
      if (n > 10) std::copy_n(d.codes.begin(), 5 * cb, d.codes.begin() + 5 * cb);
      for (size_t kk : {1u, 3u, 10u, 50u}) {
        KnnResult res;
        ASSERT_TRUE(k.Knn(d.qv(), d.cv(), kk, &res).ok());
        for (size_t q = 0; q < 9; ++q) {
          std::vector<Neighbor> all;
          for (size_t i = 0; i < n; ++i)
            all.push_back({i, OracleDistance(d.qv().code(q), d.cv().code(i), cb)});
          std::stable_sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
            return a.distance < b.distance;
          });
          all.resize(std::min(kk, n));
          auto got = res.of(q);
          ASSERT_EQ(std::vector<Neighbor>(got.begin(), got.end()), all)
              << "cb=" << cb << " n=" << n << " k=" << kk << " q=" << q;
        }
      }
    }
  }
}

TEST_P(KernelPathTest, RefusesBadArguments) {
  const DistanceKernels k = K();
  std::vector<uint8_t> buf(64);
  std::vector<RangeHit> hits;
  EXPECT_EQ(k.RangeSearch({buf.data(), 1, 12}, {buf.data(), 1, 12}, 3, &hits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(k.RangeSearch({buf.data(), 1, 8}, {buf.data(), 1, 16}, 3, &hits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(k.RangeSearch({nullptr, 1, 8}, {buf.data(), 1, 8}, 3, &hits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(k.RangeSearch({buf.data(), 1, 0}, {buf.data(), 1, 0}, 3, &hits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(hits.empty());
  KnnResult res;
  EXPECT_EQ(k.Knn({buf.data(), 1, 8}, {buf.data(), 1, 8}, 0, &res).code(),
            StatusCode::kInvalidArgument);
  std::vector<uint16_t> out(1);
  EXPECT_EQ(k.Distances(buf.data(), {buf.data(), 2, 8}, out).code(), StatusCode::kInvalidArgument);
  // Empty inputs are fine and produce nothing.
  EXPECT_TRUE(k.RangeSearch({buf.data(), 0, 8}, {buf.data(), 1, 8}, 3, &hits).ok());
  EXPECT_TRUE(k.RangeSearch({buf.data(), 1, 8}, {nullptr, 0, 8}, 3, &hits).ok());
  EXPECT_TRUE(hits.empty());
}

INSTANTIATE_TEST_SUITE_P(Paths, KernelPathTest, ::testing::ValuesIn(PathsToTest()),
                         [](const auto& info) { return std::string(KernelPathName(info.param)); });

TEST(KernelDispatch, NamesRoundTripAndBestIsSupported) {
  for (KernelPath p : kAllKernelPaths) EXPECT_EQ(KernelPathFromName(KernelPathName(p)), p);
  EXPECT_FALSE(KernelPathFromName("sse9").has_value());
  EXPECT_TRUE(KernelPathSupported(KernelPath::kScalar));
  EXPECT_TRUE(KernelPathSupported(BestKernelPath()));
  std::cout << "best kernel path here: " << KernelPathName(BestKernelPath())
            << ", default: " << KernelPathName(DistanceKernels::Default().path()) << std::endl;
}

TEST(KernelDispatch, UnsupportedPathIsAnErrorNotACrash) {
  for (KernelPath p : kAllKernelPaths) {
    auto k = DistanceKernels::ForPath(p);
    EXPECT_EQ(k.ok(), KernelPathSupported(p));
    if (!k.ok()) {
      EXPECT_EQ(k.status().code(), StatusCode::kUnsupported);
    }
  }
}

}  // namespace
}  // namespace hashmatch

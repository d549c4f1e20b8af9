// Kernels and the default-path initialisation used from many threads at once (run under
// ThreadSanitizer in CI).
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "../kernel_oracle.h"
#include "hashmatch/core/distance.h"

namespace hashmatch {
namespace {

TEST(KernelsConcurrency, ManyThreadsSameKernelsSameResults) {
  std::mt19937_64 rng(1);
  const size_t n = 20000, nq = 8;
  auto codes = testing::RandomCodes(n, 32, rng);
  auto queries = testing::RandomCodes(nq, 32, rng);
  for (size_t q = 0; q < nq; ++q) {  // plant a neighbour per query
    auto v = testing::FlipBits(queries.data() + 32 * q, 32, 5 + q, rng);
    std::copy(v.begin(), v.end(), codes.begin() + 32 * (q * 997));
  }
  const CodeView cv{codes.data(), n, 32}, qv{queries.data(), nq, 32};
  auto want = testing::OracleRange(qv, cv, 40);
  testing::SortHits(&want);
  ASSERT_GE(want.size(), nq);

  std::vector<std::vector<RangeHit>> got(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      // The first call races to initialise the process default.
      const DistanceKernels& k = DistanceKernels::Default();
      for (int rep = 0; rep < 3; ++rep) {
        std::vector<RangeHit> hits;
        if (!k.RangeSearch(qv, cv, 40, &hits).ok()) return;
        testing::SortHits(&hits);
        got[t] = std::move(hits);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

}  // namespace
}  // namespace hashmatch

// Conformance against Meta's reference hash files in ../shared/pdq-reference/reg-test-input:
// hex round trips and bit order, and the published match counts of needles against haystack,
// on every kernel path the CPU supports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "../test_util.h"
#include "hashmatch/core/distance.h"
#include "hashmatch/core/hex.h"

namespace hashmatch {
namespace {

namespace fs = std::filesystem;
using testing::PrintTally;
using testing::ReadLines;
using testing::SharedDir;

const fs::path kDir = "pdq-reference/reg-test-input";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

TEST(ReferenceHashes, DatFilesRoundTrip) {
  HM_REQUIRE_SHARED(kDir);
  size_t total = 0, ok = 0;
  for (const char* name : {"long256.dat", "short256.dat", "order256.dat"}) {
    for (const std::string& line : ReadLines(SharedDir() / kDir / name)) {
      if (line.empty()) continue;
      ++total;
      auto h = ParseHash256(line);
      ASSERT_TRUE(h.ok()) << name << ": " << h.status().ToString();
      EXPECT_EQ(ToHex(*h), Lower(line));
      ok += ToHex(*h) == Lower(line);
    }
  }
  for (const char* name : {"long64.dat", "short64.dat"}) {
    for (const std::string& line : ReadLines(SharedDir() / kDir / name)) {
      if (line.empty()) continue;
      ++total;
      auto h = ParseHash64(line);
      ASSERT_TRUE(h.ok()) << name << ": " << h.status().ToString();
      EXPECT_EQ(ToHex(*h), Lower(line));
      ok += ToHex(*h) == Lower(line);
    }
  }
  PrintTally("hex round trip (reg-test-input/*.dat)", ok, total, "exact");
  EXPECT_EQ(ok, total);
  EXPECT_GT(total, 700u);
}

TEST(ReferenceHashes, BitOrder) {
  HM_REQUIRE_SHARED(kDir / "order256.dat");
  auto lines = ReadLines(SharedDir() / kDir / "order256.dat");
  ASSERT_GE(lines.size(), 2u);
  auto set_bits = [](const Hash256& h) {
    std::vector<int> v;
    for (int k = 0; k < 256; ++k)
      if (h.bit(k)) v.push_back(k);
    return v;
  };
  // 64-bit chunks from the top: 1, 2, 3, 4 => bits 192; 129; 64, 65; 2.
  EXPECT_EQ(set_bits(*ParseHash256(lines[0])), (std::vector<int>{2, 64, 65, 129, 192}));
  // Chunks 0, 0x10, 2, 0x12 => bits 132; 65; 1, 4.
  EXPECT_EQ(set_bits(*ParseHash256(lines[1])), (std::vector<int>{1, 4, 65, 132}));
}

TEST(ReferenceHashes, NeedlesInHaystackCountsOnEveryPath) {
  HM_REQUIRE_SHARED(kDir / "haystack.txt");
  auto load = [](const fs::path& p) {
    std::vector<uint8_t> codes;
    for (const std::string& line : ReadLines(p)) {
      if (line.empty()) continue;
      auto h = ParseHash256(line);
      EXPECT_TRUE(h.ok()) << p << ": " << h.status().ToString();
      if (h.ok()) codes.insert(codes.end(), h->data(), h->data() + 32);
    }
    return codes;
  };
  const auto hay = load(SharedDir() / kDir / "haystack.txt");
  const auto needles = load(SharedDir() / kDir / "needles.txt");
  ASSERT_EQ(hay.size(), 1350u * 32);
  ASSERT_EQ(needles.size(), 100u * 32);
  // Published in ../shared/specs/pdq.md.
  const std::map<uint32_t, size_t> expected = {{0, 50}, {16, 152}, {31, 250}, {47, 287}, {63, 352}};
  size_t total = 0, ok = 0;
  for (KernelPath p : kAllKernelPaths) {
    if (!KernelPathSupported(p)) continue;
    auto k = DistanceKernels::ForPath(p);
    ASSERT_TRUE(k.ok());
    for (auto [radius, want] : expected) {
      std::vector<RangeHit> hits;
      ASSERT_TRUE(
          k->RangeSearch({needles.data(), 100, 32}, {hay.data(), 1350, 32}, radius, &hits).ok());
      ++total;
      ok += hits.size() == want;
      EXPECT_EQ(hits.size(), want) << KernelPathName(p) << " radius " << radius;
    }
  }
  PrintTally("needles x haystack match counts (all kernel paths)", ok, total, "exact");
}

}  // namespace
}  // namespace hashmatch

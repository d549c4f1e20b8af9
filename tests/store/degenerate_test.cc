// Degenerate codes: placeholders, blank-image hashes and empty-file digests are caught; real
// hashes (the reference images' PDQ hashes, random digests) are not.
#include <gtest/gtest.h>

#include "hashmatch/core/hex.h"
#include "hashmatch/hashsets/degenerate.h"
#include "store_test_util.h"
#include "test_util.h"

namespace hashmatch {
namespace {

std::optional<std::string> Check(SignalType s, std::string_view hex) {
  std::vector<uint8_t> c(hex.size() / 2);
  EXPECT_TRUE(DecodeHex(hex, c).ok()) << hex;
  return DegenerateReason(s, c);
}

TEST(Degenerate, Placeholders) {
  EXPECT_NE(Check(SignalType::kPdq, std::string(64, '0'))->find("all-zero"), std::string::npos);
  EXPECT_NE(Check(SignalType::kPdq, std::string(64, 'f'))->find("all-one"), std::string::npos);
  EXPECT_TRUE(Check(SignalType::kMd5, std::string(32, '0')));
  EXPECT_TRUE(Check(SignalType::kAHash64, std::string(16, '0')));
  EXPECT_TRUE(Check(SignalType::kAHash64, std::string(16, 'f')));
  // A repeated pattern passes the bit count but is a placeholder.
  std::string pattern;
  for (int i = 0; i < 8; ++i) pattern += "1e2d3c4b";  // 128 bits set
  auto r = Check(SignalType::kPdq, pattern);
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("placeholder"), std::string::npos) << *r;
  EXPECT_TRUE(Check(SignalType::kPdq, std::string(64, '5')));  // 0x55..: 128 bits set
  EXPECT_TRUE(Check(SignalType::kSha1, std::string(40, 'a')));
  // 64-bit image hashes may legitimately repeat a byte (striped images).
  EXPECT_FALSE(Check(SignalType::kDHash64, "5555555555555555"));
}

TEST(Degenerate, PdqBitCounts) {
  // 64 bits set: far too few for a median-thresholded hash.
  auto r = Check(SignalType::kPdq, std::string(16, 'f') + std::string(48, '0'));
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("64 bits set"), std::string::npos) << *r;
  r = Check(SignalType::kPdq, std::string(48, 'f') + std::string(16, '0'));
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("192 bits set"), std::string::npos) << *r;
}

TEST(Degenerate, QualityZeroRamp) {
  // The reference's misc-images/small.jpg, a smooth ramp of quality 0 (../shared/pdq-reference).
  const std::string ramp = "0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff";
  auto r = Check(SignalType::kPdq, ramp);
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("ramp"), std::string::npos) << *r;
  // Its complement (the ramp the other way) too.
  std::vector<uint8_t> c(32);
  ASSERT_TRUE(DecodeHex(ramp, c).ok());
  for (auto& b : c) b = uint8_t(~b);
  EXPECT_TRUE(DegenerateReason(SignalType::kPdq, c));
}

TEST(Degenerate, RealHashesPass) {
  for (const char* h : {"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
                        "30a10efd71c83f429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af",
                        "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064",
                        "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d"}) {
    EXPECT_FALSE(Check(SignalType::kPdq, h)) << h;
  }
  for (int i = 0; i < 2000; ++i) {
    EXPECT_FALSE(DegenerateReason(SignalType::kPdq, testing::RandomCode(32, 42, i)));
    EXPECT_FALSE(DegenerateReason(SignalType::kSha256, testing::RandomCode(32, 43, i)));
    EXPECT_FALSE(DegenerateReason(SignalType::kPHash64, testing::RandomCode(8, 44, i)));
  }
  // Every quality >= 50 hash of the reference set passes.
  const auto tsv = testing::SharedDir() / "pdq-reference" / "expected.tsv";
  if (!std::filesystem::exists(tsv)) GTEST_SKIP() << "no " << tsv;
  int checked = 0;
  for (const std::string& line : testing::ReadLines(tsv)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t pos = 0;
    for (size_t tab; (tab = line.find('\t', pos)) != std::string::npos; pos = tab + 1) {
      f.push_back(line.substr(pos, tab - pos));
    }
    f.push_back(line.substr(pos));
    if (f.size() < 6 || std::stoi(f[3]) < 50) continue;
    EXPECT_FALSE(Check(SignalType::kPdq, f[4])) << f[0];
    EXPECT_FALSE(Check(SignalType::kPdq, f[5])) << f[0];
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(Degenerate, EmptyInputDigests) {
  EXPECT_TRUE(Check(SignalType::kMd5, "d41d8cd98f00b204e9800998ecf8427e"));
  EXPECT_TRUE(Check(SignalType::kSha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  auto r = Check(SignalType::kSha256,
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("empty"), std::string::npos);
}

}  // namespace
}  // namespace hashmatch

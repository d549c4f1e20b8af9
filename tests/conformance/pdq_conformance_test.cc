// PDQ conformance against ../shared/pdq-reference: every expected.tsv row bit-exact (full
// resolution and the 512 path) with its quality, the decoded pixels' SHA-256 for every format, the
// dihedral hashes of bridge-1-original.jpg, and the documented behaviour of every bad image.
// Every test that hashes runs once per PDQ instruction set (PdqSimd) the CPU supports; the log
// says which ran and which were not available.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <iostream>
#include <map>
#include <sstream>

#include "../test_util.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"

namespace hashmatch {
namespace {

namespace fs = std::filesystem;
using testing::PrintTally;
using testing::ReadLines;
using testing::SharedDir;

const fs::path kRef = "pdq-reference";

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, '\t')) f.push_back(cell);
  return f;
}

// Data rows of a TSV (comments and blank lines skipped).
std::vector<std::vector<std::string>> ReadTsv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : ReadLines(p))
    if (!line.empty() && line[0] != '#') rows.push_back(SplitTabs(line));
  return rows;
}

std::string Sha256Hex(const std::vector<uint8_t>& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return EncodeHex(std::span<const uint8_t>(md, len));
}

std::vector<PdqSimd> SimdToTest() {
  static bool printed = false;  // gtest may ask more than once
  std::vector<PdqSimd> run;
  std::string skipped;
  for (PdqSimd s : kAllPdqSimd) {
    if (PdqSimdSupported(s)) {
      run.push_back(s);
    } else {
      skipped.append(" ").append(PdqSimdName(s));
    }
  }
  if (!printed) {
    std::cout << "PDQ instruction sets not run (CPU lacks them):"
              << (skipped.empty() ? " none" : skipped) << std::endl;
    printed = true;
  }
  return run;
}

// Tests that hash: one instance per supported instruction set.
class PdqSimdConformance : public ::testing::TestWithParam<PdqSimd> {
 protected:
  PdqHasher Hasher() const {
    auto h = PdqHasher::ForSimd(GetParam());
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : PdqHasher();
  }
  std::string Tally(const std::string& name) const {
    return name + " [" + PdqSimdName(GetParam()) + "]";
  }
};

INSTANTIATE_TEST_SUITE_P(Simd, PdqSimdConformance, ::testing::ValuesIn(SimdToTest()),
                         [](const ::testing::TestParamInfo<PdqSimd>& i) {
                           return std::string(PdqSimdName(i.param));
                         });

void CheckExpectedTsv(PdqHasher& hasher, const fs::path& tsv, const std::string& tally_name) {
  size_t total = 0, exact = 0;
  for (const auto& row : ReadTsv(tsv)) {
    ASSERT_GE(row.size(), 6u);
    const fs::path path = SharedDir() / kRef / row[0];
    SCOPED_TRACE(row[0]);
    auto image = DecodeImageFile(path);
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    EXPECT_EQ(image->width, std::stoi(row[1]));
    EXPECT_EQ(image->height, std::stoi(row[2]));
    const PdqHash full = hasher.Hash(*image);
    const PdqHash p512 = hasher.Hash(*image, PdqOptions{.compat_512 = true});
    EXPECT_EQ(ToHex(full.hash), row[4]) << "pdq_full";
    EXPECT_EQ(full.quality, std::stoi(row[3])) << "quality";
    EXPECT_EQ(ToHex(p512.hash), row[5]) << "pdq_512";
    // HashBytes (exact), one hasher over every row in turn: its reused decode buffer (JPEG)
    // carries nothing from one image to the next.
    auto bytes = ReadFileBytes(path);
    ASSERT_TRUE(bytes.ok());
    auto from_bytes = hasher.HashBytes(*bytes);
    ASSERT_TRUE(from_bytes.ok()) << from_bytes.status().ToString();
    EXPECT_EQ(ToHex(from_bytes->pdq[0].hash), row[4]) << "HashBytes";
    EXPECT_EQ(from_bytes->pdq[0].quality, std::stoi(row[3])) << "HashBytes quality";
    EXPECT_FALSE(from_bytes->truncated);
    EXPECT_FALSE(from_bytes->fast);
    total += 3;
    exact += (ToHex(full.hash) == row[4] && full.quality == std::stoi(row[3]));
    exact += ToHex(p512.hash) == row[5];
    exact +=
        ToHex(from_bytes->pdq[0].hash) == row[4] && from_bytes->pdq[0].quality == std::stoi(row[3]);
  }
  PrintTally(tally_name, exact, total,
             "bit-exact (pdq_full with quality, pdq_512, and pdq_full through HashBytes)");
  EXPECT_GT(total, 0u);
}

TEST_P(PdqSimdConformance, ReferenceImages) {
  HM_REQUIRE_SHARED(kRef / "expected.tsv");
  PdqHasher hasher = Hasher();
  CheckExpectedTsv(hasher, SharedDir() / kRef / "expected.tsv", Tally("pdq expected.tsv"));
}

TEST_P(PdqSimdConformance, FormatImages) {
  HM_REQUIRE_SHARED(kRef / "formats/expected.tsv");
  PdqHasher hasher = Hasher();
  CheckExpectedTsv(hasher, SharedDir() / kRef / "formats/expected.tsv",
                   Tally("pdq formats/expected.tsv"));
}

TEST(PdqConformance, DecodedPixelsSha256) {
  HM_REQUIRE_SHARED(kRef / "formats/decoded-sha256.tsv");
  size_t total = 0, exact = 0;
  for (const auto& row : ReadTsv(SharedDir() / kRef / "formats/decoded-sha256.tsv")) {
    ASSERT_GE(row.size(), 5u);
    SCOPED_TRACE(row[0]);
    auto image = DecodeImageFile(SharedDir() / kRef / row[0]);
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    EXPECT_EQ(image->width, std::stoi(row[1]));
    EXPECT_EQ(image->height, std::stoi(row[2]));
    EXPECT_EQ(image->channels, std::stoi(row[3]));
    const std::string sha = Sha256Hex(image->pixels);
    EXPECT_EQ(sha, row[4]);
    ++total;
    exact += sha == row[4];
  }
  PrintTally("decoded pixels sha256 (formats/)", exact, total, "exact");
}

TEST_P(PdqSimdConformance, DihedralOfBridge) {
  HM_REQUIRE_SHARED(kRef / "reg-test-input/dih/bridge-1-original.jpg");
  // From ../shared/specs/pdq.md, in Dihedral order.
  const char* kWant[] = {
      "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
      "30a10efd71c83f429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af",
      "adad5a64b5a102e55b62a08856dacd5ae63b847fc337b4b766b319361bc93188",
      "a5f0b457a49995e8c1065c275aaa54d8b61ba49df8fcfc0383c32f8b0bfc4f05",
      "f8f80f31e0f457b00637f5d5028f980fb36ed12a9622e1e233e64c634e9c64dd",
      "0dad2599b1a1bd1a5362576752da32a5e63b7380c2374b4866b346c91bc9ce77",
      "f0a5e102f1ccc0bd945308720fff038de34ef1e8ada9a956d2967ade5ea91a50",
      "a5f04ba8a4996a17c906a3d85aaaa927b61b5b42f8fc03fc87c3d0740bfcb0fa",
  };
  auto image = DecodeImageFile(SharedDir() / kRef / "reg-test-input/dih/bridge-1-original.jpg");
  ASSERT_TRUE(image.ok());
  PdqHasher hasher = Hasher();
  auto all = hasher.HashDihedral(*image);
  size_t exact = 0;
  for (size_t i = 0; i < kNumDihedral; ++i) {
    EXPECT_EQ(ToHex(all[i].hash), kWant[i]) << DihedralName(Dihedral(i));
    EXPECT_EQ(all[i].quality, 100);
    exact += ToHex(all[i].hash) == kWant[i];
  }
  PrintTally(Tally("pdq dihedral bridge-1-original"), exact, kNumDihedral, "bit-exact");
}

TEST_P(PdqSimdConformance, BadImages) {
  HM_REQUIRE_SHARED(kRef / "bad-images/expected.tsv");
  const std::map<std::string, StatusCode> kCodes = {
      {"error:not_an_image", StatusCode::kInvalidArgument},
      {"error:decode", StatusCode::kCorruption},
      {"error:pixel_limit", StatusCode::kOutOfRange},
      {"error:unsupported_format", StatusCode::kUnsupported},
  };
  size_t total = 0, ok = 0;
  PdqHasher hasher = Hasher();
  for (const auto& row : ReadTsv(SharedDir() / kRef / "bad-images/expected.tsv")) {
    ASSERT_GE(row.size(), 3u);
    SCOPED_TRACE(row[0]);
    ++total;
    auto image = DecodeImageFile(SharedDir() / kRef / row[0]);
    // The same through HashBytes (exact), whose JPEG decode reuses the hasher's buffer.
    auto bytes = ReadFileBytes(SharedDir() / kRef / row[0]);
    ASSERT_TRUE(bytes.ok());
    auto from_bytes = hasher.HashBytes(*bytes);
    if (row[2] == "hash:flagged_truncated") {
      ASSERT_TRUE(image.ok()) << image.status().ToString();
      EXPECT_TRUE(image->truncated);
      const PdqHash h = hasher.Hash(*image);
      EXPECT_EQ(ToHex(h.hash), row[4]);
      EXPECT_EQ(ToHex(hasher.Hash(*image, {.compat_512 = true}).hash), row[5]);
      EXPECT_EQ(h.quality, std::stoi(row[6]));
      ASSERT_TRUE(from_bytes.ok()) << from_bytes.status().ToString();
      EXPECT_TRUE(from_bytes->truncated);
      EXPECT_EQ(from_bytes->pdq[0], h);
      ok += image->truncated && ToHex(h.hash) == row[4] && from_bytes->truncated &&
            from_bytes->pdq[0] == h;
      // A whole image after a truncated one is not flagged (the reused buffer's flag is reset).
      auto good = ReadFileBytes(SharedDir() / kRef / "reg-test-input/dih/bridge-1-original.jpg");
      ASSERT_TRUE(good.ok());
      auto after = hasher.HashBytes(*good);
      ASSERT_TRUE(after.ok());
      EXPECT_FALSE(after->truncated);
      continue;
    }
    ASSERT_TRUE(kCodes.count(row[2])) << "unknown expectation " << row[2];
    ASSERT_FALSE(image.ok()) << "decoded, but expected " << row[2];
    EXPECT_EQ(image.status().code(), kCodes.at(row[2])) << image.status().ToString();
    ASSERT_FALSE(from_bytes.ok()) << "HashBytes decoded, but expected " << row[2];
    EXPECT_EQ(from_bytes.status().code(), kCodes.at(row[2])) << from_bytes.status().ToString();
    std::cout << "  " << row[0] << ": " << image.status().ToString() << "\n";
    ok += image.status().code() == kCodes.at(row[2]);
  }
  PrintTally(Tally("bad images"), ok, total, "as documented");
}

}  // namespace
}  // namespace hashmatch

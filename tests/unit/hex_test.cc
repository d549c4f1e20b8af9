#include "hashmatch/core/hex.h"

#include <gtest/gtest.h>

#include "hashmatch/core/hash.h"
#include "hashmatch/core/signal_type.h"

namespace hashmatch {
namespace {

constexpr char kPdq[] = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

TEST(Hex, RoundTripsLowerCase) {
  auto h = ParseHash256(kPdq);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(ToHex(*h), kPdq);
  EXPECT_EQ(h->data()[0], 0xf8);
  EXPECT_EQ(h->data()[31], 0x22);
}

TEST(Hex, AcceptsUpperCaseWritesLowerCase) {
  auto h = ParseHash64("B1946AC92492D234");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(ToHex(*h), "b1946ac92492d234");
}

TEST(Hex, RefusesWrongLengthNamingBoth) {
  std::string s = kPdq;
  auto shorter = ParseHash256(s.substr(0, 63));
  ASSERT_FALSE(shorter.ok());
  EXPECT_EQ(shorter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shorter.status().message(), "expected 64 hex digits, got 63");
  auto longer = ParseHash256(s + "0");
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.status().message(), "expected 64 hex digits, got 65");
  EXPECT_FALSE(ParseHash256("").ok());
  // A 64-bit hash is not a truncated PDQ hash, nor the reverse.
  EXPECT_FALSE(ParseHash64(kPdq).ok());
  EXPECT_FALSE(ParseHash256("b1946ac92492d234").ok());
}

TEST(Hex, RefusesBadCharacterNamingPosition) {
  std::string s = kPdq;
  s[12] = 'g';
  auto h = ParseHash256(s);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "invalid hex character 'g' (0x67) at position 12");
  s = kPdq;
  s[0] = ' ';
  EXPECT_EQ(ParseHash256(s).status().message(), "invalid hex character byte 0x20 at position 0");
  s = kPdq;
  s[63] = '\0';
  EXPECT_EQ(ParseHash256(s).status().message(), "invalid hex character byte 0x00 at position 63");
  EXPECT_FALSE(ParseHash64("0x946ac92492d234").ok());
  EXPECT_FALSE(ParseHash64("b1946ac92492d23\xff").ok());
}

TEST(Hex, DecodeLeavesOutputUnchangedOnError) {
  uint8_t out[2] = {0xaa, 0xbb};
  EXPECT_FALSE(DecodeHex("12z4", out).ok());
  EXPECT_EQ(out[0], 0xaa);
  EXPECT_EQ(out[1], 0xbb);
  EXPECT_TRUE(DecodeHex("1234", out).ok());
  EXPECT_EQ(out[0], 0x12);
  EXPECT_EQ(out[1], 0x34);
}

TEST(Hash, BitNumberingFollowsPdqConvention) {
  // The last hex digit holds bits 3..0; bit k of the big-endian integer is coefficient k.
  auto h = ParseHash256("8000000000000000000000000000000000000000000000000000000000000001");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->bit(0));
  EXPECT_TRUE(h->bit(255));
  EXPECT_EQ(h->popcount(), 2);
  Hash256 g;
  g.set_bit(0, true);
  g.set_bit(255, true);
  EXPECT_EQ(g, *h);
  g.set_bit(255, false);
  EXPECT_EQ(ToHex(g), std::string(63, '0') + "1");
}

TEST(Hash, HammingDistanceExtremes) {
  Hash256 zero;
  auto ones = ParseHash256(std::string(64, 'f'));
  ASSERT_TRUE(ones.ok());
  EXPECT_EQ(HammingDistance(zero, zero), 0);
  EXPECT_EQ(HammingDistance(zero, *ones), 256);
}

TEST(SignalType, NamesAndSizes) {
  EXPECT_EQ(SignalTypeFromName("PDQ"), SignalType::kPdq);
  EXPECT_EQ(SignalTypeFromName("sha256"), SignalType::kSha256);
  EXPECT_FALSE(SignalTypeFromName("pdq2").has_value());
  EXPECT_EQ(GetSignalInfo(SignalType::kPdq).code_bytes, 32u);
  EXPECT_EQ(GetSignalInfo(SignalType::kDHash64).code_bytes, 8u);
  EXPECT_EQ(GetSignalInfo(SignalType::kSha1).code_bytes, 20u);
  EXPECT_FALSE(GetSignalInfo(SignalType::kMd5).perceptual);
  for (const SignalInfo& s : AllSignalTypes()) {
    EXPECT_EQ(&GetSignalInfo(s.type), &s);
    EXPECT_EQ(SignalTypeFromName(s.name), s.type);
  }
}

TEST(Status, Formats) {
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  EXPECT_EQ(Status::InvalidArgument("bad").ToString(), "invalid_argument: bad");
  Result<int> r = Status::NotFound("x");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  Result<int> v = 3;
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(*v, 3);
}

}  // namespace
}  // namespace hashmatch

// MD5 / SHA-1 / SHA-256 test vectors (RFC 1321 appendix A.5, FIPS 180-2 appendix examples) on
// bytes and on files, including files larger than the 1 MiB read chunk.
#include "hashmatch/core/digest.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include "hashmatch/core/hex.h"

namespace hashmatch {
namespace {

namespace fs = std::filesystem;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

template <class R>
std::string Hex(const R& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? ToHex(*r) : "";
}

const std::string k448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

TEST(Digest, Md5Rfc1321) {
  EXPECT_EQ(Hex(Md5(Bytes(""))), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(Md5(Bytes("a"))), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Hex(Md5(Bytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Hex(Md5(Bytes("message digest"))), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Hex(Md5(Bytes("abcdefghijklmnopqrstuvwxyz"))), "c3fcd3d76192e4007dfb496cca67e13b");
}

TEST(Digest, Sha1Fips180) {
  EXPECT_EQ(Hex(Sha1(Bytes(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Hex(Sha1(Bytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hex(Sha1(Bytes(k448))), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(Hex(Sha1(Bytes(std::string(1000000, 'a')))),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Digest, Sha256Fips180) {
  EXPECT_EQ(Hex(Sha256(Bytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256(Bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256(Bytes(k448))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hex(Sha256(Bytes(std::string(1000000, 'a')))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

class DigestFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hm_digest_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

TEST_F(DigestFileTest, FilesMatchBytesAcrossChunks) {
  // 2.5 MiB + 7 bytes of varied content: three chunk boundaries and a short tail.
  std::string big(size_t(5) << 19, '\0');
  big += "abcdefg";
  uint32_t s = 7;
  for (char& c : big) {
    s = s * 1664525u + 1013904223u;
    c = char(s >> 24);
  }
  const fs::path p = Write("big.bin", big);
  EXPECT_EQ(Hex(Md5File(p)), Hex(Md5(Bytes(big))));
  EXPECT_EQ(Hex(Sha1File(p)), Hex(Sha1(Bytes(big))));
  EXPECT_EQ(Hex(Sha256File(p)), Hex(Sha256(Bytes(big))));
  // Exactly one chunk.
  const std::string mib(size_t(1) << 20, 'x');
  const fs::path q = Write("mib.bin", mib);
  EXPECT_EQ(Hex(Sha256File(q)), Hex(Sha256(Bytes(mib))));
}

TEST_F(DigestFileTest, KnownVectorsAndEmptyFile) {
  EXPECT_EQ(Hex(Sha256File(Write("abc.txt", "abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Md5File(Write("empty", ""))), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(Sha1File(Write("million-a", std::string(1000000, 'a')))),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_F(DigestFileTest, ErrorsNameThePath) {
  auto missing = Sha256File(dir_ / "nope.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.bin"), std::string::npos);
  auto directory = Md5File(dir_);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace hashmatch

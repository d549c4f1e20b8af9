// A generated 1M-line plain list is parsed in bounded chunks: the sink gets at most
// chunk_records records per call, drops them, and the parse never hands over the whole list at
// once. Checked by the chunk sizes and counts (not RSS), through a file and through a stream.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>

#include <unistd.h>

#include "import_test_util.h"

namespace hashmatch {
namespace {

namespace fs = std::filesystem;

constexpr size_t kLines = 1'000'000;
constexpr size_t kChunk = 10'000;

class StreamingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = fs::temp_directory_path() / ("hm_import_stream_" + std::to_string(::getpid()) + ".txt");
    std::ofstream out(path_, std::ios::binary);
    std::mt19937_64 rng(5);
    char line[80];
    static const char* kDigits = "0123456789abcdef";
    for (size_t i = 0; i < kLines; ++i) {
      if (i % 100'000 == 0) out << "# block " << i << "\n";
      for (int k = 0; k < 4; ++k) {
        uint64_t w = rng();
        for (int d = 0; d < 16; ++d) line[k * 16 + d] = kDigits[(w >> (60 - 4 * d)) & 15];
      }
      line[64] = '\n';
      out.write(line, 65);
      xor_ ^= uint8_t(line[0]) ^ uint8_t(line[63]);
    }
  }
  static void TearDownTestSuite() { fs::remove(path_); }

  // Checks one full parse: chunk sizes bounded, totals right, and an order-independent digest of
  // the first and last hex digit of every line matched.
  static void Check(const std::function<Result<ImportSummary>(const RecordSink&)>& parse) {
    size_t chunks = 0, records = 0, largest = 0;
    uint8_t x = 0;
    auto result = parse([&](std::vector<EntryRecord>& chunk) {
      ++chunks;
      records += chunk.size();
      largest = std::max(largest, chunk.size());
      for (const EntryRecord& r : chunk) x ^= uint8_t(r.key[0]) ^ uint8_t(r.key[63]);
      return Status::Ok();  // the chunk is dropped: nothing accumulates
    });
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(records, kLines);
    EXPECT_EQ(result->emitted, kLines);
    EXPECT_EQ(result->per_signal[size_t(SignalType::kPdq)], kLines);
    EXPECT_EQ(result->lines, kLines + kLines / 100'000);
    EXPECT_EQ(largest, kChunk);
    EXPECT_EQ(chunks, (kLines + kChunk - 1) / kChunk);
    EXPECT_EQ(x, xor_);
  }

  static ImportOptions Options() {
    ImportOptions o;
    o.format = ListFormat::kPlain;
    o.signal = SignalType::kPdq;
    o.limits.chunk_records = kChunk;
    return o;
  }

  static fs::path path_;
  static uint8_t xor_;
};
fs::path StreamingTest::path_;
uint8_t StreamingTest::xor_ = 0;

TEST_F(StreamingTest, FileInBoundedChunks) {
  Check([](const RecordSink& sink) { return ImportFile(path_, Options(), sink); });
}

TEST_F(StreamingTest, StreamInBoundedChunks) {
  Check([](const RecordSink& sink) {
    std::ifstream in(path_, std::ios::binary);
    return ImportStream(in, path_.string(), Options(), sink);
  });
}

// A bad line near the end fails the whole parse, after earlier chunks were delivered: the caller
// must stage chunks and apply them only on success.
TEST_F(StreamingTest, LateErrorFailsTheWholeParse) {
  const fs::path bad = path_.string() + ".bad";
  fs::copy_file(path_, bad, fs::copy_options::overwrite_existing);
  {
    std::ofstream out(bad, std::ios::app);
    out << "not-a-hash\n";
  }
  size_t delivered = 0;
  auto r = ImportFile(bad, Options(), [&](std::vector<EntryRecord>& c) {
    delivered += c.size();
    return Status::Ok();
  });
  fs::remove(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(":" + std::to_string(kLines + kLines / 100'000 + 1) + ": "),
            std::string::npos)
      << r.status().ToString();
  EXPECT_GT(delivered, 0u);
}

}  // namespace
}  // namespace hashmatch

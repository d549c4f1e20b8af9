// The log framing and recovery from damaged logs: a torn tail (a log cut at any byte of its last
// record, or ending in zeros) is dropped silently and reported; a damaged record with good records
// after it is refused with a message naming the file and the record's offset.
#include <gtest/gtest.h>

#include <fstream>

#include "log_reader.h"
#include "log_writer.h"
#include "manifest.h"
#include "store_test_util.h"

namespace hashmatch {
namespace {

using store::LogReader;
using store::LogWriter;
using store::RecordType;
using testing::RandomCode;
using testing::Rec;
using testing::TempDir;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteFile(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), std::streamsize(data.size()));
}

// Writes records of the given sizes to a file and returns its bytes and each record's offset.
std::string Framed(const std::vector<size_t>& sizes, std::vector<uint64_t>* offsets) {
  TempDir dir("log");
  const auto p = dir.path() / "x.log";
  std::unique_ptr<WritableFile> f;
  EXPECT_TRUE(Env::Default()->NewWritableFile(p, &f).ok());
  LogWriter w(std::move(f));
  for (size_t i = 0; i < sizes.size(); ++i) {
    offsets->push_back(w.Size());
    EXPECT_TRUE(w.AddRecord(RecordType::kTxn, std::string(sizes[i], char('a' + i))).ok());
  }
  EXPECT_TRUE(w.Close().ok());
  return ReadFile(p);
}

struct ReadResult {
  std::vector<std::string> records;
  bool torn = false;
  Status status;
  uint64_t valid_end = 0;
};
ReadResult ReadAll(const std::string& data) {
  ReadResult r;
  LogReader reader(data, "x.log");
  RecordType t;
  std::string_view p;
  for (;;) {
    const auto n = reader.Read(&t, &p);
    if (n == LogReader::Next::kRecord) {
      r.records.emplace_back(p);
      continue;
    }
    if (n == LogReader::Next::kError) r.status = reader.status();
    break;
  }
  r.torn = reader.torn_tail();
  r.valid_end = reader.valid_end();
  return r;
}

TEST(LogFormat, RoundTripAndTornTailAtEveryByte) {
  std::vector<uint64_t> off;
  const std::string data = Framed({10, 0, 300, 5000, 7}, &off);
  ReadResult all = ReadAll(data);
  ASSERT_TRUE(all.status.ok());
  ASSERT_EQ(all.records.size(), 5u);
  EXPECT_EQ(all.records[3], std::string(5000, 'd'));
  EXPECT_FALSE(all.torn);
  // Cut anywhere inside the last two records: the complete ones survive, no error.
  for (size_t cut = off[3]; cut < data.size(); ++cut) {
    ReadResult r = ReadAll(data.substr(0, cut));
    ASSERT_TRUE(r.status.ok()) << cut;
    EXPECT_EQ(r.records.size(), cut < off[4] ? 3u : 4u) << cut;
    EXPECT_EQ(r.torn, cut != off[3] && cut != off[4]) << cut;
  }
  // Zeros after the last record (space allocated, never written): a torn tail.
  ReadResult z = ReadAll(data + std::string(4096, '\0'));
  EXPECT_TRUE(z.status.ok());
  EXPECT_EQ(z.records.size(), 5u);
  EXPECT_TRUE(z.torn);
  EXPECT_EQ(z.valid_end, data.size());
}

TEST(LogFormat, DamageInTheMiddleIsCorruptionAtItsOffset) {
  std::vector<uint64_t> off;
  const std::string data = Framed({10, 300, 5000, 7}, &off);
  // Flip one bit in every byte of record 1 (header and payload), one at a time.
  for (uint64_t at = off[1]; at < off[2]; at += 7) {
    std::string bad = data;
    bad[at] ^= 0x10;
    ReadResult r = ReadAll(bad);
    ASSERT_FALSE(r.status.ok()) << at;
    EXPECT_EQ(r.status.code(), StatusCode::kCorruption);
    EXPECT_NE(r.status.message().find("x.log"), std::string::npos);
    EXPECT_NE(r.status.message().find(testing::Str("offset ", off[1])), std::string::npos)
        << r.status.message();
    EXPECT_EQ(r.records.size(), 1u);
  }
  // A zeroed header in the middle is not a tail either.
  std::string zeroed = data;
  std::fill(zeroed.begin() + long(off[2]), zeroed.begin() + long(off[2]) + 16, '\0');
  EXPECT_EQ(ReadAll(zeroed).status.code(), StatusCode::kCorruption);
  // Damage in the last record reads as a torn tail: indistinguishable from a crash mid-write.
  std::string last = data;
  last[off[3] + 20] ^= 1;
  ReadResult r = ReadAll(last);
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(r.torn);
  EXPECT_EQ(r.records.size(), 3u);
}

// A store with three committed pages; returns the log's path and each transaction's offset.
std::filesystem::path ThreePages(const std::filesystem::path& dir, std::string* dump_two,
                                 std::string* dump_three) {
  StoreOptions o;
  o.create_if_missing = true;
  auto store = HashSetStore::Open(dir, o).value();
  EXPECT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  for (int p = 0; p < 3; ++p) {
    ImportPage page;
    for (int i = 0; i < 100; ++i) {
      page.records.push_back(
          Rec(testing::Str("p", p, "-", i), RandomCode(32, uint64_t(p), uint64_t(i))));
    }
    page.checkpoint = Checkpoint{testing::Str("cp", p)};
    EXPECT_TRUE(store->ApplyPage("S", page).ok());
    if (p == 1) *dump_two = testing::Dump(*store->GetSnapshot());
  }
  *dump_three = testing::Dump(*store->GetSnapshot());
  return dir / store::LogFileName(1);
}

TEST(StoreRecovery, TruncatedLogLosesOnlyTheTornTransaction) {
  TempDir dir;
  std::string two, three;
  const auto log = ThreePages(dir.path(), &two, &three);
  const std::string data = ReadFile(log);
  // The last record starts after the other four (header, create, two pages): find it by reading.
  std::vector<uint64_t> offsets;
  {
    LogReader r(data, "log");
    RecordType t;
    std::string_view p;
    while (r.Read(&t, &p) == LogReader::Next::kRecord) offsets.push_back(r.record_offset());
  }
  ASSERT_EQ(offsets.size(), 5u);
  const uint64_t last = offsets[4];
  for (uint64_t cut : {last + 1, last + 15, last + 16, last + 100, uint64_t(data.size() - 1)}) {
    WriteFile(log, data.substr(0, cut));
    auto store = HashSetStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(testing::Dump(*store.value()->GetSnapshot()), two) << cut;
    const RecoveryInfo& ri = store.value()->recovery();
    EXPECT_TRUE(ri.torn_tail);
    EXPECT_EQ(ri.torn_tail_offset, last);
    EXPECT_EQ(ri.torn_tail_file, store::LogFileName(1));
    // The tail was cut: a new commit follows the last good record and survives a reopen.
    ImportPage page;
    page.records = {Rec("after", RandomCode(32, 99, 1))};
    ASSERT_TRUE(store.value()->ApplyPage("S", page).ok());
    store = Status::Internal("closed");
    auto again = HashSetStore::Open(dir.path());
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_FALSE(again.value()->recovery().torn_tail);
    EXPECT_TRUE(again.value()->GetSnapshot()->GetEntry("S", "after").ok());
    again = Status::Internal("closed");
  }
  WriteFile(log, data);
  auto store = HashSetStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(testing::Dump(*store.value()->GetSnapshot()), three);
}

TEST(StoreRecovery, BitFlipInTheMiddleIsRefusedNamingFileAndOffset) {
  TempDir dir;
  std::string two, three;
  const auto log = ThreePages(dir.path(), &two, &three);
  const std::string data = ReadFile(log);
  std::vector<uint64_t> offsets;
  {
    LogReader r(data, "log");
    RecordType t;
    std::string_view p;
    while (r.Read(&t, &p) == LogReader::Next::kRecord) offsets.push_back(r.record_offset());
  }
  for (uint64_t at : {offsets[2] + 3, offsets[2] + 40, offsets[3] - 1}) {
    std::string bad = data;
    bad[at] ^= 0x04;
    WriteFile(log, bad);
    auto store = HashSetStore::Open(dir.path());
    ASSERT_FALSE(store.ok()) << at;
    EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
    const std::string& m = store.status().message();
    EXPECT_NE(m.find("000001.log"), std::string::npos) << m;
    EXPECT_NE(m.find(testing::Str("offset ", offsets[2])), std::string::npos) << m;
  }
  // Nothing was changed by the refused opens: the intact log still opens whole.
  WriteFile(log, data);
  auto store = HashSetStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(testing::Dump(*store.value()->GetSnapshot()), three);
}

TEST(StoreRecovery, DamagedSnapshotOrManifestIsRefused) {
  TempDir dir;
  {
    StoreOptions o;
    o.create_if_missing = true;
    auto store = HashSetStore::Open(dir.path(), o).value();
    ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
    ImportPage page;
    for (int i = 0; i < 100; ++i)
      page.records.push_back(Rec(testing::Str("k", i), RandomCode(32, 1, i)));
    ASSERT_TRUE(store->ApplyPage("S", page).ok());
    ASSERT_TRUE(store->WriteSnapshot().ok());
  }
  std::filesystem::path snap;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".snap") snap = e.path();
  }
  ASSERT_FALSE(snap.empty());
  const std::string data = ReadFile(snap);
  std::string bad = data;
  bad[100] ^= 1;  // inside the codes column
  WriteFile(snap, bad);
  auto store = HashSetStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_NE(store.status().message().find(snap.filename().string()), std::string::npos)
      << store.status().message();
  WriteFile(snap, data);
  ASSERT_TRUE(HashSetStore::Open(dir.path()).ok());
}

}  // namespace
}  // namespace hashmatch

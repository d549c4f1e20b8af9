// Every sample list in ../shared/hashlists gives what its README says, and every file in bad/ is
// refused with an error naming the file and the line or record. Results that depend on applying
// pages in order are checked on SetModel (import_test_util.h), which stands in for the store.
#include <gtest/gtest.h>

#include <set>

#include "../test_util.h"
#include "import_test_util.h"

namespace hashmatch {
namespace {

namespace fs = std::filesystem;
using testing::Collected;
using testing::CollectFile;
using testing::PrintTally;
using testing::SetModel;
using testing::SharedDir;
using testing::WithFormat;

const fs::path kLists = "hashlists";

fs::path List(const std::string& name) {
  return SharedDir() / kLists / name;
}

// Counts the expectations checked and met, for the tally line.
struct Tally {
  size_t total = 0, passed = 0;
  void Check(bool ok, const std::string& what) {
    ++total;
    passed += ok;
    EXPECT_TRUE(ok) << what;
  }
};
Tally g_tally;

// The format detected from each sample's name and content must be the one its README names.
TEST(ImportSamples, DetectsEveryFormat) {
  HM_REQUIRE_SHARED(kLists / "README.md");
  const std::vector<std::pair<std::string, ListFormat>> want = {
      {"plain-pdq.txt", ListFormat::kPlain},
      {"pytx-local.txt", ListFormat::kPytx},
      {"generic.csv", ListFormat::kCsv},
      {"simple.PDQ.te", ListFormat::kTeCsv},
      {"ncmec-entries-page1.xml", ListFormat::kNcmecXml},
      {"stopncii-page1.json", ListFormat::kStopNciiJson},
  };
  for (const auto& [name, format] : want) {
    auto got = DetectListFormatOfFile(List(name));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    g_tally.Check(*got == format, name + " detected as " + std::string(ListFormatName(*got)));
  }
}

TEST(ImportSamples, PlainPdq) {
  HM_REQUIRE_SHARED(kLists / "plain-pdq.txt");
  Collected c =
      CollectFile(List("plain-pdq.txt"), WithFormat(ListFormat::kPlain, SignalType::kPdq));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  g_tally.Check(c.records.size() == 40, "plain-pdq.txt: 40 entries");
  g_tally.Check(c.summary.per_signal[size_t(SignalType::kPdq)] == 40, "plain: 40 pdq");
  g_tally.Check(c.summary.lines == 41, "plain: 41 lines read");
  g_tally.Check(
      c.records[0].key == "0dad2599b1a1bd1a5362576742da32a5e63b7380c2374b4866b366c91bc9ce77" &&
          c.records[0].code.size() == 32 && c.records[0].code[0] == 0x0d &&
          c.records[0].source_ref.ends_with("plain-pdq.txt:2"),
      "plain: first entry keyed by its hex, bytes in hex order, line 2");
  // Without a type, 64 hex digits are ambiguous (pdq or sha256) and the file is refused.
  Collected amb = CollectFile(List("plain-pdq.txt"), WithFormat(ListFormat::kPlain));
  g_tally.Check(!amb.status.ok() && amb.status.message().find("pdq or sha256") != std::string::npos,
                "plain without a type: " + amb.status.ToString());
}

TEST(ImportSamples, PytxLocal) {
  HM_REQUIRE_SHARED(kLists / "pytx-local.txt");
  Collected c = CollectFile(List("pytx-local.txt"), ImportOptions{});
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  g_tally.Check(c.summary.per_signal[size_t(SignalType::kPdq)] == 10, "pytx: 10 pdq");
  g_tally.Check(c.summary.per_signal[size_t(SignalType::kMd5)] == 5, "pytx: 5 md5");
  g_tally.Check(c.records.size() == 15, "pytx: 15 records");
  // As a filter, the type keeps one kind.
  Collected pdq =
      CollectFile(List("pytx-local.txt"), WithFormat(ListFormat::kPytx, SignalType::kPdq));
  g_tally.Check(pdq.status.ok() && pdq.records.size() == 10 && pdq.summary.filtered == 5,
                "pytx filtered to pdq: 10 kept, 5 filtered");
}

TEST(ImportSamples, GenericCsv) {
  HM_REQUIRE_SHARED(kLists / "generic.csv");
  Collected c = CollectFile(List("generic.csv"), ImportOptions{});
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  g_tally.Check(c.records.size() == 40 && c.summary.per_signal[0] == 40, "csv: 40 pdq entries");
  bool all = true;
  for (const EntryRecord& r : c.records) {
    all &= r.key.starts_with("item-") && !r.classification.empty() && r.tags.size() == 2 &&
           r.tags[1] == "shared";
  }
  g_tally.Check(all, "csv: each with its id, category and two tags");
  const EntryRecord& first = c.records[0];
  g_tally.Check(first.key == "item-0000" && first.classification == "B2" &&
                    first.tags == std::vector<std::string>{"tag0", "shared"} &&
                    first.source_ref.ends_with("generic.csv:2"),
                "csv: item-0000 is B2 with tags tag0, shared");
}

TEST(ImportSamples, ThreatExchangeCsv) {
  HM_REQUIRE_SHARED(kLists / "simple.PDQ.te");
  Collected c = CollectFile(List("simple.PDQ.te"), ImportOptions{});
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  g_tally.Check(c.records.size() == 15 && c.summary.per_signal[0] == 15, "te: 15 pdq entries");
  const EntryRecord& first = c.records[0];
  g_tally.Check(first.key == "1000000000" && first.source_time == 1704880800 &&
                    first.tags == std::vector<std::string>{"media_type_photo", "collab_0"},
                "te: descriptor id, time 2024-01-10T10:00:00+0000 and labels");
  bool all = true;
  for (const EntryRecord& r : c.records) all &= r.source_time > 0 && r.tags.size() == 2;
  g_tally.Check(all, "te: every entry has a time and labels");
}

// After page 1 then page 2 (and, since the later timestamp wins, also in the other order).
TEST(ImportSamples, NcmecPages) {
  HM_REQUIRE_SHARED(kLists / "ncmec-entries-page1.xml");
  Collected p1 = CollectFile(List("ncmec-entries-page1.xml"), ImportOptions{});
  Collected p2 = CollectFile(List("ncmec-entries-page2.xml"), ImportOptions{});
  ASSERT_TRUE(p1.status.ok()) << p1.status.ToString();
  ASSERT_TRUE(p2.status.ok()) << p2.status.ToString();
  g_tally.Check(p1.summary.source_records == 6 && p2.summary.source_records == 4,
                "ncmec: 6 entries in page 1, 4 in page 2");
  g_tally.Check(p1.summary.checkpoint.has_value() &&
                    p1.summary.checkpoint->value.find("start=7&size=6") != std::string::npos &&
                    p1.summary.checkpoint->value.find("2026-10-02T12:00:05Z") != std::string::npos,
                "ncmec: page 1 checkpoint holds paging/next and the max timestamp: " +
                    p1.summary.checkpoint.value_or(Checkpoint{}).value);
  g_tally.Check(p2.summary.checkpoint.has_value() &&
                    p2.summary.checkpoint->value.find("\"next\":\"\"") != std::string::npos,
                "ncmec: page 2 has no next link");

  for (bool reversed : {false, true}) {
    SCOPED_TRACE(reversed ? "page 2 then page 1" : "page 1 then page 2");
    SetModel set;
    set.Apply(reversed ? p2.records : p1.records);
    set.Apply(reversed ? p1.records : p2.records);
    std::set<std::string> pdq;
    for (const auto& [k, r] : set.live())
      if (r.signal == SignalType::kPdq) pdq.insert(k);
    g_tally.Check(pdq == std::set<std::string>{"42:img0:pdq", "42:img1:pdq", "42:img3:pdq",
                                               "42:img4:pdq", "42:img5:pdq", "77:img1:pdq"},
                  "ncmec: 6 live image entries with a PDQ");
    const EntryRecord* img1 = set.Find("42:img1:pdq");
    g_tally.Check(img1 != nullptr && img1->classification == "A2" &&
                      EncodeHex(img1->code) ==
                          "68b49734b70da03b466b3aa827a0018ae973d4d0d37e67494087c813f045f6e0",
                  "ncmec: 42/img1 has the page-2 PDQ and classification A2");
    g_tally.Check(set.Find("42:img1:sha1") == nullptr,
                  "ncmec: 42/img1's sha1, absent from its page-2 version, is gone");
    bool img2_gone = true;
    for (const char* k : {"42:img2:pdq", "42:img2:md5", "42:img2:sha1"})
      img2_gone &= set.Find(k) == nullptr;
    g_tally.Check(img2_gone, "ncmec: 42/img2 deleted");
    size_t video_md5 = 0;
    for (const auto& [k, r] : set.live()) {
      video_md5 += r.signal == SignalType::kMd5 &&
                   std::find(r.tags.begin(), r.tags.end(), "video") != r.tags.end();
    }
    g_tally.Check(video_md5 == 1 && set.Find("42:vid1:md5") != nullptr,
                  "ncmec: 1 video entry with an MD5");
  }
  // The sync of a PDQ set reads only the pdq records.
  Collected pdq_only = CollectFile(List("ncmec-entries-page2.xml"),
                                   WithFormat(ListFormat::kNcmecXml, SignalType::kPdq));
  bool only = pdq_only.status.ok() && !pdq_only.records.empty();
  for (const EntryRecord& r : pdq_only.records) only &= r.signal == SignalType::kPdq;
  g_tally.Check(only, "ncmec: filtered to pdq");
}

TEST(ImportSamples, StopNciiPages) {
  HM_REQUIRE_SHARED(kLists / "stopncii-page1.json");
  Collected p1 = CollectFile(List("stopncii-page1.json"), ImportOptions{});
  Collected p2 = CollectFile(List("stopncii-page2.json"), ImportOptions{});
  ASSERT_TRUE(p1.status.ok()) << p1.status.ToString();
  ASSERT_TRUE(p2.status.ok()) << p2.status.ToString();
  g_tally.Check(
      p1.summary.checkpoint &&
          p1.summary.checkpoint->value ==
              R"({"hasMoreRecords":true,"nextPageToken":"tok-2","nextSetTimestamp":1790000010})",
      "stopncii: page 1 checkpoint " + p1.summary.checkpoint.value_or(Checkpoint{}).value);
  g_tally.Check(
      p2.summary.checkpoint && p2.summary.checkpoint->value.find("\"tok-3\"") != std::string::npos,
      "stopncii: page 2 checkpoint");
  SetModel set;
  set.Apply(p1.records);
  set.Apply(p2.records);
  g_tally.Check(set.Count(SignalType::kPdq, /*matchable_only=*/true) == 4,
                "stopncii: 4 matchable PDQ entries");
  const EntryRecord* withdrawn =
      set.Find("ImagePDQ:7cbdd8d71463b16dadaab2c3504c2658234fbb23dcf91c3118a0e3334436a18f");
  g_tally.Check(
      withdrawn != nullptr && !withdrawn->matchable && withdrawn->source_time == 1790000100,
      "stopncii: the Withdrawn record is kept, not matchable");
  g_tally.Check(set.Count(SignalType::kMd5) == 1 &&
                    set.Find("VideoMD5:290b147eb2e82bcb5a3793feb6f8d06a") != nullptr,
                "stopncii: 1 video MD5");
  const EntryRecord* fb =
      set.Find("ImagePDQ:5009f30d9ba83d9c17c497dc0311b3b03e98c4f640e1ec969f1c9935719f9212");
  g_tally.Check(
      fb != nullptr && fb->tags == std::vector<std::string>{"case:case-9",
                                                            "csp:ExamplePlatform:Blocked", "Nude"},
      "stopncii: case numbers and CSP feedback become tags");
  // Applying the same page twice changes nothing.
  SetModel again = set;
  again.Apply(p2.records);
  g_tally.Check(again.live().size() == set.live().size(), "stopncii: page 2 twice is idempotent");
}

struct BadCase {
  std::string file;
  ListFormat format;
  std::string where;   // "<file>:<line>:" the message must contain
  std::string reason;  // a fragment of the reason
};

TEST(ImportSamples, BadFilesAreRefused) {
  HM_REQUIRE_SHARED(kLists / "bad");
  const std::vector<BadCase> cases = {
      {"binary.txt", ListFormat::kPlain, "binary.txt:1:", "hex digits"},
      {"csv-missing-column.csv", ListFormat::kCsv,
       "csv-missing-column.csv:2:", "expected 3 fields as in the header, got 2"},
      {"long-hex.txt", ListFormat::kPlain, "long-hex.txt:1:", "expected 64 hex digits, got 65"},
      {"non-hex.txt", ListFormat::kPlain, "non-hex.txt:2:", "invalid hex character 'z'"},
      {"short-hex.txt", ListFormat::kPlain, "short-hex.txt:2:", "expected 64 hex digits, got 63"},
      {"truncated.xml", ListFormat::kNcmecXml, "truncated.xml:", "XML error"},
      {"wrong-type.json", ListFormat::kStopNciiJson,
       "wrong-type.json:1:", "count: expected an integer, got a string"},
  };
  std::set<std::string> covered;
  for (const BadCase& bc : cases) {
    SCOPED_TRACE(bc.file);
    covered.insert(bc.file);
    // The model is only touched when the whole file parsed: a failed parse applies nothing.
    SetModel set;
    Collected c = CollectFile(SharedDir() / kLists / "bad" / bc.file,
                              WithFormat(bc.format, SignalType::kPdq));
    if (c.status.ok()) set.Apply(c.records);
    const std::string& m = c.status.message();
    g_tally.Check(!c.status.ok() && m.find(bc.where) != std::string::npos &&
                      m.find(bc.reason) != std::string::npos && set.live().empty(),
                  bc.file + " refused naming file, line and reason: " + c.status.ToString());
    // Detection on its own (no format) refuses it too, naming the file.
    Collected d = CollectFile(SharedDir() / kLists / "bad" / bc.file,
                              ImportOptions{.signal = SignalType::kPdq});
    g_tally.Check(!d.status.ok() && d.status.message().find(bc.file) != std::string::npos,
                  bc.file + " refused without a format: " + d.status.ToString());
  }
  // Every file in bad/ has a case here.
  for (const auto& entry : fs::directory_iterator(SharedDir() / kLists / "bad"))
    g_tally.Check(covered.count(entry.path().filename().string()) == 1,
                  "bad/" + entry.path().filename().string() + " is covered");
}

TEST(ImportSamples, ZTally) {
  PrintTally("hashlists samples", g_tally.passed, g_tally.total, "expectations met");
  EXPECT_EQ(g_tally.passed, g_tally.total);
}

}  // namespace
}  // namespace hashmatch

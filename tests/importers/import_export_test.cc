// The CSV exporter round-trips through the csv importer: records written and read back are the
// same (source_ref aside), for made-up awkward records and for every sample list; what cannot
// round-trip is refused at export time.
#include <gtest/gtest.h>

#include <sstream>

#include "../test_util.h"
#include "import_test_util.h"

namespace hashmatch {
namespace {

using testing::CollectBytes;
using testing::Collected;
using testing::SameRecord;

EntryRecord Make(std::string key, SignalType s, uint8_t fill) {
  EntryRecord r;
  r.key = std::move(key);
  r.signal = s;
  r.code.assign(GetSignalInfo(s).code_bytes, fill);
  return r;
}

// Exports `in`, imports the text back with the default mapping, and compares.
void RoundTrip(const std::vector<EntryRecord>& in, CsvExportOptions eopt = {}) {
  std::ostringstream out;
  CsvExporter ex(out, eopt);
  for (const EntryRecord& r : in) ASSERT_TRUE(ex.Write(r).ok()) << r.key;
  ASSERT_TRUE(ex.Finish().ok());
  EXPECT_EQ(ex.rows(), in.size());
  ImportOptions iopt;
  iopt.csv.tag_separator = eopt.tag_separator == ' ' ? 0 : eopt.tag_separator;
  Collected back = CollectBytes(out.str(), "export.csv", iopt);
  ASSERT_TRUE(back.status.ok()) << back.status.ToString() << "\n" << out.str();
  ASSERT_EQ(back.records.size(), in.size()) << out.str();
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_TRUE(SameRecord(in[i], back.records[i])) << "record " << i << " (" << in[i].key << ")\n"
                                                    << out.str();
  }
}

TEST(CsvExport, AwkwardRecordsRoundTrip) {
  std::vector<EntryRecord> v;
  EntryRecord a = Make("42:img1:pdq", SignalType::kPdq, 0xab);
  a.classification = "A1";
  a.tags = {"image", "case:7"};
  a.source_time = 1790942405;
  v.push_back(a);
  EntryRecord b = Make("id, with \"quotes\" and commas", SignalType::kMd5, 0x01);
  b.classification = "  spaced, multi\nline \"class\"  ";
  b.tags = {"t\"q", "t,c", "ünï"};
  b.matchable = false;
  b.source_time = -86400 * 365;  // before 1970
  v.push_back(b);
  EntryRecord c = Make(" leading and trailing ", SignalType::kSha256, 0xff);
  c.source_time = 300000000000;  // past year 9999: written as seconds
  v.push_back(c);
  for (SignalType s : {SignalType::kAHash64, SignalType::kDHash64, SignalType::kPHash64,
                       SignalType::kWHash64, SignalType::kSha1}) {
    v.push_back(Make(std::string(GetSignalInfo(s).name) + "-key", s, 0x5a));
  }
  RoundTrip(v);
  RoundTrip({});  // header only
}

TEST(CsvExport, CustomTagSeparator) {
  EntryRecord a = Make("k", SignalType::kPdq, 1);
  a.tags = {"two words", "x"};
  std::ostringstream out;
  EXPECT_FALSE(CsvExporter(out).Write(a).ok()) << "a space in a tag needs another separator";
  RoundTrip({a}, CsvExportOptions{.tag_separator = '|'});
}

TEST(CsvExport, RefusesWhatCannotRoundTrip) {
  std::ostringstream out;
  CsvExporter ex(out);
  EntryRecord dead = Make("gone", SignalType::kPdq, 0);
  dead.deleted = true;
  dead.code.clear();
  EXPECT_EQ(ex.Write(dead).message(),
            "export: entry 'gone': is a tombstone; only live entries are exported");
  EntryRecord shortc = Make("short", SignalType::kPdq, 0);
  shortc.code.resize(31);
  EXPECT_EQ(ex.Write(shortc).message(), "export: entry 'short': code has 31 bytes, pdq needs 32");
  EXPECT_EQ(ex.Write(Make("a\nb", SignalType::kMd5, 0)).message(),
            "export: entry 'a\\x0ab': key contains control character 0x0a");
  EXPECT_FALSE(ex.Write(Make("", SignalType::kMd5, 0)).ok());
  EntryRecord tag = Make("t", SignalType::kMd5, 0);
  tag.tags = {""};
  EXPECT_FALSE(ex.Write(tag).ok());
  tag.tags = {"\xff"};
  EXPECT_FALSE(ex.Write(tag).ok());
  EXPECT_EQ(ex.rows(), 0u);
  EXPECT_TRUE(ex.Finish().ok());
  EXPECT_EQ(out.str(), std::string(kCsvExportHeader) + "\n");
}

// Every sample list, exported and read back, gives the same records.
TEST(CsvExport, SamplesRoundTrip) {
  HM_REQUIRE_SHARED("hashlists/README.md");
  size_t lists = 0;
  for (const char* name : {"plain-pdq.txt", "pytx-local.txt", "generic.csv", "simple.PDQ.te",
                           "ncmec-entries-page1.xml", "ncmec-entries-page2.xml",
                           "stopncii-page1.json", "stopncii-page2.json"}) {
    SCOPED_TRACE(name);
    ImportOptions opt;
    if (std::string(name) == "plain-pdq.txt") opt.signal = SignalType::kPdq;
    Collected c = testing::CollectFile(testing::SharedDir() / "hashlists" / name, opt);
    ASSERT_TRUE(c.status.ok()) << c.status.ToString();
    std::vector<EntryRecord> live;
    for (EntryRecord& r : c.records)
      if (!r.deleted) live.push_back(r);
    RoundTrip(live);
    ++lists;
  }
  testing::PrintTally("export round trip", lists, 8, "sample lists read back identically");
}

}  // namespace
}  // namespace hashmatch

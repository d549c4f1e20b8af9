// Edge cases of the line and CSV formats (plain, pytx, csv, tsv, te-csv), format names and
// detection, limits, chunking and sink errors.
#include <gtest/gtest.h>

#include "import_test_util.h"

namespace hashmatch {
namespace {

using testing::CollectBytes;
using testing::Collected;
using testing::WithFormat;

const std::string kPdqA = "0dad2599b1a1bd1a5362576742da32a5e63b7380c2374b4866b366c91bc9ce77";
const std::string kPdqB = "1049d96239e24d4dca2c55512b8bdb77425f4dbcf575a0a95555aaab5554aaaa";
const std::string kMd5 = "3fabfc8ad1d0b6cd4930177ecea534df";
const std::string kSha1 = "d489afbb1bfa398f4738c92dcb257b7e45796c00";

bool Contains(const Status& s, const std::string& fragment) {
  return s.message().find(fragment) != std::string::npos;
}

TEST(PlainImport, CrlfBomCommentsBlanksAndTrimming) {
  std::string upper = kPdqB;
  for (char& c : upper) c = char(std::toupper(c));
  const std::string text = "\xEF\xBB\xBF" + kPdqA + "\r\n# comment\r\n\r\n   \t\r\n  " + upper +
                           "  \r\n\t# indented comment\n" + kPdqA;  // no final newline
  Collected c = CollectBytes(text, "list.txt", WithFormat(ListFormat::kPlain, SignalType::kPdq));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[0].key, kPdqA);
  EXPECT_EQ(c.records[1].key, kPdqB) << "keys are lower-case hex";
  EXPECT_EQ(testing::Hex(c.records[1]), kPdqB);
  EXPECT_EQ(c.records[1].source_ref, "list.txt:5");
  EXPECT_EQ(c.records[2].source_ref, "list.txt:7");
  EXPECT_EQ(c.summary.lines, 7u);
  EXPECT_EQ(c.summary.source_records, 3u);
  // File formats are not de-duplicated: the store sees both records for kPdqA.
  EXPECT_EQ(c.records[2].key, c.records[0].key);
}

TEST(PlainImport, EmptyAndCommentOnlyFiles) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "\xEF\xBB\xBF"}) {
    Collected c = CollectBytes(text, "empty.txt", WithFormat(ListFormat::kPlain, SignalType::kPdq));
    ASSERT_TRUE(c.status.ok()) << c.status.ToString();
    EXPECT_TRUE(c.records.empty());
    EXPECT_EQ(c.chunks, 0u) << "no empty chunk is delivered";
  }
  // Detection of an empty input is harmless: nothing to import.
  Collected d = CollectBytes("", "empty", ImportOptions{});
  EXPECT_TRUE(d.status.ok()) << d.status.ToString();
}

TEST(PlainImport, InfersOnlyUnambiguousLengths) {
  Collected c =
      CollectBytes(kMd5 + "\n" + kSha1 + "\n", "digests.txt", WithFormat(ListFormat::kPlain));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0].signal, SignalType::kMd5);
  EXPECT_EQ(c.records[1].signal, SignalType::kSha1);
  Collected amb =
      CollectBytes(kMd5 + "\n0123456789abcdef\n", "h64.txt", WithFormat(ListFormat::kPlain));
  EXPECT_FALSE(amb.status.ok());
  EXPECT_TRUE(Contains(amb.status, "h64.txt:2: cannot tell the signal type of 16 hex digits"))
      << amb.status.ToString();
  Collected none = CollectBytes("abc\n", "x.txt", WithFormat(ListFormat::kPlain));
  EXPECT_TRUE(Contains(none.status, "x.txt:1: no signal type has 3 hex digits"))
      << none.status.ToString();
}

TEST(PlainImport, WrongLengthAndNonHexNameTheLine) {
  const auto opt = WithFormat(ListFormat::kPlain, SignalType::kPdq);
  Collected s = CollectBytes(kPdqA + "\n" + kPdqA.substr(1) + "\n", "l.txt", opt);
  EXPECT_EQ(s.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status.message(), "l.txt:2: expected 64 hex digits, got 63");
  std::string bad = kPdqA;
  bad[10] = 'g';
  Collected g = CollectBytes("\n" + bad, "l.txt", opt);
  EXPECT_EQ(g.status.message(), "l.txt:2: invalid hex character 'g' (0x67) at position 10");
  Collected trailing = CollectBytes(kPdqA + " # note\n", "l.txt", opt);
  EXPECT_TRUE(Contains(trailing.status, "l.txt:1: expected 64 hex digits"))
      << trailing.status.ToString();
  Collected md5_in_pdq = CollectBytes(kMd5 + "\n", "l.txt", opt);
  EXPECT_TRUE(Contains(md5_in_pdq.status, "got 32"));
}

TEST(PlainImport, LineOverTheLimit) {
  ImportOptions opt = WithFormat(ListFormat::kPlain, SignalType::kPdq);
  opt.limits.max_line_bytes = 100;
  const std::string text = kPdqA + "\n" + std::string(5000, 'a') + "\n" + kPdqA + "\n";
  Collected c = CollectBytes(text, "big.txt", opt);
  EXPECT_EQ(c.status.code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(Contains(c.status, "big.txt:2: line")) << c.status.ToString();
  EXPECT_TRUE(Contains(c.status, "max_line_bytes"));
  // A line longer than the 1 MiB read block with the default limit, and no newline at all.
  Collected huge = CollectBytes(std::string(3 << 20, 'a'), "huge.txt",
                                WithFormat(ListFormat::kPlain, SignalType::kPdq));
  EXPECT_EQ(huge.status.code(), StatusCode::kOutOfRange) << huge.status.ToString();
  EXPECT_TRUE(Contains(huge.status, "huge.txt:1:"));
}

TEST(PlainImport, ChunksAndSinkErrors) {
  ImportOptions opt = WithFormat(ListFormat::kPlain, SignalType::kPdq);
  opt.limits.chunk_records = 3;
  std::string text;
  for (int i = 0; i < 10; ++i) text += kPdqA + "\n";
  std::vector<size_t> sizes;
  auto r = ImportBytes(text, "c.txt", opt, [&](std::vector<EntryRecord>& chunk) {
    sizes.push_back(chunk.size());
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 3, 1}));
  EXPECT_EQ(r->emitted, 10u);
  // A sink error stops the parse and comes back as it is.
  int calls = 0;
  auto e = ImportBytes(text, "c.txt", opt, [&](std::vector<EntryRecord>&) {
    return ++calls == 2 ? Status::IoError("disk full") : Status::Ok();
  });
  EXPECT_EQ(e.status(), Status::IoError("disk full"));
  EXPECT_EQ(calls, 2);
  // source_refs off.
  opt.source_refs = false;
  Collected c = CollectBytes(text, "c.txt", opt);
  EXPECT_TRUE(c.records[0].source_ref.empty());
}

TEST(PytxImport, TypesUnsupportedAndMalformed) {
  const std::string text = "# local file\npdq " + kPdqA + "\nvideo_md5 " + kMd5 +
                           "\nurl https://example.com/a b\nraw_text some words\nmd5   " + kMd5 +
                           "\r\n";
  Collected c = CollectBytes(text, "p.txt", WithFormat(ListFormat::kPytx));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.summary.unsupported, 2u);
  EXPECT_EQ(c.records[1].signal, SignalType::kMd5);
  Collected bad = CollectBytes("pdq " + kPdqA + "\npdq\n", "p.txt", WithFormat(ListFormat::kPytx));
  EXPECT_EQ(bad.status.message(), "p.txt:2: expected '<signal type> <value>'");
  Collected hex =
      CollectBytes("pdq " + kPdqA.substr(2) + "\n", "p.txt", WithFormat(ListFormat::kPytx));
  EXPECT_EQ(hex.status.message(), "p.txt:1: expected 64 hex digits, got 62");
}

TEST(CsvImport, QuotedFieldsBomCrlfAndLineNumbers) {
  const std::string text =
      "\xEF\xBB\xBF"
      "signal_type,hash,external_id,category,tags,notes\r\n"
      "pdq," +
      kPdqA +
      ",\"id,with,commas\",A1,\"t1 t2\",\"a \"\"quoted\"\" note\"\r\n"
      "pdq," +
      kPdqB +
      ",id-2,\"B\r\n2\",t3,\"line one\r\nline two\nline three\"\r\n"
      "\r\n"
      "md5," +
      kMd5 + ",id-3,,,plain\r\n";
  Collected c = CollectBytes(text, "q.csv", ImportOptions{});
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[0].key, "id,with,commas");
  EXPECT_EQ(c.records[0].tags, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(c.records[1].classification, "B\r\n2") << "quoted fields are kept verbatim";
  EXPECT_EQ(c.records[1].source_ref, "q.csv:3");
  EXPECT_EQ(c.records[2].source_ref, "q.csv:8") << "lines inside quotes are counted";
  EXPECT_EQ(c.records[2].signal, SignalType::kMd5);
  EXPECT_TRUE(c.records[2].tags.empty());
  EXPECT_EQ(c.summary.lines, 8u);
}

TEST(CsvImport, MappingTimesFlagsAndTsv) {
  ImportOptions opt = WithFormat(ListFormat::kTsv, SignalType::kPdq);
  opt.csv.key = "Ref";
  opt.csv.hash = "PDQ Hash";
  opt.csv.tags = "Labels";
  opt.csv.tag_separator = '|';
  const std::string text =
      "Ref\t PDQ Hash \tLabels\tupdated_at\tmatchable\tdeleted\n"
      "r1\t" +
      kPdqA +
      "\tnude | minor|\t2026-10-02T12:00:05.250+02:00\tno\t\n"
      "r2\t\t\t1790000000\t\ttrue\n";
  Collected c = CollectBytes(text, "m.tsv", opt);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0].key, "r1");
  EXPECT_EQ(c.records[0].tags, (std::vector<std::string>{"nude", "minor"}));
  EXPECT_EQ(c.records[0].source_time, 1790942405 - 7200);
  EXPECT_FALSE(c.records[0].matchable);
  EXPECT_TRUE(c.records[1].deleted);
  EXPECT_TRUE(c.records[1].code.empty());
  EXPECT_EQ(c.records[1].source_time, 1790000000);
  EXPECT_EQ(c.summary.tombstones, 1u);
}

TEST(CsvImport, HeaderAndRowErrors) {
  auto run = [](const std::string& text, ImportOptions opt = {}) {
    opt.format = ListFormat::kCsv;
    return CollectBytes(text, "e.csv", opt).status;
  };
  EXPECT_EQ(run("id,value2\nx,y\n").message(),
            "e.csv:1: header has no hash column (looked for hash, hash_value, value, indicator; "
            "set CsvMapping::hash)");
  ImportOptions keyed;
  keyed.csv.key = "uid";
  EXPECT_EQ(run("hash,id\n", keyed).message(),
            "e.csv:1: header has no column 'uid' (CsvMapping::key)");
  EXPECT_EQ(run("hash,HASH\n").message(), "e.csv:1: column 'hash' appears twice in the header");
  EXPECT_EQ(run("hash\n" + kMd5 + "\n\"" + kMd5 + "\n").message(),
            "e.csv:3: quoted field is never closed: the input ends inside it");
  EXPECT_EQ(run("hash,b\n\"" + kMd5 + "\"x,b\n").message(),
            "e.csv:2: unexpected 'x' after the closing quote of field 1");
  EXPECT_EQ(run("signal_type,hash\nsha3," + kMd5 + "\n").message(),
            "e.csv:2: unknown signal type 'sha3'");
  EXPECT_EQ(run("hash\n" + kPdqA + "\n").message(),
            "e.csv:2: cannot tell the signal type of 64 hex digits (pdq or sha256); give the "
            "signal type");
  EXPECT_EQ(run("hash,id\n" + kMd5 + ",\n").message(), "e.csv:2: empty key");
  EXPECT_EQ(run("hash,matchable\n" + kMd5 + ",maybe\n").message(),
            "e.csv:2: matchable: expected true or false, got 'maybe'");
  EXPECT_EQ(run("hash,time\n" + kMd5 + ",2026-13-01\n").message(),
            "e.csv:2: source_time: not a unix time or ISO 8601 time: '2026-13-01'");
  EXPECT_EQ(run("hash,id\n" + kMd5 +
                ",\"a\x01"
                "b\"\n")
                .message(),
            "e.csv:2: key contains control character 0x01");
  EXPECT_EQ(run("hash,category\n" + kMd5 + ",\xff\n").message(),
            "e.csv:2: classification is not valid UTF-8");
  EXPECT_EQ(run("hash,b\n" + kMd5 + ",1,2\n").message(),
            "e.csv:2: expected 2 fields as in the header, got 3");
  ImportOptions small;
  small.limits.max_line_bytes = 64;
  EXPECT_EQ(run("hash,notes\n" + kMd5 + ",\"" + std::string(100, 'x') + "\"\n", small).code(),
            StatusCode::kOutOfRange);
}

TEST(CsvImport, SignalColumnFiltersWithTheGivenType) {
  const std::string text = "signal_type,hash\npdq," + kPdqA + "\nmd5," + kMd5 + "\n";
  Collected c = CollectBytes(text, "f.csv", WithFormat(ListFormat::kCsv, SignalType::kMd5));
  ASSERT_TRUE(c.status.ok());
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0].key, kMd5);
  EXPECT_EQ(c.summary.filtered, 1u);
  // Filtered rows are still validated: a bad pdq row refuses an md5 import.
  Collected bad = CollectBytes("signal_type,hash\npdq,xyz\nmd5," + kMd5 + "\n", "f.csv",
                               WithFormat(ListFormat::kCsv, SignalType::kMd5));
  EXPECT_EQ(bad.status.message(), "f.csv:2: hash: expected 64 hex digits, got 3");
}

TEST(TeCsvImport, TypeFromTheFileNameAndErrors) {
  const std::string text = kMd5 + ",123,2024-01-10T10:00:00+0000,\"a b\"\n";
  Collected c = CollectBytes(text, "dir/collab.VIDEO_MD5.te", ImportOptions{});
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0].signal, SignalType::kMd5);
  EXPECT_EQ(c.records[0].key, "123");
  Collected pdq = CollectBytes(text, "collab.PDQ.te", ImportOptions{});
  EXPECT_EQ(pdq.status.message(), "collab.PDQ.te:1: indicator: expected 64 hex digits, got 32");
  Collected three = CollectBytes(kMd5 + ",1,\n", "x.MD5.te", ImportOptions{});
  EXPECT_TRUE(Contains(three.status, "x.MD5.te:1: expected 4 fields")) << three.status.ToString();
  Collected time = CollectBytes(kMd5 + ",1,yesterday,\n", "x.MD5.te", ImportOptions{});
  EXPECT_EQ(time.status.message(), "x.MD5.te:1: added_on: not an ISO 8601 time: 'yesterday'");
}

TEST(Formats, NamesRoundTrip) {
  for (ListFormat f : {ListFormat::kPlain, ListFormat::kCsv, ListFormat::kTsv, ListFormat::kPytx,
                       ListFormat::kTeCsv, ListFormat::kNcmecXml, ListFormat::kStopNciiJson}) {
    EXPECT_EQ(ListFormatFromName(ListFormatName(f)), f);
    EXPECT_NE(std::string(ListFormatNames()).find(ListFormatName(f)), std::string::npos);
  }
  EXPECT_EQ(ListFormatFromName("TE-CSV"), ListFormat::kTeCsv);
  EXPECT_FALSE(ListFormatFromName("xml").has_value());
  EXPECT_TRUE(IsPageFormat(ListFormat::kNcmecXml));
  EXPECT_FALSE(IsPageFormat(ListFormat::kCsv));
}

TEST(Formats, DetectionByExtensionAndContent) {
  EXPECT_EQ(*DetectListFormat("a/b.JSON", ""), ListFormat::kStopNciiJson);
  EXPECT_EQ(*DetectListFormat("page.xml", "{"), ListFormat::kNcmecXml) << "the extension wins";
  EXPECT_EQ(*DetectListFormat("x.TSV", ""), ListFormat::kTsv);
  EXPECT_EQ(*DetectListFormat("x", "\xEF\xBB\xBF  <?xml version=\"1.0\"?>"), ListFormat::kNcmecXml);
  EXPECT_EQ(*DetectListFormat("x", "\n{\"hashRecords\": []}"), ListFormat::kStopNciiJson);
  EXPECT_EQ(*DetectListFormat("x.txt", "# c\n\n" + kPdqA + "\n"), ListFormat::kPlain);
  EXPECT_EQ(*DetectListFormat("x.txt", "pdq " + kPdqA + "\n"), ListFormat::kPytx);
  EXPECT_EQ(*DetectListFormat("x", kPdqA + ",1,2024-01-01,\"a,b\"\n"), ListFormat::kTeCsv);
  EXPECT_EQ(*DetectListFormat("x", "hash,id\n"), ListFormat::kCsv);
  EXPECT_EQ(*DetectListFormat("x", "hash\tid\n"), ListFormat::kTsv);
  auto bad = DetectListFormat("junk.bin", "\x01\x02 zz\n");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status(), "junk.bin: cannot tell the list format"));
}

TEST(Formats, LimitsAreValidated) {
  ImportOptions opt = WithFormat(ListFormat::kPlain, SignalType::kPdq);
  opt.limits.max_line_bytes = 0;
  EXPECT_EQ(CollectBytes("", "x", opt).status.code(), StatusCode::kInvalidArgument);
  auto missing = ImportFile("/nonexistent/list.txt", opt, nullptr);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status(), "/nonexistent/list.txt"));
}

}  // namespace
}  // namespace hashmatch

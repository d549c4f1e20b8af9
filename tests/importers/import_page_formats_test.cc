// Edge cases of the sync-page formats: NCMEC XML and StopNCII JSON. Duplicates within a page,
// time-order conflicts, tombstones, structure and type errors, and every limit.
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

bool Contains(const Status& s, const std::string& fragment) {
  return s.message().find(fragment) != std::string::npos;
}

// ---- NCMEC -------------------------------------------------------------------------------------

std::string Image(const std::string& member, const std::string& id, const std::string& time,
                  const std::string& cls, const std::string& fingerprints) {
  return "<image><member id=\"" + member + "\">M</member><timestamp>" + time + "</timestamp><id>" +
         id + "</id><classification>" + cls + "</classification><fingerprints>" + fingerprints +
         "</fingerprints></image>\n";
}

std::string Page(const std::string& images, const std::string& extra = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\">\n<images>\n" +
         images + "</images>\n" + extra + "</queryResult>\n";
}

Collected Ncmec(const std::string& xml, ImportOptions opt = {}) {
  opt.format = ListFormat::kNcmecXml;
  return CollectBytes(xml, "p.xml", opt);
}

const EntryRecord* Find(const Collected& c, const std::string& key) {
  for (const EntryRecord& r : c.records)
    if (r.key == key) return &r;
  return nullptr;
}

TEST(NcmecImport, LaterTimestampWinsWhateverTheOrder) {
  const std::string older =
      Image("42", "e1", "2026-01-01T00:00:00Z", "A1", "<pdq>" + kPdqA + "</pdq>");
  const std::string newer =
      Image("42", "e1", "2026-01-01T00:00:00.5Z", "B2", "<pdq>" + kPdqB + "</pdq>");
  for (bool newer_first : {false, true}) {
    Collected c = Ncmec(Page(newer_first ? newer + older : older + newer));
    ASSERT_TRUE(c.status.ok()) << c.status.ToString();
    const EntryRecord* r = Find(c, "42:e1:pdq");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->classification, "B2") << "sub-second order is respected";
    EXPECT_EQ(testing::Hex(*r), kPdqB);
    EXPECT_EQ(r->source_time, 1767225600);
    EXPECT_EQ(c.summary.source_records, 2u);
    // 3 keys (md5, sha1, pdq) per entry, each seen twice.
    EXPECT_EQ(c.summary.duplicates, 3u);
    size_t n = 0;
    for (const EntryRecord& x : c.records) n += x.key.starts_with("42:e1:");
    EXPECT_EQ(n, 3u) << "the sink sees one record per key";
  }
}

TEST(NcmecImport, TombstonesAndTies) {
  const std::string live =
      Image("42", "e1", "2026-01-01T00:00:05Z", "A1", "<md5>" + kMd5 + "</md5>");
  const std::string del_before =
      "<deletedImage><member "
      "id=\"42\"/><id>e1</id><timestamp>2026-01-01T00:00:01Z</timestamp></deletedImage>\n";
  const std::string del_after =
      "<deletedImage><member "
      "id=\"42\"/><id>e1</id><timestamp>2026-01-01T00:00:09Z</timestamp></deletedImage>\n";
  Collected a = Ncmec(Page(del_after + live));
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  ASSERT_NE(Find(a, "42:e1:md5"), nullptr);
  EXPECT_TRUE(Find(a, "42:e1:md5")->deleted) << "a later deletion wins though it comes first";
  EXPECT_TRUE(Find(a, "42:e1:md5")->code.empty());
  Collected b = Ncmec(Page(live + del_before));
  ASSERT_TRUE(b.status.ok());
  EXPECT_FALSE(Find(b, "42:e1:md5")->deleted) << "an earlier deletion loses though it comes last";
  EXPECT_TRUE(Find(b, "42:e1:pdq")->deleted) << "fingerprint types the entry lacks are tombstoned";
  // Equal timestamps: the later in the page wins.
  const std::string live_same =
      Image("42", "e1", "2026-01-01T00:00:09Z", "C", "<md5>" + kMd5 + "</md5>");
  Collected t = Ncmec(Page(del_after + live_same));
  EXPECT_FALSE(Find(t, "42:e1:md5")->deleted);
  EXPECT_EQ(Find(t, "42:e1:md5")->classification, "C");
}

TEST(NcmecImport, PrefixedNamespaceUnknownElementsAndVideos) {
  const std::string xml =
      "<n:queryResult xmlns:n=\"https://hashsharing.ncmec.org/hashsharing/v2\">"
      "<n:images><n:image><n:member id=\"7\">x</n:member><n:timestamp>2026-01-01T00:00:00Z"
      "</n:timestamp><n:id>a</n:id><n:extra><deep>ignored</deep></n:extra><n:fingerprints>"
      "<n:photodna>AAAA</n:photodna><n:pdq>" +
      kPdqA +
      "</n:pdq></n:fingerprints></n:image>"
      "<n:note>ignored</n:note></n:images><n:videos><n:deletedVideo><n:member id=\"7\"/>"
      "<n:id>v</n:id><n:timestamp>2026-01-01T00:00:00Z</n:timestamp></n:deletedVideo></n:videos>"
      "<n:paging><n:next>/v2/next?a=1&amp;b=2</n:next></n:paging></n:queryResult>";
  Collected c = Ncmec(xml);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  ASSERT_NE(Find(c, "7:a:pdq"), nullptr);
  EXPECT_EQ(Find(c, "7:a:pdq")->tags, std::vector<std::string>{"image"});
  EXPECT_TRUE(Find(c, "7:v:md5")->deleted);
  EXPECT_EQ(c.summary.tombstones, 2u + 3u);
  EXPECT_EQ(c.summary.checkpoint->value,
            R"({"max_timestamp":"2026-01-01T00:00:00Z","next":"/v2/next?a=1&b=2"})");
}

TEST(NcmecImport, EntryErrorsNameTheEntryAndLine) {
  std::string bad_pdq =
      Image("42", "e2", "2026-01-01T00:00:00Z", "A1", "<pdq>" + kPdqA.substr(1) + "</pdq>");
  Collected c = Ncmec(Page(Image("42", "e1", "2026-01-01T00:00:00Z", "A1", "") + bad_pdq));
  EXPECT_EQ(c.status.message(), "p.xml:5: entry 2 (42/e2): pdq: expected 64 hex digits, got 63");
  const std::string no_time = "<image><member id=\"42\"/><id>e3</id><fingerprints/></image>\n";
  EXPECT_EQ(Ncmec(Page(no_time)).status.message(), "p.xml:4: entry 1 (42/e3): no <timestamp>");
  const std::string no_member = "<image><id>e3</id><timestamp>2026-01-01</timestamp></image>\n";
  EXPECT_EQ(Ncmec(Page(no_member)).status.message(),
            "p.xml:4: entry 1 (?/e3): no <member id=\"...\">");
  const std::string bad_time = Image("42", "e4", "yesterday", "A1", "");
  EXPECT_EQ(Ncmec(Page(bad_time)).status.message(),
            "p.xml:4: entry 1 (42/e4): <timestamp> is not ISO 8601: 'yesterday'");
  const std::string two_ids =
      "<image><member id=\"42\"/><id>a</id><id>b</id><timestamp>2026-01-01</timestamp></image>\n";
  EXPECT_TRUE(Contains(Ncmec(Page(two_ids)).status, "<id> appears twice"));
  const std::string nested = "<image><member id=\"42\"/><id>a<b/></id></image>\n";
  EXPECT_TRUE(Contains(Ncmec(Page(nested)).status, "unexpected <b> inside a text element"));
  const std::string colon = Image("4:2", "e", "2026-01-01T00:00:00Z", "A1", "");
  EXPECT_TRUE(Contains(Ncmec(Page(colon)).status, "member id contains ':'"));
  // A malformed fingerprint refuses the page even when the import keeps only another type.
  const std::string bad_md5 = Image("42", "e5", "2026-01-01T00:00:00Z", "A1", "<md5>12</md5>");
  EXPECT_EQ(
      Ncmec(Page(bad_md5), WithFormat(ListFormat::kNcmecXml, SignalType::kPdq)).status.message(),
      "p.xml:4: entry 1 (42/e5): md5: expected 32 hex digits, got 2");
}

TEST(NcmecImport, DocumentErrors) {
  EXPECT_EQ(Ncmec("<result/>").status.message(),
            "p.xml:1: root element is <result>, not an NCMEC <queryResult>");
  EXPECT_TRUE(Contains(Ncmec("").status, "p.xml:1: XML error: no element found"));
  EXPECT_TRUE(Contains(Ncmec(Page("").substr(0, 120)).status, "XML error"));
  EXPECT_TRUE(Contains(Ncmec(Page("") + "<again/>").status, "junk after document element"));
  const std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE q [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
      "<queryResult>&b;</queryResult>";
  Collected d = Ncmec(laughs);
  EXPECT_TRUE(Contains(d.status, "DOCTYPE is not allowed")) << d.status.ToString();
}

TEST(NcmecImport, Limits) {
  ImportOptions opt;
  opt.limits.max_depth = 6;
  std::string deep = "<x><x><x><x><x><x><x></x></x></x></x></x></x></x>";
  Collected d = Ncmec(Page("", deep), opt);
  EXPECT_EQ(d.status.code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(Contains(d.status, "max_depth")) << d.status.ToString();

  ImportOptions few;
  few.limits.max_page_records = 2;
  const std::string e = Image("1", "a", "2026-01-01T00:00:00Z", "", "");
  Collected r = Ncmec(Page(e + e + e), few);
  EXPECT_EQ(r.status.code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(Contains(r.status, "p.xml:6: more than 2 entries")) << r.status.ToString();

  ImportOptions small;
  small.limits.max_page_bytes = 100;
  EXPECT_TRUE(Contains(Ncmec(Page(e + e), small).status, "max_page_bytes"));
  small = {};
  small.limits.max_line_bytes = 20;
  Collected t =
      Ncmec(Page(Image("1", "a", "2026-01-01T00:00:00Z", "A1", "<pdq>" + kPdqA + "</pdq>")), small);
  EXPECT_TRUE(Contains(t.status, "element text over the limit")) << t.status.ToString();
}

// ---- StopNCII ----------------------------------------------------------------------------------

std::string Rec(const std::string& type, const std::string& hash, const std::string& status,
                int64_t time, const std::string& extra = "") {
  return "{\"signalType\":\"" + type + "\",\"hashValue\":\"" + hash + "\",\"hashStatus\":\"" +
         status + "\",\"lastModtimestamp\":" + std::to_string(time) + extra + "}";
}

Collected StopNcii(const std::string& json, ImportOptions opt = {}) {
  opt.format = ListFormat::kStopNciiJson;
  return CollectBytes(json, "s.json", opt);
}

std::string JPage(const std::vector<std::string>& recs, const std::string& head = "") {
  std::string s = "{" + head + "\"hashRecords\":[\n";
  for (size_t i = 0; i < recs.size(); ++i) s += (i ? ",\n" : "") + recs[i];
  return s + "\n]}";
}

TEST(StopNciiImport, LaterRecordReplacesEarlierAndStatuses) {
  const std::string key = "ImagePDQ:" + kPdqA;
  // The later timestamp comes first in the page.
  Collected c =
      StopNcii(JPage({Rec("ImagePDQ", kPdqA, "Withdrawn", 20), Rec("ImagePDQ", kPdqA, "Active", 10),
                      Rec("ImagePDQ", kPdqB, "Deleted", 5), Rec("VideoTMK", "zz", "Active", 1),
                      Rec("VideoMD5", kMd5, "active", 3, ",\"caseNumbers\":null")}));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[0].key, key);
  EXPECT_FALSE(c.records[0].matchable);
  EXPECT_EQ(c.records[0].source_time, 20);
  EXPECT_TRUE(c.records[1].deleted);
  EXPECT_EQ(c.summary.unsupported, 1u);
  EXPECT_EQ(c.summary.duplicates, 1u);
  EXPECT_EQ(c.summary.not_matchable, 1u);
  EXPECT_EQ(c.summary.checkpoint->value, "{}");
  // Upper-case hex gives the same key.
  std::string upper = kPdqA;
  for (char& ch : upper) ch = char(std::toupper(ch));
  Collected u = StopNcii(JPage({Rec("ImagePDQ", upper, "Active", 1)}));
  EXPECT_EQ(u.records.at(0).key, key);
}

TEST(StopNciiImport, TypeAndStructureErrors) {
  auto msg = [](const std::string& json) { return StopNcii(json).status.message(); };
  EXPECT_EQ(msg("[]"), "s.json:1: expected a JSON object at the top, got an array");
  EXPECT_EQ(msg("{\"count\":1}"), "s.json: not a StopNCII page: no \"hashRecords\" array");
  EXPECT_EQ(msg("{\"hashRecords\":{}}"), "s.json:1: hashRecords: expected an array, got an object");
  EXPECT_EQ(msg("{\"nextPageToken\":5,\"hashRecords\":[]}"),
            "s.json:1: nextPageToken: expected a string or null, got an integer");
  EXPECT_EQ(msg("{\"hasMoreRecords\":[1],\"hashRecords\":[]}"),
            "s.json:1: hasMoreRecords: expected a boolean, got an array");
  EXPECT_EQ(msg("{\"hashRecords\":[1]}"),
            "s.json:1: hashRecords[0]: expected an object, got an integer");
  EXPECT_EQ(msg("{\"hashRecords\":[],\"hashRecords\":[]}"),
            "s.json:1: key \"hashRecords\" appears twice");
  EXPECT_EQ(msg(JPage({Rec("ImagePDQ", kPdqA, "Active", 1), "{\"signalType\":\"ImagePDQ\"}"})),
            "s.json:3: hashRecords[1]: missing \"hashValue\"");
  EXPECT_EQ(msg(JPage({Rec("ImagePDQ", kPdqA.substr(3), "Active", 1)})),
            "s.json:2: hashRecords[0]: hashValue: expected 64 hex digits, got 61");
  EXPECT_EQ(msg(JPage({Rec("ImagePDQ", kPdqA, "Pending", 1)})),
            "s.json:2: hashRecords[0]: hashStatus: unknown status 'Pending' (Active, Withdrawn, "
            "Deleted)");
  EXPECT_EQ(msg(JPage({"{\"signalType\":\"ImagePDQ\",\"hashValue\":7,\"hashStatus\":\"Active\"}"})),
            "s.json:2: hashRecords[0]: hashValue: expected a string, got an integer");
  EXPECT_EQ(msg(JPage({Rec("ImagePDQ", kPdqA, "Active", 1, ",\"lastModtimestamp\":2")})),
            "s.json:2: hashRecords[0]: key \"lastModtimestamp\" appears twice");
  EXPECT_EQ(msg(JPage({Rec("ImagePDQ", kPdqA, "Active", 1, ",\"CSPFeedbacks\":[{\"tags\":[1]}]")})),
            "s.json:2: hashRecords[0]: CSPFeedbacks[0].tags: expected strings, got an integer");
  EXPECT_EQ(
      msg(JPage({"{\"signalType\":\"ImagePDQ\",\"hashValue\":\"" + kPdqA +
                 "\",\"hashStatus\":\"Active\",\"lastModtimestamp\":1.5}"})),
      "s.json:2: hashRecords[0]: lastModtimestamp: expected an integer, got a fractional number");
  const Status trunc = StopNcii(JPage({Rec("ImagePDQ", kPdqA, "Active", 1)}).substr(0, 60)).status;
  EXPECT_TRUE(Contains(trunc, "s.json:2: JSON parse error")) << trunc.ToString();
  EXPECT_TRUE(Contains(StopNcii("{\"hashRecords\":[]} x").status, "JSON parse error"));
  EXPECT_TRUE(Contains(StopNcii("{\"hashRecords\":[\"\xff\"]}").status, "JSON parse error"));
}

TEST(StopNciiImport, UnknownKeysSkippedAndLimits) {
  const std::string page = "{\"meta\":{\"a\":[1,{\"b\":[]}]},\"hashRecords\":[" +
                           Rec("ImagePDQ", kPdqA, "Active", 1, ",\"future\":{\"x\":[1,2]}") +
                           "],\"tail\":[[]]}";
  Collected c = StopNcii(page);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.records.size(), 1u);

  ImportOptions opt;
  opt.limits.max_depth = 4;
  Collected deep = StopNcii(
      "{\"hashRecords\":[" + Rec("ImagePDQ", kPdqA, "Active", 1, ",\"x\":[[[1]]]") + "]}", opt);
  EXPECT_EQ(deep.status.code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(Contains(deep.status, "max_depth"));
  opt = {};
  opt.limits.max_page_records = 1;
  Collected many = StopNcii(
      JPage({Rec("ImagePDQ", kPdqA, "Active", 1), Rec("ImagePDQ", kPdqB, "Active", 1)}), opt);
  EXPECT_EQ(many.status.code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(Contains(many.status, "s.json:3: more than 1 hash records"));
  opt = {};
  opt.limits.max_page_bytes = 50;
  EXPECT_TRUE(Contains(StopNcii(JPage({Rec("ImagePDQ", kPdqA, "Active", 1)}), opt).status,
                       "max_page_bytes"));
  opt = {};
  opt.limits.max_line_bytes = 32;
  EXPECT_TRUE(Contains(StopNcii(JPage({Rec("ImagePDQ", kPdqA, "Active", 1)}), opt).status,
                       "max_line_bytes"));
}

TEST(StopNciiImport, FilterKeepsOneSignal) {
  Collected c =
      StopNcii(JPage({Rec("ImagePDQ", kPdqA, "Active", 1), Rec("VideoMD5", kMd5, "Active", 1)}),
               WithFormat(ListFormat::kStopNciiJson, SignalType::kMd5));
  ASSERT_TRUE(c.status.ok());
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0].key, "VideoMD5:" + kMd5);
  EXPECT_EQ(c.summary.filtered, 1u);
}

}  // namespace
}  // namespace hashmatch

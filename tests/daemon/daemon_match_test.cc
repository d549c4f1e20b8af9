// The real hashmatchd, driven through hashmatch::client: matching the bundled sample images and
// the PDQ reference images against sets built from their hashes (hashed here, and hashed by the
// daemon), dihedral queries, per-item errors, sync pages applied twice, and a restart with the
// data intact.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "daemon_harness.h"
#include "hashmatch/core/pdq.h"
#include "test_util.h"

namespace hashmatch::testing {
namespace {

const fs::path kSamples = fs::path(HASHMATCH_SOURCE_DIR) / "samples";

std::vector<std::string> SampleListHashes() {
  std::vector<std::string> out;
  for (const std::string& l : ReadLines(kSamples / "sample-images.pdq.txt")) {
    if (!l.empty() && l[0] != '#') out.push_back(l);
  }
  return out;
}

std::vector<fs::path> ScanImages() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kSamples / "images" / "scan"))
    out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// "k<i>@distance#hashIndex" per hit, for compact comparisons.
std::string Describe(const client::QueryResult& r) {
  std::string s;
  for (const client::Hit& h : r.hits) {
    s += h.key + "@" + std::to_string(h.distance) + "#" + std::to_string(h.hash_index) + " ";
  }
  return s;
}

class DaemonMatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_.StartReady();
    ASSERT_FALSE(HasFatalFailure());
    admin_ = daemon_.Admin();
    ASSERT_TRUE(admin_);
    MakePdqSet(*admin_, "samples", SampleListHashes());
  }
  Daemon daemon_;
  std::unique_ptr<client::Client> admin_;
};

// The four edited uploads match their originals (the mirrored one through an orientation), the
// two unrelated pictures do not: the CLI's local answer (tests/cli/cli_test.sh), over RPC.
TEST_F(DaemonMatchTest, SampleUploadsHashedLocally) {
  auto scan = daemon_.Connect(daemon_.tokens().scan);
  ASSERT_TRUE(scan.ok()) << scan.error().ToString();
  EXPECT_TRUE((*scan)->grant().matcher);
  EXPECT_FALSE((*scan)->grant().sync);
  std::vector<client::Query> queries;
  PdqHasher hasher;
  for (const fs::path& p : ScanImages()) {
    auto img = DecodeImageFile(p);
    ASSERT_TRUE(img.ok()) << p;
    client::Query q;
    for (const PdqHash& h : hasher.HashDihedral(*img))
      q.hashes.push_back({"pdq", ToHex(h.hash), {}});
    queries.push_back(q);
  }
  auto r = (*scan)->Match(queries);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->results.size(), 6u);
  EXPECT_EQ(Describe(r->results[0]), "k0@10#0 ");
  EXPECT_EQ(Describe(r->results[1]), "k1@4#0 ");
  EXPECT_EQ(Describe(r->results[2]), "k2@0#5 ");  // flipy
  EXPECT_EQ(Describe(r->results[3]), "k3@10#0 ");
  EXPECT_EQ(Describe(r->results[4]), "");
  EXPECT_EQ(Describe(r->results[5]), "");
  ASSERT_EQ(r->searched.size(), 1u);
  EXPECT_EQ(r->searched[0].name, "samples");
  EXPECT_EQ(r->searched[0].version, 2u);  // created, then one page
  EXPECT_GT(r->sequence, 0u);
}

TEST_F(DaemonMatchTest, SampleUploadsHashedByTheDaemon) {
  auto scan = daemon_.Connect(daemon_.tokens().scan);
  ASSERT_TRUE(scan.ok()) << scan.error().ToString();
  std::vector<std::vector<uint8_t>> images;
  for (const fs::path& p : ScanImages()) images.push_back(ReadBytes(p));
  images.push_back({'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  auto r = (*scan)->MatchImages(images, {}, /*dihedral=*/true, {"sha256"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->match.results.size(), 7u);
  EXPECT_EQ(Describe(r->match.results[0]), "k0@10#0 ");
  EXPECT_EQ(Describe(r->match.results[2]), "k2@0#5 ");
  EXPECT_EQ(Describe(r->match.results[5]), "");
  EXPECT_EQ(r->images[0].hashes.size(), 9u);  // 8 orientations + sha256
  EXPECT_GT(r->images[0].width, 0u);
  // Not an image: the image says why; its digest was still matched (no error on the query).
  EXPECT_EQ(r->images[6].error.code, "invalid_argument") << r->images[6].error.message;
  EXPECT_TRUE(r->match.results[6].error.ok());
  EXPECT_EQ(r->images[6].hashes.size(), 1u);
}

// Per-item errors stay with their item; thresholds are clamped to the set's; caps truncate.
TEST_F(DaemonMatchTest, PerItemErrorsThresholdsAndCaps) {
  const std::vector<std::string> list = SampleListHashes();
  std::vector<client::Query> queries(5);
  queries[0].hashes = {{"pdq", list[0], {}}};
  queries[1].hashes = {{"pdq", list[1].substr(0, 63) + "g", {}}};  // malformed
  queries[2].hashes = {{"pdq", list[2], {}}};
  queries[3].hashes = {{"md5", "00112233445566778899aabbccddeeff", {}}};  // no md5 set: no hits
  queries[4].hashes = {{"pdq", "", {1, 2, 3}}};                           // wrong size
  auto r = admin_->Match(queries);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(Describe(r->results[0]), "k0@0#0 ");
  EXPECT_EQ(r->results[1].error.code, "invalid_argument");
  EXPECT_NE(r->results[1].error.message.find("query 1 hash 0"), std::string::npos)
      << r->results[1].error.message;
  EXPECT_EQ(Describe(r->results[2]), "k2@0#0 ");
  EXPECT_TRUE(r->results[3].error.ok());
  EXPECT_TRUE(r->results[3].hits.empty());
  EXPECT_EQ(r->results[4].error.code, "invalid_argument");

  // A query threshold above the set's (31) is clamped; the set filter must name real sets.
  auto img = DecodeImageFile(kSamples / "images/scan/upload-01-known-1-resized.png");
  ASSERT_TRUE(img.ok());
  PdqHasher hasher;
  client::Query q{{{"pdq", ToHex(hasher.Hash(*img).hash), {}}}, 9};
  auto narrow = admin_->Match({q});
  ASSERT_TRUE(narrow.ok());
  EXPECT_TRUE(narrow->results[0].hits.empty());  // distance 10 > 9
  q.threshold = 200;
  auto wide = admin_->Match({q});
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(Describe(wide->results[0]), "k0@10#0 ");  // clamped to 31: only the true match
  client::MatchOptions bad;
  bad.sets = {"no-such-set"};
  auto missing = admin_->Match({q}, bad);
  EXPECT_EQ(missing.error().code, "not_found") << missing.error().ToString();

  // The per-query cap: 3 identical entries, cap 2 -> truncated.
  client::Page page;
  for (int i = 0; i < 3; ++i) {
    client::Record rec;
    rec.key = "dup" + std::to_string(i);
    rec.hash.hex = list[3];
    page.records.push_back(rec);
  }
  ASSERT_TRUE(admin_->ApplyPage("samples", page).ok());
  client::MatchOptions capped;
  capped.max_hits_per_query = 2;
  auto c = admin_->Match({client::Query{{{"pdq", list[3], {}}}, -1}}, capped);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->results[0].hits.size(), 2u);
  EXPECT_TRUE(c->results[0].truncated);
}

// Sync: a page applied twice changes the set once; the checkpoint is stored with it; a deletion
// by key; full_list; a malformed record refuses the page and names the record.
TEST_F(DaemonMatchTest, SyncPagesAreIdempotent) {
  client::SetConfig cfg;
  cfg.name = "setA";
  ASSERT_TRUE(admin_->CreateSet(cfg).ok());
  auto sync = daemon_.Connect(daemon_.tokens().sync_a);
  ASSERT_TRUE(sync.ok()) << sync.error().ToString();
  client::Page page;
  page.checkpoint = "cursor-1";
  for (const std::string& h : SampleListHashes()) {
    client::Record r;
    r.key = "entry-" + h.substr(0, 8);
    r.hash.hex = h;
    r.classification = "A1";
    r.tags = {"image"};
    page.records.push_back(r);
  }
  auto first = (*sync)->ApplyPage("setA", page);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_TRUE(first->changed);
  EXPECT_EQ(first->added, 4u);
  auto second = (*sync)->ApplyPage("setA", page);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_FALSE(second->changed);
  EXPECT_EQ(second->unchanged, 4u);
  EXPECT_EQ(second->set_version, first->set_version);
  auto cp = (*sync)->GetCheckpoint("setA");
  ASSERT_TRUE(cp.ok()) << cp.error().ToString();
  EXPECT_EQ(cp->checkpoint.value_or(""), "cursor-1");
  EXPECT_EQ(cp->version, first->set_version);
  EXPECT_GT(cp->last_sync_time, 0);

  // Hits carry the metadata.
  auto m = admin_->Match({client::Query{{{"pdq", page.records[0].hash.hex, {}}}, -1}},
                         {.sets = {"setA"}});
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->results[0].hits.size(), 1u);
  EXPECT_EQ(m->results[0].hits[0].classification, "A1");
  EXPECT_EQ(m->results[0].hits[0].tags, std::vector<std::string>{"image"});

  // Delete one by key.
  client::Page del;
  client::Record d;
  d.key = page.records[0].key;
  d.deleted = true;
  del.records = {d};
  del.checkpoint = "cursor-2";
  auto third = (*sync)->ApplyPage("setA", del);
  ASSERT_TRUE(third.ok()) << third.error().ToString();
  EXPECT_EQ(third->deleted, 1u);
  auto gone = admin_->Match({client::Query{{{"pdq", page.records[0].hash.hex, {}}}, -1}},
                            {.sets = {"setA"}});
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->results[0].hits.empty());

  // A malformed record refuses the whole page, naming it; nothing changed.
  client::Page bad = page;
  bad.records[2].hash.hex = "xyz";
  bad.checkpoint = "cursor-bad";
  auto refused = (*sync)->ApplyPage("setA", bad);
  EXPECT_EQ(refused.error().code, "invalid_argument");
  EXPECT_NE(refused.error().message.find("record 3"), std::string::npos) << refused.error().message;
  EXPECT_EQ((*sync)->GetCheckpoint("setA")->checkpoint.value_or(""), "cursor-2");

  auto sets = (*sync)->ListSets();
  ASSERT_TRUE(sets.ok()) << sets.error().ToString();
  EXPECT_EQ(sets->size(), 2u);
}

// Stop (SIGTERM: a clean exit) and start again on the same store: sets, versions, checkpoints and
// matches are as they were.
TEST_F(DaemonMatchTest, RestartKeepsTheData) {
  client::Page page;
  page.checkpoint = "after-restart?";
  client::Record r;
  r.key = "extra";
  r.hash.hex = std::string(62, '0') + "ff";
  page.records.push_back(r);
  ASSERT_TRUE(admin_->ApplyPage("samples", page).ok());
  auto before = admin_->GetSet("samples");
  ASSERT_TRUE(before.ok());
  admin_.reset();
  const int status = daemon_.Stop();
  ASSERT_TRUE(WIFEXITED(status)) << daemon_.Log();
  EXPECT_EQ(WEXITSTATUS(status), 0) << daemon_.Log();

  daemon_.StartReady();
  ASSERT_FALSE(HasFatalFailure());
  admin_ = daemon_.Admin();
  auto after = admin_->GetSet("samples");
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->version, before->version);
  EXPECT_EQ(after->live, 5u);
  EXPECT_EQ(after->checkpoint.value_or(""), "after-restart?");
  auto m = admin_->Match({client::Query{{{"pdq", SampleListHashes()[3], {}}}, -1}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Describe(m->results[0]), "k3@0#0 ");
}

// The PDQ reference images: a set of their expected hashes, each image sent as bytes and hashed
// by the daemon, finds its own entry within the row's tolerance.
TEST(DaemonReferenceTest, ReferenceImagesMatchTheirListedHashes) {
  HM_REQUIRE_SHARED("pdq-reference/expected.tsv");
  const fs::path ref = SharedDir() / "pdq-reference";
  struct Row {
    std::string path, hash;
    int tolerance;
  };
  std::vector<Row> rows;
  for (const std::string& line : ReadLines(ref / "expected.tsv")) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) f.push_back(field);
    if (f.size() < 7) continue;
    rows.push_back(Row{f[0], f[4], std::stoi(f[6])});
  }
  ASSERT_FALSE(rows.empty());
  if (rows.size() > 24) rows.resize(24);  // enough to cover every directory's first rows

  Daemon daemon;
  daemon.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto admin = daemon.Admin();
  client::SetConfig cfg;
  cfg.name = "reference";
  ASSERT_TRUE(admin->CreateSet(cfg).ok());
  client::Page page;
  std::map<std::string, std::string> key_of_hash;
  for (const Row& r : rows) {
    if (key_of_hash.count(r.hash)) continue;  // the same picture twice
    key_of_hash[r.hash] = r.path;
    client::Record rec;
    rec.key = r.path;
    rec.hash.hex = r.hash;
    page.records.push_back(rec);
  }
  auto applied = admin->ApplyPage("reference", page);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();

  auto scan = daemon.Connect(daemon.tokens().scan);
  ASSERT_TRUE(scan.ok());
  size_t found = 0;
  for (const Row& r : rows) {
    auto m = (*scan)->MatchImages({ReadBytes(ref / r.path)}, {.sets = {"reference"}}, false);
    ASSERT_TRUE(m.ok()) << r.path << ": " << m.error().ToString();
    ASSERT_TRUE(m->images[0].error.ok()) << r.path << ": " << m->images[0].error.ToString();
    bool hit = false;
    for (const client::Hit& h : m->match.results[0].hits) {
      if (h.key == key_of_hash[r.hash] && int(h.distance) <= r.tolerance) hit = true;
    }
    EXPECT_TRUE(hit) << r.path << " did not find its own entry";
    found += hit;
  }
  PrintTally("daemon_reference_images", found, rows.size(), "reference images found over RPC");
}

}  // namespace
}  // namespace hashmatch::testing

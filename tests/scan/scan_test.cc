// hashmatch::scan on generated fixtures: a directory (sorted order, non-image files passed over, a
// corrupt file), tar shards written with libarchive (member order, a corrupt member, a truncated
// shard, a missing one), a manifest, matches by PDQ and MD5 against a store, a suppress set, the
// dihedral search, limits, determinism across threads and chunkings, skip_items, and the
// resumable job's checkpoint (resume from every point, refusals).
#include "hashmatch/scan/scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "hashmatch/scan/scan_job.h"
#include "hashmatch/scan/scan_json.h"
#include "scan_fixture.h"

namespace hashmatch {
namespace {

using namespace hashmatch::testing;

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class ScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir("hm-scan-test");
    const fs::path root = tmp_->path();
    for (int i = 0; i < 12; ++i) images_.push_back(FixtureImage(i));
    corrupt_ = CorruptJpeg(1);
    // Directory: names chosen so that byte order differs from a naive walk ("Z" < "a").
    const fs::path d = root / "dir";
    WriteFile(d / "c.jpg", images_[4]);
    WriteFile(d / "a" / "img01.png", images_[1]);
    WriteFile(d / "a" / "img00.jpg", images_[0]);
    WriteText(d / "a" / "notes.txt", "not an image\n");
    WriteFile(d / "b" / "sub" / "img03.png", images_[3]);
    WriteFile(d / "b" / "img02.jpg", images_[2]);
    WriteFile(d / "b" / "broken.jpg", corrupt_);
    WriteFile(d / "Z.JPEG", images_[5]);
    // Shards, WebDataset style: each sample an image and a JSON member.
    WriteTar(root / "shards" / "000000.tar", {{"s0/0006.jpg", images_[6]},
                                              {"s0/0006.json", {'{', '}'}},
                                              {"s0/0007.png", images_[7]},
                                              {"s0/0008.jpg", CorruptJpeg(2)},
                                              {"s0/0009.jpg", images_[9]}});
    WriteTar(root / "shards" / "000001.tar",
             {{"s1/0010.jpg", images_[10]}, {"s1/0011.png", images_[11]}});
    // A shard cut in the middle of its second member's data.
    const std::string whole = ReadAll(root / "shards" / "000001.tar");
    const size_t cut = 512 * 3 + images_[10].size() + 512 + 100;  // pax: 2 headers per member
    ASSERT_LT(cut, whole.size());
    WriteText(root / "truncated.tar", whole.substr(0, cut));

    // The store: 0, 1, 6, 10 listed by PDQ; 2, 7 and the corrupt file by MD5; 1 and 10 also in
    // the allow-list (suppressed).
    std::vector<EntryRecord> bad_pdq, bad_md5, allow;
    for (int i : {0, 1, 6, 10}) {
      bad_pdq.push_back(Record("p" + std::to_string(i), SignalType::kPdq, PdqOf(images_[i])));
    }
    for (int i : {2, 7}) {
      bad_md5.push_back(Record("m" + std::to_string(i), SignalType::kMd5, Md5Of(images_[i])));
    }
    bad_md5.push_back(Record("mbroken", SignalType::kMd5, Md5Of(corrupt_)));
    for (int i : {1, 10}) {
      allow.push_back(Record("ok" + std::to_string(i), SignalType::kPdq, PdqOf(images_[i])));
    }
    store_ = MakeStore(root / "store", bad_pdq, bad_md5, allow).release();
    ASSERT_NE(store_, nullptr);
    snapshot_ = new std::shared_ptr<const StoreSnapshot>(store_->GetSnapshot());
  }
  static void TearDownTestSuite() {
    delete snapshot_;
    delete store_;
    delete tmp_;
  }

  static const StoreSnapshot& snap() { return **snapshot_; }
  static fs::path root() { return tmp_->path(); }

  static std::vector<ScanItemResult> Run(const std::vector<ScanInput>& inputs,
                                         const ScanOptions& o = {},
                                         ScanSummary* summary = nullptr) {
    auto r = ScanAll(snap(), inputs, o, summary);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *std::move(r) : std::vector<ScanItemResult>{};
  }
  static std::string Json(const std::vector<ScanItemResult>& items, const ScanOptions& o = {}) {
    SignalSet s = o.signals;
    s.insert(SignalType::kPdq).insert(SignalType::kMd5);
    std::string out;
    for (const auto& it : items) out += ScanItemJson(it, s);
    return out;
  }
  static std::vector<std::string> Keys(const ScanItemResult& r, const std::vector<ScanHit>& hits) {
    (void)r;
    std::vector<std::string> k;
    for (const ScanHit& h : hits) k.push_back(h.set + "/" + h.entry.key);
    return k;
  }

  static TempDir* tmp_;
  static std::vector<Bytes> images_;
  static Bytes corrupt_;
  static HashSetStore* store_;
  static std::shared_ptr<const StoreSnapshot>* snapshot_;
};

TempDir* ScanTest::tmp_ = nullptr;
std::vector<Bytes> ScanTest::images_;
Bytes ScanTest::corrupt_;
HashSetStore* ScanTest::store_ = nullptr;
std::shared_ptr<const StoreSnapshot>* ScanTest::snapshot_ = nullptr;

TEST_F(ScanTest, FixtureImagesAreFarApart) {
  // The expectations below assume no two fixture images match each other by PDQ.
  for (size_t i = 0; i < images_.size(); ++i) {
    for (size_t j = i + 1; j < images_.size(); ++j) {
      EXPECT_GT(HammingDistance(PdqOf(images_[i]), PdqOf(images_[j])), 31) << i << " " << j;
    }
  }
}

TEST_F(ScanTest, DirectoryInSortedOrderWithMatchesSuppressionAndErrors) {
  ScanSummary sum;
  const auto items = Run({{root() / "dir"}}, {}, &sum);
  const fs::path d = root() / "dir";
  const std::vector<fs::path> want = {d / "Z.JPEG",       d / "a/img00.jpg", d / "a/img01.png",
                                      d / "b/broken.jpg", d / "b/img02.jpg", d / "b/sub/img03.png",
                                      d / "c.jpg"};
  ASSERT_EQ(items.size(), want.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].index, i);
    EXPECT_EQ(fs::path(items[i].path), want[i]);
    EXPECT_TRUE(items[i].member.empty());
  }
  // Z.JPEG (image 5): clean, with its hashes.
  EXPECT_TRUE(items[0].ok());
  EXPECT_FALSE(items[0].matched());
  EXPECT_EQ(items[0].hashes.pdq[0].hash, PdqOf(images_[5]));
  EXPECT_EQ(items[0].hashes.md5, Md5Of(images_[5]));
  EXPECT_STREQ(ScanItemResultName(items[0]), "clean");
  // img00 (0): PDQ match, distance 0, with the set's version.
  ASSERT_EQ(Keys(items[1], items[1].matches), std::vector<std::string>{"bad_pdq/p0"});
  EXPECT_EQ(items[1].matches[0].distance, 0u);
  EXPECT_EQ(items[1].matches[0].set_version, snap().GetSet("bad_pdq")->version);
  EXPECT_FALSE(items[1].matches[0].orientation.has_value());
  // img01 (1): listed and allow-listed: suppressed.
  EXPECT_FALSE(items[2].matched());
  EXPECT_TRUE(items[2].is_suppressed());
  EXPECT_EQ(Keys(items[2], items[2].suppressed), std::vector<std::string>{"bad_pdq/p1"});
  EXPECT_EQ(Keys(items[2], items[2].suppressors), std::vector<std::string>{"allow_pdq/ok1"});
  EXPECT_STREQ(ScanItemResultName(items[2]), "suppressed");
  // broken.jpg: a decode error, still matched by its MD5.
  EXPECT_FALSE(items[3].ok());
  EXPECT_EQ(items[3].status.code(), StatusCode::kCorruption);  // the JPEG decoder's code
  EXPECT_NE(items[3].status.message().find("broken.jpg"), std::string::npos);
  EXPECT_TRUE(items[3].bytes_read);
  EXPECT_EQ(Keys(items[3], items[3].matches), std::vector<std::string>{"bad_md5/mbroken"});
  EXPECT_STREQ(ScanItemResultName(items[3]), "match");
  // img02 (2): MD5 match.
  EXPECT_EQ(Keys(items[4], items[4].matches), std::vector<std::string>{"bad_md5/m2"});
  EXPECT_FALSE(items[5].matched());
  EXPECT_FALSE(items[6].matched());

  EXPECT_EQ(sum.items, 7u);
  EXPECT_EQ(sum.scanned, 6u);
  EXPECT_EQ(sum.matched, 3u);
  EXPECT_EQ(sum.suppressed, 1u);
  EXPECT_EQ(sum.failed, 1u);
  EXPECT_EQ(sum.failed_by_reason, (std::map<std::string, uint64_t>{{"corruption", 1}}));
  EXPECT_EQ(sum.skipped_files, 1u);  // notes.txt
  EXPECT_EQ(sum.searched.size(), 3u);
  EXPECT_EQ(sum.store_sequence, snap().sequence());

  // all_files: notes.txt becomes an item (MD5 only; its decode fails).
  ScanOptions all;
  all.all_files = true;
  const auto with_txt = Run({{root() / "dir"}}, all);
  ASSERT_EQ(with_txt.size(), 8u);
  EXPECT_EQ(fs::path(with_txt[3].path), d / "a/notes.txt");
  EXPECT_FALSE(with_txt[3].ok());
  EXPECT_TRUE(with_txt[3].bytes_read);
}

TEST_F(ScanTest, TarShardsMembersInOrderCorruptMemberAndTruncatedShard) {
  ScanSummary sum;
  const auto items = Run({{root() / "shards" / "000000.tar"},
                          {root() / "shards" / "000001.tar"},
                          {root() / "truncated.tar"},
                          {root() / "missing.tar"}},
                         {}, &sum);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& it : items) got.emplace_back(fs::path(it.path).filename(), it.member);
  const std::vector<std::pair<std::string, std::string>> want = {{"000000.tar", "s0/0006.jpg"},
                                                                 {"000000.tar", "s0/0007.png"},
                                                                 {"000000.tar", "s0/0008.jpg"},
                                                                 {"000000.tar", "s0/0009.jpg"},
                                                                 {"000001.tar", "s1/0010.jpg"},
                                                                 {"000001.tar", "s1/0011.png"},
                                                                 {"truncated.tar", "s1/0010.jpg"},
                                                                 {"truncated.tar", "s1/0011.png"},
                                                                 // the shard's own error item
                                                                 {"truncated.tar", ""},
                                                                 {"missing.tar", ""}};
  ASSERT_EQ(got, want);
  EXPECT_EQ(Keys(items[0], items[0].matches), std::vector<std::string>{"bad_pdq/p6"});
  EXPECT_EQ(Keys(items[1], items[1].matches), std::vector<std::string>{"bad_md5/m7"});
  EXPECT_FALSE(items[2].ok());  // the corrupt member
  EXPECT_NE(items[2].status.message().find("s0/0008.jpg"), std::string::npos);
  EXPECT_TRUE(items[3].ok());  // members after a corrupt one are still scanned
  EXPECT_FALSE(items[3].matched());
  EXPECT_TRUE(items[4].is_suppressed());  // 10: listed and allow-listed
  EXPECT_TRUE(items[5].ok());
  EXPECT_EQ(items[5].hashes.pdq[0].hash, PdqOf(images_[11]));
  // The truncated shard: its first member whole, the cut one failed, then the shard's error;
  // then the missing shard.
  EXPECT_TRUE(items[6].ok());
  EXPECT_TRUE(items[6].is_suppressed());
  EXPECT_EQ(items[7].status.code(), StatusCode::kCorruption);
  EXPECT_NE(items[7].status.message().find("s1/0011.png"), std::string::npos);
  EXPECT_EQ(items[8].status.code(), StatusCode::kCorruption);
  EXPECT_EQ(items[9].status.code(), StatusCode::kNotFound);
  EXPECT_EQ(sum.skipped_files, 1u);  // the .json member
  EXPECT_EQ(sum.failed, 4u);
  // A directory of shards expands them in place.
  const auto via_dir = Run({{root() / "shards"}});
  EXPECT_EQ(Json(via_dir), Json(std::vector<ScanItemResult>(items.begin(), items.begin() + 6)));
}

TEST_F(ScanTest, ManifestEqualsTheSameFilesGivenDirectly) {
  // Relative lines resolve against the manifest's directory; blank lines and CRLF are fine.
  WriteText(root() / "list.txt", "dir/b/img02.jpg\r\n\ndir/a/img00.jpg\n" +
                                     (root() / "shards/000001.tar").string() + "\ndir/nope.jpg\n");
  const auto via_manifest = Run({{root() / "list.txt", ScanInputKind::kManifest}});
  const auto direct = Run({{root() / "dir/b/img02.jpg"},
                           {root() / "dir/a/img00.jpg"},
                           {root() / "shards/000001.tar"},
                           {root() / "dir/nope.jpg"}});
  ASSERT_EQ(via_manifest.size(), 5u);
  EXPECT_EQ(Json(via_manifest), Json(direct));
  EXPECT_EQ(via_manifest[4].status.code(), StatusCode::kNotFound);
  // A missing manifest is one failed item.
  const auto missing = Run({{root() / "no-list.txt", ScanInputKind::kManifest}});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].status.code(), StatusCode::kNotFound);
}

TEST_F(ScanTest, SameOutputWhateverThreadsAndChunks) {
  const std::vector<ScanInput> in = {
      {root() / "dir"}, {root() / "shards"}, {root() / "truncated.tar"}};
  ScanOptions one;
  one.max_threads = 1;
  const std::string want = Json(Run(in, one));
  EXPECT_FALSE(want.empty());
  for (auto [threads, chunk, tokens] : {std::tuple{2, 1, 1}, {2, 3, 2}, {0, 16, 0}, {2, 2, 8}}) {
    ScanOptions o;
    o.max_threads = threads;
    o.chunk_items = size_t(chunk);
    o.max_tokens = size_t(tokens);
    o.chunk_bytes = chunk == 3 ? 1 : o.chunk_bytes;  // byte budget closes chunks early
    EXPECT_EQ(Json(Run(in, o)), want) << threads << " " << chunk << " " << tokens;
  }
}

TEST_F(ScanTest, SkipItemsGivesTheTail) {
  // Skipping must number the items exactly as reading them does, damaged shards included (a
  // resumed scan skips what the first run read).
  const std::vector<ScanInput> in = {{root() / "dir"},           {root() / "truncated.tar"},
                                     {root() / "shards"},        {root() / "missing.tar"},
                                     {root() / "truncated.tar"}, {root() / "dir/a/img00.jpg"}};
  const auto all = Run(in);
  EXPECT_EQ(CountScanItems(in, {}), all.size());
  for (size_t k = 0; k <= all.size() + 1; ++k) {
    ScanOptions o;
    o.skip_items = k;
    const auto tail = Run(in, o);
    const size_t from = std::min(k, all.size());
    EXPECT_EQ(Json(tail), Json(std::vector<ScanItemResult>(all.begin() + from, all.end()))) << k;
  }
}

TEST_F(ScanTest, DihedralFindsARotatedCopy) {
  // Image 0 turned by 90 degrees (lossless PNG): only the dihedral search finds it.
  const Image src = FixturePixels(0);
  Image rot;
  rot.width = src.height, rot.height = src.width, rot.channels = 3;
  rot.pixels.resize(src.pixels.size());
  for (int y = 0; y < src.height; ++y) {
    for (int x = 0; x < src.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        rot.pixels[(size_t(x) * rot.width + (src.height - 1 - y)) * 3 + c] =
            src.pixels[(size_t(y) * src.width + x) * 3 + c];
      }
    }
  }
  // The listed code is the JPEG's; the rotated copy is a PNG of the same pixels.
  WriteFile(root() / "rotated" / "r.png", EncodePng(rot));
  const auto plain = Run({{root() / "rotated"}});
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_FALSE(plain[0].matched());
  ScanOptions o;
  o.dihedral = true;
  const auto dih = Run({{root() / "rotated"}}, o);
  ASSERT_EQ(dih.size(), 1u);
  ASSERT_EQ(Keys(dih[0], dih[0].matches), std::vector<std::string>{"bad_pdq/p0"});
  ASSERT_TRUE(dih[0].matches[0].orientation.has_value());
  EXPECT_NE(*dih[0].matches[0].orientation, Dihedral::kOriginal);
  EXPECT_NE(ScanItemJson(dih[0], o.signals).find("\"orientation\":\""), std::string::npos);
}

TEST_F(ScanTest, OtherSignalsAndTheFastPath) {
  // A store with a SHA-1 set and a dHash set: matched when those signals are computed.
  TempDir t("hm-scan-signals");
  StoreOptions so;
  so.create_if_missing = true;
  so.background_snapshots = false;
  auto store = HashSetStore::Open(t.path() / "store", so).value();
  ASSERT_TRUE(store->CreateSet({"sha1set", SignalType::kSha1, 0}).ok());
  ASSERT_TRUE(store->CreateSet({"dhashset", SignalType::kDHash64, 4}).ok());
  BatchHashOptions bo;
  bo.signals = {SignalType::kSha1, SignalType::kDHash64};
  const std::vector<BatchInput> in = {std::span<const uint8_t>(images_[2]),
                                      std::span<const uint8_t>(images_[3])};
  const auto h = HashBatch(in, bo);
  ASSERT_TRUE(h[0].ok() && h[1].ok());
  ImportPage p1, p2;
  p1.records = {Record("s2", SignalType::kSha1, h[0].sha1)};
  p2.records = {Record("d3", SignalType::kDHash64, h[1].dhash)};
  ASSERT_TRUE(store->ApplyPage("sha1set", p1).ok());
  ASSERT_TRUE(store->ApplyPage("dhashset", p2).ok());
  auto snap2 = store->GetSnapshot();
  const std::vector<ScanInput> inputs = {{root() / "dir/b"}};  // broken, img02, sub/img03
  ScanOptions o;
  o.signals = {SignalType::kSha1, SignalType::kDHash64};
  auto items = ScanAll(*snap2, inputs, o);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ(Keys((*items)[1], (*items)[1].matches), std::vector<std::string>{"sha1set/s2"});
  EXPECT_EQ(Keys((*items)[2], (*items)[2].matches), std::vector<std::string>{"dhashset/d3"});
  const std::string line = ScanItemJson((*items)[1], o.signals);
  EXPECT_NE(line.find("\"sha1\":\""), std::string::npos);
  EXPECT_NE(line.find("\"dhash64\":\""), std::string::npos);
  EXPECT_NE(line.find("\"md5\":\""), std::string::npos);  // always
  // Without those signals computed, those sets are not searched.
  auto plain = ScanAll(*snap2, inputs, {});
  ASSERT_TRUE(plain.ok());
  for (const auto& it : *plain) EXPECT_FALSE(it.matched());

  // The PDQ fast path (JPEGs): still within the threshold of the exact-path code, and marked.
  ScanOptions fast;
  fast.pdq.fast = true;
  const auto f = Run({{root() / "dir/a/img00.jpg"}}, fast);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(Keys(f[0], f[0].matches), std::vector<std::string>{"bad_pdq/p0"});
  EXPECT_TRUE(f[0].hashes.pdq_fast);
  EXPECT_NE(ScanItemJson(f[0], fast.signals).find("\"pdq_fast\":true"), std::string::npos);
}

TEST_F(ScanTest, LimitsAndOptionErrors) {
  ScanOptions small;
  small.max_item_bytes = 100;
  const auto items = Run({{root() / "dir/a/img00.jpg"}, {root() / "shards/000001.tar"}}, small);
  ASSERT_EQ(items.size(), 3u);
  for (const auto& it : items) EXPECT_EQ(it.status.code(), StatusCode::kOutOfRange);

  ScanOptions named;
  named.sets = {"nope"};
  EXPECT_EQ(
      Scan(snap(), std::vector<ScanInput>{}, named, [](ScanItemResult&) { return Status::Ok(); })
          .status()
          .code(),
      StatusCode::kNotFound);
  named.sets = {"bad_md5"};
  named.signals = {SignalType::kSha1};  // PDQ and MD5 are added: bad_md5 is searchable
  EXPECT_TRUE(ScanAll(snap(), std::vector<ScanInput>{}, named).ok());
  ScanOptions zero;
  zero.chunk_items = 0;
  EXPECT_FALSE(ScanAll(snap(), std::vector<ScanInput>{}, zero).ok());

  // Naming only the MD5 set: no PDQ match, but the allow-list still applies (to PDQ: none here).
  ScanOptions md5_only;
  md5_only.sets = {"bad_md5"};
  ScanSummary sum;
  const auto d = Run({{root() / "dir"}}, md5_only, &sum);
  EXPECT_EQ(sum.matched, 2u);          // broken.jpg and img02 by MD5; img00's PDQ set not searched
  EXPECT_EQ(sum.searched.size(), 2u);  // bad_md5 and allow_pdq
}

TEST_F(ScanTest, SinkErrorStopsTheScan) {
  size_t calls = 0;
  auto r = Scan(snap(), std::vector<ScanInput>{{root() / "dir"}}, {}, [&](ScanItemResult&) {
    return ++calls == 3 ? Status::IoError("disk full") : Status::Ok();
  });
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_EQ(calls, 3u);
}

// ---- RunScanJob ---------------------------------------------------------------------------

struct JobRun {
  std::string out, keep, drop;
};

TEST_F(ScanTest, JobWritesFlaggedItemsAndLists) {
  TempDir t("hm-scan-job");
  ScanJobFiles f{t.path() / "out.jsonl", t.path() / "keep.txt", t.path() / "drop.txt",
                 t.path() / "ckpt"};
  const std::vector<ScanInput> in = {{root() / "dir"}, {root() / "shards"}};
  ScanJobOptions jo;
  auto s = RunScanJob(snap(), in, jo, f);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto all = Run(in);
  std::string flagged, keep, drop;
  for (const auto& it : all) {
    if (!it.ok() || it.matched() || !it.suppressed.empty()) {
      flagged += ScanItemJson(it, {SignalType::kPdq, SignalType::kMd5});
    }
    const std::string line = it.member.empty() ? it.path + "\n" : it.path + "\t" + it.member + "\n";
    if (it.matched()) {
      drop += line;
    } else if (it.ok()) {
      keep += line;
    }
  }
  EXPECT_EQ(ReadAll(f.out), flagged);
  EXPECT_EQ(ReadAll(f.keep), keep);
  EXPECT_EQ(ReadAll(f.drop), drop);
  EXPECT_EQ(s->items, all.size());
  EXPECT_NE(ReadAll(f.checkpoint).find("complete 1"), std::string::npos);

  // Refusals, each changing nothing.
  auto again = RunScanJob(snap(), in, jo, f);  // a checkpoint exists, no resume
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  jo.resume = true;
  auto done = RunScanJob(snap(), in, jo, f);  // complete: the summary, nothing rewritten
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->items, all.size());
  EXPECT_EQ(ReadAll(f.out), flagged);
  ScanJobOptions other = jo;
  other.scan.dihedral = true;
  EXPECT_EQ(RunScanJob(snap(), in, other, f).status().code(), StatusCode::kInvalidArgument);
  const std::vector<ScanInput> fewer = {{root() / "dir"}};
  EXPECT_EQ(RunScanJob(snap(), fewer, jo, f).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadAll(f.out), flagged);
}

TEST_F(ScanTest, JobResumesFromEveryCheckpointToTheSameBytes) {
  TempDir t("hm-scan-resume");
  const std::vector<ScanInput> in = {{root() / "dir"}, {root() / "shards"}};
  ScanJobOptions jo;
  jo.write_all_items = true;
  jo.checkpoint_interval_s = 0;  // a checkpoint after every item
  ScanJobFiles f{t.path() / "out.jsonl", t.path() / "keep.txt", t.path() / "drop.txt",
                 t.path() / "ckpt"};
  // During the run, copy the files as a crash would leave them at item k: the checkpoint of the
  // items before k, and outputs holding that plus whatever was written after it.
  struct Saved {
    std::string ckpt, out, keep, drop;
  };
  std::vector<Saved> saved;
  jo.progress = [&](const ScanItemResult&, const ScanSummary&) {
    if (!fs::exists(f.checkpoint)) return;
    saved.push_back({ReadAll(f.checkpoint), ReadAll(f.out), ReadAll(f.keep), ReadAll(f.drop)});
  };
  ASSERT_TRUE(RunScanJob(snap(), in, jo, f).ok());
  const JobRun want{ReadAll(f.out), ReadAll(f.keep), ReadAll(f.drop)};
  ASSERT_GE(saved.size(), 10u);
  jo.progress = nullptr;
  jo.resume = true;
  for (size_t k = 0; k < saved.size(); ++k) {
    WriteText(f.checkpoint, saved[k].ckpt);
    // A torn tail beyond the checkpoint: must be cut off.
    WriteText(f.out, saved[k].out + "{\"index\":9999,\"tor");
    WriteText(f.keep, saved[k].keep + "half a li");
    WriteText(f.drop, saved[k].drop);
    auto r = RunScanJob(snap(), in, jo, f);
    ASSERT_TRUE(r.ok()) << k << ": " << r.status().ToString();
    EXPECT_EQ(ReadAll(f.out), want.out) << k;
    EXPECT_EQ(ReadAll(f.keep), want.keep) << k;
    EXPECT_EQ(ReadAll(f.drop), want.drop) << k;
    EXPECT_GT(r->resumed_items, 0u);
  }
  // The dataset changed under the resume point (a file added before it): refused, nothing
  // changed.
  WriteText(f.checkpoint, saved[saved.size() / 2].ckpt);
  const std::string torn = saved[saved.size() / 2].out + "{\"torn";  // not even cut back
  WriteText(f.out, torn);
  WriteFile(root() / "dir" / "a" / "aa.jpg", images_[6]);
  auto shifted = RunScanJob(snap(), in, jo, f);
  fs::remove(root() / "dir" / "a" / "aa.jpg");
  EXPECT_EQ(shifted.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(shifted.status().message().find("dataset changed"), std::string::npos)
      << shifted.status().ToString();
  EXPECT_EQ(ReadAll(f.out), torn);
  // An output shorter than the checkpoint says is not this scan's: refused.
  WriteText(f.checkpoint, saved.back().ckpt);
  WriteText(f.out, "");
  EXPECT_EQ(RunScanJob(snap(), in, jo, f).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hashmatch

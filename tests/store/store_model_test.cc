// The set model through the public API: sets, versions, idempotent pages, full resync, stale
// records, tombstones, entry enabling, degenerate codes, staged imports, persistence.
#include <gtest/gtest.h>

#include "store_test_util.h"

namespace hashmatch {
namespace {

using testing::Dump;
using testing::RandomCode;
using testing::Rec;
using testing::TempDir;
using testing::Tombstone;

std::unique_ptr<HashSetStore> OpenStore(const std::filesystem::path& dir, StoreOptions o = {}) {
  o.create_if_missing = true;
  auto s = HashSetStore::Open(dir, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

ImportPage Page(std::vector<EntryRecord> records, std::string checkpoint = "") {
  ImportPage p;
  p.records = std::move(records);
  if (!checkpoint.empty()) p.checkpoint = Checkpoint{checkpoint};
  return p;
}

TEST(StoreModel, CreateListDropSets) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateSet({"NCMEC_PDQ", SignalType::kPdq, 31}).ok());
  ASSERT_TRUE(store->CreateSet({"md5s", SignalType::kMd5, 0}).ok());
  EXPECT_EQ(store->CreateSet({"NCMEC_PDQ", SignalType::kPdq, 31}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store->CreateSet({"bad name", SignalType::kPdq, 31}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CreateSet({"x", SignalType::kPdq, 257}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CreateSet({"y", SignalType::kMd5, 3}).code(), StatusCode::kInvalidArgument);
  auto sets = store->ListSets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].config.name, "NCMEC_PDQ");
  EXPECT_EQ(sets[0].version, 1u);
  const uint32_t old_id = sets[0].id;
  ASSERT_TRUE(store->DropSet("NCMEC_PDQ").ok());
  EXPECT_EQ(store->DropSet("NCMEC_PDQ").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->CreateSet({"NCMEC_PDQ", SignalType::kPdq, 20}).ok());
  auto again = store->GetSet("NCMEC_PDQ");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->id, old_id);  // ids are never reused
  EXPECT_EQ(again->config.threshold, 20u);
}

TEST(StoreModel, VersionChangesOnlyWithContent) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  ImportPage p = Page({Rec("a", RandomCode(32, 1, 1), SignalType::kPdq, "A1", {"x", "y"}, 10),
                       Rec("b", RandomCode(32, 1, 2), SignalType::kPdq, "A2", {}, 10)},
                      "page-1");
  auto r1 = store->ApplyPage("S", p);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_TRUE(r1->changed);
  EXPECT_EQ(r1->added, 2u);
  EXPECT_EQ(r1->set_version, 2u);
  const std::string before = Dump(*store->GetSnapshot(), false);
  // The same page again: nothing changes, not even the version.
  auto r2 = store->ApplyPage("S", p);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->changed);
  EXPECT_EQ(r2->unchanged, 2u);
  EXPECT_EQ(r2->set_version, 2u);
  EXPECT_GT(r2->sequence, r1->sequence);
  EXPECT_EQ(Dump(*store->GetSnapshot(), false), before);
  // An update to one entry changes the version once.
  p.records[1].classification = "B1";
  p.records[1].source_time = 11;
  auto r3 = store->ApplyPage("S", p);
  ASSERT_TRUE(r3.ok());
  EXPECT_TRUE(r3->changed);
  EXPECT_EQ(r3->updated, 1u);
  EXPECT_EQ(r3->unchanged, 1u);
  EXPECT_EQ(r3->set_version, 3u);
  // A set's configuration change is a version too; a no-op update is not.
  ASSERT_TRUE(store->UpdateSet("S", SetUpdate{.threshold = 20}).ok());
  EXPECT_EQ(store->GetSet("S")->version, 4u);
  ASSERT_TRUE(store->UpdateSet("S", SetUpdate{.threshold = 20}).ok());
  EXPECT_EQ(store->GetSet("S")->version, 4u);
  // Other sets keep their own versions.
  ASSERT_TRUE(store->CreateSet({"T", SignalType::kPdq, 31}).ok());
  EXPECT_EQ(store->GetSet("T")->version, 1u);
  EXPECT_EQ(store->GetSet("S")->version, 4u);
}

TEST(StoreModel, DuplicateKeysInOnePageAreIdempotent) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  // Same key twice with equal times: the later record wins; re-applying changes nothing.
  ImportPage p = Page({Rec("k", RandomCode(32, 2, 1), SignalType::kPdq, "first", {}, 5),
                       Rec("k", RandomCode(32, 2, 2), SignalType::kPdq, "second", {}, 5)});
  ASSERT_TRUE(store->ApplyPage("S", p).ok());
  EXPECT_EQ(store->GetSnapshot()->GetEntry("S", "k")->classification, "second");
  const uint64_t v = store->GetSet("S")->version;
  auto again = store->ApplyPage("S", p);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(store->GetSet("S")->version, v);
}

TEST(StoreModel, LaterSourceTimeWinsAndTombstonesStay) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  ASSERT_TRUE(
      store
          ->ApplyPage("S", Page({Rec("k", RandomCode(32, 3, 1), SignalType::kPdq, "new", {}, 100)}))
          .ok());
  // An older record for the key is stale: ignored.
  auto r = store->ApplyPage(
      "S", Page({Rec("k", RandomCode(32, 3, 2), SignalType::kPdq, "old", {}, 50)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stale, 1u);
  EXPECT_FALSE(r->changed);
  EXPECT_EQ(store->GetSnapshot()->GetEntry("S", "k")->classification, "new");
  // A deletion by key leaves a tombstone; a stale re-add does not resurrect it.
  auto d = store->ApplyPage("S", Page({Tombstone("k", 200)}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->deleted, 1u);
  auto e = store->GetSnapshot()->GetEntry("S", "k");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->deleted);
  auto stale = store->ApplyPage(
      "S", Page({Rec("k", RandomCode(32, 3, 1), SignalType::kPdq, "new", {}, 150)}));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->stale, 1u);
  EXPECT_TRUE(store->GetSnapshot()->GetEntry("S", "k")->deleted);
  // A newer one does.
  auto back = store->ApplyPage(
      "S", Page({Rec("k", RandomCode(32, 3, 3), SignalType::kPdq, "back", {}, 300)}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->added, 1u);
  EXPECT_FALSE(store->GetSnapshot()->GetEntry("S", "k")->deleted);
  // Deleting an unknown key is nothing.
  auto none = store->ApplyPage("S", Page({Tombstone("never-seen")}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->changed);
}

TEST(StoreModel, FullResyncTombstonesMissingKeys) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  std::vector<EntryRecord> all;
  for (int i = 0; i < 10; ++i) all.push_back(Rec(testing::Str("k", i), RandomCode(32, 4, i)));
  ASSERT_TRUE(store->ApplyPage("S", Page(all)).ok());
  ImportPage full = Page({all[2], all[5], all[7]}, "full-1");
  full.full_list = true;
  auto r = store->ApplyPage("S", full);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted, 7u);
  const SetInfo info = store->GetSet("S").value();
  EXPECT_EQ(info.counts.live, 3u);
  EXPECT_EQ(info.counts.tombstones, 7u);
  EXPECT_EQ(info.checkpoint->value, "full-1");
  // The same full list again changes nothing.
  auto again = store->ApplyPage("S", full);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
}

TEST(StoreModel, MalformedRecordRefusesTheWholePage) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  EntryRecord bad = Rec("bad", std::vector<uint8_t>(31, 7));
  bad.source_ref = "list.txt:3";
  auto r = store->ApplyPage("S", Page({Rec("good", RandomCode(32, 5, 1)), bad}, "cp"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("list.txt:3"), std::string::npos) << r.status().message();
  const SetInfo info = store->GetSet("S").value();
  EXPECT_EQ(info.counts.live, 0u);
  EXPECT_FALSE(info.checkpoint.has_value());
  EXPECT_EQ(info.version, 1u);
  // Another signal: refused, or skipped when asked.
  auto md5 = Rec("m", RandomCode(16, 5, 2), SignalType::kMd5);
  EXPECT_FALSE(store->ApplyPage("S", Page({md5})).ok());
  auto skipped = store->ApplyPage("S", Page({md5}), ApplyOptions{.skip_other_signals = true});
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->skipped, 1u);
  EXPECT_EQ(store->ApplyPage("nope", Page({})).status().code(), StatusCode::kNotFound);
}

TEST(StoreModel, DegenerateCodesAreQuarantinedOrRefused) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"Q", SignalType::kPdq, 31}).ok());
  SetConfig refuse{"R", SignalType::kPdq, 31};
  refuse.degenerate = DegeneratePolicy::kRefuse;
  ASSERT_TRUE(store->CreateSet(refuse).ok());
  const std::vector<uint8_t> zeros(32, 0);
  auto q = store->ApplyPage("Q", Page({Rec("z", zeros), Rec("ok", RandomCode(32, 6, 1))}));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->quarantined, 1u);
  ASSERT_EQ(q->notes.size(), 1u);
  EXPECT_NE(q->notes[0].find("all-zero"), std::string::npos);
  auto e = store->GetSnapshot()->GetEntry("Q", "z");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->matched());
  EXPECT_NE(e->quarantine_reason.find("all-zero"), std::string::npos);
  EXPECT_EQ(store->GetSet("Q")->counts.indexed, 1u);
  // Never matched, even by itself.
  auto m = store->Match(SignalType::kPdq, CodeView{zeros.data(), 1, 32});
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->queries[0].hits.empty());
  auto r = store->ApplyPage("R", Page({Rec("ok", RandomCode(32, 6, 1)), Rec("z", zeros)}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("all-zero"), std::string::npos);
  EXPECT_EQ(store->GetSet("R")->counts.live, 0u);
}

TEST(StoreModel, EntryEnabledFlag) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  const auto code = RandomCode(32, 7, 1);
  ASSERT_TRUE(store->ApplyPage("S", Page({Rec("k", code)})).ok());
  auto hits = [&] {
    return store->Match(SignalType::kPdq, CodeView{code.data(), 1, 32})->queries[0].hits.size();
  };
  EXPECT_EQ(hits(), 1u);
  const uint64_t v = store->GetSet("S")->version;
  ASSERT_TRUE(store->SetEntryEnabled("S", "k", false).ok());
  EXPECT_EQ(hits(), 0u);
  EXPECT_EQ(store->GetSet("S")->version, v + 1);
  ASSERT_TRUE(store->SetEntryEnabled("S", "k", false).ok());  // no change, no version
  EXPECT_EQ(store->GetSet("S")->version, v + 1);
  // A source update keeps the operator's choice.
  ASSERT_TRUE(store->ApplyPage("S", Page({Rec("k", code, SignalType::kPdq, "C")})).ok());
  EXPECT_EQ(hits(), 0u);
  ASSERT_TRUE(store->SetEntryEnabled("S", "k", true).ok());
  EXPECT_EQ(hits(), 1u);
  EXPECT_EQ(store->SetEntryEnabled("S", "missing", true).code(), StatusCode::kNotFound);
}

TEST(StoreModel, StagedImportCommitsAtTheEndOrNotAtAll) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  {
    auto txn = store->BeginImport("S").value();
    std::vector<EntryRecord> chunk;
    for (int i = 0; i < 1000; ++i) chunk.push_back(Rec(testing::Str("a", i), RandomCode(32, 8, i)));
    ASSERT_TRUE(txn->AsSink()(chunk).ok());
    EXPECT_EQ(store->GetSet("S")->counts.live, 0u);  // staged, not applied
    // A second staged import waits for the first.
    EXPECT_EQ(store->BeginImport("S").status().code(), StatusCode::kUnavailable);
    // Destroyed without commit: aborted.
  }
  EXPECT_EQ(store->GetSet("S")->counts.live, 0u);
  auto txn = store->BeginImport("S").value();
  for (int c = 0; c < 5; ++c) {
    std::vector<EntryRecord> chunk;
    for (int i = 0; i < 20000; ++i) {
      chunk.push_back(Rec(testing::Str("b", c * 20000 + i), RandomCode(32, 9, c * 20000 + i)));
    }
    ASSERT_TRUE(txn->Add(chunk).ok());
  }
  EXPECT_EQ(store->GetSet("S")->counts.live, 0u);
  auto r = txn->Commit(Checkpoint{"file-done"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->added, 100000u);
  EXPECT_EQ(store->GetSet("S")->counts.live, 100000u);
  EXPECT_EQ(store->GetSet("S")->checkpoint->value, "file-done");
  // A bad record in a later chunk refuses the whole import.
  auto bad = store->BeginImport("S").value();
  ASSERT_TRUE(bad->Add(std::vector<EntryRecord>{Rec("c1", RandomCode(32, 10, 1))}).ok());
  EXPECT_FALSE(bad->Add(std::vector<EntryRecord>{Rec("", RandomCode(32, 10, 2))}).ok());
  EXPECT_FALSE(bad->Commit(std::nullopt).ok());
  EXPECT_FALSE(store->GetSnapshot()->GetEntry("S", "c1").ok());
}

TEST(StoreModel, StateSurvivesReopenWithAndWithoutSnapshots) {
  TempDir dir;
  std::string expected;
  {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
    ASSERT_TRUE(store->CreateSet({"D", SignalType::kSha1, 0}).ok());
    std::vector<EntryRecord> recs;
    for (int i = 0; i < 5000; ++i) {
      recs.push_back(Rec(testing::Str("k", i), RandomCode(32, 11, i), SignalType::kPdq,
                         testing::Str("c", i % 3), {"t1", testing::Str("t", i % 5)}, i));
    }
    ASSERT_TRUE(store->ApplyPage("S", Page(recs, "cp1")).ok());
    ASSERT_TRUE(
        store->ApplyPage("D", Page({Rec("d1", RandomCode(20, 12, 1), SignalType::kSha1)})).ok());
    ASSERT_TRUE(store->WriteSnapshot().ok());
    ASSERT_TRUE(store->ApplyPage("S", Page({Tombstone("k1"), Tombstone("k2")}, "cp2")).ok());
    ASSERT_TRUE(store->SetEntryEnabled("S", "k3", false).ok());
    expected = Dump(*store->GetSnapshot());
  }
  for (int round = 0; round < 2; ++round) {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(Dump(*store->GetSnapshot()), expected) << "round " << round;
    if (round == 0) {
      EXPECT_GT(store->recovery().snapshot_sequence, 0u);
      EXPECT_EQ(store->recovery().replayed, 2u);
      ASSERT_TRUE(store->WriteSnapshot().ok());  // the next round opens from this one alone
    } else {
      EXPECT_EQ(store->recovery().replayed, 0u);
      EXPECT_TRUE(store->recovery().notes.empty()) << store->recovery().notes[0];
    }
  }
}

TEST(StoreModel, LargeImportsTriggerSnapshots) {
  TempDir dir;
  StoreOptions o;
  o.snapshot_log_bytes = 64 << 10;  // the staged import's file alone passes this
  o.background_snapshots = false;
  auto store = OpenStore(dir.path(), o);
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  auto txn = store->BeginImport("S").value();
  std::vector<EntryRecord> recs;
  for (int i = 0; i < 5000; ++i) recs.push_back(Rec(testing::Str("k", i), RandomCode(32, 13, i)));
  ASSERT_TRUE(txn->Add(recs).ok());
  ASSERT_TRUE(txn->Commit(std::nullopt).ok());
  EXPECT_TRUE(store->WaitForSnapshot().ok());
  int snaps = 0, stages = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    snaps += e.path().extension() == ".snap";
    stages += e.path().extension() == ".stage";
  }
  EXPECT_EQ(snaps, 1);
  EXPECT_EQ(stages, 0);  // covered by the snapshot: removed
  const std::string want = Dump(*store->GetSnapshot());
  store.reset();
  store = OpenStore(dir.path(), o);
  EXPECT_EQ(store->recovery().replayed, 0u);
  EXPECT_EQ(Dump(*store->GetSnapshot()), want);
}

TEST(StoreModel, ReadOnlyOpenAndLocking) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store->CreateSet({"S", SignalType::kPdq, 31}).ok());
  // A second writer is refused while the first holds the store.
  auto second = HashSetStore::Open(dir.path());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  StoreOptions ro;
  ro.read_only = true;
  auto reader = HashSetStore::Open(dir.path(), ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader.value()->ListSets().size(), 1u);
  EXPECT_EQ(reader.value()->CreateSet({"T", SignalType::kPdq, 31}).code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(HashSetStore::Open(dir.path() / "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(HashSetStore::Create(dir.path()).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace hashmatch

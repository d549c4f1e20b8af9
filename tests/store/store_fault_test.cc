// Power loss at every fsync and rename boundary (FaultInjectionEnv): a workload of commits, a
// staged import and snapshots runs with a crash at boundary n, for every n until the workload runs
// through. After each crash the directory is cut back to what was durable and the store reopened
// (itself crashed at every boundary of its recovery once); it must hold exactly the transactions
// whose calls returned OK, compared with a reference store given only those transactions.
#include <gtest/gtest.h>

#include <functional>

#include "fault_injection_env.h"
#include "store_test_util.h"

namespace hashmatch {
namespace {

using testing::Dump;
using testing::FaultInjectionEnv;
using testing::RandomCode;
using testing::Rec;
using testing::Tombstone;

// Fault tests fsync a lot; their durability is modelled by the Env, so tmpfs is fine and fast.
std::filesystem::path FastTemp(const std::string& tag) {
  static int n = 0;
  const std::filesystem::path base =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  auto p = base / testing::Str("hm-", tag, "-", ::getpid(), "-", n++);
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

std::string K(const char* prefix, int i) {
  std::string k(prefix);
  k += std::to_string(i);
  return k;
}

ImportPage Page(std::vector<EntryRecord> r, const char* cp = nullptr, bool full = false) {
  ImportPage p;
  p.records = std::move(r);
  if (cp) p.checkpoint = Checkpoint{cp};
  p.full_list = full;
  return p;
}

struct Op {
  const char* name;
  bool is_snapshot;
  std::function<Status(HashSetStore*)> run;
};

std::vector<Op> Workload() {
  std::vector<Op> ops;
  auto page = [](int from, int to, uint64_t seed) {
    std::vector<EntryRecord> r;
    for (int i = from; i < to; ++i) r.push_back(Rec(K("k", i), RandomCode(32, seed, i)));
    return r;
  };
  ops.push_back({"create P", false, [](HashSetStore* s) {
                   return s->CreateSet({"P", SignalType::kPdq, 31});
                 }});
  ops.push_back({"create D", false, [](HashSetStore* s) {
                   return s->CreateSet({"D", SignalType::kMd5, 0});
                 }});
  ops.push_back({"page P1", false, [page](HashSetStore* s) {
                   return s->ApplyPage("P", Page(page(0, 50, 1), "p1")).status();
                 }});
  ops.push_back({"page D", false, [](HashSetStore* s) {
                   std::vector<EntryRecord> r;
                   for (int i = 0; i < 10; ++i) {
                     r.push_back(Rec(K("d", i), RandomCode(16, 2, i), SignalType::kMd5));
                   }
                   return s->ApplyPage("D", Page(r)).status();
                 }});
  ops.push_back({"staged P", false, [page](HashSetStore* s) -> Status {
                   auto txn = s->BeginImport("P");
                   if (!txn.ok()) return txn.status();
                   for (int c = 0; c < 3; ++c) {
                     if (Status st = txn.value()->Add(page(100 + 100 * c, 200 + 100 * c, 3));
                         !st.ok()) {
                       return st;
                     }
                   }
                   return txn.value()->Commit(Checkpoint{"f1"}).status();
                 }});
  ops.push_back({"snapshot 1", true, [](HashSetStore* s) { return s->WriteSnapshot(); }});
  ops.push_back({"page P2", false, [page](HashSetStore* s) {
                   auto r = page(40, 60, 4);
                   r.push_back(Tombstone("k1"));
                   r.push_back(Tombstone("k150"));
                   return s->ApplyPage("P", Page(r, "p2")).status();
                 }});
  ops.push_back(
      {"disable k3", false, [](HashSetStore* s) { return s->SetEntryEnabled("P", "k3", false); }});
  ops.push_back({"threshold", false,
                 [](HashSetStore* s) { return s->UpdateSet("P", SetUpdate{.threshold = 20}); }});
  ops.push_back({"snapshot 2", true, [](HashSetStore* s) { return s->WriteSnapshot(); }});
  ops.push_back({"full P", false, [page](HashSetStore* s) {
                   return s->ApplyPage("P", Page(page(0, 30, 1), "full", true)).status();
                 }});
  ops.push_back({"drop D", false, [](HashSetStore* s) { return s->DropSet("D"); }});
  ops.push_back({"create D2", false, [](HashSetStore* s) {
                   return s->CreateSet({"D2", SignalType::kSha256, 0});
                 }});
  ops.push_back(
      {"page D2", false, [](HashSetStore* s) {
         return s->ApplyPage("D2", Page({Rec("x", RandomCode(32, 5, 1), SignalType::kSha256)}))
             .status();
       }});
  ops.push_back({"snapshot 3", true, [](HashSetStore* s) { return s->WriteSnapshot(); }});
  ops.push_back({"page P3", false, [page](HashSetStore* s) {
                   return s->ApplyPage("P", Page(page(25, 35, 6), "p3")).status();
                 }});
  return ops;
}

StoreOptions Options(Env* env) {
  StoreOptions o;
  o.env = env;
  o.create_if_missing = true;
  o.snapshot_log_bytes = 0;  // snapshots only where the workload asks
  return o;
}

// Matches of a few codes, as text: checks the recovered indexes, not only the entries.
std::string MatchDump(const StoreSnapshot& snap) {
  std::string out;
  std::vector<uint8_t> q;
  for (int i : {0, 5, 29, 45, 150, 199}) {
    auto c = RandomCode(32, 1, i);
    q.insert(q.end(), c.begin(), c.end());
  }
  auto r = snap.Match(SignalType::kPdq, CodeView{q.data(), q.size() / 32, 32});
  if (!r.ok()) return r.status().ToString();
  for (const auto& qm : r->queries) {
    for (const auto& h : qm.hits)
      out += testing::Str(h.set, "/", h.entry.key, "/", h.distance, " ");
    out += "|";
  }
  return out;
}

TEST(StoreFault, PowerLossAtEveryBoundary) {
  const std::vector<Op> ops = Workload();
  uint64_t crash_at = 1;
  int crashes = 0, open_crashes = 0;
  for (;; ++crash_at) {
    SCOPED_TRACE(testing::Str("crash at boundary ", crash_at));
    const auto dir = FastTemp("fault");
    std::vector<bool> ok(ops.size(), false);
    bool crashed = false;
    {
      FaultInjectionEnv env(dir);
      env.CrashAt(crash_at);
      auto store = HashSetStore::Open(dir, Options(&env));
      if (store.ok()) {
        for (size_t i = 0; i < ops.size(); ++i) ok[i] = ops[i].run(store.value().get()).ok();
      }
      crashed = env.crashed();
      store = Status::Internal("closed");  // close before the power goes
      env.RestoreDurableState();
    }
    // Recovery itself loses power at each of its boundaries, then runs clean.
    for (uint64_t m = 1;; ++m) {
      FaultInjectionEnv env(dir);
      env.CrashAt(m);
      auto store = HashSetStore::Open(dir, Options(&env));
      const bool open_crashed = env.crashed();
      store = Status::Internal("closed");
      env.RestoreDurableState();
      if (!open_crashed) break;
      ++open_crashes;
    }
    FaultInjectionEnv env(dir);
    auto store = HashSetStore::Open(dir, Options(&env));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // The reference: a clean store given exactly the operations that returned OK.
    const auto ref_dir = FastTemp("ref");
    std::string want, want_matches;
    {
      FaultInjectionEnv ref_env(ref_dir);
      auto ref = HashSetStore::Open(ref_dir, Options(&ref_env));
      ASSERT_TRUE(ref.ok());
      for (size_t i = 0; i < ops.size(); ++i) {
        if (ok[i] && !ops[i].is_snapshot) {
          ASSERT_TRUE(ops[i].run(ref.value().get()).ok()) << ops[i].name;
        }
      }
      want = Dump(*ref.value()->GetSnapshot());
      want_matches = MatchDump(*ref.value()->GetSnapshot());
    }
    EXPECT_EQ(Dump(*store.value()->GetSnapshot()), want);
    EXPECT_EQ(MatchDump(*store.value()->GetSnapshot()), want_matches);
    // And it keeps working.
    EXPECT_TRUE(store.value()->CreateSet({"after", SignalType::kPdq, 31}).ok());
    store = Status::Internal("closed");
    std::filesystem::remove_all(dir);
    std::filesystem::remove_all(ref_dir);
    if (!crashed) break;  // the workload ran through: every boundary has been tried
    ++crashes;
  }
  std::cout << "power losses simulated: " << crashes << " during the workload, " << open_crashes
            << " during recovery" << std::endl;
  EXPECT_GT(crashes, 40);
}

}  // namespace
}  // namespace hashmatch

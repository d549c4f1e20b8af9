// The numbered transactions of the SIGKILL test, shared by the child (store_crash_helper) that
// runs them and the parent (store_kill_test) that checks what survived.
#pragma once

#include <string>
#include <vector>

#include "hashmatch/hashsets/hash_set_store.h"
#include "store_test_util.h"

namespace hashmatch::crash {

inline constexpr const char* kSet = "S";
inline constexpr int kDeletesPerTxn = 50;

inline bool Staged(long i) {
  return i % 3 == 2;
}
inline int Records(long i) {
  return Staged(i) ? 3 * 1500 : 400;
}
inline std::string Key(long i, int j) {
  std::string k = "t";
  k += std::to_string(i);
  k += '-';
  k += std::to_string(j);
  return k;
}
inline std::vector<uint8_t> Code(long i, int j) {
  return testing::RandomCode(32, uint64_t(i), uint64_t(j));
}

// The last transaction whose checkpoint the store holds; -1 for none.
inline long LastCommitted(const HashSetStore& s) {
  auto set = s.GetSet(kSet);
  if (!set.ok() || !set->checkpoint) return -1;
  return std::stol(set->checkpoint->value.substr(4));  // "txn-<i>"
}

inline Status RunTxn(HashSetStore* s, long i) {
  std::vector<EntryRecord> recs;
  for (int j = 0; j < Records(i); ++j) recs.push_back(testing::Rec(Key(i, j), Code(i, j)));
  if (i >= 2) {
    for (int j = 0; j < kDeletesPerTxn; ++j) recs.push_back(testing::Tombstone(Key(i - 2, j)));
  }
  const Checkpoint cp{testing::Str("txn-", i)};
  if (!Staged(i)) {
    ImportPage p;
    p.records = std::move(recs);
    p.checkpoint = cp;
    return s->ApplyPage(kSet, p).status();
  }
  auto txn = s->BeginImport(kSet);
  if (!txn.ok()) return txn.status();
  for (size_t at = 0; at < recs.size(); at += 1500) {
    const size_t n = std::min<size_t>(1500, recs.size() - at);
    if (Status st = txn.value()->Add(std::span<const EntryRecord>(recs).subspan(at, n)); !st.ok()) {
      return st;
    }
  }
  return txn.value()->Commit(cp).status();
}

}  // namespace hashmatch::crash

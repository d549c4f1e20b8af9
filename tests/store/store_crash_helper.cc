// The child process of store_kill_test: imports a long list as numbered transactions into the
// store in DIR and reports each commit on stdout ("COMMITTED i"), until it is killed.
//
//   store_crash_helper DIR LAST
//
// Transaction i: a page (or, every third, a staged import of three chunks) of records keyed
// "t<i>-<j>" with codes derived from (i, j), tombstones for the first 50 keys of transaction i-2,
// and the checkpoint "txn-<i>". It resumes after the transaction named by the stored checkpoint,
// as a sync job would. Snapshots are small and frequent (background thread) so that kills land
// in them too.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "crash_workload.h"

int main(int argc, char** argv) {
  using namespace hashmatch;
  if (argc != 3) {
    std::fprintf(stderr, "usage: store_crash_helper DIR LAST\n");
    return 2;
  }
  const long last = std::atol(argv[2]);
  StoreOptions o;
  o.create_if_missing = true;
  o.snapshot_log_bytes = 96 << 10;
  o.background_snapshots = true;
  auto store = HashSetStore::Open(argv[1], o);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  HashSetStore& s = *store.value();
  if (!s.GetSet(crash::kSet).ok()) {
    if (Status st = s.CreateSet({crash::kSet, SignalType::kPdq, 31}); !st.ok()) {
      std::fprintf(stderr, "create: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  for (long i = crash::LastCommitted(s) + 1; i <= last; ++i) {
    if (Status st = crash::RunTxn(&s, i); !st.ok()) {
      std::fprintf(stderr, "txn %ld: %s\n", i, st.ToString().c_str());
      return 1;
    }
    std::printf("COMMITTED %ld\n", i);
    std::fflush(stdout);
  }
  return 0;
}

// Hash-set store: durable commit throughput, open time and bytes on disk (docs/benchmarks.md).
//
//   store_bench [--entries N] [--page N] [--pages N] [--dir DIR] [--keep]
//
// 1. A staged import of N random PDQ entries (keys "e<i>", a classification, two tags) into a new
//    store, chunks of 16,384: entries/s from the first Add to the return of Commit, which fsyncs
//    the staging file, logs and fsyncs the commit record and installs it (the index merge that
//    follows runs in the background and is timed separately).
// 2. --pages sync pages of --page entries (half updates of existing keys, half new), each its own
//    durable commit: entries/s.
// 3. A snapshot (columns + index file): time and bytes on disk per entry.
// 4. Close and open again, warm page cache: the open time (snapshot mapped, CRCs checked, index
//    file mapped and checked against the columns, key table built); then with the index file
//    removed (the index rebuilt from the columns), for comparison.
// 5. 10,000 single-query matches at radius 31 on the opened store: mean latency.
// Run under `taskset -c 0` for "one core".
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "hashmatch/hashsets/hash_set_store.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds of the calling thread: the commit path's own work, whatever else the machine runs
// (the wall-clock figures include waiting for a busy CPU and for fsync).
double ThreadCpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// splitmix64: a cheap deterministic code per index (random bytes: ~128 bits set).
void Code(uint64_t i, uint8_t* out) {
  uint64_t x = i * 0x9e3779b97f4a7c15ull + 12345;
  for (int k = 0; k < 4; ++k) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(out + 8 * k, &z, 8);
  }
}

hashmatch::EntryRecord Record(uint64_t i, uint64_t version) {
  hashmatch::EntryRecord r;
  char key[32];
  std::snprintf(key, sizeof key, "e%llu", static_cast<unsigned long long>(i));
  r.key = key;
  r.signal = hashmatch::SignalType::kPdq;
  r.code.resize(32);
  Code(i * 7 + version, r.code.data());
  r.classification = "A1";
  char batch[32];
  std::snprintf(batch, sizeof batch, "batch-%llu", static_cast<unsigned long long>(i % 100));
  r.tags = {"image", batch};
  r.source_time = int64_t(1'700'000'000 + version);
  return r;
}

uint64_t DirBytes(const fs::path& dir, const std::string& ext = "") {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && (ext.empty() || e.path().extension() == ext)) n += e.file_size();
  }
  return n;
}

int Fail(const hashmatch::Status& s, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hashmatch;
  uint64_t entries = 1'000'000, page = 10'000, pages = 20;
  fs::path dir = fs::temp_directory_path() / "hm-store-bench";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--entries")
      entries = std::stoull(next());
    else if (a == "--page")
      page = std::stoull(next());
    else if (a == "--pages")
      pages = std::stoull(next());
    else if (a == "--dir")
      dir = next();
    else if (a == "--keep")
      keep = true;
    else {
      std::fprintf(
          stderr, "usage: store_bench [--entries N] [--page N] [--pages N] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  fs::remove_all(dir);
  std::printf("store_bench: %llu entries, %llu pages of %llu, dir %s\n",
              (unsigned long long)entries, (unsigned long long)pages, (unsigned long long)page,
              dir.c_str());
  StoreOptions o;
  o.create_if_missing = true;
  o.snapshot_log_bytes = 0;  // the bench decides when
  {
    auto opened = HashSetStore::Open(dir, o);
    if (!opened.ok()) return Fail(opened.status(), "open");
    HashSetStore& s = *opened.value();
    if (Status st = s.CreateSet({"BENCH", SignalType::kPdq, 31}); !st.ok())
      return Fail(st, "create");

    // 1. Staged import.
    auto t0 = Clock::now();
    const double cpu0 = ThreadCpu();
    double gen_cpu = 0;
    auto txn = s.BeginImport("BENCH");
    if (!txn.ok()) return Fail(txn.status(), "begin");
    std::vector<EntryRecord> chunk;
    double gen = 0;
    for (uint64_t i = 0; i < entries;) {
      const auto g0 = Clock::now();
      const double gc0 = ThreadCpu();
      chunk.clear();
      for (; chunk.size() < 16384 && i < entries; ++i) chunk.push_back(Record(i, 0));
      gen += Since(g0);
      gen_cpu += ThreadCpu() - gc0;
      if (Status st = txn.value()->Add(chunk); !st.ok()) return Fail(st, "add");
    }
    const double staged = Since(t0) - gen;
    const auto c0 = Clock::now();
    auto committed = txn.value()->Commit(Checkpoint{"bench"});
    if (!committed.ok()) return Fail(committed.status(), "commit");
    const double commit = Since(c0);
    const double cpu = ThreadCpu() - cpu0 - gen_cpu;
    std::printf(
        "staged import: %.2f s staging + %.2f s commit = %.0f entries/s durable, wall "
        "(record generation excluded, %.2f s); %.2f CPU s = %.0f entries per CPU s\n",
        staged, commit, double(entries) / (staged + commit), gen, cpu, double(entries) / cpu);
    const auto m0 = Clock::now();
    (void)s.WriteSnapshot();  // waits for nothing of the index; the merge below is separate
    const double snap1 = Since(m0);

    // 2. Pages.
    double page_time = 0, page_cpu = 0;
    for (uint64_t p = 0; p < pages; ++p) {
      ImportPage ip;
      for (uint64_t j = 0; j < page; ++j) {
        const uint64_t key = j % 2 ? (p * page + j) % entries : entries + p * page + j;
        ip.records.push_back(Record(key, p + 1));
      }
      ip.checkpoint = Checkpoint{"page-" + std::to_string(p)};
      const auto p0 = Clock::now();
      const double pc0 = ThreadCpu();
      auto r = s.ApplyPage("BENCH", ip);
      page_time += Since(p0);
      page_cpu += ThreadCpu() - pc0;
      if (!r.ok()) return Fail(r.status(), "page");
    }
    if (pages) {
      std::printf(
          "pages: %llu x %llu entries, %.0f entries/s durable, wall (%.1f ms per page); "
          "%.0f entries per CPU s\n",
          (unsigned long long)pages, (unsigned long long)page, double(pages * page) / page_time,
          1000 * page_time / double(pages), double(pages * page) / page_cpu);
    }
    // 3. Snapshot.
    const auto s0 = Clock::now();
    if (Status st = s.WriteSnapshot(); !st.ok()) return Fail(st, "snapshot");
    const double snap = Since(s0);
    const uint64_t rows = s.GetSet("BENCH")->counts.live;
    std::printf("snapshot: %.2f s (the first, after the import: %.2f s)\n", snap, snap1);
    std::printf(
        "on disk: %.1f bytes/entry (snapshot %.1f, index file %.1f, log %.1f) for %llu "
        "entries\n",
        double(DirBytes(dir)) / double(rows), double(DirBytes(dir, ".snap")) / double(rows),
        double(DirBytes(dir, ".idx")) / double(rows), double(DirBytes(dir, ".log")) / double(rows),
        (unsigned long long)rows);
  }
  // 4. Open.
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".idx") fs::remove(e.path());
      }
    }
    const auto o0 = Clock::now();
    const double oc0 = ThreadCpu();
    auto opened = HashSetStore::Open(dir, o);
    if (!opened.ok()) return Fail(opened.status(), "reopen");
    const double open = Since(o0), open_cpu = ThreadCpu() - oc0;
    std::printf("open%s: %.2f s (%.2f CPU s; %llu entries)\n",
                round ? " without the index file" : "", open, open_cpu,
                (unsigned long long)opened.value()->GetSet("BENCH")->counts.live);
    if (round == 1) break;
    // 5. Matching.
    auto snap = opened.value()->GetSnapshot();
    const int q = 10'000;
    std::vector<uint8_t> code(32);
    uint64_t hits = 0;
    const auto q0 = Clock::now();
    for (int i = 0; i < q; ++i) {
      Code(uint64_t(i) * 7, code.data());  // entry i's code: one hit each
      auto r = snap->Match(SignalType::kPdq, CodeView{code.data(), 1, 32});
      if (!r.ok()) return Fail(r.status(), "match");
      hits += r->queries[0].hits.size();
    }
    std::printf("match: %.1f us per single query (%llu hits for %d queries)\n", 1e6 * Since(q0) / q,
                (unsigned long long)hits, q);
  }
  if (!keep) fs::remove_all(dir);
  return 0;
}

// hashmatch scan end to end vs the hashers' decode+hash, in the same run, on the reference JPEGs
// (../shared/pdq-reference/**/*.jpg) replicated to a few thousand files: as a directory and as
// WebDataset-style tar shards, for each thread count asked for.
//
//   build/release/bench/scan_bench [--files N] [--shards S] [--entries E] [--threads 1,2]
//                                  [--repeat R] [--workdir DIR]
//
// Baseline: HashBatch (PDQ only, exact path) over the same images already in memory, at each
// thread count: the hashers' decode+hash throughput. Scan: RunScanJob (what `hashmatch scan`
// runs), reading the files or shards (warm page cache: the files were just written), PDQ + MD5,
// matching against a store of E random PDQ codes (plus E/10 MD5s and the PDQ codes of a few
// reference images, so that items match), JSON lines and a checkpoint once a second.
//
// Every row reports wall time and process CPU time (user + system, getrusage): on a loaded
// machine images/s on the wall clock understates what the code does, and CPU ms per image does
// not. "vs base" is scan images/s over (baseline 1-thread images/s x threads); "cpu eff" is the
// baseline's CPU per image over the scan's (1.0: the scan costs no more CPU than decode+hash).
#include <archive.h>
#include <archive_entry.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hashmatch/core/batch_hash.h"
#include "hashmatch/core/image.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/scan/scan.h"
#include "hashmatch/scan/scan_job.h"

namespace fs = std::filesystem;
using namespace hashmatch;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Timing {
  double wall = 0, cpu = 0;
};

template <class F>
Timing Measure(F&& f) {
  const double c0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  Timing t;
  t.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t.cpu = CpuSeconds() - c0;
  return t;
}

bool WriteBytes(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  return bool(f);
}

bool WriteShard(const fs::path& path,
                const std::vector<std::pair<std::string, const std::vector<uint8_t>*>>& members) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) return false;
  for (const auto& [name, bytes] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, la_int64_t(bytes->size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, bytes->data(), bytes->size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return true;
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) v.push_back(std::stoi(x));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  size_t files = 2000, shards = 8, entries = 100000;
  int repeat = 1;
  std::vector<int> threads = {1, 2};
  fs::path workdir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--files")
      files = std::stoul(v), ++i;
    else if (a == "--shards")
      shards = std::stoul(v), ++i;
    else if (a == "--entries")
      entries = std::stoul(v), ++i;
    else if (a == "--threads")
      threads = ParseList(v), ++i;
    else if (a == "--repeat")
      repeat = std::stoi(v), ++i;
    else if (a == "--workdir")
      workdir = v, ++i;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  const fs::path shared = fs::path(HASHMATCH_SHARED_DIR) / "pdq-reference";
  std::vector<fs::path> refs;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(shared, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".jpg") refs.push_back(it->path());
  }
  std::sort(refs.begin(), refs.end());
  if (refs.empty()) {
    std::fprintf(stderr, "no reference JPEGs under %s\n", shared.c_str());
    return 2;
  }
  std::vector<std::vector<uint8_t>> images;
  uint64_t total_pixels = 0;
  for (const fs::path& p : refs) {  // bad-images/ holds JPEGs that must fail: left out
    auto b = ReadFileBytes(p);
    if (!b.ok()) continue;
    auto im = DecodeImage(*b);
    if (!im.ok()) continue;
    total_pixels += uint64_t(im->width) * im->height;
    images.push_back(*std::move(b));
  }

  const bool own_dir = workdir.empty();
  if (own_dir) workdir = fs::temp_directory_path() / ("hm-scan-bench-" + std::to_string(getpid()));
  fs::remove_all(workdir / "dir");
  fs::remove_all(workdir / "shards");
  fs::remove_all(workdir / "store");
  fs::create_directories(workdir / "dir");
  fs::create_directories(workdir / "shards");
  uint64_t bytes = 0;
  std::vector<std::pair<std::string, const std::vector<uint8_t>*>> members;
  for (size_t i = 0; i < files; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%07zu.jpg", i);
    const auto& b = images[i % images.size()];
    bytes += b.size();
    WriteBytes(workdir / "dir" / name, b);
    members.emplace_back(name, &b);
  }
  for (size_t s = 0; s < shards; ++s) {
    const size_t from = files * s / shards, to = files * (s + 1) / shards;
    char name[32];
    std::snprintf(name, sizeof name, "%06zu.tar", s);
    WriteShard(workdir / "shards" / name,
               {members.begin() + long(from), members.begin() + long(to)});
  }

  // The store: random PDQ codes, random MD5s, and the PDQ of every 4th reference image.
  StoreOptions so;
  so.create_if_missing = true;
  so.background_snapshots = false;
  auto store = HashSetStore::Open(workdir / "store", so).value();
  (void)store->CreateSet({"pdq", SignalType::kPdq, 31});
  (void)store->CreateSet({"md5", SignalType::kMd5, 0});
  std::mt19937_64 rng(42);
  ImportPage pdq, md5;
  for (size_t i = 0; i < entries; ++i) {
    EntryRecord r;
    r.key = "r" + std::to_string(i);
    r.signal = SignalType::kPdq;
    r.code.resize(32);
    for (auto& c : r.code) c = uint8_t(rng());
    pdq.records.push_back(r);
    if (i % 10 == 0) {
      r.signal = SignalType::kMd5;
      r.code.resize(16);
      md5.records.push_back(r);
    }
  }
  PdqHasher hasher;
  for (size_t i = 0; i < images.size(); i += 4) {
    EntryRecord r;
    r.key = "ref" + std::to_string(i);
    r.signal = SignalType::kPdq;
    const auto h = hasher.HashBytes(images[i]).value().pdq[0].hash;
    r.code.assign(h.bytes().begin(), h.bytes().end());
    pdq.records.push_back(r);
  }
  if (!store->ApplyPage("pdq", pdq).ok() || !store->ApplyPage("md5", md5).ok()) {
    std::fprintf(stderr, "store import failed\n");
    return 2;
  }
  auto snapshot = store->GetSnapshot();

  std::printf(
      "scan_bench: %zu files (%zu distinct reference JPEGs, %.1f MB, %.2f Mpixel mean), %zu "
      "shards, store %zu PDQ + %zu MD5 entries\n",
      files, images.size(), double(bytes) / 1e6, double(total_pixels) / double(images.size()) / 1e6,
      shards, pdq.records.size(), md5.records.size());
  std::printf("%-22s %7s %8s %9s %8s %10s %8s %8s\n", "mode", "threads", "images", "wall s",
              "img/s", "cpu ms/img", "vs base", "cpu eff");

  // Baseline inputs: the same N images, in memory.
  std::vector<BatchInput> in_memory;
  for (size_t i = 0; i < files; ++i)
    in_memory.emplace_back(std::span<const uint8_t>(images[i % images.size()]));
  double base1_rate = 0, base_cpu_per_image = 0;
  auto row = [&](const char* mode, int t, size_t n, const Timing& tm) {
    const double rate = double(n) / tm.wall;
    const double cpu_ms = tm.cpu * 1e3 / double(n);
    const double vs = base1_rate > 0 ? rate / (base1_rate * t) : 0;
    const double eff = cpu_ms > 0 ? base_cpu_per_image * 1e3 / cpu_ms : 0;
    std::printf("%-22s %7d %8zu %9.3f %8.1f %10.3f %8.3f %8.3f\n", mode, t, n, tm.wall, rate,
                cpu_ms, vs, eff);
    std::fflush(stdout);
  };
  for (int rep = 0; rep < repeat; ++rep) {
    for (int t : threads) {
      BatchHashOptions bo;
      bo.signals = {SignalType::kPdq};
      bo.max_threads = t;
      size_t ok = 0;
      const Timing tm = Measure([&] {
        for (const auto& r : HashBatch(in_memory, bo)) ok += r.ok();
      });
      if (t == 1) {  // the per-core reference of the other rows
        base1_rate = double(files) / tm.wall;
        base_cpu_per_image = tm.cpu / double(files);
      }
      row("decode+hash (memory)", t, ok, tm);
    }
    for (const char* mode : {"scan dir", "scan tar shards"}) {
      const bool tar = mode[5] == 't';
      for (int t : threads) {
        ScanJobOptions jo;
        jo.scan.max_threads = t;
        ScanJobFiles f{workdir / "out.jsonl", {}, {}, workdir / "out.checkpoint"};
        fs::remove(f.checkpoint);
        const std::vector<ScanInput> in = {{workdir / (tar ? "shards" : "dir")}};
        Result<ScanSummary> r = Status::Internal("not run");
        const Timing tm = Measure([&] { r = RunScanJob(*snapshot, in, jo, f); });
        if (!r.ok() || r->failed != 0 || r->items != files) {
          std::fprintf(stderr, "scan failed: %s\n",
                       r.ok() ? "items failed" : r.status().ToString().c_str());
          return 1;
        }
        row(mode, t, r->items, tm);
        if (rep == 0 && t == threads.front()) {
          std::printf("  (%llu items matched)\n", (unsigned long long)r->matched);
        }
      }
    }
  }
  if (own_dir) fs::remove_all(workdir);
  return 0;
}

// hashmatch scan: bulk scanning of directories, manifests and tar shards against a local store,
// in-process (hashmatch::scan, scan/include/hashmatch/scan/). docs/scan.md is the manual.
#include "scan_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "hashmatch/scan/scan.h"
#include "hashmatch/scan/scan_job.h"
#include "hashmatch/scan/scan_json.h"
#include "progress.h"
#include "store_cli.h"

namespace hashmatch::cli {

const char kScanUsage[] =
    "       hashmatch scan --store DIR [--out FILE [--checkpoint FILE|--no-checkpoint] "
    "[--resume]] [--keep FILE] [--drop FILE] [--summary FILE] [--manifest FILE]... "
    "[--algo ALGO]... [--set NAME]... [--threshold N] [--min-quality N] [--max-hits N] "
    "[--dihedral] [--fast] [--all-files] [--all-items] [--max-item-bytes N] [--max-pixels N] "
    "[--threads N] [--tokens N] [--checkpoint-interval SECONDS] "
    "[--progress|--no-progress|--quiet] [PATH|DIR|SHARD.tar]...\n";

namespace {

bool ParseU64(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::stoull(s);
  return true;
}

void PrintSummary(const ScanSummary& s) {
  std::fprintf(stderr,
               "hashmatch: scanned %llu items: %llu matched, %llu suppressed, %llu failed, %llu "
               "low quality, %llu non-image files passed over; %.1f images/s",
               (unsigned long long)s.items, (unsigned long long)s.matched,
               (unsigned long long)s.suppressed, (unsigned long long)s.failed,
               (unsigned long long)s.low_quality, (unsigned long long)s.skipped_files,
               s.items_per_second());
  if (s.resumed_items) {
    std::fprintf(stderr, " (resumed after %llu items)", (unsigned long long)s.resumed_items);
  }
  std::fprintf(stderr, "\n");
  for (const auto& [reason, n] : s.failed_by_reason) {
    std::fprintf(stderr, "hashmatch:   failed (%s): %llu\n", reason.c_str(), (unsigned long long)n);
  }
}

}  // namespace

int RunScan(int argc, char** argv) {
  ScanJobOptions job;
  ScanOptions& so = job.scan;
  ScanJobFiles files;
  std::string store_dir;
  std::filesystem::path summary_path;
  std::vector<ScanInput> inputs;
  bool no_checkpoint = false, quiet = false;
  ProgressMode progress_mode = ProgressMode::kAuto;
  std::vector<SignalType> algos;
  for (int i = 0; i < argc; ++i) {
    const std::string f = argv[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    uint64_t n = 0;
    if (f == "--store") {
      if (!value(&store_dir)) return Usage("--store needs a directory");
    } else if (f == "--out" || f == "--keep" || f == "--drop" || f == "--checkpoint" ||
               f == "--summary") {
      if (!value(&v) || v.empty()) return Usage(f + " needs a file");
      (f == "--out"          ? files.out
       : f == "--keep"       ? files.keep
       : f == "--drop"       ? files.drop
       : f == "--checkpoint" ? files.checkpoint
                             : summary_path) = v;
    } else if (f == "--no-checkpoint") {
      no_checkpoint = true;
    } else if (f == "--resume") {
      job.resume = true;
    } else if (f == "--manifest") {
      if (!value(&v)) return Usage("--manifest needs a file");
      inputs.push_back({v, ScanInputKind::kManifest});
    } else if (f == "--algo") {
      std::optional<SignalType> t;
      if (!value(&v) || !(t = SignalTypeFromName(v))) return Usage("unknown --algo");
      algos.push_back(*t);
    } else if (f == "--set") {
      if (!value(&v)) return Usage("--set needs a name");
      so.sets.push_back(v);
    } else if (f == "--threshold") {
      uint32_t t = 0;
      if (!value(&v) || !ParseUint(v, &t)) return Usage("--threshold needs a number");
      so.threshold = t;
    } else if (f == "--min-quality") {
      uint32_t t = 0;
      if (!value(&v) || !ParseUint(v, &t) || t > 100) return Usage("--min-quality is 0..100");
      so.min_quality = int(t);
    } else if (f == "--max-hits") {
      if (!value(&v) || !ParseU64(v, &n)) return Usage("--max-hits needs a number (0: no cap)");
      so.max_hits_per_item = n;
    } else if (f == "--dihedral") {
      so.dihedral = true;
    } else if (f == "--fast") {
      so.pdq.fast = true;
    } else if (f == "--all-files") {
      so.all_files = true;
    } else if (f == "--all-items") {
      job.write_all_items = true;
    } else if (f == "--max-item-bytes") {
      if (!value(&v) || !ParseU64(v, &n) || n == 0) return Usage(f + " needs a positive number");
      so.max_item_bytes = n;
    } else if (f == "--max-pixels") {
      if (!value(&v) || !ParseU64(v, &n) || n == 0) return Usage(f + " needs a positive number");
      so.decode.max_pixels = n;
    } else if (f == "--threads") {
      uint32_t t = 0;
      if (!value(&v) || !ParseUint(v, &t)) return Usage("--threads needs a number (0: all cores)");
      so.max_threads = int(t);
    } else if (f == "--tokens") {
      if (!value(&v) || !ParseU64(v, &n)) return Usage("--tokens needs a number (0: 2 x threads)");
      so.max_tokens = n;
    } else if (f == "--checkpoint-interval") {
      double s = 0;
      try {
        s = value(&v) ? std::stod(v) : -1;
      } catch (...) {
        s = -1;
      }
      if (!(s >= 0)) return Usage("--checkpoint-interval needs seconds");
      job.checkpoint_interval_s = s;
    } else if (f == "--progress") {
      progress_mode = ProgressMode::kAlways;
    } else if (f == "--no-progress") {
      progress_mode = ProgressMode::kNever;
    } else if (f == "--quiet") {
      quiet = true;
    } else if (f.size() > 1 && f[0] == '-') {
      return Usage("scan: unknown option " + f);
    } else {
      inputs.push_back({f, ScanInputKind::kAuto});
    }
  }
  if (store_dir.empty()) return Usage("scan needs --store DIR");
  if (inputs.empty()) return Usage("scan needs paths, shards or --manifest FILE");
  if (files.out.empty()) {
    // Streaming to stdout: nothing to truncate on a resume.
    if (job.resume || !files.checkpoint.empty()) {
      return Usage("--resume and --checkpoint need --out FILE");
    }
    files.out = "-";
  } else if (no_checkpoint) {
    if (job.resume || !files.checkpoint.empty()) {
      return Usage("--no-checkpoint with --resume or --checkpoint");
    }
  } else if (files.checkpoint.empty()) {
    files.checkpoint = files.out.string() + ".checkpoint";
  }
  if (quiet) progress_mode = ProgressMode::kNever;

  StoreArgs sa;
  sa.store = store_dir;
  auto store = OpenStore(sa, /*create=*/false, /*read_only=*/true);
  if (!store) return 2;
  auto snapshot = store->GetSnapshot();
  // PDQ and MD5, the chosen algorithms, and the type of every set that will be searched (a
  // store's SHA-1 list is not silently left out).
  so.signals = {SignalType::kPdq, SignalType::kMd5};
  for (SignalType t : algos) so.signals.insert(t);
  for (const SetInfo& s : snapshot->ListSets()) {
    const bool named = std::find(so.sets.begin(), so.sets.end(), s.config.name) != so.sets.end();
    if (named || (so.sets.empty() && s.config.enabled)) so.signals.insert(s.config.signal);
  }

  ProgressBar bar(ProgressEnabled(progress_mode), "scanning");
  // The bar counts this run's items (its rate and ETA are this run's).
  const uint64_t total = bar.enabled() ? CountScanItems(inputs, so) : 0;
  uint64_t resumed = UINT64_MAX;
  job.progress = [&](const ScanItemResult& item, const ScanSummary& s) {
    if (resumed == UINT64_MAX) {
      resumed = s.resumed_items;
      bar.set_total(size_t(total > resumed ? total - resumed : 0));
    }
    if (!item.ok() && !quiet) {  // also in the output, as a line with "error"
      bar.Clear();
      std::fprintf(stderr, "hashmatch: %s\n", item.status.message().c_str());
    }
    bar.Update(size_t(s.items - resumed), size_t(s.failed));
  };
  auto result = RunScanJob(*snapshot, inputs, job, files);
  if (result.ok() && resumed != UINT64_MAX) {  // the final count, drawn once before the bar goes
    bar.Update(size_t(result->items - resumed), size_t(result->failed), /*force=*/true);
  }
  bar.Finish();
  if (!result.ok()) {
    std::cerr << "hashmatch: scan: " << result.status().message()
              << (result.status().code() == StatusCode::kAlreadyExists ? " (--resume continues it)"
                                                                       : "")
              << "\n";
    return 2;
  }
  if (!summary_path.empty()) {
    std::ofstream f(summary_path, std::ios::binary | std::ios::trunc);
    f << ScanSummaryJson(*result);
    if (!f.flush()) {
      std::cerr << "hashmatch: cannot write " << summary_path.string() << "\n";
      return 2;
    }
  }
  if (!quiet) PrintSummary(*result);
  return result->failed > 0 ? 1 : 0;
}

}  // namespace hashmatch::cli

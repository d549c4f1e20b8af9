// A resumable scan writing files: the JSON-lines output, optional keep/drop lists and a
// checkpoint. `hashmatch scan` is this plus argument parsing and a progress bar.
//
// Output. Items are written in item order (scan.h): by default the matched, suppressed and failed
// items (write_all_items: every item) as ScanItemJson lines. The keep list gets the items that
// were hashed and not matched (clean or suppressed), the drop list the matched ones (a failed item
// goes to the drop list only if a digest matched it; otherwise to neither). A list line is the
// file's path, or "SHARD<TAB>MEMBER" for a tar member.
//
// Checkpoint and crash consistency. Every checkpoint_interval_s (and at the end) the job writes
// its buffered lines, fsyncs every output file, then replaces the checkpoint atomically (a
// temporary file, fsync, rename, fsync of the directory). The checkpoint records the number of
// items done, the byte length of each output file at that point, the summary counters, the store's
// sequence number and a fingerprint of the inputs and options. Resuming truncates each output file
// back to its recorded length and continues with the next item (ScanOptions::skip_items), so a
// scan killed at any instant (SIGKILL, power loss after the fsyncs) and resumed writes exactly the
// bytes an uninterrupted scan writes: lines after the checkpoint are discarded and rescanned,
// lines before it are never rewritten.
//
// Resume refuses, changing nothing, when the checkpoint was written for other inputs or options,
// when the store has changed since (its sequence number differs: the results would mix set
// versions), when an output file is shorter than the checkpoint says (not this scan's output), or
// when the item before the resume point is no longer the one the checkpoint names (the dataset
// changed). The output files are opened, and cut back, only once the resume point is reached.
#pragma once

#include <filesystem>
#include <functional>
#include <span>

#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/env.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/scan/scan.h"

namespace hashmatch {

struct ScanJobFiles {
  std::filesystem::path out;         // JSON lines (required); "-": standard output (no checkpoint)
  std::filesystem::path keep, drop;  // optional lists (empty: none)
  std::filesystem::path checkpoint;  // empty: not resumable (nothing is fsynced before the end)
};

struct ScanJobOptions {
  ScanOptions scan;  // skip_items is set by the job from the checkpoint
  bool write_all_items = false;
  // true: continue from the checkpoint if it exists (start afresh if it does not). false: start
  // afresh; an existing checkpoint is an error (already_exists), so an interrupted scan's work is
  // never thrown away by accident.
  bool resume = false;
  double checkpoint_interval_s = 1.0;  // each checkpoint costs an fsync of every output file
  // The file layer for the outputs and the checkpoint (hashsets/env.h); nullptr: Env::Default().
  // Tests put a fault-injecting Env here to cut the power at every fsync and rename.
  Env* env = nullptr;
  // Called after each item is written, with the item and the counters so far (cumulative over
  // resumes), in item order, on one thread at a time. For progress bars and error reports.
  std::function<void(const ScanItemResult& item, const ScanSummary& so_far)> progress;
};

// Runs (or resumes) the scan. The summary covers the whole scan, resumed parts included
// (ScanSummary::resumed_items says how many came from the checkpoint). A scan that had already
// completed returns its summary without scanning.
Result<ScanSummary> RunScanJob(const StoreSnapshot& store, std::span<const ScanInput> inputs,
                               const ScanJobOptions& options, const ScanJobFiles& files);

}  // namespace hashmatch

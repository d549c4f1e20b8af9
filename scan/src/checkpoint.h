// Internal: the scan checkpoint (scan_job.h) and its text form, one "key value" per line:
//
//   hashmatch-scan-checkpoint 1
//   fingerprint 9f1c...           64-bit hash of the inputs, the output-shaping options and files
//   store_sequence 42             the store snapshot the scan matched against
//   items 120000                  items done (the next item's index)
//   out_bytes 5123  keep_bytes 0  drop_bytes 0   (one per line) the files' lengths at that point
//   last_item HEX HEX             path and member of item items-1, hex-encoded ("-": empty)
//   complete 0
//   counts SCANNED MATCHED SUPPRESSED FAILED LOW_QUALITY SKIPPED_FILES BYTES
//   reason CODE N                 one line per failure reason
//   end
//
// Text, so that an operator can read where a scan stands; "end" makes a cut file detectable (the
// file is replaced atomically, so it is never expected).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "hashmatch/core/status.h"
#include "hashmatch/scan/scan.h"
#include "hashmatch/scan/scan_job.h"

namespace hashmatch::scan_internal {

struct ScanCheckpoint {
  uint64_t fingerprint = 0;
  uint64_t store_sequence = 0;
  uint64_t out_bytes = 0, keep_bytes = 0, drop_bytes = 0;
  bool complete = false;
  std::string last_path, last_member;  // item items-1 (resume checks the dataset with it)
  ScanSummary counts;  // counts.items: items done; seconds and searched are not kept
};

std::string FormatCheckpoint(const ScanCheckpoint& cp);
Result<ScanCheckpoint> ParseCheckpoint(const std::string& text);

// Hashes everything that decides the output bytes: the inputs, the options that change hashes,
// matches or which lines are written, and which list files exist. Threads and chunking are left
// out (the output does not depend on them), so a scan may resume with another --threads.
uint64_t Fingerprint(std::span<const ScanInput> inputs, const ScanJobOptions& options,
                     const ScanJobFiles& files);

}  // namespace hashmatch::scan_internal

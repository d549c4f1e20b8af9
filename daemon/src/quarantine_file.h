// The file that keeps the daemon's quarantined entries (hot_entries.h) across restarts.
//
// An entry quarantined because it floods reviewers with false positives must not come back as
// matches after a restart, so every quarantine and release replaces this file whole: written to a
// temporary beside it, fsynced, renamed over it, the directory fsynced (hashsets' env.h
// WriteFileAtomically). After a crash at any point the file holds the old list or the new one,
// never a mixture. Text, so that an operator can read it:
//
//   # comment lines (and blank lines) are ignored
//   hashmatchd-quarantine 1
//   entry SET KEY SINCE HITS USUAL
//   end COUNT
//
// SET and KEY are percent-encoded ('%', bytes up to ' ' and 0x7f as %XX), SINCE is the unix second
// the entry was quarantined, HITS the hits in the minute that triggered it and USUAL the usual
// hits per minute then. The `end` line (with the number of entries) must be last, so that a file
// cut short (a bad copy) is refused rather than read as fewer entries.
//
// Parsing refuses the whole file with "FILE:LINE: reason" (bad version, malformed field, duplicate
// entry, missing end): the daemon does not start on it, it never silently drops a quarantine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/env.h"

namespace hashmatch::daemon {

struct QuarantinedEntry {
  std::string set, key;           // both non-empty
  int64_t since = 0;              // unix seconds
  uint64_t hits_this_minute = 0;  // hits in the minute that triggered the quarantine
  double usual_per_minute = 0;    // the entry's usual hits per minute then
};

// The file's text for `entries` (in the given order).
std::string EncodeQuarantineFile(const std::vector<QuarantinedEntry>& entries);

// Parses the text of a file; `name` prefixes error messages ("NAME:LINE: reason").
Result<std::vector<QuarantinedEntry>> ParseQuarantineFile(std::string_view text,
                                                          std::string_view name);

// Reads and parses `path`; a missing file is an empty list.
Result<std::vector<QuarantinedEntry>> ReadQuarantineFile(Env* env,
                                                         const std::filesystem::path& path);

// Replaces `path` with `entries`, atomically and durably (see the top of this file).
Status WriteQuarantineFile(Env* env, const std::filesystem::path& path,
                           const std::vector<QuarantinedEntry>& entries);

}  // namespace hashmatch::daemon

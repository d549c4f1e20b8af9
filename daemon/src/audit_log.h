// The append-only audit log of matches, for reporting: one JSON line per hit, with the time, the
// client's token name and roles, the set and its version, the entry key and the distance:
//   {"time":"2026-05-01T12:00:00Z","principal":"scanner-1","roles":"scan","set":"NCMEC_PDQ",
//    "set_version":42,"key":"42:img1:pdq","distance":6,"query":3,"sequence":1234}
// The file is opened O_APPEND (each call's lines go out in one write, so concurrent workers never
// interleave within a line) and never truncated; SIGHUP reopens it, for rotation. Suppressed hits
// are logged with "suppressed":true. Queries without hits are not logged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "hashmatch/core/status.h"
#include "match_engine.h"

namespace hashmatch::daemon {

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& path);
  ~AuditLog();

  // Records every hit of `result`; returns the number of lines written. A write failure is
  // returned (and logged by the caller); it does not fail the match.
  Result<size_t> Record(const std::string& principal, const std::string& roles,
                        const EngineResult& result);
  Status Reopen();

 private:
  explicit AuditLog(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  std::mutex mu_;
  int fd_ = -1;
};

}  // namespace hashmatch::daemon

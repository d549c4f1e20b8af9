#include "audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>

#include "hashmatch/core/json_string.h"

namespace hashmatch::daemon {

namespace {

std::string Json(const std::string& s) {
  std::string o;
  AppendJsonString(&o, s);
  return o;
}

std::string Now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& path) {
  std::unique_ptr<AuditLog> log(new AuditLog(path));
  if (Status st = log->Reopen(); !st.ok()) return st;
  return log;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) {
    fsync(fd_);
    close(fd_);
  }
}

Status AuditLog::Reopen() {
  const int fd = open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status::IoError("audit log " + path_.string() + ": " + std::strerror(errno));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  return Status::Ok();
}

Result<size_t> AuditLog::Record(const std::string& principal, const std::string& roles,
                                const EngineResult& result) {
  std::map<std::string, uint64_t> versions;
  for (const EngineSearched& s : result.searched) versions[s.set.set] = s.set.version;
  const std::string prefix =
      "{\"time\":\"" + Now() + "\",\"principal\":" + Json(principal) + ",\"roles\":" + Json(roles);
  std::string out;
  size_t lines = 0;
  for (size_t q = 0; q < result.queries.size(); ++q) {
    const EngineQueryResult& r = result.queries[q];
    for (const auto* list : {&r.hits, &r.suppressed, &r.quarantined}) {
      for (const EngineHit& h : *list) {
        out += prefix + ",\"set\":" + Json(h.hit.set) +
               ",\"set_version\":" + std::to_string(versions[h.hit.set]) +
               ",\"key\":" + Json(h.hit.entry.key) +
               ",\"distance\":" + std::to_string(h.hit.distance) +
               ",\"query\":" + std::to_string(q) +
               ",\"sequence\":" + std::to_string(result.sequence) +
               (list == &r.suppressed    ? ",\"suppressed\":true"
                : list == &r.quarantined ? ",\"quarantined\":true"
                                         : "") +
               "}\n";
        ++lines;
      }
    }
  }
  if (out.empty()) return size_t(0);
  std::lock_guard<std::mutex> lock(mu_);
  const char* p = out.data();
  size_t n = out.size();
  while (n > 0) {
    const ssize_t w = write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("audit log " + path_.string() + ": " + std::strerror(errno));
    }
    p += w;
    n -= size_t(w);
  }
  return lines;
}

}  // namespace hashmatch::daemon

#include "metrics.h"

#include <ctime>
#include <filesystem>
#include <sstream>

#include "access.h"

namespace hashmatch::daemon {

namespace {

std::string Label(const std::string& v) {
  std::string o;
  for (char c : v) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}

void Head(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

// One Prometheus histogram series: cumulative buckets, sum and count; `labels` without braces.
void LatencyHistogram(std::ostringstream& o, const char* name, const std::string& labels,
                      const MethodCounters& m) {
  const std::string sep = labels.empty() ? "" : ",";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= kNumLatencyBuckets; ++b) {
    cumulative += m.latency[b].load();
    o << name << "_bucket{" << labels << sep << "le=\"";
    if (b < kNumLatencyBuckets) {
      o << kLatencyBuckets[b];
    } else {
      o << "+Inf";
    }
    o << "\"} " << cumulative << "\n";
  }
  o << name << "_sum" << braces << " " << double(m.latency_sum_us.load()) / 1e6 << "\n";
  o << name << "_count" << braces << " " << cumulative << "\n";
}

uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) total += it->file_size(fec);
  }
  return total;
}

}  // namespace

std::string RenderMetrics(ServiceState& state) {
  Stats& s = state.stats();
  std::ostringstream o;
  Head(o, "hashmatch_ready", "gauge", "1 when the store is loaded and matches are served.");
  o << "hashmatch_ready " << (state.state() == ServerState::kReady ? 1 : 0) << "\n";
  Head(o, "hashmatch_uptime_seconds", "gauge", "Seconds since the daemon started.");
  o << "hashmatch_uptime_seconds "
    << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                        state.started())
           .count()
    << "\n";

  const auto table = AccessTable();
  Head(o, "hashmatch_requests_total", "counter", "RPC calls by method.");
  for (size_t i = 0; i < table.size(); ++i) {
    o << "hashmatch_requests_total{method=\"" << table[i].method << "\"} "
      << s.methods[i].calls.load() << "\n";
  }
  Head(o, "hashmatch_request_errors_total", "counter",
       "RPC calls that failed as a whole (refusals, limits, not ready), by method.");
  for (size_t i = 0; i < table.size(); ++i) {
    o << "hashmatch_request_errors_total{method=\"" << table[i].method << "\"} "
      << s.methods[i].errors.load() << "\n";
  }
  Head(o, "hashmatch_request_duration_seconds", "histogram",
       "RPC call latency in the daemon, from arrival to answer, by method.");
  for (size_t i = 0; i < table.size(); ++i) {
    LatencyHistogram(o, "hashmatch_request_duration_seconds",
                     "method=\"" + std::string(table[i].method) + "\"", s.methods[i]);
  }
  Head(o, "hashmatch_worker_queue_wait_seconds", "histogram",
       "How long calls (matching, image hashing, store writes) waited for a worker.");
  LatencyHistogram(o, "hashmatch_worker_queue_wait_seconds", "", s.worker_wait);
  Head(o, "hashmatch_queries_total", "counter", "Queries matched.");
  o << "hashmatch_queries_total " << s.queries.load() << "\n";
  Head(o, "hashmatch_matches_total", "counter", "Hits returned (after suppression).");
  o << "hashmatch_matches_total " << s.hits.load() << "\n";
  Head(o, "hashmatch_connections", "gauge", "Open RPC connections.");
  o << "hashmatch_connections " << s.connections_open.load() << "\n";
  Head(o, "hashmatch_connections_total", "counter", "RPC connections accepted.");
  o << "hashmatch_connections_total " << s.connections_total.load() << "\n";
  Head(o, "hashmatch_connections_refused_total", "counter", "Connections over max_connections.");
  o << "hashmatch_connections_refused_total " << s.connections_refused.load() << "\n";
  Head(o, "hashmatch_auth_failures_total", "counter", "Wrong tokens presented.");
  o << "hashmatch_auth_failures_total " << s.auth_failures.load() << "\n";
  Head(o, "hashmatch_quarantined_entries", "gauge",
       "Entries quarantined for a sudden surge of matches.");
  o << "hashmatch_quarantined_entries " << state.hot().quarantined() << "\n";
  Head(o, "hashmatch_quarantine_state_writes_total", "counter",
       "Writes of the quarantine state file (one per quarantine or release).");
  o << "hashmatch_quarantine_state_writes_total " << state.hot().writes() << "\n";
  Head(o, "hashmatch_quarantine_state_write_failures_total", "counter",
       "Failed writes of the quarantine state file (the change holds in memory only).");
  o << "hashmatch_quarantine_state_write_failures_total " << state.hot().write_failures() << "\n";
  Head(o, "hashmatch_worker_queue", "gauge", "Calls waiting for a worker.");
  o << "hashmatch_worker_queue " << state.pool().queued() << "\n";

  auto store = state.store();
  if (!store) return o.str();
  auto snap = store->GetSnapshot();
  Head(o, "hashmatch_store_sequence", "gauge", "The store's last committed transaction.");
  o << "hashmatch_store_sequence " << snap->sequence() << "\n";
  Head(o, "hashmatch_store_bytes", "gauge", "Bytes of the store's files on disk.");
  o << "hashmatch_store_bytes " << DirectoryBytes(store->dir()) << "\n";
  const std::vector<SetInfo> sets = snap->ListSets();
  const int64_t now = int64_t(std::time(nullptr));
  struct Gauge {
    const char* name;
    const char* help;
    uint64_t (*get)(const SetInfo&);
  };
  const Gauge gauges[] = {
      {"hashmatch_set_entries", "Live entries of a set.",
       [](const SetInfo& i) { return i.counts.live; }},
      {"hashmatch_set_indexed", "Entries queries can match.",
       [](const SetInfo& i) { return i.counts.indexed; }},
      {"hashmatch_set_quarantined_entries", "Entries quarantined (degenerate codes).",
       [](const SetInfo& i) { return i.counts.quarantined; }},
      {"hashmatch_set_disabled_entries", "Entries an operator disabled.",
       [](const SetInfo& i) { return i.counts.disabled; }},
      {"hashmatch_set_version", "A set's version.", [](const SetInfo& i) { return i.version; }},
  };
  for (const Gauge& g : gauges) {
    Head(o, g.name, "gauge", g.help);
    for (const SetInfo& i : sets) {
      o << g.name << "{set=\"" << Label(i.config.name) << "\",signal=\""
        << GetSignalInfo(i.config.signal).name << "\"} " << g.get(i) << "\n";
    }
  }
  Head(o, "hashmatch_set_seconds_since_sync", "gauge",
       "Seconds since the last import into a set (absent: never synced).");
  for (const SetInfo& i : sets) {
    if (i.last_sync_time == 0) continue;
    o << "hashmatch_set_seconds_since_sync{set=\"" << Label(i.config.name) << "\"} "
      << (now - i.last_sync_time) << "\n";
  }
  return o.str();
}

}  // namespace hashmatch::daemon

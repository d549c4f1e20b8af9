// What every service object of the daemon shares: the configuration, the store (once loaded),
// the worker pool, the timer, the token table and the counters; and the error convention.
//
// Threads. The RPC event loop runs on the main thread; matching and store writes run on the
// worker pool; the store is opened on a loader thread. store() and state() may be called from
// any thread; tokens() and timer() only from the event-loop thread.
#pragma once

#include <kj/async.h>
#include <kj/timer.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "audit_log.h"
#include "hashmatch/core/status.h"
#include "hashmatch/daemon/config.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "hot_entries.h"
#include "tokens.h"
#include "worker_pool.h"

namespace hashmatch::daemon {

// Errors travel as kj exceptions whose description starts with a stable code name
// ("permission_denied: ...", "unavailable: not ready: ..."); hashmatch::client parses it back.
// Load-type errors (unavailable, resource_exhausted, deadline_exceeded) are kj OVERLOADED, the
// rest FAILED.
kj::Exception RpcError(std::string_view code, std::string_view message);
kj::Exception StatusError(const Status& status);

enum class ServerState { kLoading, kReady, kFailed, kDraining };

// Latency histogram bucket bounds (seconds) for /metrics, Prometheus style (cumulative there).
inline constexpr double kLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
inline constexpr size_t kNumLatencyBuckets = sizeof(kLatencyBuckets) / sizeof(double);

struct MethodCounters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> latency[kNumLatencyBuckets + 1] = {};  // last: above every bound
  std::atomic<uint64_t> latency_sum_us{0};

  void Observe(std::chrono::steady_clock::duration d) {
    const double s = std::chrono::duration<double>(d).count();
    size_t b = 0;
    while (b < kNumLatencyBuckets && s > kLatencyBuckets[b]) ++b;
    latency[b].fetch_add(1, std::memory_order_relaxed);
    latency_sum_us.fetch_add(
        uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(d).count()),
        std::memory_order_relaxed);
  }
};

struct Stats {
  Stats();
  MethodCounters& Method(std::string_view method);  // one per AccessTable row

  std::unique_ptr<MethodCounters[]> methods;
  MethodCounters unknown;  // a method missing from the table (refused)
  // How long calls waited for a worker (its latency histogram only): where a latency tail that
  // the matching itself does not explain comes from.
  MethodCounters worker_wait;
  std::atomic<uint32_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> auth_failures{0};
  std::atomic<uint64_t> queries{0};
  std::atomic<uint64_t> hits{0};
};

class ServiceState {
 public:
  ServiceState(DaemonConfig config, kj::Timer& timer);
  ~ServiceState();

  const DaemonConfig& config() const { return config_; }
  const Limits& limits() const { return config_.limits; }
  kj::Timer& timer() { return timer_; }
  WorkerPool& pool() { return *pool_; }
  // Joins the workers (queued jobs are dropped); pool() may not be used after.
  void StopWorkers() { pool_.reset(); }
  Stats& stats() { return stats_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

  // --- The store's lifecycle (any thread) ---
  void SetStore(std::shared_ptr<HashSetStore> store);
  void SetFailed(std::string why);
  void SetDraining();
  ServerState state() const { return state_.load(std::memory_order_acquire); }
  std::string StateText() const;                // "loading", "ready", "draining", "failed: <why>"
  std::shared_ptr<HashSetStore> store() const;  // null until ready
  // The store, or throws RpcError("unavailable", "not ready: ...") while loading, failed or
  // draining: never an empty answer that could read as "no match".
  std::shared_ptr<HashSetStore> RequireStore() const;

  HotEntries& hot() { return hot_; }

  // The audit log, or nullptr; set before serving.
  AuditLog* audit() const { return audit_.get(); }
  void SetAudit(std::unique_ptr<AuditLog> audit) { audit_ = std::move(audit); }

  // --- Tokens (event-loop thread) ---
  const TokenTable& tokens() const { return *tokens_; }
  void SetTokens(std::shared_ptr<const TokenTable> tokens) { tokens_ = std::move(tokens); }

  // Rejects `p` with "deadline_exceeded" once call_deadline_ms has passed.
  template <class T>
  kj::Promise<T> WithDeadline(kj::Promise<T> p) {
    const uint32_t ms = config_.limits.call_deadline_ms;
    if (ms == 0) return p;
    return p.exclusiveJoin(timer_.afterDelay(ms * kj::MILLISECONDS).then([ms]() -> kj::Promise<T> {
      return RpcError("deadline_exceeded",
                      "the call took longer than call_deadline_ms = " + std::to_string(ms));
    }));
  }

  // Calls being served now (for draining).
  std::atomic<int> inflight{0};

 private:
  DaemonConfig config_;
  kj::Timer& timer_;
  std::unique_ptr<WorkerPool> pool_;
  Stats stats_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<ServerState> state_{ServerState::kLoading};
  mutable std::mutex mu_;
  std::shared_ptr<HashSetStore> store_;
  std::string failure_;
  std::shared_ptr<const TokenTable> tokens_;
  std::unique_ptr<AuditLog> audit_;
  HotEntries hot_;
};

}  // namespace hashmatch::daemon

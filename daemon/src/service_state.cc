#include "service_state.h"

#include <thread>

#include "access.h"

namespace hashmatch::daemon {

kj::Exception RpcError(std::string_view code, std::string_view message) {
  const bool load =
      code == "unavailable" || code == "resource_exhausted" || code == "deadline_exceeded";
  const std::string d = std::string(code) + ": " + std::string(message);
  return kj::Exception(load ? kj::Exception::Type::OVERLOADED : kj::Exception::Type::FAILED,
                       __FILE__, __LINE__, kj::heapString(d.data(), d.size()));
}

kj::Exception StatusError(const Status& status) {
  return RpcError(StatusCodeName(status.code()), status.message());
}

Stats::Stats() : methods(new MethodCounters[AccessTable().size()]) {}

MethodCounters& Stats::Method(std::string_view method) {
  const auto table = AccessTable();
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].method == method) return methods[i];
  }
  return unknown;
}

ServiceState::ServiceState(DaemonConfig config, kj::Timer& timer)
    : config_(std::move(config)),
      timer_(timer),
      started_(std::chrono::steady_clock::now()),
      tokens_(std::make_shared<TokenTable>(config_.tokens)),
      hot_(
          QuarantineConfig{config_.quarantine.min_hits_per_minute, config_.quarantine.surge_factor},
          config_.quarantine.state_file) {
  size_t workers = config_.workers;
  // Two per CPU: with one per CPU, a burst of calls (or a worker the kernel has descheduled)
  // leaves single-hash calls queued behind running ones; with two, the kernel time-slices them
  // instead. Measured at 10M codes on 2 CPUs (docs/benchmarks.md): calls waiting over 1 ms for a
  // worker fell from 1.2% to 0.05-0.2%.
  if (workers == 0) workers = 2 * size_t(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<WorkerPool>(
      workers, config_.limits.max_queued_calls,
      [this](std::chrono::steady_clock::duration d) { stats_.worker_wait.Observe(d); });
}

ServiceState::~ServiceState() {
  pool_.reset();  // join the workers before the store goes
}

void ServiceState::SetStore(std::shared_ptr<HashSetStore> store) {
  std::lock_guard<std::mutex> lock(mu_);
  store_ = std::move(store);
  ServerState expected = ServerState::kLoading;
  state_.compare_exchange_strong(expected, ServerState::kReady, std::memory_order_acq_rel);
}

void ServiceState::SetFailed(std::string why) {
  std::lock_guard<std::mutex> lock(mu_);
  failure_ = std::move(why);
  state_.store(ServerState::kFailed, std::memory_order_release);
}

void ServiceState::SetDraining() {
  state_.store(ServerState::kDraining, std::memory_order_release);
}

std::string ServiceState::StateText() const {
  switch (state()) {
    case ServerState::kLoading:
      return "loading";
    case ServerState::kReady:
      return "ready";
    case ServerState::kDraining:
      return "draining";
    case ServerState::kFailed: {
      std::lock_guard<std::mutex> lock(mu_);
      return "failed: " + failure_;
    }
  }
  return "unknown";
}

std::shared_ptr<HashSetStore> ServiceState::store() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state() == ServerState::kReady ? store_ : nullptr;
}

std::shared_ptr<HashSetStore> ServiceState::RequireStore() const {
  if (auto s = store()) return s;
  switch (state()) {
    case ServerState::kLoading: {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started_)
                          .count();
      throw RpcError("unavailable", "not ready: the store is still loading (" + std::to_string(ms) +
                                        " ms since start); retry later");
    }
    case ServerState::kDraining:
      throw RpcError("unavailable", "shutting down");
    default:
      throw RpcError("unavailable", "not ready: " + StateText());
  }
}

}  // namespace hashmatch::daemon

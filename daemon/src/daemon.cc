#include "hashmatch/daemon/daemon.h"

#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "hashmatch/core/gpu_mirror.h"
#include "http_status.h"
#include "log.h"
#include "server.h"
#include "service_state.h"
#if HASHMATCH_HAVE_GPU
#include "gpu_index.h"  // core/cuda: EnableGpuMirrors()
#endif

namespace hashmatch::daemon {

namespace {

constexpr auto kDrainLimit = 10 * kj::SECONDS;

// Written whole then renamed, so a reader never sees half a number.
bool WritePortFile(const std::filesystem::path& path, uint32_t port) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

// Opens the store off the event loop; the fulfiller tells the loop how it went.
void LoadStore(ServiceState* state, const kj::CrossThreadPromiseFulfiller<void>* done) {
  const DaemonConfig& cfg = state->config();
  if (cfg.testing.load_delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(cfg.testing.load_delay_ms));
  }
  const auto start = std::chrono::steady_clock::now();
  StoreOptions options;
  options.create_if_missing = cfg.create_store;
  // [index] gpu: every set's LiveIndex gets a GPU mirror (docs/gpu.md). In a build without CUDA
  // no mirror factory is installed, so "on" fails the open below with a message saying so.
#if HASHMATCH_HAVE_GPU
  EnableGpuMirrors();
#endif
  options.index.gpu.mode = cfg.index.gpu;
  options.index.gpu.min_batch = cfg.index.gpu_min_batch;
  // An index is only built once a set exists: probe now, so that "on" without a usable GPU
  // fails the start even for a store with no sets yet.
  auto open = [&]() -> Result<std::unique_ptr<HashSetStore>> {
    if (auto probe = LiveIndex::Create(32, options.index); !probe.ok()) return probe.status();
    return HashSetStore::Open(cfg.store, options);
  };
  auto store = open();
  if (!store.ok()) {
    state->SetFailed(store.status().ToString());
    LogError("store_open_failed",
             {{"store", cfg.store.string()}, {"error", store.status().ToString()}});
    done->reject(RpcError("unavailable", store.status().ToString()));
    return;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::shared_ptr<HashSetStore> shared(std::move(store.value()));
  // Quarantined entries of sets that are gone (dropped while the daemon was stopped, or by a
  // store tool) are released before the first match: a set created later under that name is
  // another list.
  state->hot().DropSets([&shared](const std::string& set) { return shared->GetSet(set).ok(); });
  const std::vector<SetInfo> set_list = shared->ListSets();
  const size_t sets = set_list.size();
  for (const SetInfo& s : set_list) {      // which backend each set searches with
    if (s.index_method.empty()) continue;  // exact digests: a hash table
    LogInfo(
        "set_index",
        {{"set", s.config.name}, {"index", s.index_method}, {"gpu", GpuModeName(cfg.index.gpu)}});
  }
  const RecoveryInfo& rec = shared->recovery();
  state->SetStore(std::move(shared));
  LogInfo("ready", {{"store", cfg.store.string()},
                    {"sets", std::to_string(sets)},
                    {"sequence", std::to_string(rec.sequence)},
                    {"replayed", std::to_string(rec.replayed)},
                    {"open_ms", std::to_string(ms)}});
  done->fulfill();
}

kj::Promise<void> ReloadTokensOnHup(kj::UnixEventPort& port, ServiceState& state) {
  return port.onSignal(SIGHUP).then([&port, &state](siginfo_t) {
    auto cfg = LoadConfig(state.config().path);
    if (!cfg.ok()) {
      LogError("reload_failed", {{"error", cfg.status().ToString()}});
    } else {
      state.SetTokens(std::make_shared<TokenTable>(cfg->tokens));
      LogInfo("tokens_reloaded", {{"tokens", std::to_string(cfg->tokens.size())},
                                  {"note", "only [tokens] is reloaded"}});
    }
    if (AuditLog* audit = state.audit()) {  // log rotation: the old file was moved away
      if (Status st = audit->Reopen(); !st.ok()) {
        LogError("audit_reopen_failed", {{"error", st.ToString()}});
      }
    }
    return ReloadTokensOnHup(port, state);
  });
}

kj::Promise<void> WaitForDrain(ServiceState& state, kj::Timer& timer, kj::TimePoint until) {
  if (state.inflight.load() == 0 || timer.now() >= until) return kj::READY_NOW;
  return timer.afterDelay(20 * kj::MILLISECONDS).then([&state, &timer, until]() {
    return WaitForDrain(state, timer, until);
  });
}

}  // namespace

int RunDaemon(const DaemonConfig& config) {
  // Before any thread exists, so that every thread inherits the blocked mask and only the event
  // loop receives these.
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGHUP);
  signal(SIGPIPE, SIG_IGN);

  // The state outlives the event loop: Cap'n Proto keeps calls that were not cancellable alive in
  // the loop until the loop itself is destroyed, and their completion still counts into the
  // state's statistics.
  std::unique_ptr<ServiceState> state_owner;
  int exit_code = 0;
  auto io = std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::Timer& timer = io->provider->getTimer();
  state_owner = std::make_unique<ServiceState>(config, timer);
  ServiceState& state = *state_owner;
  {
    if (!config.audit_log.empty()) {
      auto audit = AuditLog::Open(config.audit_log);
      if (!audit.ok()) {
        LogError("audit_log_failed", {{"error", audit.status().ToString()}});
        return 1;
      }
      state.SetAudit(std::move(audit.value()));
    }
    // Before any listener: the entries quarantined before a restart stay quarantined from the
    // first match; a malformed file stops the start (never silently releases them).
    auto quarantined = state.hot().Load();
    if (!quarantined.ok()) {
      LogError("quarantine_state_failed", {{"file", state.hot().state_file().string()},
                                           {"error", quarantined.status().ToString()}});
      return 1;
    }
    LogInfo("quarantine_loaded", {{"file", state.hot().state_file().string()},
                                  {"entries", std::to_string(*quarantined)}});
    Server server(state, *io);

    uint32_t port = 0;
    KJ_IF_MAYBE (e,
                 kj::runCatchingExceptions([&]() { port = server.Listen().wait(io->waitScope); })) {
      LogError("listen_failed",
               {{"listen", config.listen}, {"error", std::string(e->getDescription().cStr())}});
      return 1;
    }
    LogInfo("listening", {{"tcp", config.listen.empty() ? "" : std::to_string(port)},
                          {"unix_socket", config.unix_socket.string()},
                          {"workers", std::to_string(state.pool().threads())},
                          {"tokens", std::to_string(state.tokens().size())}});
    // The operations HTTP port (/metrics, /healthz, /readyz) on its own thread.
    std::unique_ptr<HttpStatusServer> http;
    if (!config.http_listen.empty()) {
      auto h = HttpStatusServer::Start(state, config.http_listen);
      if (!h.ok()) {
        LogError("http_listen_failed", {{"error", h.status().ToString()}});
        return 1;
      }
      http = std::move(h.value());
      LogInfo("http_listening", {{"port", std::to_string(http->port())}});
      if (!config.http_port_file.empty() && !WritePortFile(config.http_port_file, http->port())) {
        LogError("port_file_failed", {{"path", config.http_port_file.string()}});
        return 1;
      }
    }
    // Written last: a reader of the port file may rely on every listener being up.
    if (!config.port_file.empty() && !WritePortFile(config.port_file, port)) {
      LogError("port_file_failed", {{"path", config.port_file.string()}});
      return 1;
    }

    auto loaded = kj::newPromiseAndCrossThreadFulfiller<void>();
    // The fulfiller stays owned here (kj::Own may not go into a std::thread's state); the loader
    // uses its const, thread-safe methods.
    std::thread loader(LoadStore, &state, loaded.fulfiller.get());

    kj::UnixEventPort& signals = io->unixEventPort;
    auto hup = ReloadTokensOnHup(signals, state).eagerlyEvaluate(nullptr);
    kj::Promise<int> stop =
        signals.onSignal(SIGTERM)
            .exclusiveJoin(signals.onSignal(SIGINT))
            .then([](siginfo_t info) {
              LogInfo("signal", {{"signal", info.si_signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
              return 0;
            })
            .exclusiveJoin(
                loaded.promise.then([]() -> kj::Promise<int> { return kj::NEVER_DONE; },
                                    [](kj::Exception&&) -> kj::Promise<int> { return 1; }));
    exit_code = stop.wait(io->waitScope);

    // Drain: no new connections, no new calls (they get "unavailable: shutting down"), let the
    // calls in flight answer.
    state.SetDraining();
    server.StopAccepting();
    LogInfo("draining", {{"in_flight", std::to_string(state.inflight.load())}});
    WaitForDrain(state, timer, timer.now() + kDrainLimit).wait(io->waitScope);
    // Let the last answers' writes reach their sockets before the connections close.
    timer.afterDelay(100 * kj::MILLISECONDS).wait(io->waitScope);
    loader.join();
    LogInfo("stopped", {{"in_flight_left", std::to_string(state.inflight.load())}});
    // The server (connections) goes first.
  }
  state.StopWorkers();  // joined while the event loop can still take their answers
  io.reset();           // the event loop, with whatever capnp still held
  state_owner.reset();  // the store is closed last
  return exit_code;
}

}  // namespace hashmatch::daemon

// The in-process hashmatchd the daemon fuzz targets talk to: the daemon's real ServiceState
// (worker pool, token table, limits) and Server over a small store in a temporary directory, and
// one kj event loop; plus two ServiceStates (and Servers) that are not ready (Readiness below).
// Each fuzz input becomes one connection: Server::Serve (or Server::Handshake, for TLS) gets one
// end of an in-memory pipe (the same code path as an accepted socket), the fuzzer drives the other.
// The HTTP status fuzzer serves the three states' /metrics, /healthz and /readyz instead.
//
// Inputs do not leak state into each other: after every input the store is put back to its
// baseline (the sets below, re-created when an input changed them), so a finding replays alone.
#pragma once

#include <kj/async-io.h>
#include <kj/function.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hashmatch/core/signal_type.h"
#include "server.h"
#include "service_state.h"

namespace hashmatch::fuzz {

// The tokens the fuzz daemon knows, as a client presents them.
inline constexpr const char* kAdminToken = "fuzz-admin-token";
inline constexpr const char* kScanToken = "fuzz-scan-token";
inline constexpr const char* kSyncToken = "fuzz-sync-token";  // sync:pdq

// The baseline store: its sets, and the codes of their entries (the scripted mode queries them).
struct BaselineSet {
  const char* name;
  SignalType signal;
  uint32_t threshold;
  bool suppress;
  int entries;
};
inline constexpr BaselineSet kBaselineSets[] = {
    {"pdq", SignalType::kPdq, 31, false, 8},
    {"md5", SignalType::kMd5, 0, false, 4},
    {"dh", SignalType::kDHash64, 8, false, 4},
    {"allow", SignalType::kPdq, 10, true, 2},  // a suppress set holding pdq's first two codes
};
// Entry i of set `s`: its key and code (deterministic).
std::string BaselineKey(const BaselineSet& s, int i);
std::vector<uint8_t> BaselineCode(const BaselineSet& s, int i);

// Which of the fuzz daemon's three ServiceStates (and Servers) an input talks to. Only kReady
// has a store; the other two are the daemon's own not-ready states, reached through the real
// state machine: kLoading is a ServiceState whose loader has not called SetStore (what a client
// meets while the store opens), kFailed one whose store failed to open (HashSetStore::Open on a
// missing store without create_store, then SetFailed with its error, as daemon.cc's loader does).
enum class Readiness : uint8_t { kReady, kLoading, kFailed };

class FuzzDaemon {
 public:
  // Created on first use (store, config, event loop); never destroyed (LeakSanitizer sees it as
  // reachable), its directory removed at exit.
  static FuzzDaemon& Get();

  kj::AsyncIoContext& io() { return *io_; }
  kj::WaitScope& wait_scope() { return io_->waitScope; }
  // The daemon the next input talks to (kReady unless Use() picked another); state() and server()
  // are that one's.
  void Use(Readiness r) { current_ = &instances_[size_t(r)]; }
  Readiness readiness() const { return current_->readiness; }
  daemon::ServiceState& state() { return *current_->state; }
  daemon::Server& server() { return *current_->server; }
  daemon::ServiceState& state(Readiness r) { return *instances_[size_t(r)].state; }

  // The kReady daemon's server with TLS set up (the certificate of tls_test_cert.h); for the TLS
  // fuzz target. The message fuzzer never calls it.
  daemon::Server& tls_server();

  // Runs the event loop until done() holds or nothing is left to do (no call being served and
  // nothing runnable), or until `until`. While calls are served (worker pool, timers) it waits in
  // 1 ms steps. Returns done().
  bool Pump(kj::FunctionParam<bool()> done, std::chrono::steady_clock::time_point until);

  // True when no connection is open, no TLS handshake is in progress and no call is being served
  // (by the current daemon).
  bool Idle() const;

  // After an input: waits (up to `until`) for every connection to close and every call to end,
  // and aborts with a message when they do not (a hang is a finding); then waits for the worker
  // and puts the store back to its baseline.
  void Settle(std::chrono::steady_clock::time_point until, const char* what);

 private:
  FuzzDaemon();
  void BuildBaseline();
  void ResetStore();

  struct Instance {
    Readiness readiness;
    std::unique_ptr<daemon::ServiceState> state;
    std::unique_ptr<daemon::Server> server;
  };

  std::filesystem::path dir_;
  std::unique_ptr<kj::AsyncIoContext> io_;
  Instance instances_[3];
  Instance* current_ = &instances_[0];
  bool tls_ready_ = false;
  std::shared_ptr<HashSetStore> store_;
  // name, id, version of each baseline set as last built.
  struct Built {
    std::string name;
    uint32_t id;
    uint64_t version;
  };
  std::vector<Built> built_;
};

}  // namespace hashmatch::fuzz

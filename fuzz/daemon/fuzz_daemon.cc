#include "fuzz_daemon.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "hashmatch/daemon/config.h"
#include "tls_test_cert.h"

namespace hashmatch::fuzz {

namespace {

// The limits are small so that inputs of a few kilobytes reach every one of them, and so that
// one input stays fast under ASan (a 64 KiB image of at most 65,536 pixels, 64-record pages).
constexpr const char* kLimits = R"([limits]
max_message_bytes = 262144
max_nesting = 16
max_inflight_bytes = 131072
max_batch = 256
max_hashes_per_query = 16
max_images = 4
max_image_bytes = 65536
max_image_pixels = 65536
max_page_records = 64
max_hits_per_query = 8
max_connections = 4
max_queued_calls = 16
call_deadline_ms = 2000
auth_timeout_ms = 2000
auth_failure_delay_ms = 1
)";

std::filesystem::path MakeTempDir() {
  // tmpfs when there is one: the store fsyncs every transaction, and inputs re-create sets.
  std::string base = "/tmp";
  if (const char* d = getenv("HASHMATCH_FUZZ_TMPDIR")) {
    base = d;
  } else if (access("/dev/shm", W_OK) == 0) {
    base = "/dev/shm";
  }
  std::string tmpl = base + "/hashmatch-daemon-fuzz-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("daemon fuzz: mkdtemp");
    std::abort();
  }
  return tmpl;
}

std::filesystem::path g_dir;  // removed at exit
void RemoveDir() {
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "daemon fuzz: %s\n", what.c_str());
  std::abort();
}

}  // namespace

std::string BaselineKey(const BaselineSet& s, int i) {
  return std::string(s.name) + "-" + std::to_string(i);
}

std::vector<uint8_t> BaselineCode(const BaselineSet& s, int i) {
  // The suppress set holds pdq's first codes, so a query for them is suppressed.
  uint32_t seed = s.suppress ? uint32_t(i) : uint32_t(i) + 977u * uint32_t(s.signal) + 17u;
  std::vector<uint8_t> code(GetSignalInfo(s.signal).code_bytes);
  for (uint8_t& b : code) {  // xorshift: busy, non-degenerate codes
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    seed += 0x9e3779b9u;
    b = uint8_t(seed >> 11);
  }
  return code;
}

FuzzDaemon& FuzzDaemon::Get() {
  static FuzzDaemon* daemon = new FuzzDaemon();
  return *daemon;
}

namespace {

// The config text of one instance, through the daemon's own parser (tokens as digests, roles
// checked). Each instance has its own store path: the store directory holds per-daemon files.
daemon::DaemonConfig ParseFuzzConfig(const std::filesystem::path& dir,
                                     const std::filesystem::path& store, bool create) {
  std::string text =
      "[server]\nstore = " + store.string() + "\ncreate_store = " + (create ? "true" : "false") +
      "\nworkers = 1\nmatch_threads = 1\n" + "tls_cert = " + (dir / "tls.pem").string() +
      "\ntls_key = " + (dir / "tls.key").string() + "\n" + kLimits +
      "[tokens]\nops = " + daemon::TokenDigestHex(kAdminToken) + " admin\n" +
      "scanner = " + daemon::TokenDigestHex(kScanToken) + " scan\n" +
      "syncer = " + daemon::TokenDigestHex(kSyncToken) + " sync:pdq\n";
  auto config = daemon::ParseConfig(text, "fuzz.conf", dir);
  if (!config.ok()) Die("config: " + config.status().ToString());
  config->listen.clear();  // no listener: connections come from Serve and Handshake
  return std::move(config.value());
}

}  // namespace

FuzzDaemon::FuzzDaemon() {
  dir_ = MakeTempDir();
  g_dir = dir_;
  std::atexit(RemoveDir);
  std::ofstream(dir_ / "tls.pem") << kTlsTestCert;
  std::ofstream(dir_ / "tls.key") << kTlsTestKey;

  io_ = std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::Timer& timer = io_->provider->getTimer();
  const std::filesystem::path stores[3] = {dir_ / "store", dir_ / "loading-store",
                                           dir_ / "missing-store"};
  for (size_t i = 0; i < 3; ++i) {
    Instance& in = instances_[i];
    in.readiness = Readiness(i);
    in.state = std::make_unique<daemon::ServiceState>(
        ParseFuzzConfig(dir_, stores[i], in.readiness != Readiness::kFailed), timer);
  }

  // kReady: the store opened and the baseline sets built, then handed over as the loader does.
  StoreOptions options;
  options.create_if_missing = true;
  auto store = HashSetStore::Open(stores[0], options);
  if (!store.ok()) Die("store: " + store.status().ToString());
  store_ = std::shared_ptr<HashSetStore>(std::move(store.value()));
  BuildBaseline();
  instances_[0].state->SetStore(store_);
  // kLoading: nothing more (the loader has not finished). kFailed: the loader's failure path on a
  // store that does not exist and may not be created.
  StoreOptions no_create;
  no_create.create_if_missing = false;
  auto missing = HashSetStore::Open(stores[2], no_create);
  if (missing.ok()) Die("the missing store opened");
  instances_[2].state->SetFailed(missing.status().ToString());
  for (Instance& in : instances_) in.server = std::make_unique<daemon::Server>(*in.state, *io_);
  if (instances_[0].state->state() != daemon::ServerState::kReady ||
      instances_[1].state->state() != daemon::ServerState::kLoading ||
      instances_[2].state->state() != daemon::ServerState::kFailed) {
    Die("the instances are not in the states they stand for");
  }
}

daemon::Server& FuzzDaemon::tls_server() {
  if (!tls_ready_) {
    KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() { instances_[0].server->SetUpTls(); })) {
      Die("TLS set-up: " + std::string(e->getDescription().cStr()));
    }
    tls_ready_ = true;
  }
  return *instances_[0].server;
}

void FuzzDaemon::BuildBaseline() {
  const std::vector<Built> prev = std::move(built_);
  built_.clear();
  for (const BaselineSet& s : kBaselineSets) {
    auto existing = store_->GetSet(s.name);
    if (existing.ok()) {
      // Still as built: keep it.
      bool same = false;
      for (const Built& b : prev) {
        same |= b.name == s.name && b.id == existing->id && b.version == existing->version;
      }
      if (same) {
        built_.push_back({s.name, existing->id, existing->version});
        continue;
      }
      if (Status st = store_->DropSet(s.name); !st.ok()) Die("drop: " + st.ToString());
    }
    SetConfig config;
    config.name = s.name;
    config.signal = s.signal;
    config.threshold = s.threshold;
    config.kind = s.suppress ? SetKind::kSuppress : SetKind::kMatch;
    if (Status st = store_->CreateSet(config); !st.ok()) Die("create: " + st.ToString());
    ImportPage page;
    for (int i = 0; i < s.entries; ++i) {
      EntryRecord r;
      r.key = BaselineKey(s, i);
      r.signal = s.signal;
      r.code = BaselineCode(s, i);
      r.classification = i % 2 ? "A1" : "B2";
      r.tags = {"fuzz", "t" + std::to_string(i)};
      r.source_time = 1700000000 + i;
      page.records.push_back(std::move(r));
    }
    page.checkpoint = Checkpoint{std::string("cp-") + s.name};
    auto applied = store_->ApplyPage(s.name, page);
    if (!applied.ok()) Die("apply: " + applied.status().ToString());
    auto info = store_->GetSet(s.name);
    if (!info.ok()) Die("get: " + info.status().ToString());
    built_.push_back({s.name, info->id, info->version});
  }
}

bool FuzzDaemon::Idle() const {
  return current_->server->open_connections() == 0 &&
         current_->server->handshakes_in_progress() == 0 && current_->state->inflight.load() == 0;
}

namespace {

// Between two polls of the event loop while the worker or a timer has work: short, since most
// calls take well under a millisecond (a kj timer wait would cost a whole one each time).
void Nap() {
  std::this_thread::sleep_for(std::chrono::microseconds(50));
}

}  // namespace

bool FuzzDaemon::Pump(kj::FunctionParam<bool()> done, std::chrono::steady_clock::time_point until) {
  for (;;) {
    io_->waitScope.poll();
    if (done()) return true;
    if (current_->state->inflight.load() == 0 && current_->server->handshakes_in_progress() == 0) {
      return false;  // nothing will change by waiting
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    Nap();
  }
}

void FuzzDaemon::Settle(std::chrono::steady_clock::time_point until, const char* what) {
  // Also wait for the worker: a cancelled call's job may still run, and its frees must happen
  // within this input for libFuzzer's malloc/free balance (a leak check otherwise follows).
  for (;;) {
    io_->waitScope.poll();
    if (Idle() && current_->state->pool().Idle()) break;
    if (std::chrono::steady_clock::now() >= until) {
      Die(std::string(what) + ": the daemon did not finish the connection in time (" +
          std::to_string(current_->server->open_connections()) + " connections open, " +
          std::to_string(current_->server->handshakes_in_progress()) + " TLS handshakes, " +
          std::to_string(current_->state->inflight.load()) + " calls in flight, worker " +
          (current_->state->pool().Idle() ? "idle)" : "busy)"));
    }
    Nap();
  }
  ResetStore();
}

void FuzzDaemon::ResetStore() {
  const std::vector<SetInfo> sets = store_->ListSets();
  bool changed = sets.size() != built_.size();
  for (const SetInfo& s : sets) {
    bool same = false;
    for (const Built& b : built_) {
      same |= b.name == s.config.name && b.id == s.id && b.version == s.version;
    }
    changed |= !same;
    if (!same) {
      bool baseline = false;
      for (const BaselineSet& b : kBaselineSets) baseline |= s.config.name == b.name;
      // A set an input created goes; a baseline set is rebuilt below.
      if (!baseline) {
        if (Status st = store_->DropSet(s.config.name); !st.ok()) Die("drop: " + st.ToString());
      }
    }
  }
  if (changed) BuildBaseline();
}

}  // namespace hashmatch::fuzz

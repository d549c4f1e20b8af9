// libFuzzer target over hashmatchd's message handling (issue 6): every input is one client
// connection to the in-process daemon (fuzz_daemon.h), served by the daemon's own Server::Serve
// with its limits (ReaderOptions through TwoPartyVatNetwork, flow control, auth timeout).
//
// Byte 0 picks the mode. Its low bit:
//   even ('R'): raw. The rest is written as it is to the connection, then the write side is
//               closed: framing, segment tables, pointers, sizes over max_message_bytes, nesting
//               over max_nesting, unknown messages and methods, bogus capability and question
//               IDs all reach the daemon's Cap'n Proto stack and services.
//   odd ('S'):  a script of calls a real Cap'n Proto client makes (script_session.h), to reach the
//               services' own code with well-formed messages.
// Its bit 3 (0x08) picks the daemon: clear ('R', 'S'), the ready one; set, a daemon that is not
// ready, through the real ServiceState state machine (fuzz_daemon.h): bit 2 (0x04) clear
// ('Z', '['), still loading (the loader has not handed over the store); set ('^', '_'), failed
// (the store could not open). Against it, the script mode's not-ready oracle (script_session.h)
// holds, and in raw mode every call of a method that needs the store must have failed.
// The seeds (fuzz/daemon/corpus/) hold scripts and, for each, the bytes its client sent as a raw
// input, so the raw mode starts from real sessions (see WriteSeeds below); N-* are some of them
// against the loading and failed daemons.
//
// A finding is a crash, a sanitizer report, a leak, a broken role refusal or not-ready rule, or a
// connection the daemon does not finish within a few seconds of the client going away (a hang:
// the target aborts with a message before libFuzzer's -timeout).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <utility>
#include <vector>

#include "access.h"
#include "fuzz_daemon.h"
#include "log.h"
#include "script_seeds.h"
#include "script_session.h"

namespace hashmatch::fuzz {

namespace {

kj::Promise<void> Drain(kj::AsyncIoStream& s, kj::byte* buf, size_t size) {
  return s.tryRead(buf, 1, size).then([&s, buf, size](size_t n) -> kj::Promise<void> {
    if (n == 0) return kj::READY_NOW;
    return Drain(s, buf, size);
  });
}

// HASHMATCH_DAEMON_FUZZ_TRACE=1: after a raw input, the calls each method got and failed.
void TraceCalls(const std::vector<std::pair<uint64_t, uint64_t>>& before) {
  daemon::Stats& stats = FuzzDaemon::Get().state().stats();
  const auto table = daemon::AccessTable();
  for (size_t i = 0; i < table.size(); ++i) {
    const uint64_t calls = stats.methods[i].calls.load() - before[i].first;
    const uint64_t errors = stats.methods[i].errors.load() - before[i].second;
    if (calls > 0) {
      std::fprintf(stderr, "  %.*s: %llu calls, %llu failed\n", int(table[i].method.size()),
                   table[i].method.data(), (unsigned long long)calls, (unsigned long long)errors);
    }
  }
}

std::vector<std::pair<uint64_t, uint64_t>> CallCounts() {
  daemon::Stats& stats = FuzzDaemon::Get().state().stats();
  std::vector<std::pair<uint64_t, uint64_t>> counts;
  for (size_t i = 0; i < daemon::AccessTable().size(); ++i) {
    counts.emplace_back(stats.methods[i].calls.load(), stats.methods[i].errors.load());
  }
  return counts;
}

bool Tracing() {
  static const bool trace = [] {
    const char* t = std::getenv("HASHMATCH_DAEMON_FUZZ_TRACE");
    return t != nullptr && t[0] == '1';
  }();
  return trace;
}

void RunRaw(std::span<const uint8_t> bytes) {
  FuzzDaemon& d = FuzzDaemon::Get();
  std::vector<std::pair<uint64_t, uint64_t>> before, before_all;
  if (Tracing()) before = CallCounts();
  if (d.readiness() != Readiness::kReady) before_all = CallCounts();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  auto pipe = kj::newTwoWayPipe();
  d.server().Serve(kj::mv(pipe.ends[0]), "fuzz-raw");
  {
    kj::Own<kj::AsyncIoStream> end = kj::mv(pipe.ends[1]);
    kj::byte buf[4096];
    bool written = false, closed = false;
    // The answers are read and dropped: an in-memory pipe holds no bytes, so an unread answer
    // would stall the daemon's writes.
    auto reading =
        Drain(*end, buf, sizeof buf)
            .then([&closed]() { closed = true; }, [&closed](kj::Exception&&) { closed = true; })
            .eagerlyEvaluate(nullptr);
    auto writing =
        end->write(bytes.data(), bytes.size())
            .then([&written]() { written = true; }, [&written](kj::Exception&&) { written = true; })
            .eagerlyEvaluate(nullptr);
    d.Pump([&written] { return written; }, until);
    if (written) {
      // End of input: the daemon must end the connection by itself.
      kj::runCatchingExceptions([&]() { end->shutdownWrite(); });
      d.Pump([&closed] { return closed; }, until);
    }
    // A write the daemon stopped reading (it aborted the connection, or it waits for calls that
    // cannot finish) is dropped with the pipe's end.
  }
  d.Settle(until + std::chrono::seconds(4), "raw input");
  if (Tracing()) TraceCalls(before);
  if (!before_all.empty()) {
    // Not ready: whatever the bytes called, every call of a method that needs the store failed
    // (RequireStore throws before the method reads its parameters).
    const auto after = CallCounts();
    const auto table = daemon::AccessTable();
    for (size_t i = 0; i < table.size(); ++i) {
      const uint64_t calls = after[i].first - before_all[i].first;
      const uint64_t errors = after[i].second - before_all[i].second;
      if (NeedsStore(table[i].method) && errors != calls) {
        std::fprintf(stderr,
                     "daemon fuzz: %.*s: %llu calls, %llu failed, while the daemon is not ready\n",
                     int(table[i].method.size()), table[i].method.data(), (unsigned long long)calls,
                     (unsigned long long)errors);
        std::abort();
      }
    }
  }
}

// HASHMATCH_DAEMON_FUZZ_WRITE_SEEDS=DIR: writes the script seeds (S-*) and their recordings
// (R-*) into DIR, and some of both again against the not-ready daemons (N-loading-*,
// N-failed-*: the same bytes after another mode byte), then exits. Images for the matchImages seeds
// are read from HASHMATCH_DAEMON_FUZZ_IMAGES (fuzz/corpus) when set.
void WriteSeeds(const std::filesystem::path& dir) {
  constexpr size_t kMaxRecording = 16 << 10;
  const char* images = std::getenv("HASHMATCH_DAEMON_FUZZ_IMAGES");
  std::filesystem::create_directories(dir);
  int n = 0;
  for (const auto& [name, script] : ScriptSeeds(images ? images : "")) {
    std::string recorded;
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(script.data()),
                                         script.size());
    RunScript(bytes.subspan(1), &recorded);
    std::ofstream(dir / ("S-" + name), std::ios::binary) << script;
    // Not ready: the sessions that call the store-bound methods the most.
    const bool loading = name == "admin-match" || name == "admin-sync" || name == "scan-roles" ||
                         name == "images" || name == "casts-cancels";
    const bool failed = name == "admin-match" || name == "admin-sets";
    const std::string body = script.substr(1);
    if (loading) std::ofstream(dir / ("N-loading-S-" + name), std::ios::binary) << '[' << body;
    if (failed) std::ofstream(dir / ("N-failed-S-" + name), std::ios::binary) << '_' << body;
    if (loading && recorded.size() < kMaxRecording) {
      std::ofstream(dir / ("N-loading-R-" + name), std::ios::binary) << 'Z' << recorded;
    }
    if (failed && recorded.size() < kMaxRecording) {
      std::ofstream(dir / ("N-failed-R-" + name), std::ios::binary) << '^' << recorded;
    }
    // A big seed would raise libFuzzer's input length limit (-max_len defaults to the largest
    // seed) for every input; the script of a big recording stays small.
    if (recorded.size() < kMaxRecording) {
      std::ofstream(dir / ("R-" + name), std::ios::binary) << 'R' << recorded;
      std::printf("%s: script %zu bytes, recording %zu bytes\n", name.c_str(), script.size(),
                  recorded.size() + 1);
    } else {
      std::printf("%s: script %zu bytes (recording of %zu bytes not kept)\n", name.c_str(),
                  script.size(), recorded.size() + 1);
    }
    ++n;
  }
  std::printf("wrote %d seeds to %s\n", 2 * n, dir.c_str());
  std::fflush(stdout);
  std::exit(0);  // the daemon is never torn down; exit removes its directory
}

}  // namespace

}  // namespace hashmatch::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The daemon's logs (a warning per malformed input) would drown libFuzzer's output.
  // HASHMATCH_DAEMON_FUZZ_LOG=1 keeps them, to see what an input does.
  const char* log = std::getenv("HASHMATCH_DAEMON_FUZZ_LOG");
  hashmatch::daemon::SetMinLogLevel(log != nullptr && log[0] == '1' ? "info" : "off");
  hashmatch::fuzz::FuzzDaemon::Get();
  if (const char* dir = std::getenv("HASHMATCH_DAEMON_FUZZ_WRITE_SEEDS")) {
    hashmatch::fuzz::WriteSeeds(dir);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  using hashmatch::fuzz::Readiness;
  hashmatch::fuzz::FuzzDaemon::Get().Use(!(data[0] & 8)  ? Readiness::kReady
                                         : (data[0] & 4) ? Readiness::kFailed
                                                         : Readiness::kLoading);
  if (data[0] & 1) {
    hashmatch::fuzz::RunScript(rest);
  } else {
    hashmatch::fuzz::RunRaw(rest);
  }
  return 0;
}

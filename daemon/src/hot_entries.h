// Quarantine of entries that suddenly match far more than usual.
//
// A listed entry that starts matching a flood of uploads is more likely a bad entry (a generic
// image, a collision-prone hash) than a wave of abuse material; reporting every one of those hits
// as a match would bury reviewers. Each entry's hits are counted per minute, beside a moving
// average of its past minutes (EWMA, weight 1/8 per minute). When an entry's hits in the current
// minute exceed both min_hits_per_minute and surge_factor times its average, it is quarantined:
// from then on its hits are reported as `quarantined`, not as matches (and audited as such), until
// an admin releases it (SetAdmin.releaseQuarantined), which also takes its current rate (at least
// the rate that triggered the quarantine) as usual.
//
// Persistence. With a state file, the quarantined entries survive a restart: Load() reads the file
// at startup, and every change to the quarantined list (a quarantine, a release, dropping the
// entries of a set that is gone) replaces the file whole (quarantine_file.h: temp, fsync, rename,
// fsync dir). Those are rare events; a match that changes nothing never touches the file. The
// write happens after the state lock is released (a slow disk never stalls other workers' hits);
// a newer list is never overwritten by an older one. A write failure is logged and counted
// (write_failures()); the in-memory state applies regardless and the next change writes the whole
// list again. Without a state file (empty path) the state is in memory only.
//
// Bounded: entries idle for an hour are forgotten, except quarantined ones, which stay until
// released. With min_hits_per_minute = 0 no new entry is quarantined, but those already
// quarantined (loaded from the file) still are. Thread-safe (workers record hits concurrently).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/env.h"
#include "match_engine.h"
#include "quarantine_file.h"

namespace hashmatch::daemon {

struct QuarantineConfig {
  uint32_t min_hits_per_minute = 0;  // 0: off
  double surge_factor = 10;
};

class HotEntries {
 public:
  // `state_file` empty: in memory only. `env` does the file's I/O (tests inject faults).
  explicit HotEntries(QuarantineConfig config, std::filesystem::path state_file = {},
                      Env* env = Env::Default())
      : config_(config), state_file_(std::move(state_file)), env_(env) {}
  bool enabled() const { return config_.min_hits_per_minute > 0; }
  const std::filesystem::path& state_file() const { return state_file_; }

  // Reads the state file (before serving): its entries are quarantined from the first match. A
  // missing file is none; a malformed one is an error naming the file and line, and changes
  // nothing. Returns the number of entries loaded.
  Result<size_t> Load();

  // Counts the hits of `result` and moves those of quarantined entries from `hits` to
  // `quarantined` (recomputing total_hits). `now` is for tests.
  void Apply(EngineResult* result,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // The quarantined entries, sorted by set and key, with the rate that triggered each.
  std::vector<QuarantinedEntry> List() const;
  // False when the entry was not quarantined. `now` is for tests.
  bool Release(const std::string& set, const std::string& key,
               std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // Releases every quarantined entry of a set for which `keep_set` is false (a dropped set: its
  // entries are gone, and a set created later under the same name is another list). Logs each;
  // returns those released.
  std::vector<QuarantinedEntry> DropSets(const std::function<bool(const std::string&)>& keep_set);
  size_t quarantined() const { return quarantined_.load(std::memory_order_relaxed); }

  // State file writes done and failed since start (for /metrics).
  uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  uint64_t write_failures() const { return write_failures_.load(std::memory_order_relaxed); }

 private:
  struct State {
    int64_t minute = 0;  // the minute `count` belongs to
    uint64_t count = 0;
    double ewma = 0;    // hits per minute over past minutes
    int64_t since = 0;  // unix seconds quarantined; 0: not
    // The rate that triggered the quarantine (kept while quarantined, and in the file).
    uint64_t trigger_hits = 0;
    double trigger_usual = 0;
  };
  // Rolls `s` forward to `minute`.
  static void Advance(State* s, int64_t minute);
  static int64_t Minute(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
  }
  void Forget(int64_t minute);
  // Under mu_: the quarantined list, sorted, and a new generation number for it.
  std::vector<QuarantinedEntry> ListLocked() const;
  uint64_t NextGeneration() { return ++generation_; }
  // Without mu_: writes `list` unless a newer generation was written already.
  void Persist(const std::vector<QuarantinedEntry>& list, uint64_t generation);

  const QuarantineConfig config_;
  const std::filesystem::path state_file_;
  Env* const env_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, State> entries_;  // set + '\0' + key
  int64_t last_sweep_ = 0;
  uint64_t generation_ = 0;             // of the quarantined list, under mu_
  std::atomic<size_t> quarantined_{0};  // entries with since != 0 (Apply's fast path reads it)

  std::mutex file_mu_;  // serializes writes; taken without mu_
  uint64_t written_generation_ = 0;
  std::atomic<uint64_t> writes_{0}, write_failures_{0};
};

}  // namespace hashmatch::daemon

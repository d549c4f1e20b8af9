// Quarantine of entries that suddenly match far more than usual.
//
// A listed entry that starts matching a flood of uploads is more likely a bad entry (a generic
// image, a collision-prone hash) than a wave of abuse material; reporting every one of those hits
// as a match would bury reviewers. Each entry's hits are counted per minute, beside a moving
// average of its past minutes (EWMA, weight 1/8 per minute). When an entry's hits in the current
// minute exceed both min_hits_per_minute and surge_factor times its average, it is quarantined:
// from then on its hits are reported as `quarantined`, not as matches (and audited as such), until
// an admin releases it (SetAdmin.releaseQuarantined), which also takes its current rate as usual.
//
// State is in memory (a restart releases everything) and bounded: entries idle for an hour are
// forgotten. Thread-safe (workers record hits concurrently).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "match_engine.h"

namespace hashmatch::daemon {

struct QuarantineConfig {
  uint32_t min_hits_per_minute = 0;  // 0: off
  double surge_factor = 10;
};

struct QuarantinedEntry {
  std::string set, key;
  int64_t since = 0;  // unix seconds
  uint64_t hits_this_minute = 0;
  double usual_per_minute = 0;
};

class HotEntries {
 public:
  explicit HotEntries(QuarantineConfig config) : config_(config) {}
  bool enabled() const { return config_.min_hits_per_minute > 0; }

  // Counts the hits of `result` and moves those of quarantined entries from `hits` to
  // `quarantined` (recomputing total_hits). `now` is for tests.
  void Apply(EngineResult* result,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  std::vector<QuarantinedEntry> List() const;
  // False when the entry was not quarantined.
  bool Release(const std::string& set, const std::string& key);
  size_t quarantined() const;

 private:
  struct State {
    int64_t minute = 0;  // the minute `count` belongs to
    uint64_t count = 0;
    double ewma = 0;    // hits per minute over past minutes
    int64_t since = 0;  // unix seconds quarantined; 0: not
  };
  // Rolls `s` forward to `minute`.
  static void Advance(State* s, int64_t minute);
  void Forget(int64_t minute);

  const QuarantineConfig config_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, State> entries_;  // set + '\0' + key
  int64_t last_sweep_ = 0;
};

}  // namespace hashmatch::daemon

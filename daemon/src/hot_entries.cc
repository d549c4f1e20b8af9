#include "hot_entries.h"

#include <algorithm>
#include <ctime>
#include <tuple>

#include "log.h"

namespace hashmatch::daemon {

namespace {

constexpr double kWeight = 1.0 / 8;  // EWMA weight of the newest minute
constexpr int64_t kForgetMinutes = 60;

std::string Key(const std::string& set, const std::string& key) {
  return set + '\0' + key;
}

}  // namespace

Result<size_t> HotEntries::Load() {
  if (state_file_.empty()) return size_t(0);
  auto list = ReadQuarantineFile(env_, state_file_);
  if (!list.ok()) return list.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const QuarantinedEntry& e : *list) {
    State& s = entries_[Key(e.set, e.key)];
    if (s.since == 0) quarantined_.fetch_add(1, std::memory_order_relaxed);
    s.since = e.since;
    s.trigger_hits = e.hits_this_minute;
    s.trigger_usual = e.usual_per_minute;
    // Counting starts afresh (minute 0: set by the first hit); the usual rate is the one known.
    s.ewma = e.usual_per_minute;
  }
  return list->size();
}

void HotEntries::Advance(State* s, int64_t minute) {
  if (minute <= s->minute) return;
  // The finished minute, then any idle minutes, decay into the average.
  s->ewma = (1 - kWeight) * s->ewma + kWeight * double(s->count);
  for (int64_t m = s->minute + 1; m < minute && s->ewma > 1e-3; ++m) s->ewma *= (1 - kWeight);
  s->count = 0;
  s->minute = minute;
}

void HotEntries::Forget(int64_t minute) {
  if (minute - last_sweep_ < 10) return;
  last_sweep_ = minute;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const State& s = it->second;
    // Quarantined entries stay, however long idle, until released.
    if (s.since == 0 && minute - s.minute > kForgetMinutes) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

void HotEntries::Apply(EngineResult* result, std::chrono::steady_clock::time_point now) {
  const bool detect = enabled();
  // Off and nothing quarantined (the common case when the feature is off): nothing to do.
  if (!detect && quarantined_.load(std::memory_order_relaxed) == 0) return;
  const int64_t minute = Minute(now);
  std::vector<QuarantinedEntry> changed;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool any_new = false;
    if (detect) Forget(minute);
    result->total_hits = 0;
    for (EngineQueryResult& q : result->queries) {
      std::vector<EngineHit> kept;
      for (EngineHit& h : q.hits) {
        bool quarantined = false;
        if (detect) {
          State& s = entries_[Key(h.hit.set, h.hit.entry.key)];
          if (s.minute == 0) s.minute = minute;
          Advance(&s, minute);
          ++s.count;
          if (s.since == 0 && s.count > config_.min_hits_per_minute &&
              double(s.count) > config_.surge_factor * s.ewma) {
            s.since = int64_t(std::time(nullptr));
            s.trigger_hits = s.count;
            s.trigger_usual = s.ewma;
            quarantined_.fetch_add(1, std::memory_order_relaxed);
            any_new = true;
            LogWarn("entry_quarantined", {{"set", h.hit.set},
                                          {"key", h.hit.entry.key},
                                          {"hits_this_minute", std::to_string(s.count)},
                                          {"usual_per_minute", std::to_string(s.ewma)}});
          }
          quarantined = s.since != 0;
        } else {
          // Detection off: only entries already quarantined (from the state file) are held.
          auto it = entries_.find(Key(h.hit.set, h.hit.entry.key));
          quarantined = it != entries_.end() && it->second.since != 0;
        }
        if (quarantined) {
          q.quarantined.push_back(std::move(h));
        } else {
          kept.push_back(std::move(h));
        }
      }
      q.hits = std::move(kept);
      result->total_hits += q.hits.size();
    }
    if (any_new) {
      changed = ListLocked();
      generation = NextGeneration();
    }
  }
  // Outside the lock: the fsyncs of a quarantine do not hold up the other workers' hits.
  if (generation != 0) Persist(changed, generation);
}

std::vector<QuarantinedEntry> HotEntries::ListLocked() const {
  std::vector<QuarantinedEntry> out;
  for (const auto& [k, s] : entries_) {
    if (s.since == 0) continue;
    const size_t nul = k.find('\0');
    out.push_back({k.substr(0, nul), k.substr(nul + 1), s.since, s.trigger_hits, s.trigger_usual});
  }
  std::sort(out.begin(), out.end(), [](const QuarantinedEntry& a, const QuarantinedEntry& b) {
    return std::tie(a.set, a.key) < std::tie(b.set, b.key);
  });
  return out;
}

std::vector<QuarantinedEntry> HotEntries::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ListLocked();
}

void HotEntries::Persist(const std::vector<QuarantinedEntry>& list, uint64_t generation) {
  if (state_file_.empty()) return;
  std::lock_guard<std::mutex> lock(file_mu_);
  if (generation <= written_generation_) return;  // a newer list is on disk already
  if (Status st = WriteQuarantineFile(env_, state_file_, list); !st.ok()) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    LogError("quarantine_write_failed", {{"file", state_file_.string()},
                                         {"entries", std::to_string(list.size())},
                                         {"error", st.ToString()},
                                         {"note", "in force in memory; rewritten on next change"}});
    return;
  }
  written_generation_ = generation;
  writes_.fetch_add(1, std::memory_order_relaxed);
}

bool HotEntries::Release(const std::string& set, const std::string& key,
                         std::chrono::steady_clock::time_point now) {
  std::vector<QuarantinedEntry> list;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(Key(set, key));
    if (it == entries_.end() || it->second.since == 0) return false;
    State& s = it->second;
    s.since = 0;
    // Loaded from the file and not hit since: its counting starts now (else the idle sweep would
    // take minute 0 for an hour-old entry and forget the rate set below).
    const int64_t minute = Minute(now);
    if (s.minute == 0) s.minute = minute;
    Advance(&s, minute);
    // What it matches now is taken as usual (at least the rate that triggered the quarantine,
    // which the admin has just judged legitimate; after a restart the current minute may not
    // show it yet): released, it is not quarantined again at once.
    s.ewma = std::max({s.ewma, double(s.count), double(s.trigger_hits)});
    s.count = 0;
    s.trigger_hits = 0;
    s.trigger_usual = 0;
    quarantined_.fetch_sub(1, std::memory_order_relaxed);
    list = ListLocked();
    generation = NextGeneration();
  }
  Persist(list, generation);
  return true;
}

std::vector<QuarantinedEntry> HotEntries::DropSets(
    const std::function<bool(const std::string&)>& keep_set) {
  std::vector<QuarantinedEntry> dropped, list;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      const size_t nul = it->first.find('\0');
      const std::string set = it->first.substr(0, nul);
      if (keep_set(set)) {
        ++it;
        continue;
      }
      const State& s = it->second;
      if (s.since != 0) {
        dropped.push_back(
            {set, it->first.substr(nul + 1), s.since, s.trigger_hits, s.trigger_usual});
        quarantined_.fetch_sub(1, std::memory_order_relaxed);
      }
      it = entries_.erase(it);  // the counts of a gone set's entries go too
    }
    if (dropped.empty()) return dropped;
    list = ListLocked();
    generation = NextGeneration();
  }
  for (const QuarantinedEntry& e : dropped) {
    LogWarn("quarantine_dropped",
            {{"set", e.set}, {"key", e.key}, {"reason", "the set no longer exists"}});
  }
  Persist(list, generation);
  return dropped;
}

}  // namespace hashmatch::daemon

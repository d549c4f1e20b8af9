#include "hot_entries.h"

#include <ctime>

#include "log.h"

namespace hashmatch::daemon {

namespace {

constexpr double kWeight = 1.0 / 8;  // EWMA weight of the newest minute
constexpr int64_t kForgetMinutes = 60;

std::string Key(const std::string& set, const std::string& key) {
  return set + '\0' + key;
}

}  // namespace

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
    if (s.since == 0 && minute - s.minute > kForgetMinutes) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

void HotEntries::Apply(EngineResult* result, std::chrono::steady_clock::time_point now) {
  if (!enabled()) return;
  const int64_t minute =
      std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
  std::lock_guard<std::mutex> lock(mu_);
  Forget(minute);
  result->total_hits = 0;
  for (EngineQueryResult& q : result->queries) {
    std::vector<EngineHit> kept;
    for (EngineHit& h : q.hits) {
      State& s = entries_[Key(h.hit.set, h.hit.entry.key)];
      if (s.minute == 0) s.minute = minute;
      Advance(&s, minute);
      ++s.count;
      if (s.since == 0 && s.count > config_.min_hits_per_minute &&
          double(s.count) > config_.surge_factor * s.ewma) {
        s.since = int64_t(std::time(nullptr));
        LogWarn("entry_quarantined", {{"set", h.hit.set},
                                      {"key", h.hit.entry.key},
                                      {"hits_this_minute", std::to_string(s.count)},
                                      {"usual_per_minute", std::to_string(s.ewma)}});
      }
      if (s.since != 0) {
        q.quarantined.push_back(std::move(h));
      } else {
        kept.push_back(std::move(h));
      }
    }
    q.hits = std::move(kept);
    result->total_hits += q.hits.size();
  }
}

std::vector<QuarantinedEntry> HotEntries::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<QuarantinedEntry> out;
  for (const auto& [k, s] : entries_) {
    if (s.since == 0) continue;
    const size_t nul = k.find('\0');
    out.push_back({k.substr(0, nul), k.substr(nul + 1), s.since, s.count, s.ewma});
  }
  return out;
}

bool HotEntries::Release(const std::string& set, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(Key(set, key));
  if (it == entries_.end() || it->second.since == 0) return false;
  State& s = it->second;
  s.since = 0;
  // What it matches now is taken as usual: released, it is not quarantined again at once.
  s.ewma = std::max(s.ewma, double(s.count));
  s.count = 0;
  return true;
}

size_t HotEntries::quarantined() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [k, s] : entries_) n += s.since != 0;
  return n;
}

}  // namespace hashmatch::daemon

// Readers: StoreSnapshot over one immutable StoreState. Matching goes through each perceptual
// set's LiveIndex snapshot (never a private scan) and through the digest table for exact digests.
#include <algorithm>
#include <cstring>

#include "store_impl.h"

namespace hashmatch::store {
namespace {

struct RawHit {
  uint32_t set;  // position in the searched list
  uint32_t distance;
  uint32_t ordinal;
};

class StoreSnapshotImpl final : public StoreSnapshot {
 public:
  explicit StoreSnapshotImpl(std::shared_ptr<const StoreState> st) : st_(std::move(st)) {}

  uint64_t sequence() const override { return st_->sequence; }

  std::vector<SetInfo> ListSets() const override {
    std::vector<SetInfo> out;
    for (const auto& [name, s] : st_->sets) out.push_back(s->Info());
    return out;
  }

  Result<SetInfo> GetSet(std::string_view name) const override {
    auto s = Find(name);
    if (!s.ok()) return s.status();
    return s.value()->Info();
  }

  Result<Entry> GetEntry(std::string_view set, std::string_view key) const override {
    auto s = Find(set);
    if (!s.ok()) return s.status();
    const auto ord = s.value()->FindKey(key);
    if (!ord) {
      return Status::NotFound("no entry '" + std::string(key) + "' in set '" + std::string(set) +
                              "'");
    }
    const EntryTable& t = s.value()->entries;
    return t.Materialize(t.Get(*ord));
  }

  Status ForEachEntry(std::string_view set,
                      const std::function<bool(const Entry&)>& fn) const override {
    auto s = Find(set);
    if (!s.ok()) return s.status();
    const EntryTable& t = s.value()->entries;
    for (uint64_t o = 0; o < t.rows(); ++o) {
      if (!fn(t.Materialize(t.Get(o)))) break;
    }
    return Status::Ok();
  }

  Result<MatchResult> Match(SignalType signal, CodeView queries,
                            const MatchOptions& options) const override;

 private:
  Result<std::shared_ptr<const SetState>> Find(std::string_view name) const {
    auto it = st_->sets.find(name);
    if (it == st_->sets.end()) return Status::NotFound("no set '" + std::string(name) + "'");
    return it->second;
  }

  std::shared_ptr<const StoreState> st_;
};

Result<MatchResult> StoreSnapshotImpl::Match(SignalType signal, CodeView queries,
                                             const MatchOptions& options) const {
  if (uint8_t(signal) > uint8_t(SignalType::kSha256)) {
    return Status::InvalidArgument("unknown signal type");
  }
  const SignalInfo& info = GetSignalInfo(signal);
  if (queries.count > 0 && (queries.data == nullptr || queries.code_bytes != info.code_bytes)) {
    return Status::InvalidArgument("queries of " + std::to_string(queries.code_bytes) +
                                   " bytes for " + std::string(info.name) + " (" +
                                   std::to_string(info.code_bytes) + " bytes)");
  }
  if (!options.query_thresholds.empty() && options.query_thresholds.size() != queries.count) {
    return Status::InvalidArgument(std::to_string(options.query_thresholds.size()) +
                                   " query thresholds for " + std::to_string(queries.count) +
                                   " queries");
  }
  // The sets to search.
  std::vector<std::shared_ptr<const SetState>> sets;
  if (options.sets.empty()) {
    for (const auto& [name, s] : st_->sets) {
      if (s->config.signal == signal && s->config.enabled) sets.push_back(s);
    }
  } else {
    for (const std::string& name : options.sets) {
      auto s = Find(name);
      if (!s.ok()) return s.status();
      if (s.value()->config.signal != signal) {
        return Status::InvalidArgument("set '" + name + "' holds " +
                                       std::string(GetSignalInfo(s.value()->config.signal).name) +
                                       ", not " + std::string(info.name));
      }
      if (s.value()->config.enabled &&
          std::find(sets.begin(), sets.end(), s.value()) == sets.end()) {
        sets.push_back(s.value());
      }
    }
  }
  MatchResult result;
  result.sequence = st_->sequence;
  result.queries.resize(queries.count);
  auto radius_of = [&](size_t q, uint32_t set_threshold) {
    uint32_t r = options.query_thresholds.empty() ? options.threshold.value_or(set_threshold)
                                                  : options.query_thresholds[q];
    return std::min(r, set_threshold);
  };
  std::vector<std::vector<RawHit>> raw(queries.count);
  std::vector<uint8_t> truncated(queries.count, 0);
  for (uint32_t si = 0; si < sets.size(); ++si) {
    const SetState& s = *sets[si];
    result.searched.push_back(
        SearchedSet{s.config.name, s.id, s.version, s.config.kind, s.config.threshold});
    if (queries.count == 0) continue;
    if (!s.perceptual()) {
      std::vector<uint32_t> cand;
      for (size_t q = 0; q < queries.count; ++q) {
        cand.clear();
        s.digests.Find(HashBytes(queries.code(q), info.code_bytes), &cand);
        for (uint32_t o : cand) {
          const EntryView v = s.entries.Get(o);
          if (Indexed(v.flags) && std::memcmp(v.code, queries.code(q), info.code_bytes) == 0) {
            raw[q].push_back(RawHit{si, 0, o});
          }
        }
      }
      continue;
    }
    // One search at the widest radius any query may use in this set; narrower per-query
    // radii are applied to its hits below.
    uint32_t widest = 0;
    for (size_t q = 0; q < queries.count; ++q) {
      widest = std::max(widest, radius_of(q, s.config.threshold));
    }
    RangeSearchOptions ro;
    ro.radius = widest;
    ro.max_hits_per_query = options.max_hits_per_query;
    ro.max_threads = options.max_threads;
    RangeSearchResult rr;
    if (Status st = s.index->RangeSearch(queries, ro, &rr); !st.ok()) return st;
    for (size_t q = 0; q < queries.count; ++q) {
      const uint32_t r = radius_of(q, s.config.threshold);
      const auto hits = rr.of(q);
      for (const IndexHit& h : hits) {
        if (h.distance <= r) raw[q].push_back(RawHit{si, h.distance, uint32_t(h.id)});
      }
      // Hits come nearest first: a capped list only hides hits within r when its farthest
      // kept hit is itself within r.
      if (rr.truncated[q] && !hits.empty() && hits.back().distance <= r) truncated[q] = 1;
    }
  }
  const size_t cap = options.max_hits_per_query;
  for (size_t q = 0; q < queries.count; ++q) {
    std::vector<RawHit>& hits = raw[q];
    std::sort(hits.begin(), hits.end(), [&](const RawHit& a, const RawHit& b) {
      if (a.distance != b.distance) return a.distance < b.distance;
      if (a.set != b.set) return sets[a.set]->config.name < sets[b.set]->config.name;
      return a.ordinal < b.ordinal;
    });
    const bool suppressed = std::any_of(hits.begin(), hits.end(), [&](const RawHit& h) {
      return sets[h.set]->config.kind == SetKind::kSuppress;
    });
    QueryMatches& out = result.queries[q];
    out.truncated = truncated[q];
    size_t kept_matches = 0, kept_suppressors = 0;
    for (const RawHit& h : hits) {
      const SetState& s = *sets[h.set];
      const bool suppressor = s.config.kind == SetKind::kSuppress;
      size_t& kept = suppressor ? kept_suppressors : kept_matches;
      if (cap != 0 && kept >= cap) {
        out.truncated = true;
        continue;
      }
      ++kept;
      MatchHit m{s.config.name, h.distance, s.entries.Materialize(s.entries.Get(h.ordinal))};
      if (suppressor) {
        out.suppressors.push_back(std::move(m));
      } else if (suppressed) {
        out.suppressed.push_back(std::move(m));
      } else {
        out.hits.push_back(std::move(m));
      }
    }
  }
  return result;
}

}  // namespace

std::shared_ptr<const StoreSnapshot> HashSetStoreImpl::GetSnapshot() const {
  return std::make_shared<StoreSnapshotImpl>(Current());
}

}  // namespace hashmatch::store

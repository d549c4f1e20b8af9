#include "match_engine.h"

#include <algorithm>
#include <array>
#include <limits>

namespace hashmatch::daemon {

namespace {

constexpr size_t kSignals = 8;  // SignalType values

// Sorts by (set, key, distance, hash index) and keeps each entry's first, i.e. nearest, hit.
void Dedupe(std::vector<EngineHit>* hits) {
  std::sort(hits->begin(), hits->end(), [](const EngineHit& a, const EngineHit& b) {
    if (a.hit.set != b.hit.set) return a.hit.set < b.hit.set;
    if (a.hit.entry.key != b.hit.entry.key) return a.hit.entry.key < b.hit.entry.key;
    if (a.hit.distance != b.hit.distance) return a.hit.distance < b.hit.distance;
    return a.hash_index < b.hash_index;
  });
  hits->erase(std::unique(hits->begin(), hits->end(),
                          [](const EngineHit& a, const EngineHit& b) {
                            return a.hit.set == b.hit.set && a.hit.entry.key == b.hit.entry.key;
                          }),
              hits->end());
  std::sort(hits->begin(), hits->end(), [](const EngineHit& a, const EngineHit& b) {
    if (a.hit.distance != b.hit.distance) return a.hit.distance < b.hit.distance;
    if (a.hit.set != b.hit.set) return a.hit.set < b.hit.set;
    return a.hit.entry.key < b.hit.entry.key;
  });
}

// Keeps the nearest `cap`; true when some were left out.
bool Cap(std::vector<EngineHit>* hits, size_t cap) {
  if (cap == 0 || hits->size() <= cap) return false;
  hits->resize(cap);
  return true;
}

void Append(std::vector<MatchHit>& from, uint32_t hash_index, std::vector<EngineHit>* to) {
  for (MatchHit& h : from) to->push_back(EngineHit{std::move(h), hash_index});
}

}  // namespace

Result<EngineResult> MatchQueries(const StoreSnapshot& snapshot, std::vector<EngineQuery> queries,
                                  const EngineOptions& options) {
  EngineResult out;
  out.sequence = snapshot.sequence();
  out.queries.resize(queries.size());

  // The set filter, resolved once: an unknown name fails the call (a typo must not read as "no
  // match").
  std::vector<SetInfo> named;
  for (const std::string& name : options.sets) {
    auto s = snapshot.GetSet(name);
    if (!s.ok()) return s.status();
    named.push_back(std::move(s.value()));
  }

  // Every hash of every valid query, grouped by signal type.
  struct Ref {
    uint32_t query;
    uint32_t hash;
  };
  std::array<std::vector<uint8_t>, kSignals> codes;
  std::array<std::vector<Ref>, kSignals> refs;
  std::array<std::vector<uint32_t>, kSignals> thresholds;
  for (uint32_t q = 0; q < queries.size(); ++q) {
    EngineQuery& query = queries[q];
    EngineQueryResult& r = out.queries[q];
    if (!query.error.ok()) {
      r.error = std::move(query.error);
      continue;
    }
    if (query.hashes.empty()) {
      r.error = Status::InvalidArgument("query " + std::to_string(q) + " has no hashes");
      continue;
    }
    for (size_t h = 0; h < query.hashes.size() && r.error.ok(); ++h) {
      const QueryHash& qh = query.hashes[h];
      if (size_t(qh.signal) >= kSignals || qh.code.size() != GetSignalInfo(qh.signal).code_bytes) {
        r.error = Status::InvalidArgument("query " + std::to_string(q) + " hash " +
                                          std::to_string(h) + ": wrong code size");
      }
    }
    if (!r.error.ok()) continue;
    const uint32_t t = query.threshold.has_value()     ? *query.threshold
                       : options.threshold.has_value() ? *options.threshold
                                                       : std::numeric_limits<uint32_t>::max();
    for (uint32_t h = 0; h < query.hashes.size(); ++h) {
      const size_t s = size_t(query.hashes[h].signal);
      codes[s].insert(codes[s].end(), query.hashes[h].code.begin(), query.hashes[h].code.end());
      refs[s].push_back(Ref{q, h});
      thresholds[s].push_back(t);
    }
  }

  // One store match per signal type present.
  for (size_t s = 0; s < kSignals; ++s) {
    if (refs[s].empty()) continue;
    const SignalType signal = SignalType(s);
    MatchOptions mo;
    for (const SetInfo& info : named) {
      if (info.config.signal == signal) mo.sets.push_back(info.config.name);
    }
    if (!named.empty() && mo.sets.empty()) continue;  // no named set holds this signal
    mo.query_thresholds = std::move(thresholds[s]);
    mo.max_hits_per_query = options.max_hits;
    mo.max_threads = options.max_threads;
    const CodeView view{codes[s].data(), refs[s].size(), GetSignalInfo(signal).code_bytes};
    auto r = snapshot.Match(signal, view, mo);
    if (!r.ok()) return r.status();
    for (const SearchedSet& set : r->searched) out.searched.push_back(EngineSearched{set, signal});
    for (size_t i = 0; i < refs[s].size(); ++i) {
      QueryMatches& m = r->queries[i];
      EngineQueryResult& q = out.queries[refs[s][i].query];
      const uint32_t h = refs[s][i].hash;
      Append(m.hits, h, &q.hits);
      Append(m.suppressed, h, &q.suppressed);
      Append(m.suppressors, h, &q.suppressors);
      q.truncated = q.truncated || m.truncated;
    }
  }

  for (EngineQueryResult& q : out.queries) {
    if (!q.suppressors.empty()) {
      // Suppressed in one orientation (or by one of its digests): suppressed as a whole.
      for (EngineHit& h : q.hits) q.suppressed.push_back(std::move(h));
      q.hits.clear();
    }
    Dedupe(&q.hits);
    Dedupe(&q.suppressed);
    Dedupe(&q.suppressors);
    const bool cut = Cap(&q.hits, options.max_hits) | Cap(&q.suppressed, options.max_hits) |
                     Cap(&q.suppressors, options.max_hits);
    q.truncated = q.truncated || cut;
    out.total_hits += q.hits.size();
  }
  return out;
}

}  // namespace hashmatch::daemon

// Matching a batch of multi-hash queries against one store snapshot: what Matcher.match and
// Matcher.matchImages compute, without any RPC types (so it runs on a worker thread and can be
// tested alone).
//
// A query is one item with one or more hashes, of any signal types: usually one hash; a dihedral
// query has the eight PDQ orientations of one image; an image may add its MD5/SHA-256. The
// hashes of the whole batch are grouped by signal type and matched with one StoreSnapshot::Match
// per type, all on the same snapshot, so every answer comes from one consistent store version.
// Each query's hits are then merged:
//   - a listed entry (set, key) is reported once, at its smallest distance over the query's
//     hashes, with the index of the hash that reached it (ties: the lower index);
//   - if any hash of the query hits a suppress set, the query is suppressed: all its match-set
//     hits move to `suppressed` (an allow-listed image stays allowed in every orientation);
//   - lists are sorted by (distance, set, key) and capped at max_hits; `truncated` says hits were
//     left out (here or in the store's own per-hash cap).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/hash_set_store.h"

namespace hashmatch::daemon {

struct QueryHash {
  SignalType signal = SignalType::kPdq;
  std::vector<uint8_t> code;  // GetSignalInfo(signal).code_bytes
};

struct EngineQuery {
  Status error;  // a query that failed to parse is passed through as its error
  std::vector<QueryHash> hashes;
  std::optional<uint32_t> threshold;  // clamped to each set's
};

struct EngineOptions {
  std::vector<std::string> sets;      // empty: every enabled set of each signal
  std::optional<uint32_t> threshold;  // for queries without their own
  size_t max_hits = 1000;             // per query, > 0
  int max_threads = 1;                // inside the store's range search
};

struct EngineHit {
  MatchHit hit;  // set, distance, entry (key, classification, tags, times)
  uint32_t hash_index = 0;
};

struct EngineQueryResult {
  Status error;
  std::vector<EngineHit> hits, suppressed, suppressors;
  std::vector<EngineHit> quarantined;  // filled by HotEntries (hot_entries.h), not the engine
  bool truncated = false;
};

struct EngineSearched {
  SearchedSet set;
  SignalType signal;
};

struct EngineResult {
  uint64_t sequence = 0;
  std::vector<EngineSearched> searched;  // by signal type, then as the store lists them
  std::vector<EngineQueryResult> queries;
  uint64_t total_hits = 0;
};

// Fails as a whole only for a bad request (an unknown set name) or a store error; per-query
// problems stay in their EngineQueryResult.
Result<EngineResult> MatchQueries(const StoreSnapshot& snapshot, std::vector<EngineQuery> queries,
                                  const EngineOptions& options);

}  // namespace hashmatch::daemon

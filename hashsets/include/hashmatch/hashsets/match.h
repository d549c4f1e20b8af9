// Matching a batch of codes against a store's sets.
//
// A query batch holds codes of one signal type. Every enabled set of that type is searched (or the
// sets named in MatchOptions::sets): perceptual sets through their LiveIndex (inclusive radius),
// exact digests by equality through a hash table. A query's radius in a set is the smaller of the
// set's threshold and the request's (a request cannot widen a set's threshold).
//
// Suppress sets: when any enabled suppress set of the type matches a query, the hits of the match
// sets on that query are cancelled: they move to `suppressed`, and the suppress-set hits that
// cancelled them are in `suppressors`. A query matched only by suppress sets has no hits.
//
// Each query's hits are sorted by (distance, set name, key) and capped at max_hits_per_query (the
// nearest kept); a query that had more is flagged `truncated`, never cut silently. Every answer
// names the sets searched and their versions, and the store sequence number it saw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hashmatch/hashsets/set_model.h"

namespace hashmatch {

struct MatchOptions {
  std::vector<std::string> sets;  // empty: every enabled set of the signal type
  // Per-request threshold (clamped to each set's); nullopt: each set's own.
  std::optional<uint32_t> threshold;
  // Per-query thresholds (one per query, clamped to each set's), overriding `threshold`.
  std::vector<uint32_t> query_thresholds;
  size_t max_hits_per_query = 1000;  // 0: no cap
  int max_threads = 0;               // as RangeSearchOptions::max_threads
};

struct MatchHit {
  std::string set;
  uint32_t distance = 0;
  Entry entry;  // key, code, classification, tags, times
};

struct QueryMatches {
  std::vector<MatchHit> hits;         // matches (empty when suppressed)
  std::vector<MatchHit> suppressed;   // match-set hits cancelled by a suppress set
  std::vector<MatchHit> suppressors;  // the suppress-set hits that cancelled them
  bool truncated = false;             // more hits existed than max_hits_per_query
};

struct SearchedSet {
  std::string set;
  uint32_t id = 0;
  uint64_t version = 0;
  SetKind kind = SetKind::kMatch;
  uint32_t threshold = 0;
  friend bool operator==(const SearchedSet&, const SearchedSet&) = default;
};

struct MatchResult {
  uint64_t sequence = 0;              // the store's last committed transaction it saw
  std::vector<SearchedSet> searched;  // sets searched, with their versions
  std::vector<QueryMatches> queries;  // one per query, in order
};

}  // namespace hashmatch

// Internal: the per-chunk work of Scan's parallel stage (read files, hash, match) and the plan of
// which sets each signal is matched against.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/scan/scan.h"
#include "item_source.h"

namespace hashmatch::scan_internal {

struct MatchPlan {
  struct Signal {
    SignalType signal;
    std::vector<std::string> sets;  // searched for this signal (match and suppress sets)
  };
  std::vector<Signal> signals;                 // computed signals with at least one set
  std::vector<SearchedSet> searched;           // every searched set, by name
  std::map<std::string, SearchedSet> by_name;  // the same, for the hits' versions and kinds
};

// Checks ScanOptions::sets against the snapshot and lists the sets per signal: the named (or all
// enabled) sets of the computed signals, plus every enabled suppress set of those signals.
Result<MatchPlan> PlanMatching(const StoreSnapshot& store, const ScanOptions& options);

// Reads (files), hashes and matches one chunk on the calling thread; one result per item, in
// order. `options.signals` must already hold PDQ and MD5.
std::vector<ScanItemResult> HashAndMatch(const StoreSnapshot& store, const MatchPlan& plan,
                                         const ScanOptions& options,
                                         std::vector<SourceItem>& items);

}  // namespace hashmatch::scan_internal

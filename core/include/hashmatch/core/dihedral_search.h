// Matching one image in all eight orientations with one call.
//
// A mirrored or rotated copy of a listed image has, as its PDQ hash, one of the eight dihedral
// hashes of the listed original (PdqHasher::HashDihedral computes all eight from one DCT). The
// eight go to the index as one batch; each listed id is reported once, with the orientation that
// came nearest (ties to the lower Dihedral value, i.e. the original first).
#pragma once

#include <array>
#include <vector>

#include "hashmatch/core/index.h"
#include "hashmatch/core/pdq.h"

namespace hashmatch {

struct OrientedHit {
  uint64_t id;
  uint32_t distance;
  Dihedral orientation;  // which of the query's orientations matched
  friend bool operator==(const OrientedHit&, const OrientedHit&) = default;
};

struct DihedralSearchResult {
  std::vector<OrientedHit> hits;  // sorted by (distance, id)
  bool truncated = false;         // some orientation had more hits than the cap
};

// `options.max_hits_per_query` applies to each orientation and then to the merged list.
Status RangeSearchDihedral(const HammingIndex& index,
                           const std::array<PdqHash, kNumDihedral>& orientations,
                           const RangeSearchOptions& options, DihedralSearchResult* out);

}  // namespace hashmatch

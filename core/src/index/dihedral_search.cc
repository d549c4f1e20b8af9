#include "hashmatch/core/dihedral_search.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace hashmatch {

Status RangeSearchDihedral(const HammingIndex& index,
                           const std::array<PdqHash, kNumDihedral>& orientations,
                           const RangeSearchOptions& options, DihedralSearchResult* out) {
  *out = DihedralSearchResult{};
  std::array<uint8_t, kNumDihedral * Hash256::kSize> batch;
  for (size_t i = 0; i < kNumDihedral; ++i) {
    std::memcpy(batch.data() + i * Hash256::kSize, orientations[i].hash.data(), Hash256::kSize);
  }
  RangeSearchResult r;
  if (Status s =
          index.RangeSearch(CodeView{batch.data(), kNumDihedral, Hash256::kSize}, options, &r);
      !s.ok()) {
    return s;
  }
  // Keep, per id, the nearest orientation; queries are visited in Dihedral order, so on a tie the
  // lower orientation, seen first, stays.
  std::unordered_map<uint64_t, size_t> where;
  for (size_t q = 0; q < kNumDihedral; ++q) {
    out->truncated |= r.truncated[q] != 0;
    for (const IndexHit& h : r.of(q)) {
      auto [it, inserted] = where.emplace(h.id, out->hits.size());
      if (inserted) {
        out->hits.push_back(OrientedHit{h.id, h.distance, Dihedral(q)});
      } else if (h.distance < out->hits[it->second].distance) {
        out->hits[it->second] = OrientedHit{h.id, h.distance, Dihedral(q)};
      }
    }
  }
  std::sort(out->hits.begin(), out->hits.end(), [](const OrientedHit& a, const OrientedHit& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
  });
  if (options.max_hits_per_query != 0 && out->hits.size() > options.max_hits_per_query) {
    out->hits.resize(options.max_hits_per_query);
    out->truncated = true;
  }
  return Status::Ok();
}

}  // namespace hashmatch

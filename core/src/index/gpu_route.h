// LiveIndex's GPU route (live_index.h, gpu_mirror.h): building a base's mirror, the planner that
// sends a batch's base part to it, and the base part of a search on the mirror with the base's
// tombstones applied exactly.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "hashmatch/core/index.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/core/static_index.h"

namespace hashmatch::index_internal {

// The mirror of `base` (ids = row numbers, so that tombstones, which are rows, apply directly and
// ties by row are ties by id: a StaticIndex stores rows in ascending id order). nullptr when the
// mode is off, when the base is empty, or in mode auto when no mirror can be built; an error in
// mode on when none can be built (no GPU matcher in this build, no GPU, an unsupported code size).
Result<std::shared_ptr<const HammingIndex>> MakeGpuMirror(const StaticIndex& base,
                                                          const LiveIndexGpuOptions& options);

// The planner: true when the base part of a batch of `num_queries` queries at `radius` should run
// on the mirror (see LiveIndexGpuOptions). The CPU side's estimate is the cost model the MIH build
// uses (mih_layout.h): probing at `radius` or a flat scan, whichever the base would do.
bool PreferGpu(const StaticIndex& base, size_t num_queries, uint32_t radius,
               const LiveIndexGpuOptions& options);

// The base part of a range search on `mirror`: for each query, its hits in the base with rows
// dead in `dead` (`dead_count` of them) removed, ids mapped through `base_ids`, in (distance, id)
// order. With `cap` != 0 a query gets at least its nearest min(cap + 1, all) live hits (so that
// the caller's cap and truncated flag are exact), not necessarily all; with cap 0, all.
//
// Why it is exact: the mirror returns each query's nearest c hits by (distance, row) plus whether
// there were more. Asking for c = cap + 1 + x, a truncated answer holds at most `dead_count` dead
// rows; once x >= the dead rows among them, at least cap + 1 live hits remain, and they are the
// nearest live ones. Queries short of cap + 1 live hits are asked again with x grown (x ends at
// dead_count, where no query can be short), so tombstones never cost a full collect.
// `max_threads` is passed on to the mirror.
Status GpuBaseRange(const HammingIndex& mirror, std::span<const uint64_t> base_ids, RowFilter dead,
                    size_t dead_count, CodeView queries, uint32_t radius, size_t cap,
                    int max_threads, std::vector<std::vector<IndexHit>>* per_query);

// The base part of k-NN on `mirror`: each query's k nearest live base rows (fewer when the base
// has fewer), sorted by (distance, id), ids in Neighbor::row. The same refinement as above.
Status GpuBaseKnn(const HammingIndex& mirror, std::span<const uint64_t> base_ids, RowFilter dead,
                  size_t dead_count, CodeView queries, size_t k, int max_threads,
                  std::vector<std::vector<Neighbor>>* per_query);

}  // namespace hashmatch::index_internal

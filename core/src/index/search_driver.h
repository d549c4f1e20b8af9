// Shared machinery of every index's RangeSearch and Knn: validation, splitting a batch into blocks
// run on oneTBB (or inline for one query), and assembling per-query sorted, de-duplicated, capped
// hit lists in query order.
#pragma once

#include <functional>
#include <vector>

#include "hashmatch/core/index.h"

namespace hashmatch::index_internal {

// Collects the raw hits of queries [q0, q1): unsorted, may repeat.
using CollectFn = std::function<void(size_t q0, size_t q1, std::vector<IndexHit>* hits)>;
// The k nearest of one query, sorted by (distance, id).
using KnnOneFn = std::function<void(size_t q, std::vector<Neighbor>* out)>;

// Runs fn(block) for block in [0, num_blocks), in parallel unless max_threads == 1 or there is
// one block.
void ParallelBlocks(size_t num_blocks, int max_threads, const std::function<void(size_t)>& fn);

Status RunRangeSearch(const HammingIndex& index, CodeView queries,
                      const RangeSearchOptions& options, size_t block_queries,
                      const CollectFn& collect, RangeSearchResult* out);

Status RunKnn(const HammingIndex& index, CodeView queries, const KnnOptions& options,
              const KnnOneFn& knn_one, KnnResult* out);

// Sorts hits by (query, distance, id) and drops repeated (query, id) pairs.
void SortAndDedupe(std::vector<IndexHit>* hits);

// Keeps the k smallest of `cand` (sorted by distance, id) in *out.
void MergeNeighbors(std::vector<Neighbor>* out, std::span<const Neighbor> more, size_t k);

}  // namespace hashmatch::index_internal

// HammingIndex: the one interface behind which every exact (and approximate) search method sits,
// in the manner of FAISS's `Index`. The hash-set store and the daemon talk only to this interface.
//
// Contract shared by every implementation:
//
// * Codes are fixed-size bit codes (code_bytes() bytes, a multiple of 8: 32 for PDQ, 8 for the
//   64-bit hashes). Each indexed code carries a caller-chosen 64-bit id, unique in the index. Ids
//   are what results report; an index never renumbers them (FAISS's flat index does, which is why
//   removal lives in our layer).
// * RangeSearch is inclusive (distance <= radius, the PDQ convention) and exact for every method
//   marked exact(): every indexed code within the radius is reported, proven in tests against the
//   brute-force kernels. Hits of one query come sorted by (distance, id).
// * Results are capped per query (RangeSearchOptions::max_hits_per_query): when more codes match,
//   the nearest `max_hits_per_query` are kept and the query is flagged truncated, never cut
//   silently.
// * A HammingIndex object is immutable once built: any number of threads may search it at once.
//   Updates go through LiveIndex (live_index.h), which publishes immutable snapshots.
// * Batches of queries run in parallel on oneTBB's pool unless max_threads == 1; a batch of one
//   query runs on the calling thread and never touches the pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/distance.h"
#include "hashmatch/core/status.h"

namespace hashmatch {

// One reported code: the query's position in the batch, the code's id and its distance.
struct IndexHit {
  uint32_t query;
  uint32_t distance;
  uint64_t id;
  friend bool operator==(const IndexHit&, const IndexHit&) = default;
};

struct RangeSearchOptions {
  uint32_t radius = 31;
  // At most this many hits per query (the nearest); 0 means no cap. Queries that had more are
  // flagged in RangeSearchResult::truncated.
  size_t max_hits_per_query = 100'000;
  // 0: use the TBB pool as it is configured; 1: run on the calling thread only; n: at most n.
  int max_threads = 0;
};

// Hits grouped by query: query q's hits are hits[offsets[q], offsets[q + 1]).
struct RangeSearchResult {
  std::vector<size_t> offsets;  // num_queries + 1 entries
  std::vector<IndexHit> hits;
  std::vector<uint8_t> truncated;  // per query: 1 when its hits were capped
  size_t num_queries() const { return truncated.size(); }
  std::span<const IndexHit> of(size_t q) const {
    return {hits.data() + offsets[q], offsets[q + 1] - offsets[q]};
  }
};

struct KnnOptions {
  size_t k = 1;
  int max_threads = 0;  // as in RangeSearchOptions
};

// What an index costs and how it was configured, for benchmarks and the daemon's statistics.
struct IndexStats {
  std::string method;       // "flat", "mih(m=10,...)", "faiss-flat", ...
  size_t size = 0;          // live codes
  size_t memory_bytes = 0;  // resident bytes (codes, ids, tables)
};

class HammingIndex {
 public:
  virtual ~HammingIndex() = default;

  virtual size_t code_bytes() const = 0;
  virtual size_t size() const = 0;  // live codes
  // True when RangeSearch and Knn are exact for every radius (approximate methods say false).
  virtual bool exact() const = 0;
  virtual IndexStats Stats() const = 0;

  // Every live code within options.radius of each query. `queries` must have code_bytes() codes.
  // On error *out is left empty.
  virtual Status RangeSearch(CodeView queries, const RangeSearchOptions& options,
                             RangeSearchResult* out) const = 0;

  // The k nearest live codes of each query, sorted by (distance, id); `Neighbor::row` holds the
  // id. Fewer than k when the index holds fewer codes.
  virtual Status Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const = 0;
};

// Checks a query batch against an index's code size and a radius against the code's bits.
Status ValidateQueries(const HammingIndex& index, CodeView queries);

}  // namespace hashmatch

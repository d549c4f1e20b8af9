#include "index/search_driver.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>

namespace hashmatch {

Status ValidateQueries(const HammingIndex& index, CodeView queries) {
  if (queries.count > 0 && queries.data == nullptr) {
    return Status::InvalidArgument("query batch has no data");
  }
  if (queries.count > 0 && queries.code_bytes != index.code_bytes()) {
    return Status::InvalidArgument("query codes have " + std::to_string(queries.code_bytes) +
                                   " bytes; the index holds " + std::to_string(index.code_bytes()) +
                                   "-byte codes");
  }
  if (queries.count > UINT32_MAX) return Status::OutOfRange("more than 2^32 queries in a batch");
  return Status::Ok();
}

namespace index_internal {

void ParallelBlocks(size_t num_blocks, int max_threads, const std::function<void(size_t)>& fn) {
  if (num_blocks <= 1 || max_threads == 1) {
    for (size_t b = 0; b < num_blocks; ++b) fn(b);
    return;
  }
  auto body = [&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, num_blocks, 1),
                      [&](const tbb::blocked_range<size_t>& r) {
                        for (size_t b = r.begin(); b != r.end(); ++b) fn(b);
                      });
  };
  if (max_threads > 1) {
    tbb::task_arena arena(max_threads);
    arena.execute(body);
  } else {
    body();
  }
}

void SortAndDedupe(std::vector<IndexHit>* hits) {
  std::sort(hits->begin(), hits->end(), [](const IndexHit& a, const IndexHit& b) {
    if (a.query != b.query) return a.query < b.query;
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.id < b.id;
  });
  hits->erase(std::unique(hits->begin(), hits->end(),
                          [](const IndexHit& a, const IndexHit& b) {
                            return a.query == b.query && a.id == b.id;
                          }),
              hits->end());
}

void MergeNeighbors(std::vector<Neighbor>* out, std::span<const Neighbor> more, size_t k) {
  std::vector<Neighbor> merged;
  merged.reserve(out->size() + more.size());
  auto less = [](const Neighbor& a, const Neighbor& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.row < b.row;
  };
  std::merge(out->begin(), out->end(), more.begin(), more.end(), std::back_inserter(merged), less);
  if (merged.size() > k) merged.resize(k);
  out->swap(merged);
}

Status RunRangeSearch(const HammingIndex& index, CodeView queries,
                      const RangeSearchOptions& options, size_t block_queries,
                      const CollectFn& collect, RangeSearchResult* out) {
  *out = RangeSearchResult{};
  if (Status s = ValidateQueries(index, queries); !s.ok()) return s;
  const size_t nq = queries.count;
  block_queries = std::max<size_t>(1, block_queries);
  const size_t num_blocks = (nq + block_queries - 1) / block_queries;

  // Each block sorts, de-duplicates and caps its own hits; blocks are then concatenated in order.
  struct Block {
    std::vector<IndexHit> hits;
    std::vector<size_t> counts;
    std::vector<uint8_t> truncated;
  };
  std::vector<Block> blocks(num_blocks);
  ParallelBlocks(num_blocks, options.max_threads, [&](size_t b) {
    const size_t q0 = b * block_queries, q1 = std::min(nq, q0 + block_queries);
    Block& blk = blocks[b];
    std::vector<IndexHit> raw;
    collect(q0, q1, &raw);
    SortAndDedupe(&raw);
    blk.counts.assign(q1 - q0, 0);
    blk.truncated.assign(q1 - q0, 0);
    blk.hits.reserve(raw.size());
    for (const IndexHit& h : raw) {
      size_t& c = blk.counts[h.query - q0];
      if (options.max_hits_per_query != 0 && c >= options.max_hits_per_query) {
        blk.truncated[h.query - q0] = 1;
        continue;
      }
      ++c;
      blk.hits.push_back(h);
    }
  });

  size_t total = 0;
  for (const Block& b : blocks) total += b.hits.size();
  out->hits.reserve(total);
  out->offsets.reserve(nq + 1);
  out->offsets.push_back(0);
  out->truncated.reserve(nq);
  for (Block& b : blocks) {
    out->hits.insert(out->hits.end(), b.hits.begin(), b.hits.end());
    for (size_t i = 0; i < b.counts.size(); ++i) {
      out->offsets.push_back(out->offsets.back() + b.counts[i]);
      out->truncated.push_back(b.truncated[i]);
    }
  }
  return Status::Ok();
}

Status RunKnn(const HammingIndex& index, CodeView queries, const KnnOptions& options,
              const KnnOneFn& knn_one, KnnResult* out) {
  *out = KnnResult{};
  if (Status s = ValidateQueries(index, queries); !s.ok()) return s;
  if (options.k == 0) return Status::InvalidArgument("k must be at least 1");
  if (options.k > 1'000'000) return Status::OutOfRange("k above 1000000");
  const size_t nq = queries.count, k = options.k;
  out->k = k;
  out->neighbors.assign(nq * k, Neighbor{0, 0});
  out->count.assign(nq, 0);
  ParallelBlocks(nq, options.max_threads, [&](size_t q) {
    std::vector<Neighbor> nn;
    knn_one(q, &nn);
    const size_t n = std::min(nn.size(), k);
    std::copy(nn.begin(), nn.begin() + n, out->neighbors.begin() + q * k);
    out->count[q] = uint32_t(n);
  });
  return Status::Ok();
}

}  // namespace index_internal
}  // namespace hashmatch

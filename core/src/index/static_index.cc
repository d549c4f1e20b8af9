// StaticIndex's shared behaviour and the flat index.
#include "hashmatch/core/static_index.h"

#include <algorithm>
#include <numeric>
#include <queue>

#include "index/build_util.h"
#include "index/search_driver.h"

namespace hashmatch {

using index_internal::RunKnn;
using index_internal::RunRangeSearch;

void StaticIndex::SetArrays(std::shared_ptr<const void> keeper, size_t code_bytes, size_t num_rows,
                            const uint8_t* codes, const uint64_t* ids) {
  keeper_ = std::move(keeper);
  code_bytes_ = code_bytes;
  num_rows_ = num_rows;
  codes_ = codes;
  ids_ = ids;
}

std::optional<uint64_t> StaticIndex::RowOf(uint64_t id) const {
  const uint64_t* end = ids_ + num_rows_;
  const uint64_t* it = std::lower_bound(ids_, end, id);
  if (it == end || *it != id) return std::nullopt;
  return uint64_t(it - ids_);
}

Status StaticIndex::RangeSearch(CodeView queries, const RangeSearchOptions& options,
                                RangeSearchResult* out) const {
  // Blocks of 8 queries: the flat kernel reuses each cache-resident block of codes for all of
  // them, and MIH gets enough blocks to spread a 1,000-query batch over every core.
  return RunRangeSearch(
      *this, queries, options, 8,
      [&](size_t q0, size_t q1, std::vector<IndexHit>* hits) {
        CollectHits(queries, q0, q1, options.radius, RowFilter{}, hits);
      },
      out);
}

Status StaticIndex::Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const {
  return RunKnn(
      *this, queries, options,
      [&](size_t q, std::vector<Neighbor>* nn) {
        KnnOne(queries.code(q), options.k, RowFilter{}, nn);
      },
      out);
}

void StaticIndex::FlatCollect(CodeView queries, size_t q0, size_t q1, uint32_t radius,
                              RowFilter filter, std::vector<IndexHit>* hits) const {
  if (num_rows_ == 0 || q0 >= q1) return;
  const CodeView sub{queries.code(q0), q1 - q0, queries.code_bytes};
  std::vector<RangeHit> raw;
  // Sizes were validated by the caller, so the kernel cannot fail here.
  (void)DistanceKernels::Default().RangeSearch(sub, codes(), radius, &raw);
  hits->reserve(hits->size() + raw.size());
  for (const RangeHit& h : raw) {
    if (filter.dead(h.row)) continue;
    hits->push_back(IndexHit{uint32_t(q0 + h.query), h.distance, ids_[h.row]});
  }
}

void StaticIndex::KnnOne(const uint8_t* query, size_t k, RowFilter filter,
                         std::vector<Neighbor>* out) const {
  // Bounded max-heap over (distance, id), fed block by block from the distance kernel.
  auto less = [](const Neighbor& a, const Neighbor& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.row < b.row;
  };
  std::priority_queue<Neighbor, std::vector<Neighbor>, decltype(less)> heap(less);
  constexpr size_t kBlock = 4096;
  std::vector<uint16_t> dist(kBlock);
  const DistanceKernels& kernels = DistanceKernels::Default();
  for (size_t base = 0; base < num_rows_; base += kBlock) {
    const size_t n = std::min(kBlock, num_rows_ - base);
    (void)kernels.Distances(query, CodeView{codes_ + base * code_bytes_, n, code_bytes_},
                            std::span<uint16_t>(dist.data(), n));
    for (size_t i = 0; i < n; ++i) {
      const uint64_t row = base + i;
      if (filter.dead(row)) continue;
      const Neighbor nb{ids_[row], dist[i]};
      if (heap.size() < k) {
        heap.push(nb);
      } else if (less(nb, heap.top())) {
        heap.pop();
        heap.push(nb);
      }
    }
  }
  out->resize(heap.size());
  for (size_t i = heap.size(); i-- > 0;) {
    (*out)[i] = heap.top();
    heap.pop();
  }
}

namespace {

class FlatIndex final : public StaticIndex {
 public:
  FlatIndex(std::shared_ptr<const void> keeper, size_t code_bytes, size_t n, const uint8_t* codes,
            const uint64_t* ids) {
    SetArrays(std::move(keeper), code_bytes, n, codes, ids);
  }
  IndexStats Stats() const override { return {"flat", size(), BaseMemoryBytes()}; }
  Kind kind() const override { return Kind::kFlat; }
  void CollectHits(CodeView queries, size_t q0, size_t q1, uint32_t radius, RowFilter filter,
                   std::vector<IndexHit>* hits) const override {
    FlatCollect(queries, q0, q1, radius, filter, hits);
  }
};

}  // namespace

std::shared_ptr<const StaticIndex> MakeFlatIndex(std::shared_ptr<const void> keeper,
                                                 size_t code_bytes, size_t n, const uint8_t* codes,
                                                 const uint64_t* ids) {
  return std::make_shared<FlatIndex>(std::move(keeper), code_bytes, n, codes, ids);
}

Result<std::shared_ptr<const StaticIndex>> BuildFlatIndex(CodeView codes,
                                                          std::span<const uint64_t> ids) {
  auto sorted = index_internal::SortRowsById(codes, ids);
  if (!sorted.ok()) return sorted.status();
  auto arrays = std::make_shared<index_internal::OwnedRows>(std::move(sorted).value());
  const uint8_t* c = arrays->codes.data();
  const uint64_t* i = arrays->ids.data();
  const size_t n = arrays->ids.size();
  return MakeFlatIndex(std::move(arrays), codes.code_bytes, n, c, i);
}

}  // namespace hashmatch

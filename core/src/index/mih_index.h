// The multi-index-hashing StaticIndex (see static_index.h and docs/index.md).
#pragma once

#include <memory>
#include <vector>

#include "hashmatch/core/static_index.h"
#include "index/huge_array.h"
#include "index/mih_layout.h"

namespace hashmatch {

class MihIndex final : public StaticIndex {
 public:
  struct TableArrays {
    const uint32_t* offsets = nullptr;  // 2^top_bits + 1 entries
    const uint32_t* rows = nullptr;     // num_rows entries, grouped by bucket
    const uint8_t* resid = nullptr;     // num_rows entries; null when resid_bits == 0
  };

  // Arrays owned by `keeper` (vectors of a build, or a file mapping).
  MihIndex(std::shared_ptr<const void> keeper, size_t code_bytes, size_t num_rows,
           const uint8_t* codes, const uint64_t* ids, std::vector<mih::TableGeom> geom,
           std::vector<TableArrays> tables, bool flat_fallback = true);

  IndexStats Stats() const override;
  Kind kind() const override { return Kind::kMih; }
  void CollectHits(CodeView queries, size_t q0, size_t q1, uint32_t radius, RowFilter filter,
                   std::vector<IndexHit>* hits) const override;
  void KnnOne(const uint8_t* query, size_t k, RowFilter filter,
              std::vector<Neighbor>* out) const override;

  const std::vector<mih::TableGeom>& geometry() const { return geom_; }

  // A probe's first read: a bucket's start in `rows` and the residuals of its first kInline
  // entries, 16 bytes that share a cache line, so that most probes cost one cache miss rather
  // than two (offset, then residuals). Built from offsets + residuals when the index is made or
  // loaded (the file keeps the compact offsets); entries past kInline read `resid`.
  struct alignas(16) BucketBlock {
    static constexpr uint32_t kInline = 12;
    uint32_t lo;
    uint8_t resid[kInline];
  };

  // Index file tags of the MIH sections (see index_file.cc).
  static constexpr uint32_t kTagGeometry = 0x100;
  static constexpr uint32_t kTagOffsets = 0x200;  // + table number
  static constexpr uint32_t kTagRows = 0x300;
  static constexpr uint32_t kTagResid = 0x400;

 protected:
  std::vector<Section> ExtraSections() const override;

 private:
  struct Probe {
    uint32_t table, bucket, slack, lo, hi;
  };
  // Entries [lo + kInline, hi) of a bucket: their residuals are in the table's resid array.
  struct Overflow {
    uint32_t table, slack, lo, hi;
  };
  struct ProbeScratch {
    std::vector<Probe> probes;
    std::vector<Overflow> overflow;
    std::vector<const uint32_t*> entries;  // positions in a table's rows array
    std::vector<uint32_t> candidates;      // rows to verify
  };
  bool ProbeIsCheaper(uint32_t radius, size_t batch) const;
  void ProbeOne(const uint8_t* query, uint32_t query_index, uint32_t radius, RowFilter filter,
                ProbeScratch* scratch, std::vector<IndexHit>* hits) const;

  struct MaskList {
    std::vector<std::vector<uint32_t>> by_weight;  // [w] = every top-bits mask of weight w
  };
  static constexpr size_t kMaxListedMasks = 1 << 16;

  std::vector<mih::TableGeom> geom_;
  std::vector<TableArrays> tables_;
  std::vector<MaskList> masks_;  // per table (copies are small)
  // Per table, 2^top_bits + 1 blocks (the last holds only lo = num_rows).
  std::vector<index_internal::HugeArray<BucketBlock>> blocks_;
  size_t table_bytes_ = 0;
  bool flat_fallback_ = true;
};

}  // namespace hashmatch

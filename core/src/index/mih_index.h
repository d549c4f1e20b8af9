// The multi-index-hashing StaticIndex (see static_index.h and docs/index.md).
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include "hashmatch/core/static_index.h"
#include "index/huge_array.h"
#include "index/mih_layout.h"

namespace hashmatch {

class MihIndex final : public StaticIndex {
 public:
  // A probe's first read: a bucket's start in `rows` and the residuals of its entries, 16 bytes
  // in one cache line, so that a probe costs one cache miss. A bucket's size is the next
  // block's lo minus its own. Buckets of at most kInline entries keep every residual inline;
  // longer ones (few: about eight rows a bucket) keep their first kInlineLong inline and, in the
  // last four bytes, the index in the table's overflow array of the residuals of the rest.
  struct alignas(16) BucketBlock {
    static constexpr uint32_t kInline = 12;
    static constexpr uint32_t kInlineLong = 8;
    uint32_t lo;
    uint8_t resid[kInline];
    uint32_t overflow_index() const {
      uint32_t v;
      std::memcpy(&v, resid + kInlineLong, 4);
      return v;
    }
  };
  static_assert(sizeof(BucketBlock) == 16);

  struct TableArrays {
    const BucketBlock* blocks = nullptr;  // 2^top_bits + 1 (the last holds only lo = num_rows)
    const uint32_t* rows = nullptr;       // num_rows entries, grouped by bucket
    const uint8_t* overflow = nullptr;    // residuals past the inline ones of long buckets
    size_t overflow_bytes = 0;
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

  // Index file tags of the MIH sections (see index_file.cc).
  static constexpr uint32_t kTagGeometry = 0x100;
  static constexpr uint32_t kTagRows = 0x300;  // + table number
  static constexpr uint32_t kTagBlocks = 0x500;
  static constexpr uint32_t kTagOverflow = 0x600;

  // Blocks and overflow residuals of one table from bucket offsets (2^top_bits + 1) and the
  // residual of every entry (null when the table has none).
  static void MakeBlocks(const uint32_t* offsets, const uint8_t* resid, size_t buckets,
                         index_internal::HugeArray<BucketBlock>* blocks,
                         index_internal::HugeArray<uint8_t>* overflow);

 protected:
  std::vector<Section> ExtraSections() const override;

 private:
  struct Probe {
    uint32_t table, bucket, slack, lo, hi;
  };
  // Entries [lo + kInline, hi) of a bucket: their residuals are in the table's resid array.
  struct Overflow {
    uint32_t table, slack;
    const uint32_t* rows;  // the entries
    const uint8_t* resid;  // their residuals
    uint32_t count;
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
  size_t table_bytes_ = 0;
  bool flat_fallback_ = true;
};

}  // namespace hashmatch

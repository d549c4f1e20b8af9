// StaticIndex: an immutable index over a fixed set of (code, id) pairs, and the builders of the two
// exact methods we implement:
//
//   flat  a SIMD brute-force scan (distance.h kernels). Best for small sets, large radii and big
//         batches; the oracle every other method is tested against.
//   mih   multi-index hashing (Norouzi, Punjani, Fleet 2014): the code is split into m substrings,
//         each indexed in a table of sorted buckets (CSR: one offset array plus packed 32-bit
//         rows). A code within distance d of the query has, by the pigeonhole principle, some
//         substring i within r_i of the query's for any radii with sum(r_i + 1) >= d + 1, so
//         probing every bucket within r_i in table i and verifying the candidates is exact.
//         docs/index.md explains the layout, the cost model that picks m, and the measurements.
//
// Rows are stored in ascending id order, so an id's row is found by binary search and no hash
// map is needed; LiveIndex (live_index.h) uses row numbers for its tombstones.
//
// A StaticIndex may own its arrays or map them from an index file (Save/LoadStaticIndex): loading
// validates the header and checksums and never re-runs the build.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hashmatch/core/index.h"

namespace hashmatch {

// Rows to skip during a search (LiveIndex's tombstones): a bitmap split into pages of
// kRowFilterPageBits bits, so that a new version shares every page it did not change. A null page
// (or a null filter) has no deleted rows.
inline constexpr size_t kRowFilterPageShift = 16;
inline constexpr size_t kRowFilterPageBits = size_t(1) << kRowFilterPageShift;
struct RowFilter {
  const uint64_t* const* pages = nullptr;
  size_t num_pages = 0;
  bool dead(uint64_t row) const {
    const size_t p = size_t(row >> kRowFilterPageShift);
    if (p >= num_pages || pages[p] == nullptr) return false;
    const size_t bit = size_t(row & (kRowFilterPageBits - 1));
    return (pages[p][bit >> 6] >> (bit & 63)) & 1u;
  }
};

class StaticIndex : public HammingIndex {
 public:
  size_t code_bytes() const override { return code_bytes_; }
  size_t size() const override { return num_rows_; }
  bool exact() const override { return true; }

  Status RangeSearch(CodeView queries, const RangeSearchOptions& options,
                     RangeSearchResult* out) const override;
  Status Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const override;

  // The stored codes and ids, rows in ascending id order.
  CodeView codes() const { return {codes_, num_rows_, code_bytes_}; }
  std::span<const uint64_t> ids() const { return {ids_, num_rows_}; }
  std::optional<uint64_t> RowOf(uint64_t id) const;

  // Writes the index (arrays and their checksums) to `path` atomically: a temporary file in the
  // same directory, fsynced, then renamed over `path`.
  Status Save(const std::filesystem::path& path) const;

  // --- Search hooks, used by RangeSearch/Knn above and by LiveIndex -------------------------
  // Appends every (query, id, distance) with distance <= radius for queries [q0, q1) of
  // `queries`, skipping filtered rows. `IndexHit::query` is the position in `queries`. Hits are
  // unsorted and may repeat (the caller sorts and removes duplicates).
  virtual void CollectHits(CodeView queries, size_t q0, size_t q1, uint32_t radius,
                           RowFilter filter, std::vector<IndexHit>* hits) const = 0;
  // The k nearest unfiltered rows of one query, sorted by (distance, id), ids in Neighbor::row.
  virtual void KnnOne(const uint8_t* query, size_t k, RowFilter filter,
                      std::vector<Neighbor>* out) const;

  // Identifies the method in index files.
  enum class Kind : uint32_t { kFlat = 1, kMih = 2 };
  virtual Kind kind() const = 0;

 protected:
  StaticIndex() = default;
  // Points the base at its arrays; `keeper` owns them (vectors or a file mapping).
  void SetArrays(std::shared_ptr<const void> keeper, size_t code_bytes, size_t num_rows,
                 const uint8_t* codes, const uint64_t* ids);
  // The flat scan over all rows, shared by FlatIndex and MIH's fallback.
  void FlatCollect(CodeView queries, size_t q0, size_t q1, uint32_t radius, RowFilter filter,
                   std::vector<IndexHit>* hits) const;
  size_t BaseMemoryBytes() const { return num_rows_ * (code_bytes_ + sizeof(uint64_t)); }

  // Extra sections of the index file (the method's tables); see index_file.cc.
  struct Section {
    uint32_t tag;
    const void* data;
    uint64_t bytes;
  };
  virtual std::vector<Section> ExtraSections() const { return {}; }

  std::shared_ptr<const void> keeper_;
  size_t code_bytes_ = 0;
  size_t num_rows_ = 0;
  const uint8_t* codes_ = nullptr;
  const uint64_t* ids_ = nullptr;

  friend class IndexFileWriter;
};

// Flat index over copies of `codes`, with ids[i] the id of codes[i]. Ids must be unique.
Result<std::shared_ptr<const StaticIndex>> BuildFlatIndex(CodeView codes,
                                                          std::span<const uint64_t> ids);

struct MihOptions {
  // Number of substrings; 0 lets the cost model choose from the set size, code size and
  // `expected_radius`.
  int num_tables = 0;
  uint32_t expected_radius = 31;
  // Threads for the build (one table per task); 0 = the TBB pool, 1 = the calling thread.
  int max_threads = 0;
  // Scan instead of probing when the cost model says a scan is cheaper (large radii, small
  // sets). Tests and benchmarks turn it off to exercise the probing path on its own.
  bool flat_fallback = true;
};

// The parameters the cost model picks, exposed for benchmarks and docs.
struct MihPlan {
  int num_tables = 0;
  double est_query_ns = 0;  // the model's estimate at the expected radius
  double est_flat_ns = 0;   // the flat scan's, for comparison
};
MihPlan PlanMih(size_t num_codes, size_t code_bytes, uint32_t expected_radius);

Result<std::shared_ptr<const StaticIndex>> BuildMihIndex(CodeView codes,
                                                         std::span<const uint64_t> ids,
                                                         const MihOptions& options = {});

struct LoadOptions {
  // Check the CRC-32C of every array (reads the whole file once). Off: header and table shapes
  // are still validated, so a corrupt file is refused rather than crashing a search, but flipped
  // bits inside codes would go unnoticed.
  bool verify_checksums = true;
};

// Maps an index file written by Save. The file must not be modified while the index lives.
Result<std::shared_ptr<const StaticIndex>> LoadStaticIndex(const std::filesystem::path& path,
                                                           const LoadOptions& options = {});

}  // namespace hashmatch

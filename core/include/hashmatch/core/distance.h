// Batch distance kernels over arrays of fixed-size codes: the flat-scan primitive that every index
// uses to verify candidates.
//
// The metric is an explicit part of the interface. Today there is one, Hamming distance over bit
// codes whose size is a multiple of 8 bytes (Hash64, Hash256); a metric over byte vectors (L2, as
// PhotoDNA-like signals need) would be a second value of `Metric` with its own kernel table.
//
// Each kernel exists for several instruction-set paths (scalar, x86-64-v2 POPCNT, AVX2, AVX-512
// VPOPCNTDQ), compiled into one binary and chosen at run time from the CPU. All paths return
// identical results; tests force every path the CPU supports and compare it with a bit-by-bit
// reference. The environment variable HASHMATCH_KERNEL=scalar|popcnt|avx2|avx512 forces the path
// used by DistanceKernels::Default() (an unsupported choice is reported on stderr and ignored).
//
// Thread safety: a DistanceKernels object is immutable; any number of threads may use one.
// Kernels are single-threaded: parallelism belongs to the caller (indexes split batches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "hashmatch/core/status.h"

namespace hashmatch {

enum class Metric : uint8_t {
  kHamming = 0,  // number of differing bits
};

enum class KernelPath : uint8_t {
  kScalar = 0,  // portable x86-64 (SWAR popcount); the reference the others are tested against
  kPopcnt,      // x86-64-v2: the POPCNT instruction on 64-bit words
  kAvx2,        // AVX2 nibble-table popcount, several codes per register
  kAvx512,      // AVX-512 F/BW/VL + VPOPCNTDQ
};
inline constexpr KernelPath kAllKernelPaths[] = {KernelPath::kScalar, KernelPath::kPopcnt,
                                                 KernelPath::kAvx2, KernelPath::kAvx512};

std::string_view KernelPathName(KernelPath path);
std::optional<KernelPath> KernelPathFromName(std::string_view name);
// True when this binary contains the path and the CPU (and OS) can run it.
bool KernelPathSupported(KernelPath path);
// The fastest supported path (the last supported one in kAllKernelPaths).
KernelPath BestKernelPath();

// A read-only array of `count` codes of `code_bytes` each, stored back to back.
struct CodeView {
  const uint8_t* data = nullptr;
  size_t count = 0;
  size_t code_bytes = 0;

  const uint8_t* code(size_t i) const { return data + i * code_bytes; }
};

// One (query, row) pair within the radius. `row` is the code's position in the searched view
// plus the caller's row_base.
struct RangeHit {
  uint32_t query;
  uint32_t distance;
  uint64_t row;

  friend bool operator==(const RangeHit&, const RangeHit&) = default;
};

struct Neighbor {
  uint64_t row;
  uint32_t distance;

  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

// Result of Knn: for query q, neighbors[q * k .. q * k + count[q]) sorted by (distance, row).
struct KnnResult {
  size_t k = 0;
  std::vector<Neighbor> neighbors;
  std::vector<uint32_t> count;

  std::span<const Neighbor> of(size_t q) const { return {neighbors.data() + q * k, count[q]}; }
};

// Codes must have the same size, a multiple of 8 bytes, at most kMaxCodeBytes.
inline constexpr size_t kMaxCodeBytes = 1024;

class DistanceKernels {
 public:
  // The kernels of one path. kUnsupported when the CPU or this build lacks the path.
  static Result<DistanceKernels> ForPath(KernelPath path, Metric metric = Metric::kHamming);
  // The process-wide default: BestKernelPath(), unless HASHMATCH_KERNEL names another.
  static const DistanceKernels& Default();

  KernelPath path() const { return path_; }
  Metric metric() const { return metric_; }

  // Distance between two codes of `code_bytes` bytes. Precondition: a valid code size.
  uint32_t Distance(const uint8_t* a, const uint8_t* b, size_t code_bytes) const;

  // out[i] = distance(query, codes[i]) for every code. `out` must hold codes.count values.
  Status Distances(const uint8_t* query, CodeView codes, std::span<uint16_t> out) const;

  // Appends to *hits every (q, i) with distance(queries[q], codes[i]) <= radius (inclusive, the
  // PDQ convention; FAISS's range search is strict). Order of hits is unspecified. A radius at or
  // above the code's bit count matches every code. Nothing is appended on error.
  Status RangeSearch(CodeView queries, CodeView codes, uint32_t radius, std::vector<RangeHit>* hits,
                     uint64_t row_base = 0) const;

  // The k nearest codes of each query (ties broken by the smaller row), k >= 1.
  Status Knn(CodeView queries, CodeView codes, size_t k, KnnResult* out,
             uint64_t row_base = 0) const;

  struct Table;  // implementation detail

 private:
  DistanceKernels(KernelPath path, Metric metric, const Table* table)
      : path_(path), metric_(metric), table_(table) {}

  KernelPath path_;
  Metric metric_;
  const Table* table_;
};

}  // namespace hashmatch

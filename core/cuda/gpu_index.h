// GpuIndex: hashmatch's HammingIndex over the GPU matcher (scan_driver.h + hamming_cuda.cuh): an
// exact brute-force scan of every code, on the device, for any radius (64 or 96 included, which
// MIH cannot serve efficiently) and k-NN. Built only when CUDA is (top-level CMakeLists.txt).
//
// Contract: index.h's, proven against the flat index in tests/unit/gpu_index_test.cc (over the
// CPU backend everywhere, over CUDA where a GPU is visible). Differences from the CPU indexes:
// * A search holds the device (and the backend's buffers) for its duration: concurrent searches
//   on one GpuIndex are serialized, not parallel. max_threads is ignored.
// * A radius above the code's bits is treated as the code's bits (everything matches), as the
//   flat index does.
// LiveIndex uses GpuIndex as the mirror of its bases (LiveIndexOptions::gpu; EnableGpuMirrors()
// below installs the factory): the mirror's ids are the base's row numbers, and LiveIndex applies
// its delta and tombstones around it (core/src/index/gpu_route.h), so the updatable contract holds
// on the GPU route too. The daemon selects it with [index] gpu (docs/gpu.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "hashmatch/core/index.h"
#include "scan_driver.h"

namespace hashmatch {

struct GpuIndexOptions {
  // Device bytes for resident codes; 0: 70% of the free device memory. Larger sets stream.
  size_t device_code_budget_bytes = 0;
  // Bound on one scan pass's hit buffer (host and device).
  size_t buffer_bytes = size_t{256} << 20;
};

class GpuIndex final : public HammingIndex {
 public:
  // On the first CUDA device: 8- or 32-byte codes, ids unique. Unavailable when no GPU is visible.
  static Result<std::shared_ptr<const GpuIndex>> Build(CodeView codes,
                                                       std::span<const uint64_t> ids,
                                                       const GpuIndexOptions& options = {});
  // The same index over the CPU implementation of the scan primitives, in chunks of
  // `chunk_rows` codes: for tests, and the reference where no GPU is present.
  static Result<std::shared_ptr<const GpuIndex>> BuildOnCpu(CodeView codes,
                                                            std::span<const uint64_t> ids,
                                                            size_t chunk_rows,
                                                            const GpuIndexOptions& options = {});

  size_t code_bytes() const override { return code_bytes_; }
  size_t size() const override { return ids_.size(); }
  bool exact() const override { return true; }
  IndexStats Stats() const override;
  Status RangeSearch(CodeView queries, const RangeSearchOptions& options,
                     RangeSearchResult* out) const override;
  Status Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const override;

 private:
  GpuIndex() = default;
  static Status Prepare(CodeView codes, std::span<const uint64_t> ids, GpuIndex* index);
  std::vector<uint64_t> QueryWords(CodeView queries) const;

  size_t code_bytes_ = 0;
  std::vector<uint64_t> codes_;  // row-major words; kept only for the CPU backend
  std::vector<uint64_t> ids_;
  gpu::DriverOptions driver_;
  const char* method_ = "";
  mutable std::mutex mu_;  // the backend's buffers and staged chunk are single-user
  std::unique_ptr<gpu::ScanBackend> backend_;
};

// Installs GpuIndex as LiveIndex's GPU mirror factory (gpu_mirror.h), so that
// LiveIndexOptions::gpu takes effect in this program: the CUDA backend, or the CPU backend when
// the options say force_cpu_backend (tests). Idempotent, thread-safe.
void EnableGpuMirrors();

}  // namespace hashmatch

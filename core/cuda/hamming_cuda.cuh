// CUDA scan backend for the GPU matcher: the code set resident on the device (or streamed through
// it in chunks when it does not fit), scanned by the Collect and Histogram kernels that
// scan_driver.h's host logic drives. This header has no CUDA types, so plain C++ includes it.
//
// Kernel layout (hamming_cuda.cu): codes are stored word-major per chunk (word w of every code
// contiguous), so thread i's loads of code i coalesce; a block takes a tile of 32 queries (held
// in shared memory and broadcast) and strides over the chunk's codes; each code is XORed with
// every query of the tile and popcounted (__popcll). Hits are compacted with one atomicAdd per
// warp and query (ballot + prefix popcount) into the query's bounded buffer; the per-query
// counter keeps counting past the buffer so the host knows exactly what overflowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "scan_driver.h"

namespace hashmatch::gpu {

struct DeviceInfo {
  bool present = false;
  std::string name;
  int sm_count = 0;
  int cc_major = 0, cc_minor = 0;
  size_t total_bytes = 0, free_bytes = 0;
};

// present == false (and ok) when no CUDA device is visible; the reason goes to *why.
GpuStatus QueryDevice(DeviceInfo* info, std::string* why);

struct CudaBackendOptions {
  // Device bytes for resident codes; 0: 70% of the free memory. A set larger than this is
  // streamed: the host keeps it (word-major per chunk) and each search copies chunk by chunk.
  size_t code_budget_bytes = 0;
};

class CudaScanBackend final : public ScanBackend {
 public:
  // codes: n codes of `words` 64-bit words (1 or 4), row-major; copied.
  static GpuStatus Create(const uint64_t* codes, size_t n, size_t words,
                          const CudaBackendOptions& options, std::unique_ptr<CudaScanBackend>* out);
  ~CudaScanBackend() override;

  size_t words() const override;
  size_t size() const override;
  size_t num_chunks() const override;
  size_t chunk_begin(size_t c) const override;
  size_t chunk_size(size_t c) const override;
  GpuStatus Collect(size_t chunk, const uint64_t* queries, size_t nq, const uint32_t* radius,
                    const std::vector<uint64_t>& offsets, std::vector<uint32_t>* counts,
                    std::vector<RawHit>* out) override;
  GpuStatus Histogram(size_t chunk, const uint64_t* queries, size_t nq, const uint32_t* radius,
                      std::vector<uint32_t>* hist) override;

  bool streaming() const;
  // Time spent in scan kernels and bytes of codes they read, since the last ResetStats().
  double kernel_seconds() const;
  double code_bytes_read() const;
  double words_compared() const;
  void ResetStats();

 private:
  struct Impl;
  explicit CudaScanBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Device roofs, measured: bytes/s of a device-to-device copy kernel (read + write bytes counted),
// bytes/s of a read-only streaming kernel, and 64-bit XOR+popcount operations per second of a
// register-only kernel.
GpuStatus MeasureCopyBandwidth(size_t bytes, double* bytes_per_s);
GpuStatus MeasureReadBandwidth(size_t bytes, double* bytes_per_s);
GpuStatus MeasurePopcountPeak(double* words_per_s);

}  // namespace hashmatch::gpu

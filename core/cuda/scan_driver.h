// The host side of the GPU matcher, written against an abstract scan backend so that it runs
// (and is tested) without a GPU.
//
// A backend scans one chunk of the code set at a time with two primitives that map one-to-one
// onto the CUDA kernels in hamming_cuda.cu:
//   Collect   - every code of the chunk within radius[q] of query q is counted in counts[q]; the
//               first (in arbitrary, atomic-arrival order) capacity_q of them are written to the
//               query's slice of a bounded buffer as (row in chunk, distance). counts[q] keeps
//               counting past the capacity, so the host knows exactly what was dropped.
//   Histogram - hist[q][d] = number of codes of the chunk at distance d from query q, d <=
//   radius[q].
// CpuScanBackend implements both on the CPU with the same contract (including the arbitrary
// order), so the driver's logic below is proven against the brute-force oracle on any host.
//
// The driver implements hashmatch's index contract (core/include/hashmatch/core/index.h):
//   RangeSearch: inclusive radius; hits of a query sorted by (distance, id); with
//     max_hits_per_query > 0, only the nearest max_hits_per_query (ties broken by smaller id) are
//     kept and the query is flagged truncated. Exactness under the cap: when a query overflows its
//     buffer in a chunk, a Histogram pass finds the smallest distance t whose cumulative count
//     reaches the cap, and a second Collect at radius t with a buffer of exactly that size takes
//     every candidate (ties at t included). Across chunks, the nearest `cap` of the union of each
//     chunk's nearest `cap` are the global nearest `cap`.
//   Knn: per chunk, Histogram over all distances gives the k-th distance t_q; Collect at radius
//     t_q (buffer sized from the histogram) returns every candidate; the host keeps the k nearest
//     by (distance, id) across chunks.
// Buffers are bounded by DriverOptions::buffer_bytes (queries are processed in groups that fit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu_kernels.h"

namespace hashmatch::gpu {

// Errors as values: ok() or a message.
struct GpuStatus {
  std::string message;  // empty when ok
  bool ok() const { return message.empty(); }
  static GpuStatus Ok() { return {}; }
  static GpuStatus Error(std::string m) { return {std::move(m)}; }
};

struct RawHit {
  uint32_t row;  // row within the chunk
  uint32_t distance;
};

class ScanBackend {
 public:
  virtual ~ScanBackend() = default;
  virtual size_t words() const = 0;  // 64-bit words per code
  virtual size_t size() const = 0;   // codes in the set
  virtual size_t num_chunks() const = 0;
  virtual size_t chunk_begin(size_t c) const = 0;  // first row of chunk c in the whole set
  virtual size_t chunk_size(size_t c) const = 0;

  // queries: nq codes, row-major. radius: nq entries. offsets: nq + 1 entries; query q's buffer
  // is out[offsets[q], offsets[q + 1]). counts and out are resized by the callee.
  virtual GpuStatus Collect(size_t chunk, const uint64_t* queries, size_t nq,
                            const uint32_t* radius, const std::vector<uint64_t>& offsets,
                            std::vector<uint32_t>* counts, std::vector<RawHit>* out) = 0;
  // hist: nq * (64 * words() + 1) entries, resized by the callee; bins above radius[q] are 0.
  virtual GpuStatus Histogram(size_t chunk, const uint64_t* queries, size_t nq,
                              const uint32_t* radius, std::vector<uint32_t>* hist) = 0;
};

// A reported code, as hashmatch::IndexHit.
struct Hit {
  uint32_t query;
  uint32_t distance;
  uint64_t id;
};

// Hits grouped by query: query q's hits are hits[offsets[q], offsets[q + 1]).
struct GroupedHits {
  std::vector<size_t> offsets;
  std::vector<Hit> hits;
  std::vector<uint8_t> truncated;  // range search only; all 0 for k-NN
};

struct DriverOptions {
  // Upper bound on the hit buffer of one Collect call; queries are grouped to fit. A single
  // query whose candidates alone exceed it still gets a buffer of its size.
  size_t buffer_bytes = size_t{256} << 20;
  // First-pass buffer per query when there is no cap (or the cap is larger).
  size_t first_pass_hits = 256;
};

// ids: backend.size() entries, the id of each row. radius <= 64 * words.
GpuStatus RangeSearch(ScanBackend& backend, const uint64_t* ids, const uint64_t* queries, size_t nq,
                      uint32_t radius, size_t max_hits_per_query, const DriverOptions& options,
                      GroupedHits* out);
GpuStatus Knn(ScanBackend& backend, const uint64_t* ids, const uint64_t* queries, size_t nq,
              size_t k, const DriverOptions& options, GroupedHits* out);

// Field-wise equality (C++17: this header is also compiled by nvcc in C++17 mode).
bool operator==(const Hit& a, const Hit& b);
bool operator==(const GroupedHits& a, const GroupedHits& b);

// Brute-force oracles (scalar distances, full sort): the definition the driver must match.
GroupedHits OracleRange(const uint64_t* codes, const uint64_t* ids, size_t n, size_t words,
                        const uint64_t* queries, size_t nq, uint32_t radius, size_t cap);
GroupedHits OracleKnn(const uint64_t* codes, const uint64_t* ids, size_t n, size_t words,
                      const uint64_t* queries, size_t nq, size_t k);

// The CPU backend: row-major codes held by the caller, split into chunks of chunk_rows, scanned
// with `fn`. Collect's buffer order is shuffled with `seed` to model atomic arrival order.
class CpuScanBackend final : public ScanBackend {
 public:
  CpuScanBackend(const uint64_t* codes, size_t n, size_t words, size_t chunk_rows, DistanceFn fn,
                 uint64_t seed);
  size_t words() const override { return words_; }
  size_t size() const override { return n_; }
  size_t num_chunks() const override { return (n_ + chunk_rows_ - 1) / chunk_rows_; }
  size_t chunk_begin(size_t c) const override { return c * chunk_rows_; }
  size_t chunk_size(size_t c) const override;
  GpuStatus Collect(size_t chunk, const uint64_t* queries, size_t nq, const uint32_t* radius,
                    const std::vector<uint64_t>& offsets, std::vector<uint32_t>* counts,
                    std::vector<RawHit>* out) override;
  GpuStatus Histogram(size_t chunk, const uint64_t* queries, size_t nq, const uint32_t* radius,
                      std::vector<uint32_t>* hist) override;

 private:
  const uint64_t* codes_;
  size_t n_, words_, chunk_rows_;
  DistanceFn fn_;
  uint64_t seed_;
};

}  // namespace hashmatch::gpu

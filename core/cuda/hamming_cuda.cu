#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "hamming_cuda.cuh"

namespace hashmatch::gpu {
namespace {

constexpr int kThreads = 256;   // threads a block (a multiple of the warp)
constexpr int kQueryTile = 32;  // queries a block holds in shared memory
constexpr uint32_t kMaxGridY = 65535;

GpuStatus CudaError(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return GpuStatus::Ok();
  return GpuStatus::Error(std::string(what) + ": " + cudaGetErrorString(e));
}
#define HM_CUDA(call)                        \
  do {                                       \
    GpuStatus s_ = CudaError((call), #call); \
    if (!s_.ok()) return s_;                 \
  } while (0)

// Loads the block's query tile (and radii) into shared memory; returns the tile's size.
template <int W>
__device__ uint32_t LoadTile(const uint64_t* __restrict__ queries, uint32_t nq,
                             const uint32_t* __restrict__ radius, uint64_t (*sq)[W], uint32_t* sr) {
  const uint32_t q0 = blockIdx.y * kQueryTile;
  const uint32_t tq = min(static_cast<uint32_t>(kQueryTile), nq - q0);
  for (uint32_t t = threadIdx.x; t < tq * W; t += blockDim.x)
    sq[t / W][t % W] = queries[q0 * W + t];
  for (uint32_t t = threadIdx.x; t < tq; t += blockDim.x) sr[t] = radius[q0 + t];
  __syncthreads();
  return tq;
}

// codes: word-major (codes[w * n + i]). Every code within radius[q] of query q bumps counts[q];
// the first (offsets[q + 1] - offsets[q]) arrivals are written to out[offsets[q] ...].
template <int W>
__global__ void __launch_bounds__(kThreads)
    CollectKernel(const uint64_t* __restrict__ codes, uint32_t n,
                  const uint64_t* __restrict__ queries, uint32_t nq,
                  const uint32_t* __restrict__ radius, const uint64_t* __restrict__ offsets,
                  uint32_t* __restrict__ counts, RawHit* __restrict__ out) {
  __shared__ uint64_t sq[kQueryTile][W];
  __shared__ uint32_t sr[kQueryTile];
  const uint32_t tq = LoadTile<W>(queries, nq, radius, sq, sr);
  const uint32_t q0 = blockIdx.y * kQueryTile;
  const unsigned lane = threadIdx.x & 31u;
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  // `base` is warp-uniform, so every lane reaches the ballots below.
  for (uint64_t base = static_cast<uint64_t>(blockIdx.x) * blockDim.x; base < n; base += stride) {
    const uint64_t i = base + threadIdx.x;
    const bool valid = i < n;
    uint64_t c[W];
#pragma unroll
    for (int w = 0; w < W; ++w) c[w] = valid ? codes[static_cast<uint64_t>(w) * n + i] : 0;
    for (uint32_t qi = 0; qi < tq; ++qi) {
      uint32_t d = 0;
#pragma unroll
      for (int w = 0; w < W; ++w) d += __popcll(c[w] ^ sq[qi][w]);
      const bool hit = valid && d <= sr[qi];
      const unsigned mask = __ballot_sync(0xffffffffu, hit);
      if (mask == 0) continue;
      const int leader = __ffs(mask) - 1;
      uint32_t slot0 = 0;
      if (static_cast<int>(lane) == leader) slot0 = atomicAdd(&counts[q0 + qi], __popc(mask));
      slot0 = __shfl_sync(0xffffffffu, slot0, leader);
      if (hit) {
        const uint64_t slot = slot0 + __popc(mask & ((1u << lane) - 1u));
        const uint64_t begin = offsets[q0 + qi];
        if (slot < offsets[q0 + qi + 1] - begin)
          out[begin + slot] = RawHit{static_cast<uint32_t>(i), d};
      }
    }
  }
}

// hist[q * (64W + 1) + d] += codes at distance d <= radius[q]; per-block shared histograms.
template <int W>
__global__ void __launch_bounds__(kThreads)
    HistogramKernel(const uint64_t* __restrict__ codes, uint32_t n,
                    const uint64_t* __restrict__ queries, uint32_t nq,
                    const uint32_t* __restrict__ radius, uint32_t* __restrict__ hist) {
  constexpr int kBins = 64 * W + 1;
  __shared__ uint64_t sq[kQueryTile][W];
  __shared__ uint32_t sr[kQueryTile];
  __shared__ uint32_t sh[kQueryTile * kBins];
  for (int t = threadIdx.x; t < kQueryTile * kBins; t += blockDim.x) sh[t] = 0;
  const uint32_t tq = LoadTile<W>(queries, nq, radius, sq, sr);  // syncs
  const uint32_t q0 = blockIdx.y * kQueryTile;
  const unsigned lane = threadIdx.x & 31u;
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  // Warp-uniform loop (as in CollectKernel) so that the warp votes below see every lane.
  for (uint64_t base = static_cast<uint64_t>(blockIdx.x) * blockDim.x; base < n; base += stride) {
    const uint64_t i = base + threadIdx.x;
    const bool valid = i < n;
    uint64_t c[W];
#pragma unroll
    for (int w = 0; w < W; ++w) c[w] = valid ? codes[static_cast<uint64_t>(w) * n + i] : 0;
    for (uint32_t qi = 0; qi < tq; ++qi) {
      uint32_t d = 0;
#pragma unroll
      for (int w = 0; w < W; ++w) d += __popcll(c[w] ^ sq[qi][w]);
      const bool in = valid && d <= sr[qi];
      const unsigned active = __ballot_sync(0xffffffffu, in);
      if (in) {
        // Lanes with equal distances add once: random codes pile onto a few bins near bits/2,
        // and same-address shared atomics serialize.
        const unsigned peers = __match_any_sync(active, d);
        if (static_cast<int>(lane) == __ffs(peers) - 1)
          atomicAdd(&sh[qi * kBins + d], __popc(peers));
      }
    }
  }
  __syncthreads();
  for (uint32_t t = threadIdx.x; t < tq * kBins; t += blockDim.x)
    if (sh[t]) atomicAdd(&hist[static_cast<uint64_t>(q0) * kBins + t], sh[t]);
}

__global__ void CopyKernel(const uint4* __restrict__ src, uint4* __restrict__ dst, size_t n) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    dst[i] = src[i];
}

__global__ void ReadKernel(const uint4* __restrict__ src, size_t n, uint32_t* sink) {
  uint32_t acc = 0;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const uint4 v = src[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) atomicAdd(sink, 1u);  // keeps the loads alive
}

// Register-only XOR + popcount over 4-word codes, as the scan kernel does per (code, query).
__global__ void PopcountKernel(uint64_t seed, int iters, uint32_t* sink) {
  uint64_t c[4], q = seed ^ (blockIdx.x * 0x9e3779b97f4a7c15ull + threadIdx.x);
  for (int w = 0; w < 4; ++w) c[w] = q * (w + 3);
  uint32_t d = 0;
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int w = 0; w < 4; ++w) d += __popcll(c[w] ^ (q + it));
  }
  if (d == 0x7fffffffu) atomicAdd(sink, d);
}

template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t cap = 0;
  ~DeviceBuffer() { cudaFree(ptr); }
  GpuStatus Reserve(size_t n) {
    if (n <= cap) return GpuStatus::Ok();
    cudaFree(ptr);
    ptr = nullptr;
    cap = 0;
    HM_CUDA(cudaMalloc(&ptr, std::max<size_t>(n, 1) * sizeof(T)));
    cap = std::max<size_t>(n, 1);
    return GpuStatus::Ok();
  }
};

uint32_t GridX(size_t n, int sm_count, uint32_t grid_y) {
  const size_t need = (n + kThreads - 1) / kThreads;
  const size_t want = std::max<size_t>(1, static_cast<size_t>(sm_count) * 16 / grid_y);
  return static_cast<uint32_t>(std::max<size_t>(1, std::min(need, want)));
}

}  // namespace

struct CudaScanBackend::Impl {
  size_t n = 0, words = 0, chunk_rows = 0;
  int sm_count = 1;
  bool streaming = false;
  std::vector<uint64_t*> resident;          // per chunk, when resident
  std::vector<std::vector<uint64_t>> host;  // per chunk, word-major, when streaming
  uint64_t* staging = nullptr;              // one chunk, when streaming
  size_t staged = SIZE_MAX;                 // which chunk `staging` holds
  DeviceBuffer<uint64_t> d_queries, d_offsets;
  DeviceBuffer<uint32_t> d_radius, d_counts, d_hist;
  DeviceBuffer<RawHit> d_out;
  cudaEvent_t start = nullptr, stop = nullptr;
  double kernel_s = 0, bytes_read = 0, words_cmp = 0;

  ~Impl() {
    for (uint64_t* p : resident) cudaFree(p);
    cudaFree(staging);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
  }
  size_t chunk_size(size_t c) const { return std::min(chunk_rows, n - c * chunk_rows); }

  GpuStatus ChunkCodes(size_t c, const uint64_t** codes) {
    if (!streaming) {
      *codes = resident[c];
      return GpuStatus::Ok();
    }
    if (staged != c) {
      HM_CUDA(cudaMemcpy(staging, host[c].data(), host[c].size() * sizeof(uint64_t),
                         cudaMemcpyHostToDevice));
      staged = c;
    }
    *codes = staging;
    return GpuStatus::Ok();
  }

  GpuStatus Upload(const uint64_t* queries, size_t nq, const uint32_t* radius) {
    GpuStatus s = d_queries.Reserve(nq * words);
    if (s.ok()) s = d_radius.Reserve(nq);
    if (!s.ok()) return s;
    HM_CUDA(
        cudaMemcpy(d_queries.ptr, queries, nq * words * sizeof(uint64_t), cudaMemcpyHostToDevice));
    HM_CUDA(cudaMemcpy(d_radius.ptr, radius, nq * sizeof(uint32_t), cudaMemcpyHostToDevice));
    return GpuStatus::Ok();
  }

  // Launches kernel(grid) over the query tiles, at most kMaxGridY tiles a launch, timed.
  template <typename Launch>
  GpuStatus Run(size_t nq, size_t rows, Launch launch) {
    HM_CUDA(cudaEventRecord(start));
    for (size_t t0 = 0; t0 < nq; t0 += static_cast<size_t>(kMaxGridY) * kQueryTile) {
      const size_t sub = std::min(nq - t0, static_cast<size_t>(kMaxGridY) * kQueryTile);
      const uint32_t gy = static_cast<uint32_t>((sub + kQueryTile - 1) / kQueryTile);
      launch(t0, sub, dim3(GridX(rows, sm_count, gy), gy));
      HM_CUDA(cudaGetLastError());
    }
    HM_CUDA(cudaEventRecord(stop));
    HM_CUDA(cudaEventSynchronize(stop));
    float ms = 0;
    HM_CUDA(cudaEventElapsedTime(&ms, start, stop));
    kernel_s += ms / 1e3;
    const double tiles = static_cast<double>((nq + kQueryTile - 1) / kQueryTile);
    bytes_read += tiles * static_cast<double>(rows * words * sizeof(uint64_t));
    words_cmp += static_cast<double>(nq) * static_cast<double>(rows * words);
    return GpuStatus::Ok();
  }
};

CudaScanBackend::CudaScanBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaScanBackend::~CudaScanBackend() = default;
size_t CudaScanBackend::words() const {
  return impl_->words;
}
size_t CudaScanBackend::size() const {
  return impl_->n;
}
size_t CudaScanBackend::num_chunks() const {
  return (impl_->n + impl_->chunk_rows - 1) / impl_->chunk_rows;
}
size_t CudaScanBackend::chunk_begin(size_t c) const {
  return c * impl_->chunk_rows;
}
size_t CudaScanBackend::chunk_size(size_t c) const {
  return impl_->chunk_size(c);
}
bool CudaScanBackend::streaming() const {
  return impl_->streaming;
}
double CudaScanBackend::kernel_seconds() const {
  return impl_->kernel_s;
}
double CudaScanBackend::code_bytes_read() const {
  return impl_->bytes_read;
}
double CudaScanBackend::words_compared() const {
  return impl_->words_cmp;
}
void CudaScanBackend::ResetStats() {
  impl_->kernel_s = impl_->bytes_read = impl_->words_cmp = 0;
}

GpuStatus QueryDevice(DeviceInfo* info, std::string* why) {
  *info = {};
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    *why = e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device";
    cudaGetLastError();  // clear the sticky-free error state
    return GpuStatus::Ok();
  }
  cudaDeviceProp p{};
  HM_CUDA(cudaGetDeviceProperties(&p, 0));
  HM_CUDA(cudaMemGetInfo(&info->free_bytes, &info->total_bytes));
  info->present = true;
  info->name = p.name;
  info->sm_count = p.multiProcessorCount;
  info->cc_major = p.major;
  info->cc_minor = p.minor;
  return GpuStatus::Ok();
}

GpuStatus CudaScanBackend::Create(const uint64_t* codes, size_t n, size_t words,
                                  const CudaBackendOptions& options,
                                  std::unique_ptr<CudaScanBackend>* out) {
  out->reset();
  if (words != 1 && words != 4) return GpuStatus::Error("GPU backend: codes of 8 or 32 bytes only");
  if (n == 0) return GpuStatus::Error("GPU backend: empty code set");
  auto impl = std::make_unique<Impl>();
  impl->n = n;
  impl->words = words;
  DeviceInfo info;
  std::string why;
  GpuStatus s = QueryDevice(&info, &why);
  if (!s.ok()) return s;
  if (!info.present) return GpuStatus::Error("no GPU visible: " + why);
  impl->sm_count = info.sm_count;
  HM_CUDA(cudaEventCreate(&impl->start));
  HM_CUDA(cudaEventCreate(&impl->stop));
  const size_t code_bytes = words * sizeof(uint64_t);
  const size_t budget =
      options.code_budget_bytes ? options.code_budget_bytes : info.free_bytes / 10 * 7;
  // Row indices in hits are 32-bit: chunks stay below 2^31 rows.
  const size_t max_rows =
      std::min<size_t>(size_t{1} << 31, std::max<size_t>(1, budget / code_bytes));
  impl->streaming = n * code_bytes > budget;
  impl->chunk_rows = impl->streaming ? max_rows : std::min(n, max_rows);
  const size_t chunks = (n + impl->chunk_rows - 1) / impl->chunk_rows;
  std::vector<uint64_t> soa;
  for (size_t c = 0; c < chunks; ++c) {
    const size_t rows = impl->chunk_size(c);
    const uint64_t* src = codes + c * impl->chunk_rows * words;
    soa.assign(rows * words, 0);
    for (size_t i = 0; i < rows; ++i)
      for (size_t w = 0; w < words; ++w) soa[w * rows + i] = src[i * words + w];
    if (impl->streaming) {
      impl->host.push_back(soa);
    } else {
      uint64_t* d = nullptr;
      HM_CUDA(cudaMalloc(&d, soa.size() * sizeof(uint64_t)));
      impl->resident.push_back(d);
      HM_CUDA(cudaMemcpy(d, soa.data(), soa.size() * sizeof(uint64_t), cudaMemcpyHostToDevice));
    }
  }
  if (impl->streaming) HM_CUDA(cudaMalloc(&impl->staging, impl->chunk_rows * code_bytes));
  out->reset(new CudaScanBackend(std::move(impl)));
  return GpuStatus::Ok();
}

GpuStatus CudaScanBackend::Collect(size_t chunk, const uint64_t* queries, size_t nq,
                                   const uint32_t* radius, const std::vector<uint64_t>& offsets,
                                   std::vector<uint32_t>* counts, std::vector<RawHit>* out) {
  Impl& m = *impl_;
  counts->assign(nq, 0);
  out->assign(offsets[nq], RawHit{0, 0});
  if (nq == 0) return GpuStatus::Ok();
  const uint64_t* codes = nullptr;
  GpuStatus s = m.ChunkCodes(chunk, &codes);
  if (!s.ok()) return s;
  s = m.Upload(queries, nq, radius);
  if (!s.ok()) return s;
  s = m.d_offsets.Reserve(nq + 1);
  if (!s.ok()) return s;
  s = m.d_counts.Reserve(nq);
  if (!s.ok()) return s;
  s = m.d_out.Reserve(offsets[nq]);
  if (!s.ok()) return s;
  HM_CUDA(cudaMemcpy(m.d_offsets.ptr, offsets.data(), (nq + 1) * sizeof(uint64_t),
                     cudaMemcpyHostToDevice));
  HM_CUDA(cudaMemset(m.d_counts.ptr, 0, nq * sizeof(uint32_t)));
  const uint32_t rows = static_cast<uint32_t>(m.chunk_size(chunk));
  s = m.Run(nq, rows, [&](size_t t0, size_t sub, dim3 grid) {
    const uint32_t nsub = static_cast<uint32_t>(sub);
    if (m.words == 4)
      CollectKernel<4><<<grid, kThreads>>>(codes, rows, m.d_queries.ptr + t0 * 4, nsub,
                                           m.d_radius.ptr + t0, m.d_offsets.ptr + t0,
                                           m.d_counts.ptr + t0, m.d_out.ptr);
    else
      CollectKernel<1><<<grid, kThreads>>>(codes, rows, m.d_queries.ptr + t0, nsub,
                                           m.d_radius.ptr + t0, m.d_offsets.ptr + t0,
                                           m.d_counts.ptr + t0, m.d_out.ptr);
  });
  if (!s.ok()) return s;
  HM_CUDA(
      cudaMemcpy(counts->data(), m.d_counts.ptr, nq * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  HM_CUDA(
      cudaMemcpy(out->data(), m.d_out.ptr, offsets[nq] * sizeof(RawHit), cudaMemcpyDeviceToHost));
  return GpuStatus::Ok();
}

GpuStatus CudaScanBackend::Histogram(size_t chunk, const uint64_t* queries, size_t nq,
                                     const uint32_t* radius, std::vector<uint32_t>* hist) {
  Impl& m = *impl_;
  const size_t bins = 64 * m.words + 1;
  hist->assign(nq * bins, 0);
  if (nq == 0) return GpuStatus::Ok();
  const uint64_t* codes = nullptr;
  GpuStatus s = m.ChunkCodes(chunk, &codes);
  if (!s.ok()) return s;
  s = m.Upload(queries, nq, radius);
  if (!s.ok()) return s;
  s = m.d_hist.Reserve(nq * bins);
  if (!s.ok()) return s;
  HM_CUDA(cudaMemset(m.d_hist.ptr, 0, nq * bins * sizeof(uint32_t)));
  const uint32_t rows = static_cast<uint32_t>(m.chunk_size(chunk));
  s = m.Run(nq, rows, [&](size_t t0, size_t sub, dim3 grid) {
    const uint32_t nsub = static_cast<uint32_t>(sub);
    if (m.words == 4)
      HistogramKernel<4><<<grid, kThreads>>>(codes, rows, m.d_queries.ptr + t0 * 4, nsub,
                                             m.d_radius.ptr + t0, m.d_hist.ptr + t0 * bins);
    else
      HistogramKernel<1><<<grid, kThreads>>>(codes, rows, m.d_queries.ptr + t0, nsub,
                                             m.d_radius.ptr + t0, m.d_hist.ptr + t0 * bins);
  });
  if (!s.ok()) return s;
  HM_CUDA(
      cudaMemcpy(hist->data(), m.d_hist.ptr, nq * bins * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  return GpuStatus::Ok();
}

namespace {

template <typename Launch>
GpuStatus TimeKernel(Launch launch, int reps, double* seconds) {
  cudaEvent_t a, b;
  HM_CUDA(cudaEventCreate(&a));
  HM_CUDA(cudaEventCreate(&b));
  launch();  // warm-up
  HM_CUDA(cudaGetLastError());
  HM_CUDA(cudaEventRecord(a));
  for (int r = 0; r < reps; ++r) launch();
  HM_CUDA(cudaEventRecord(b));
  HM_CUDA(cudaEventSynchronize(b));
  HM_CUDA(cudaGetLastError());
  float ms = 0;
  HM_CUDA(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  *seconds = ms / 1e3 / reps;
  return GpuStatus::Ok();
}

int SmCount() {
  int sm = 1;
  cudaDeviceGetAttribute(&sm, cudaDevAttrMultiProcessorCount, 0);
  return sm;
}

}  // namespace

GpuStatus MeasureCopyBandwidth(size_t bytes, double* bytes_per_s) {
  DeviceBuffer<uint4> a, b;
  const size_t n = bytes / sizeof(uint4);
  GpuStatus s = a.Reserve(n);
  if (s.ok()) s = b.Reserve(n);
  if (!s.ok()) return s;
  HM_CUDA(cudaMemset(a.ptr, 1, n * sizeof(uint4)));
  double sec = 0;
  const int blocks = SmCount() * 8;
  s = TimeKernel([&] { CopyKernel<<<blocks, 512>>>(a.ptr, b.ptr, n); }, 10, &sec);
  if (!s.ok()) return s;
  *bytes_per_s = 2.0 * static_cast<double>(n * sizeof(uint4)) / sec;
  return GpuStatus::Ok();
}

GpuStatus MeasureReadBandwidth(size_t bytes, double* bytes_per_s) {
  DeviceBuffer<uint4> a;
  DeviceBuffer<uint32_t> sink;
  const size_t n = bytes / sizeof(uint4);
  GpuStatus s = a.Reserve(n);
  if (s.ok()) s = sink.Reserve(1);
  if (!s.ok()) return s;
  HM_CUDA(cudaMemset(a.ptr, 1, n * sizeof(uint4)));
  double sec = 0;
  const int blocks = SmCount() * 8;
  s = TimeKernel([&] { ReadKernel<<<blocks, 512>>>(a.ptr, n, sink.ptr); }, 10, &sec);
  if (!s.ok()) return s;
  *bytes_per_s = static_cast<double>(n * sizeof(uint4)) / sec;
  return GpuStatus::Ok();
}

GpuStatus MeasurePopcountPeak(double* words_per_s) {
  DeviceBuffer<uint32_t> sink;
  GpuStatus s = sink.Reserve(1);
  if (!s.ok()) return s;
  const int blocks = SmCount() * 16, threads = 256, iters = 1 << 14;
  double sec = 0;
  s = TimeKernel([&] { PopcountKernel<<<blocks, threads>>>(12345, iters, sink.ptr); }, 5, &sec);
  if (!s.ok()) return s;
  *words_per_s = static_cast<double>(blocks) * threads * iters * 4 / sec;
  return GpuStatus::Ok();
}

}  // namespace hashmatch::gpu

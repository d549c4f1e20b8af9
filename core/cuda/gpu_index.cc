#include "gpu_index.h"

#include <algorithm>
#include <cstring>

#include "hamming_cuda.cuh"
#include "hashmatch/core/gpu_mirror.h"

namespace hashmatch {

Status GpuIndex::Prepare(CodeView codes, std::span<const uint64_t> ids, GpuIndex* index) {
  if (codes.code_bytes == 0 || codes.code_bytes % 8 != 0 || codes.code_bytes > kMaxCodeBytes)
    return Status::InvalidArgument("code size must be a positive multiple of 8 bytes, at most " +
                                   std::to_string(kMaxCodeBytes));
  if (codes.count != ids.size()) return Status::InvalidArgument("codes and ids differ in count");
  if (codes.count > 0 && codes.data == nullptr)
    return Status::InvalidArgument("code set has no data");
  std::vector<uint64_t> sorted(ids.begin(), ids.end());
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return Status::InvalidArgument("ids are not unique");
  index->code_bytes_ = codes.code_bytes;
  index->ids_.assign(ids.begin(), ids.end());
  index->codes_.resize(codes.count * codes.code_bytes / 8);
  if (codes.count > 0)
    std::memcpy(index->codes_.data(), codes.data, codes.count * codes.code_bytes);
  return Status::Ok();
}

Result<std::shared_ptr<const GpuIndex>> GpuIndex::Build(CodeView codes,
                                                        std::span<const uint64_t> ids,
                                                        const GpuIndexOptions& options) {
  std::shared_ptr<GpuIndex> index(new GpuIndex());
  if (Status s = Prepare(codes, ids, index.get()); !s.ok()) return s;
  if (codes.code_bytes != 8 && codes.code_bytes != 32)
    return Status::Unsupported("the GPU index holds 8- or 32-byte codes");
  if (codes.count == 0) return Status::InvalidArgument("the GPU index needs at least one code");
  gpu::DeviceInfo info;
  std::string why;
  if (gpu::GpuStatus g = gpu::QueryDevice(&info, &why); !g.ok()) return Status::Internal(g.message);
  if (!info.present) return Status(StatusCode::kUnavailable, "no GPU visible: " + why);
  gpu::CudaBackendOptions bo;
  bo.code_budget_bytes = options.device_code_budget_bytes;
  std::unique_ptr<gpu::CudaScanBackend> be;
  if (gpu::GpuStatus g = gpu::CudaScanBackend::Create(index->codes_.data(), codes.count,
                                                      codes.code_bytes / 8, bo, &be);
      !g.ok())
    return Status::Internal("GPU index: " + g.message);
  index->codes_.clear();  // the device (or the backend's streamed copy) holds them now
  index->codes_.shrink_to_fit();
  index->backend_ = std::move(be);
  index->driver_.buffer_bytes = options.buffer_bytes;
  index->method_ = "gpu-flat(cuda)";
  return std::shared_ptr<const GpuIndex>(std::move(index));
}

Result<std::shared_ptr<const GpuIndex>> GpuIndex::BuildOnCpu(CodeView codes,
                                                             std::span<const uint64_t> ids,
                                                             size_t chunk_rows,
                                                             const GpuIndexOptions& options) {
  std::shared_ptr<GpuIndex> index(new GpuIndex());
  if (Status s = Prepare(codes, ids, index.get()); !s.ok()) return s;
  index->backend_ = std::make_unique<gpu::CpuScanBackend>(
      index->codes_.data(), codes.count, codes.code_bytes / 8, chunk_rows, gpu::BestDistanceFn(),
      /*seed=*/0x5eed);
  index->driver_.buffer_bytes = options.buffer_bytes;
  index->method_ = "gpu-flat(cpu-backend)";
  return std::shared_ptr<const GpuIndex>(std::move(index));
}

IndexStats GpuIndex::Stats() const {
  IndexStats s;
  s.method = method_;
  s.size = ids_.size();
  // Host-resident bytes: ids, and the codes when the CPU backend scans them.
  s.memory_bytes = ids_.size() * sizeof(uint64_t) + codes_.size() * sizeof(uint64_t);
  return s;
}

std::vector<uint64_t> GpuIndex::QueryWords(CodeView queries) const {
  // Distances do not depend on how bytes are grouped into words, as long as queries and codes
  // are grouped alike (both are copied bytewise into little-endian words).
  std::vector<uint64_t> w(queries.count * code_bytes_ / 8);
  if (queries.count > 0) std::memcpy(w.data(), queries.data, queries.count * code_bytes_);
  return w;
}

Status GpuIndex::RangeSearch(CodeView queries, const RangeSearchOptions& options,
                             RangeSearchResult* out) const {
  *out = {};
  if (Status s = ValidateQueries(*this, queries); !s.ok()) return s;
  const uint32_t bits = static_cast<uint32_t>(code_bytes_ * 8);
  const std::vector<uint64_t> q = QueryWords(queries);
  gpu::GroupedHits g;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gpu::GpuStatus s =
        gpu::RangeSearch(*backend_, ids_.data(), q.data(), queries.count,
                         std::min(options.radius, bits), options.max_hits_per_query, driver_, &g);
    if (!s.ok()) return Status::Internal("GPU range search: " + s.message);
  }
  out->offsets = std::move(g.offsets);
  if (out->offsets.empty()) out->offsets.push_back(0);
  out->truncated = std::move(g.truncated);
  out->hits.reserve(g.hits.size());
  for (const gpu::Hit& h : g.hits) out->hits.push_back({h.query, h.distance, h.id});
  return Status::Ok();
}

Status GpuIndex::Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const {
  *out = {};
  if (Status s = ValidateQueries(*this, queries); !s.ok()) return s;
  const std::vector<uint64_t> q = QueryWords(queries);
  gpu::GroupedHits g;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gpu::GpuStatus s =
        gpu::Knn(*backend_, ids_.data(), q.data(), queries.count, options.k, driver_, &g);
    if (!s.ok()) return Status::Internal("GPU k-NN: " + s.message);
  }
  out->k = options.k;
  out->neighbors.assign(queries.count * options.k, Neighbor{0, 0});
  out->count.assign(queries.count, 0);
  for (size_t qi = 0; qi < queries.count; ++qi) {
    const size_t n = g.offsets[qi + 1] - g.offsets[qi];
    out->count[qi] = static_cast<uint32_t>(n);
    for (size_t i = 0; i < n; ++i) {
      const gpu::Hit& h = g.hits[g.offsets[qi] + i];
      out->neighbors[qi * options.k + i] = Neighbor{h.id, h.distance};
    }
  }
  return Status::Ok();
}

namespace {

Status MirrorAvailable(const LiveIndexGpuOptions&) {
  gpu::DeviceInfo info;
  std::string why;
  if (gpu::GpuStatus g = gpu::QueryDevice(&info, &why); !g.ok()) return Status::Internal(g.message);
  if (!info.present) return Status(StatusCode::kUnavailable, "no GPU visible: " + why);
  return Status::Ok();
}

Result<std::shared_ptr<const HammingIndex>> BuildMirror(CodeView codes,
                                                        std::span<const uint64_t> ids,
                                                        const LiveIndexGpuOptions& o) {
  GpuIndexOptions go;
  go.device_code_budget_bytes = o.device_code_budget_bytes;
  go.buffer_bytes = o.buffer_bytes;
  auto built = o.force_cpu_backend
                   ? GpuIndex::BuildOnCpu(codes, ids, std::max<size_t>(1, o.cpu_chunk_rows), go)
                   : GpuIndex::Build(codes, ids, go);
  if (!built.ok()) return built.status();
  return std::shared_ptr<const HammingIndex>(std::move(built).value());
}

const GpuMirrorFactory kFactory{&MirrorAvailable, &BuildMirror, "cuda"};

}  // namespace

void EnableGpuMirrors() {
  SetGpuMirrorFactory(&kFactory);
}

}  // namespace hashmatch

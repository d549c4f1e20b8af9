#include "index/gpu_route.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>

#include "hashmatch/core/gpu_mirror.h"
#include "index/mih_index.h"
#include "index/mih_layout.h"

namespace hashmatch {

namespace {
std::atomic<const GpuMirrorFactory*> g_factory{nullptr};
}  // namespace

void SetGpuMirrorFactory(const GpuMirrorFactory* factory) {
  g_factory.store(factory, std::memory_order_release);
}

const GpuMirrorFactory* GetGpuMirrorFactory() {
  return g_factory.load(std::memory_order_acquire);
}

Result<LiveIndexGpuOptions::Mode> ParseGpuMode(std::string_view text) {
  using Mode = LiveIndexGpuOptions::Mode;
  if (text == "off") return Mode::kOff;
  if (text == "auto") return Mode::kAuto;
  if (text == "on") return Mode::kOn;
  return Status::InvalidArgument("gpu mode must be off, auto or on, got '" + std::string(text) +
                                 "'");
}

const char* GpuModeName(LiveIndexGpuOptions::Mode mode) {
  switch (mode) {
    case LiveIndexGpuOptions::Mode::kOff:
      return "off";
    case LiveIndexGpuOptions::Mode::kAuto:
      return "auto";
    case LiveIndexGpuOptions::Mode::kOn:
      return "on";
  }
  return "?";
}

namespace index_internal {

Result<std::shared_ptr<const HammingIndex>> MakeGpuMirror(const StaticIndex& base,
                                                          const LiveIndexGpuOptions& options) {
  using Mode = LiveIndexGpuOptions::Mode;
  if (options.mode == Mode::kOff) return std::shared_ptr<const HammingIndex>();
  const bool required = options.mode == Mode::kOn;
  // In mode auto every failure means "run on the CPU"; in mode on it is the caller's error.
  auto fail = [&](Status s) -> Result<std::shared_ptr<const HammingIndex>> {
    if (!required) return std::shared_ptr<const HammingIndex>();
    return Status(s.code(), "gpu mode 'on': " + s.message());
  };
  const GpuMirrorFactory* factory = GetGpuMirrorFactory();
  if (factory == nullptr || factory->build == nullptr) {
    return fail(Status::Unsupported(
        "no GPU matcher in this program (built without CUDA, or it did not call "
        "EnableGpuMirrors() from core/cuda/gpu_index.h)"));
  }
  if (!options.force_cpu_backend && factory->available != nullptr) {
    if (Status s = factory->available(options); !s.ok()) return fail(s);
  }
  const size_t n = base.size();
  if (n == 0) return std::shared_ptr<const HammingIndex>();  // nothing to mirror (yet)
  std::vector<uint64_t> rows(n);
  std::iota(rows.begin(), rows.end(), uint64_t{0});
  auto built = factory->build(base.codes(), rows, options);
  if (!built.ok()) return fail(built.status());
  return std::move(built).value();
}

bool PreferGpu(const StaticIndex& base, size_t num_queries, uint32_t radius,
               const LiveIndexGpuOptions& options) {
  if (num_queries == 0) return false;
  if (num_queries >= options.min_batch) return true;
  const size_t n = base.size(), cb = base.code_bytes();
  // Single-threaded estimates on both sides: the CPU side's threads are shared with every other
  // search, and the device is shared too (GpuIndex serializes its searches).
  double per_query = mih::EstimateFlatNs(n, cb, num_queries);
  if (const auto* mih = dynamic_cast<const MihIndex*>(&base)) {
    per_query = std::min(per_query, mih::EstimateProbeNs(n, mih->geometry(), radius));
  }
  const double cpu_ns = per_query * double(num_queries);
  const double tiles = double((num_queries + 31) / 32);  // a 32-query tile reads the codes once
  const double gpu_ns =
      options.overhead_ns + tiles * double(n * cb) / std::max(options.scan_bytes_per_ns, 1e-9);
  return cpu_ns > gpu_ns;
}

namespace {

// Copies the codes of `which` queries into `buf`, as a batch.
CodeView Gather(CodeView queries, const std::vector<uint32_t>& which, std::vector<uint8_t>* buf) {
  if (which.size() == queries.count) return queries;  // the first pass: every query, in order
  const size_t cb = queries.code_bytes;
  buf->resize(which.size() * cb);
  for (size_t j = 0; j < which.size(); ++j)
    std::memcpy(&(*buf)[j * cb], queries.code(which[j]), cb);
  return CodeView{buf->data(), which.size(), cb};
}

}  // namespace

Status GpuBaseRange(const HammingIndex& mirror, std::span<const uint64_t> base_ids, RowFilter dead,
                    size_t dead_count, CodeView queries, uint32_t radius, size_t cap,
                    int max_threads, std::vector<std::vector<IndexHit>>* per_query) {
  const size_t nq = queries.count, n = base_ids.size();
  per_query->assign(nq, {});
  std::vector<uint32_t> pending(nq);
  std::iota(pending.begin(), pending.end(), uint32_t{0});
  // Room for dead rows among a query's nearest: enough for the common case in one pass (few
  // tombstones, or hits far fewer than the cap), grown for the queries that fall short.
  size_t extra = cap == 0 ? 0 : std::min(dead_count, std::max<size_t>(cap + 1, 64));
  std::vector<uint8_t> buf;
  while (!pending.empty()) {
    RangeSearchOptions o;
    o.radius = radius;
    o.max_threads = max_threads;
    // A cap at or above the base's rows caps nothing (and cap + 1 + extra must not overflow).
    o.max_hits_per_query = (cap == 0 || cap >= n || cap + 1 + extra >= n) ? 0 : cap + 1 + extra;
    RangeSearchResult r;
    if (Status s = mirror.RangeSearch(Gather(queries, pending, &buf), o, &r); !s.ok()) return s;
    std::vector<uint32_t> again;
    for (size_t j = 0; j < pending.size(); ++j) {
      const uint32_t q = pending[j];
      std::vector<IndexHit>& out = (*per_query)[q];
      out.clear();
      for (const IndexHit& h : r.of(j)) {
        if (h.id >= n) return Status::Internal("GPU mirror returned row " + std::to_string(h.id));
        if (!dead.dead(h.id)) out.push_back(IndexHit{q, h.distance, base_ids[h.id]});
      }
      if (o.max_hits_per_query != 0 && r.truncated[j] && out.size() < cap + 1) again.push_back(q);
    }
    if (!again.empty() && extra >= dead_count) {
      // With extra = dead_count a truncated answer has >= cap + 1 live hits: cannot happen.
      return Status::Internal("GPU route: a query has fewer live hits than its tombstones allow");
    }
    extra = std::min(dead_count, extra * 4);
    pending = std::move(again);
  }
  return Status::Ok();
}

Status GpuBaseKnn(const HammingIndex& mirror, std::span<const uint64_t> base_ids, RowFilter dead,
                  size_t dead_count, CodeView queries, size_t k, int max_threads,
                  std::vector<std::vector<Neighbor>>* per_query) {
  const size_t nq = queries.count, n = base_ids.size();
  per_query->assign(nq, {});
  std::vector<uint32_t> pending(nq);
  std::iota(pending.begin(), pending.end(), uint32_t{0});
  size_t extra = std::min(dead_count, std::max<size_t>(k, 64));
  std::vector<uint8_t> buf;
  while (!pending.empty()) {
    KnnOptions o;
    o.k = std::min(n, k + extra);  // k + extra >= n: every row, so nothing can be missed
    o.max_threads = max_threads;
    KnnResult r;
    if (Status s = mirror.Knn(Gather(queries, pending, &buf), o, &r); !s.ok()) return s;
    std::vector<uint32_t> again;
    for (size_t j = 0; j < pending.size(); ++j) {
      const uint32_t q = pending[j];
      std::vector<Neighbor>& out = (*per_query)[q];
      out.clear();
      for (size_t i = 0; i < r.count[j] && out.size() < k; ++i) {
        const Neighbor& nb = r.neighbors[j * o.k + i];
        if (nb.row >= n)
          return Status::Internal("GPU mirror returned row " + std::to_string(nb.row));
        if (!dead.dead(nb.row)) out.push_back(Neighbor{base_ids[nb.row], nb.distance});
      }
      // The mirror's o.k nearest held fewer than k live rows, and there are rows beyond them.
      if (out.size() < k && r.count[j] == o.k && o.k < n) again.push_back(q);
    }
    if (!again.empty() && extra >= dead_count) {
      return Status::Internal("GPU route: a query has fewer live neighbours than expected");
    }
    extra = std::min(dead_count, extra * 4);
    pending = std::move(again);
  }
  return Status::Ok();
}

}  // namespace index_internal
}  // namespace hashmatch

#include "hashmatch/core/distance.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "kernels/kernel_table.h"

namespace hashmatch {
namespace kernels {

void EmitHit(std::vector<RangeHit>* hits, uint32_t q, uint64_t row, uint32_t d) {
  hits->push_back(RangeHit{q, d, row});
}

}  // namespace kernels

namespace {

bool CpuHas(KernelPath path) {
  __builtin_cpu_init();
  switch (path) {
    case KernelPath::kScalar:
      return true;
    case KernelPath::kPopcnt:
      return __builtin_cpu_supports("popcnt");
    case KernelPath::kAvx2:
      return __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("avx2");
    case KernelPath::kAvx512:
      // GCC's checks include the OS's XSAVE support for the ZMM and opmask state.
      return __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq");
  }
  return false;
}

const DistanceKernels::Table* TableFor(KernelPath path) {
  switch (path) {
    case KernelPath::kScalar:
      return &kernels::ScalarTable();
    case KernelPath::kPopcnt:
      return &kernels::PopcntTable();
    case KernelPath::kAvx2:
      return kernels::Avx2Table();
    case KernelPath::kAvx512:
      return kernels::Avx512Table();
  }
  return nullptr;
}

Status CheckCodeBytes(size_t cb) {
  if (cb == 0 || cb % 8 != 0 || cb > kMaxCodeBytes) {
    return Status::InvalidArgument("code size must be a positive multiple of 8 bytes up to " +
                                   std::to_string(kMaxCodeBytes) + ", got " + std::to_string(cb));
  }
  return Status::Ok();
}

Status CheckView(const CodeView& v, const char* what) {
  if (Status s = CheckCodeBytes(v.code_bytes); !s.ok()) return s;
  if (v.count > 0 && v.data == nullptr) {
    return Status::InvalidArgument(std::string(what) + ": null data with a non-zero count");
  }
  return Status::Ok();
}

Status CheckPair(const CodeView& queries, const CodeView& codes) {
  if (Status s = CheckView(queries, "queries"); !s.ok()) return s;
  if (Status s = CheckView(codes, "codes"); !s.ok()) return s;
  if (queries.code_bytes != codes.code_bytes) {
    return Status::InvalidArgument("queries have " + std::to_string(queries.code_bytes) +
                                   "-byte codes but the searched codes have " +
                                   std::to_string(codes.code_bytes));
  }
  if (queries.count > std::numeric_limits<uint32_t>::max()) {
    return Status::OutOfRange("at most 2^32-1 queries per call");
  }
  return Status::Ok();
}

size_t BlockRows(size_t cb) {
  return std::max<size_t>(64, kernels::kBlockBytes / cb) & ~size_t(7);
}

}  // namespace

std::string_view KernelPathName(KernelPath path) {
  switch (path) {
    case KernelPath::kScalar:
      return "scalar";
    case KernelPath::kPopcnt:
      return "popcnt";
    case KernelPath::kAvx2:
      return "avx2";
    case KernelPath::kAvx512:
      return "avx512";
  }
  return "unknown";
}

std::optional<KernelPath> KernelPathFromName(std::string_view name) {
  for (KernelPath p : kAllKernelPaths) {
    if (KernelPathName(p) == name) return p;
  }
  return std::nullopt;
}

bool KernelPathSupported(KernelPath path) {
  return TableFor(path) != nullptr && CpuHas(path);
}

KernelPath BestKernelPath() {
  KernelPath best = KernelPath::kScalar;
  for (KernelPath p : kAllKernelPaths) {
    if (KernelPathSupported(p)) best = p;
  }
  return best;
}

Result<DistanceKernels> DistanceKernels::ForPath(KernelPath path, Metric metric) {
  if (metric != Metric::kHamming) return Status::Unsupported("unknown metric");
  if (!KernelPathSupported(path)) {
    return Status::Unsupported("kernel path '" + std::string(KernelPathName(path)) +
                               "' is not supported by this CPU or build");
  }
  return DistanceKernels(path, metric, TableFor(path));
}

const DistanceKernels& DistanceKernels::Default() {
  static const DistanceKernels kDefault = [] {
    KernelPath path = BestKernelPath();
    if (const char* env = std::getenv("HASHMATCH_KERNEL"); env != nullptr && *env != '\0') {
      std::optional<KernelPath> forced = KernelPathFromName(env);
      if (!forced) {
        std::fprintf(stderr, "hashmatch: HASHMATCH_KERNEL=%s is not a kernel path; using %s\n", env,
                     std::string(KernelPathName(path)).c_str());
      } else if (!KernelPathSupported(*forced)) {
        std::fprintf(stderr, "hashmatch: HASHMATCH_KERNEL=%s is not supported here; using %s\n",
                     env, std::string(KernelPathName(path)).c_str());
      } else {
        path = *forced;
      }
    }
    return DistanceKernels(path, Metric::kHamming, TableFor(path));
  }();
  return kDefault;
}

uint32_t DistanceKernels::Distance(const uint8_t* a, const uint8_t* b, size_t code_bytes) const {
  uint16_t d = 0;
  table_->distances(a, b, 1, code_bytes, &d);
  return d;
}

Status DistanceKernels::Distances(const uint8_t* query, CodeView codes,
                                  std::span<uint16_t> out) const {
  if (Status s = CheckView(codes, "codes"); !s.ok()) return s;
  if (query == nullptr) return Status::InvalidArgument("null query");
  if (out.size() < codes.count) {
    return Status::InvalidArgument("output holds " + std::to_string(out.size()) +
                                   " distances, need " + std::to_string(codes.count));
  }
  table_->distances(query, codes.data, codes.count, codes.code_bytes, out.data());
  return Status::Ok();
}

Status DistanceKernels::RangeSearch(CodeView queries, CodeView codes, uint32_t radius,
                                    std::vector<RangeHit>* hits, uint64_t row_base) const {
  if (Status s = CheckPair(queries, codes); !s.ok()) return s;
  if (hits == nullptr) return Status::InvalidArgument("null hit vector");
  const size_t cb = codes.code_bytes;
  radius = std::min<uint32_t>(radius, uint32_t(cb * 8));
  const size_t block = BlockRows(cb);
  const size_t tile = table_->tile_queries;
  for (size_t b0 = 0; b0 < codes.count; b0 += block) {
    const size_t nb = std::min(block, codes.count - b0);
    for (size_t q0 = 0; q0 < queries.count; q0 += tile) {
      table_->range_tile(queries.code(q0), std::min(tile, queries.count - q0), uint32_t(q0),
                         codes.code(b0), nb, cb, radius, row_base + b0, hits);
    }
  }
  return Status::Ok();
}

Status DistanceKernels::Knn(CodeView queries, CodeView codes, size_t k, KnnResult* out,
                            uint64_t row_base) const {
  if (Status s = CheckPair(queries, codes); !s.ok()) return s;
  if (out == nullptr) return Status::InvalidArgument("null result");
  if (k == 0) return Status::InvalidArgument("k must be at least 1");
  const size_t keep = std::min(k, codes.count);
  // Max-heaps on (distance, row): the worst kept neighbour on top. Rows arrive in increasing
  // order, so a later row replaces the top only with a strictly smaller distance.
  auto worse = [](const Neighbor& a, const Neighbor& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.row < b.row;
  };
  std::vector<std::vector<Neighbor>> heaps(queries.count);
  for (auto& h : heaps) h.reserve(keep);
  const size_t cb = codes.code_bytes;
  const size_t block = BlockRows(cb);
  std::vector<uint16_t> dist(block);
  for (size_t b0 = 0; b0 < codes.count; b0 += block) {
    const size_t nb = std::min(block, codes.count - b0);
    for (size_t q = 0; q < queries.count; ++q) {
      table_->distances(queries.code(q), codes.code(b0), nb, cb, dist.data());
      auto& h = heaps[q];
      for (size_t i = 0; i < nb; ++i) {
        if (h.size() < keep) {
          h.push_back(Neighbor{row_base + b0 + i, dist[i]});
          std::push_heap(h.begin(), h.end(), worse);
        } else if (dist[i] < h.front().distance) {
          std::pop_heap(h.begin(), h.end(), worse);
          h.back() = Neighbor{row_base + b0 + i, dist[i]};
          std::push_heap(h.begin(), h.end(), worse);
        }
      }
    }
  }
  out->k = k;
  out->neighbors.assign(queries.count * k, Neighbor{0, 0});
  out->count.assign(queries.count, 0);
  for (size_t q = 0; q < queries.count; ++q) {
    std::sort_heap(heaps[q].begin(), heaps[q].end(), worse);
    std::copy(heaps[q].begin(), heaps[q].end(), out->neighbors.begin() + q * k);
    out->count[q] = uint32_t(heaps[q].size());
  }
  return Status::Ok();
}

}  // namespace hashmatch

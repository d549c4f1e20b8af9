#include "index/mih_layout.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace hashmatch::mih {
namespace {

// Costs in nanoseconds, measured on the benchmark machine (docs/index.md): a bucket probe is a
// mostly-cache-missing offset lookup, an entry a sequential residual check, a candidate a random
// code fetch plus popcount, and the flat scan streams 32 bytes per code per query (less when a
// block of codes serves several queries from L1).
constexpr double kProbeNs = 6.0;
constexpr double kEntryNs = 0.6;
constexpr double kCandidateNs = 12.0;
constexpr double kFlatNsPer32Bytes = 1.4;
constexpr double kFlatBatchNsPer32Bytes = 0.5;

double CumBinom(uint32_t n, int r) {
  if (r < 0) return 0;
  double sum = 0, term = 1;  // C(n, 0)
  for (int w = 0; w <= r && uint32_t(w) <= n; ++w) {
    sum += term;
    term = term * double(n - uint32_t(w)) / double(w + 1);
  }
  return sum;
}

}  // namespace

std::vector<TableGeom> Geometry(size_t num_codes, size_t code_bits, int num_tables) {
  std::vector<TableGeom> g(static_cast<size_t>(num_tables));
  const uint32_t base = uint32_t(code_bits / size_t(num_tables));
  const uint32_t extra = uint32_t(code_bits % size_t(num_tables));
  // About eight codes per bucket: the offsets cost half a byte per code per table, which keeps
  // 100M codes under 100 bytes each; four or two per bucket measured no faster (docs/index.md).
  const int log2n = num_codes > 1 ? int(std::bit_width(num_codes - 1)) : 0;
  uint32_t start = 0;
  for (int i = 0; i < num_tables; ++i) {
    TableGeom& t = g[size_t(i)];
    t.start = start;
    t.bits = base + (uint32_t(i) < extra ? 1 : 0);
    t.top_bits = std::min({uint32_t(std::max(log2n - 3, 0)), t.bits, kMaxTopBits});
    t.resid_bits = std::min(t.bits - t.top_bits, kMaxResidBits);
    t.low_bits = t.bits - t.top_bits - t.resid_bits;
    start += t.bits;
  }
  return g;
}

std::vector<int> Radii(int num_tables, uint32_t radius) {
  const uint64_t total = uint64_t(radius) + 1;
  const int q = int(total / uint64_t(num_tables));
  const int rem = int(total % uint64_t(num_tables));
  std::vector<int> r(static_cast<size_t>(num_tables));
  for (int i = 0; i < num_tables; ++i) r[size_t(i)] = q - 1 + (i < rem ? 1 : 0);
  return r;
}

double EstimateProbeNs(size_t num_codes, const std::vector<TableGeom>& geom, uint32_t radius) {
  const std::vector<int> radii = Radii(int(geom.size()), radius);
  const double n = double(num_codes);
  double ns = 0;
  for (size_t i = 0; i < geom.size(); ++i) {
    const int r = radii[i];
    if (r < 0) continue;
    const TableGeom& t = geom[i];
    const double probes = CumBinom(t.top_bits, r);
    const double entries = probes * n / std::ldexp(1.0, int(t.top_bits));
    const uint32_t filtered = t.top_bits + t.resid_bits;
    const double candidates = n * CumBinom(filtered, r) / std::ldexp(1.0, int(filtered));
    ns += probes * kProbeNs + entries * kEntryNs + candidates * kCandidateNs;
  }
  return ns;
}

double EstimateFlatNs(size_t num_codes, size_t code_bytes, size_t batch_queries) {
  const double per = batch_queries >= 4 ? kFlatBatchNsPer32Bytes : kFlatNsPer32Bytes;
  return double(num_codes) * per * double(code_bytes) / 32.0;
}

int ChooseNumTables(size_t num_codes, size_t code_bytes, uint32_t expected_radius) {
  const size_t bits = code_bytes * 8;
  const int lo = std::max<int>(2, int((bits + kMaxSubstringBits - 1) / kMaxSubstringBits));
  // More tables cost 5 bytes per code each; past 16 the probe savings no longer pay for it.
  const int hi = std::max(lo, std::min<int>(16, int(bits / 8)));
  int best = lo;
  double best_ns = 0;
  for (int m = lo; m <= hi; ++m) {
    const double ns = EstimateProbeNs(num_codes, Geometry(num_codes, bits, m), expected_radius);
    if (m == lo || ns < best_ns * 0.97) {  // prefer fewer tables unless clearly faster
      best = m;
      best_ns = ns;
    }
  }
  return best;
}

}  // namespace hashmatch::mih

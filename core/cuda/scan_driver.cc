#include "scan_driver.h"

#include <algorithm>
#include <random>

namespace hashmatch::gpu {
namespace {

bool HitLess(const Hit& a, const Hit& b) {
  return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
}

// Keeps the `keep` nearest hits of v by (distance, id), sorted.
void SortAndTrim(std::vector<Hit>* v, size_t keep) {
  if (keep > 0 && v->size() > keep) {
    std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(keep - 1), v->end(),
                     HitLess);
    v->resize(keep);
  }
  std::sort(v->begin(), v->end(), HitLess);
}

GroupedHits Group(std::vector<std::vector<Hit>>& per_query, const std::vector<uint8_t>& trunc) {
  GroupedHits g;
  g.offsets.reserve(per_query.size() + 1);
  g.offsets.push_back(0);
  for (auto& v : per_query) {
    g.hits.insert(g.hits.end(), v.begin(), v.end());
    g.offsets.push_back(g.hits.size());
  }
  g.truncated = trunc;
  return g;
}

// One Collect over a subset of queries, split into groups whose buffers fit the budget. For each
// query, `sink(q, hits, count)` receives the buffer contents and the total count.
template <typename Sink>
GpuStatus CollectSubset(ScanBackend& be, size_t chunk, const uint64_t* queries,
                        const std::vector<uint32_t>& idx, const std::vector<uint32_t>& radius,
                        const std::vector<uint64_t>& capacity, size_t budget_bytes, Sink sink) {
  const size_t words = be.words();
  std::vector<uint64_t> gq, offsets;
  std::vector<uint32_t> gr, counts;
  std::vector<RawHit> buf;
  size_t i = 0;
  while (i < idx.size()) {
    size_t j = i, bytes = 0;
    // At least one query per group, then as many as fit.
    do {
      bytes += capacity[j] * sizeof(RawHit);
      ++j;
    } while (j < idx.size() && bytes + capacity[j] * sizeof(RawHit) <= budget_bytes);
    gq.clear();
    gr.clear();
    offsets.assign(1, 0);
    for (size_t t = i; t < j; ++t) {
      gq.insert(gq.end(), queries + idx[t] * words, queries + (idx[t] + 1) * words);
      gr.push_back(radius[t]);
      offsets.push_back(offsets.back() + capacity[t]);
    }
    GpuStatus s = be.Collect(chunk, gq.data(), j - i, gr.data(), offsets, &counts, &buf);
    if (!s.ok()) return s;
    for (size_t t = i; t < j; ++t) {
      const size_t got = std::min<uint64_t>(counts[t - i], capacity[t]);
      s = sink(t, idx[t], buf.data() + offsets[t - i], got, counts[t - i]);
      if (!s.ok()) return s;
    }
    i = j;
  }
  return GpuStatus::Ok();
}

// Smallest distance t <= max_d with cumulative count(<= t) >= need; max_d when never reached.
uint32_t ThresholdFromHistogram(const uint32_t* hist, uint32_t max_d, uint64_t need,
                                uint64_t* cumulative) {
  uint64_t cum = 0;
  for (uint32_t d = 0; d <= max_d; ++d) {
    cum += hist[d];
    if (cum >= need) {
      *cumulative = cum;
      return d;
    }
  }
  *cumulative = cum;
  return max_d;
}

}  // namespace

GpuStatus RangeSearch(ScanBackend& be, const uint64_t* ids, const uint64_t* queries, size_t nq,
                      uint32_t radius, size_t cap, const DriverOptions& opt, GroupedHits* out) {
  *out = {};
  const size_t words = be.words(), bits = 64 * words;
  if (radius > bits) return GpuStatus::Error("radius exceeds the code's bits");
  if (nq > UINT32_MAX) return GpuStatus::Error("too many queries in one batch");
  std::vector<std::vector<Hit>> acc(nq);
  std::vector<uint64_t> total(nq, 0);
  const size_t first =
      std::max<size_t>(1, cap ? std::min(cap, opt.first_pass_hits) : opt.first_pass_hits);
  std::vector<uint32_t> all(nq), radii(nq, radius);
  for (size_t q = 0; q < nq; ++q) all[q] = static_cast<uint32_t>(q);
  const std::vector<uint64_t> first_cap(nq, first);
  std::vector<uint32_t> hist;

  for (size_t c = 0; c < be.num_chunks(); ++c) {
    const uint64_t* chunk_ids = ids + be.chunk_begin(c);
    auto append = [&](uint32_t q, const RawHit* h, size_t n) {
      for (size_t i = 0; i < n; ++i) acc[q].push_back({q, h[i].distance, chunk_ids[h[i].row]});
      if (cap && acc[q].size() > cap) SortAndTrim(&acc[q], cap);
    };
    // Pass 1: every query with a small bounded buffer; note the ones that overflowed.
    std::vector<uint32_t> over;
    std::vector<uint64_t> over_count;
    GpuStatus s =
        CollectSubset(be, c, queries, all, radii, first_cap, opt.buffer_bytes,
                      [&](size_t, uint32_t q, const RawHit* h, size_t got, uint64_t count) {
                        total[q] += count;
                        if (count <= got) {
                          append(q, h, got);
                        } else {
                          over.push_back(q);
                          over_count.push_back(count);
                        }
                        return GpuStatus::Ok();
                      });
    if (!s.ok()) return s;
    if (over.empty()) continue;

    // Pass 2 for overflowed queries: the radius and buffer that take every candidate for the
    // nearest `cap` (all hits when uncapped or when they fit the cap).
    std::vector<uint32_t> r2(over.size(), radius);
    std::vector<uint64_t> size2(over_count);
    std::vector<uint32_t> need_hist;
    for (size_t i = 0; i < over.size(); ++i)
      if (cap && over_count[i] > cap) need_hist.push_back(static_cast<uint32_t>(i));
    for (size_t i = 0; i < need_hist.size();) {
      // Histogram memory is small (bits + 1 bins a query); group by the same budget anyway.
      const size_t per = (bits + 1) * sizeof(uint32_t);
      const size_t n = std::min(need_hist.size() - i, std::max<size_t>(1, opt.buffer_bytes / per));
      std::vector<uint64_t> gq;
      std::vector<uint32_t> gr(n, radius);
      for (size_t t = 0; t < n; ++t) {
        const uint32_t q = over[need_hist[i + t]];
        gq.insert(gq.end(), queries + q * words, queries + (q + 1) * words);
      }
      s = be.Histogram(c, gq.data(), n, gr.data(), &hist);
      if (!s.ok()) return s;
      for (size_t t = 0; t < n; ++t) {
        uint64_t cum = 0;
        const size_t o = need_hist[i + t];
        r2[o] = ThresholdFromHistogram(hist.data() + t * (bits + 1), radius, cap, &cum);
        size2[o] = cum;
      }
      i += n;
    }
    s = CollectSubset(be, c, queries, over, r2, size2, opt.buffer_bytes,
                      [&](size_t t, uint32_t q, const RawHit* h, size_t got, uint64_t count) {
                        if (count != size2[t] || got != count)
                          return GpuStatus::Error("backend: second pass count mismatch");
                        append(q, h, got);
                        return GpuStatus::Ok();
                      });
    if (!s.ok()) return s;
  }
  std::vector<uint8_t> trunc(nq, 0);
  for (size_t q = 0; q < nq; ++q) {
    SortAndTrim(&acc[q], cap);
    trunc[q] = cap && total[q] > cap;
  }
  *out = Group(acc, trunc);
  return GpuStatus::Ok();
}

GpuStatus Knn(ScanBackend& be, const uint64_t* ids, const uint64_t* queries, size_t nq, size_t k,
              const DriverOptions& opt, GroupedHits* out) {
  *out = {};
  const size_t words = be.words(), bits = 64 * words;
  if (nq > UINT32_MAX) return GpuStatus::Error("too many queries in one batch");
  std::vector<std::vector<Hit>> acc(nq);
  std::vector<uint32_t> hist;
  const size_t per = (bits + 1) * sizeof(uint32_t);
  const size_t hist_group = std::max<size_t>(1, opt.buffer_bytes / per);
  for (size_t c = 0; c < be.num_chunks() && k > 0; ++c) {
    const uint64_t* chunk_ids = ids + be.chunk_begin(c);
    std::vector<uint32_t> idx, r2;
    std::vector<uint64_t> size2;
    for (size_t q0 = 0; q0 < nq; q0 += hist_group) {
      const size_t n = std::min(hist_group, nq - q0);
      // Once a query holds k hits, only codes at most its k-th distance can enter.
      std::vector<uint32_t> r(n);
      for (size_t t = 0; t < n; ++t) {
        const auto& a = acc[q0 + t];
        r[t] = a.size() >= k ? a.back().distance : static_cast<uint32_t>(bits);
      }
      GpuStatus s = be.Histogram(c, queries + q0 * words, n, r.data(), &hist);
      if (!s.ok()) return s;
      for (size_t t = 0; t < n; ++t) {
        uint64_t cum = 0;
        const uint32_t th = ThresholdFromHistogram(hist.data() + t * (bits + 1), r[t], k, &cum);
        if (cum == 0) continue;
        idx.push_back(static_cast<uint32_t>(q0 + t));
        r2.push_back(th);
        size2.push_back(cum);
      }
    }
    GpuStatus s =
        CollectSubset(be, c, queries, idx, r2, size2, opt.buffer_bytes,
                      [&](size_t t, uint32_t q, const RawHit* h, size_t got, uint64_t count) {
                        if (count != size2[t] || got != count)
                          return GpuStatus::Error("backend: k-NN collect count mismatch");
                        for (size_t i = 0; i < got; ++i)
                          acc[q].push_back({q, h[i].distance, chunk_ids[h[i].row]});
                        SortAndTrim(&acc[q], k);
                        return GpuStatus::Ok();
                      });
    if (!s.ok()) return s;
  }
  *out = Group(acc, std::vector<uint8_t>(nq, 0));
  return GpuStatus::Ok();
}

bool operator==(const Hit& a, const Hit& b) {
  return a.query == b.query && a.distance == b.distance && a.id == b.id;
}
bool operator==(const GroupedHits& a, const GroupedHits& b) {
  return a.offsets == b.offsets && a.hits == b.hits && a.truncated == b.truncated;
}

GroupedHits OracleRange(const uint64_t* codes, const uint64_t* ids, size_t n, size_t words,
                        const uint64_t* queries, size_t nq, uint32_t radius, size_t cap) {
  std::vector<std::vector<Hit>> acc(nq);
  std::vector<uint8_t> trunc(nq, 0);
  std::vector<uint32_t> d(n);
  for (size_t q = 0; q < nq; ++q) {
    DistancesScalar(queries + q * words, codes, n, words, d.data());
    for (size_t i = 0; i < n; ++i)
      if (d[i] <= radius) acc[q].push_back({static_cast<uint32_t>(q), d[i], ids[i]});
    std::sort(acc[q].begin(), acc[q].end(), HitLess);
    if (cap && acc[q].size() > cap) {
      acc[q].resize(cap);
      trunc[q] = 1;
    }
  }
  return Group(acc, trunc);
}

GroupedHits OracleKnn(const uint64_t* codes, const uint64_t* ids, size_t n, size_t words,
                      const uint64_t* queries, size_t nq, size_t k) {
  std::vector<std::vector<Hit>> acc(nq);
  std::vector<uint32_t> d(n);
  for (size_t q = 0; q < nq; ++q) {
    DistancesScalar(queries + q * words, codes, n, words, d.data());
    for (size_t i = 0; i < n; ++i) acc[q].push_back({static_cast<uint32_t>(q), d[i], ids[i]});
    std::sort(acc[q].begin(), acc[q].end(), HitLess);
    if (acc[q].size() > k) acc[q].resize(k);
  }
  return Group(acc, std::vector<uint8_t>(nq, 0));
}

CpuScanBackend::CpuScanBackend(const uint64_t* codes, size_t n, size_t words, size_t chunk_rows,
                               DistanceFn fn, uint64_t seed)
    : codes_(codes),
      n_(n),
      words_(words),
      chunk_rows_(std::max<size_t>(1, chunk_rows)),
      fn_(fn),
      seed_(seed) {}

size_t CpuScanBackend::chunk_size(size_t c) const {
  return std::min(chunk_rows_, n_ - c * chunk_rows_);
}

GpuStatus CpuScanBackend::Collect(size_t chunk, const uint64_t* queries, size_t nq,
                                  const uint32_t* radius, const std::vector<uint64_t>& offsets,
                                  std::vector<uint32_t>* counts, std::vector<RawHit>* out) {
  const size_t n = chunk_size(chunk);
  const uint64_t* codes = codes_ + chunk_begin(chunk) * words_;
  counts->assign(nq, 0);
  out->assign(offsets[nq], RawHit{0, 0});
  std::vector<uint32_t> d(n);
  std::vector<RawHit> hits;
  for (size_t q = 0; q < nq; ++q) {
    fn_(queries + q * words_, codes, n, words_, d.data());
    hits.clear();
    for (size_t i = 0; i < n; ++i)
      if (d[i] <= radius[q]) hits.push_back({static_cast<uint32_t>(i), d[i]});
    // Atomic arrival order is arbitrary: shuffle, then keep what fits, as the kernel does.
    std::mt19937_64 rng(seed_ ^ (chunk * 0x9e3779b97f4a7c15ull) ^ (q * 0xbf58476d1ce4e5b9ull));
    std::shuffle(hits.begin(), hits.end(), rng);
    (*counts)[q] = static_cast<uint32_t>(hits.size());
    const size_t keep = std::min<size_t>(hits.size(), offsets[q + 1] - offsets[q]);
    std::copy(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(keep),
              out->begin() + static_cast<std::ptrdiff_t>(offsets[q]));
  }
  return GpuStatus::Ok();
}

GpuStatus CpuScanBackend::Histogram(size_t chunk, const uint64_t* queries, size_t nq,
                                    const uint32_t* radius, std::vector<uint32_t>* hist) {
  const size_t n = chunk_size(chunk), bins = 64 * words_ + 1;
  const uint64_t* codes = codes_ + chunk_begin(chunk) * words_;
  hist->assign(nq * bins, 0);
  std::vector<uint32_t> d(n);
  for (size_t q = 0; q < nq; ++q) {
    fn_(queries + q * words_, codes, n, words_, d.data());
    for (size_t i = 0; i < n; ++i)
      if (d[i] <= radius[q]) ++(*hist)[q * bins + d[i]];
  }
  return GpuStatus::Ok();
}

}  // namespace hashmatch::gpu

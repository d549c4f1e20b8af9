#include "index/mih_index.h"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>

#include "index/build_util.h"
#include "index/search_driver.h"

namespace hashmatch {
namespace {

constexpr std::array<uint8_t, 256> MakePopTable() {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[size_t(i)] = uint8_t(std::popcount(unsigned(i)));
  return t;
}
// The library is built for baseline x86-64 (no POPCNT): a table beats the SWAR fallback for bytes.
constexpr std::array<uint8_t, 256> kPop8 = MakePopTable();

// Calls fn(mask) for every `bits`-bit mask of weight w (Gosper's hack).
template <class F>
void ForEachMask(uint32_t bits, uint32_t w, F&& fn) {
  if (w == 0) {
    fn(uint64_t(0));
    return;
  }
  if (w > bits) return;
  const uint64_t limit = uint64_t(1) << bits;
  for (uint64_t v = (uint64_t(1) << w) - 1; v < limit;) {
    fn(v);
    const uint64_t c = v & (~v + 1);
    const uint64_t r = v + c;
    v = (((r ^ v) >> 2) / c) | r;
  }
}

// Owned arrays of a freshly built index.
struct MihArrays {
  index_internal::OwnedRows rows;
  std::vector<std::vector<uint32_t>> offsets, table_rows;
  std::vector<std::vector<uint8_t>> resid;
};

}  // namespace

MihIndex::MihIndex(std::shared_ptr<const void> keeper, size_t code_bytes, size_t num_rows,
                   const uint8_t* codes, const uint64_t* ids, std::vector<mih::TableGeom> geom,
                   std::vector<TableArrays> tables, bool flat_fallback)
    : geom_(std::move(geom)), tables_(std::move(tables)), flat_fallback_(flat_fallback) {
  SetArrays(std::move(keeper), code_bytes, num_rows, codes, ids);
  for (const mih::TableGeom& g : geom_) {
    table_bytes_ += ((size_t(1) << g.top_bits) + 1) * 4 + num_rows * (4 + (g.resid_bits ? 1 : 0));
  }
}

IndexStats MihIndex::Stats() const {
  std::string method = "mih(m=" + std::to_string(geom_.size()) + ",bits=";
  for (size_t i = 0; i < geom_.size(); ++i) {
    method += (i ? "/" : "") + std::to_string(geom_[i].top_bits) + "+" +
              std::to_string(geom_[i].resid_bits) +
              (geom_[i].low_bits ? "+" + std::to_string(geom_[i].low_bits) : "");
  }
  return {method + ")", size(), BaseMemoryBytes() + table_bytes_};
}

bool MihIndex::ProbeIsCheaper(uint32_t radius, size_t batch) const {
  if (!flat_fallback_) return true;
  return mih::EstimateProbeNs(num_rows_, geom_, radius) <
         mih::EstimateFlatNs(num_rows_, code_bytes_, batch);
}

void MihIndex::ProbeOne(const uint8_t* query, uint32_t query_index, uint32_t radius,
                        RowFilter filter, std::vector<uint32_t>* candidates,
                        std::vector<IndexHit>* hits) const {
  const std::vector<int> radii = mih::Radii(int(geom_.size()), radius);
  candidates->clear();
  for (size_t i = 0; i < geom_.size(); ++i) {
    const int r = radii[i];
    if (r < 0) continue;
    const mih::TableGeom& g = geom_[i];
    const TableArrays& t = tables_[i];
    const uint32_t key = mih::ExtractBits(query, g.start, g.bits);
    const uint32_t qtop =
        uint32_t(uint64_t(key) >> (g.resid_bits + g.low_bits));  // shift may be 32
    const uint8_t qres = uint8_t((key >> g.low_bits) & ((1u << g.resid_bits) - 1));
    const uint32_t max_w = std::min<uint32_t>(uint32_t(r), g.top_bits);
    for (uint32_t w = 0; w <= max_w; ++w) {
      const uint32_t slack = uint32_t(r) - w;  // bits the residual may still differ by
      ForEachMask(g.top_bits, w, [&](uint64_t mask) {
        const uint32_t b = qtop ^ uint32_t(mask);
        const uint32_t lo = t.offsets[b], hi = t.offsets[b + 1];
        if (g.resid_bits == 0 || slack >= g.resid_bits) {
          candidates->insert(candidates->end(), t.rows + lo, t.rows + hi);
          return;
        }
        for (uint32_t e = lo; e < hi; ++e) {
          if (kPop8[uint8_t(t.resid[e] ^ qres)] <= slack) candidates->push_back(t.rows[e]);
        }
      });
    }
  }
  // Verify against the full codes; prefetch a few ahead since candidate rows are random.
  const DistanceKernels& kernels = DistanceKernels::Default();
  const size_t n = candidates->size();
  const uint32_t* cand = candidates->data();
  constexpr size_t kAhead = 8;
  for (size_t j = 0; j < n; ++j) {
    if (j + kAhead < n) __builtin_prefetch(codes_ + size_t(cand[j + kAhead]) * code_bytes_);
    const uint32_t row = cand[j];
    if (filter.dead(row)) continue;
    const uint32_t d = kernels.Distance(query, codes_ + size_t(row) * code_bytes_, code_bytes_);
    if (d <= radius) hits->push_back(IndexHit{query_index, d, ids_[row]});
  }
}

void MihIndex::CollectHits(CodeView queries, size_t q0, size_t q1, uint32_t radius,
                           RowFilter filter, std::vector<IndexHit>* hits) const {
  if (num_rows_ == 0 || q0 >= q1) return;
  if (!ProbeIsCheaper(radius, q1 - q0)) {
    FlatCollect(queries, q0, q1, radius, filter, hits);
    return;
  }
  std::vector<uint32_t> candidates;
  for (size_t q = q0; q < q1; ++q) {
    ProbeOne(queries.code(q), uint32_t(q), radius, filter, &candidates, hits);
  }
}

void MihIndex::KnnOne(const uint8_t* query, size_t k, RowFilter filter,
                      std::vector<Neighbor>* out) const {
  // Widen the radius until k live codes lie within it: then they are the k nearest. Once probing
  // would cost more than a scan, scan.
  const uint32_t bits = uint32_t(code_bytes_ * 8);
  std::vector<uint32_t> candidates;
  std::vector<IndexHit> hits;
  for (uint32_t r = std::max<uint32_t>(2, bits / 32); r < bits; r = r * 2) {
    if (mih::EstimateProbeNs(num_rows_, geom_, r) >
        mih::EstimateFlatNs(num_rows_, code_bytes_, 1)) {
      break;
    }
    hits.clear();
    ProbeOne(query, 0, r, filter, &candidates, &hits);
    index_internal::SortAndDedupe(&hits);
    if (hits.size() >= k || hits.size() == num_rows_) {
      out->clear();
      for (size_t i = 0; i < std::min(k, hits.size()); ++i) {
        out->push_back(Neighbor{hits[i].id, hits[i].distance});
      }
      return;
    }
  }
  StaticIndex::KnnOne(query, k, filter, out);
}

std::vector<StaticIndex::Section> MihIndex::ExtraSections() const {
  std::vector<Section> s;
  s.push_back({kTagGeometry, geom_.data(), geom_.size() * sizeof(mih::TableGeom)});
  for (size_t i = 0; i < geom_.size(); ++i) {
    const uint32_t n = uint32_t(i);
    s.push_back({kTagOffsets + n, tables_[i].offsets,
                 ((uint64_t(1) << geom_[i].top_bits) + 1) * sizeof(uint32_t)});
    s.push_back({kTagRows + n, tables_[i].rows, num_rows_ * sizeof(uint32_t)});
    if (geom_[i].resid_bits) s.push_back({kTagResid + n, tables_[i].resid, num_rows_});
  }
  return s;
}

MihPlan PlanMih(size_t num_codes, size_t code_bytes, uint32_t expected_radius) {
  MihPlan p;
  p.num_tables = mih::ChooseNumTables(num_codes, code_bytes, expected_radius);
  p.est_query_ns = mih::EstimateProbeNs(
      num_codes, mih::Geometry(num_codes, code_bytes * 8, p.num_tables), expected_radius);
  p.est_flat_ns = mih::EstimateFlatNs(num_codes, code_bytes, 1);
  return p;
}

Result<std::shared_ptr<const StaticIndex>> BuildMihIndex(CodeView codes,
                                                         std::span<const uint64_t> ids,
                                                         const MihOptions& options) {
  auto sorted = index_internal::SortRowsById(codes, ids);
  if (!sorted.ok()) return sorted.status();
  const size_t cb = codes.code_bytes, n = codes.count, bits = cb * 8;
  int m = options.num_tables;
  if (m == 0) m = mih::ChooseNumTables(n, cb, options.expected_radius);
  const int min_m = int((bits + mih::kMaxSubstringBits - 1) / mih::kMaxSubstringBits);
  if (m < min_m || size_t(m) > bits) {
    return Status::InvalidArgument("MIH needs between " + std::to_string(min_m) + " and " +
                                   std::to_string(bits) + " tables for " + std::to_string(bits) +
                                   "-bit codes, got " + std::to_string(m));
  }
  auto arrays = std::make_shared<MihArrays>();
  arrays->rows = std::move(sorted).value();
  std::vector<mih::TableGeom> geom = mih::Geometry(n, bits, m);
  arrays->offsets.resize(size_t(m));
  arrays->table_rows.resize(size_t(m));
  arrays->resid.resize(size_t(m));
  const uint8_t* base = arrays->rows.codes.data();

  // Counting sort of the rows by bucket, one table per task.
  auto build_table = [&](size_t i) {
    const mih::TableGeom& g = geom[i];
    std::vector<uint32_t>& off = arrays->offsets[i];
    off.assign((size_t(1) << g.top_bits) + 1, 0);
    std::vector<uint32_t> keys(n);
    for (size_t r = 0; r < n; ++r) {
      keys[r] = mih::ExtractBits(base + r * cb, g.start, g.bits);
      ++off[(uint64_t(keys[r]) >> (g.resid_bits + g.low_bits)) + 1];
    }
    for (size_t b = 1; b < off.size(); ++b) off[b] += off[b - 1];
    std::vector<uint32_t> pos(off.begin(), off.end() - 1);
    std::vector<uint32_t>& rows = arrays->table_rows[i];
    rows.resize(n);
    std::vector<uint8_t>& res = arrays->resid[i];
    if (g.resid_bits) res.resize(n);
    const uint32_t rmask = (1u << g.resid_bits) - 1;
    for (size_t r = 0; r < n; ++r) {
      const uint32_t e = pos[uint64_t(keys[r]) >> (g.resid_bits + g.low_bits)]++;
      rows[e] = uint32_t(r);
      if (g.resid_bits) res[e] = uint8_t((keys[r] >> g.low_bits) & rmask);
    }
  };
  index_internal::ParallelBlocks(size_t(m), options.max_threads, build_table);

  std::vector<MihIndex::TableArrays> tables(static_cast<size_t>(m));
  for (size_t i = 0; i < size_t(m); ++i) {
    tables[i] = {arrays->offsets[i].data(), arrays->table_rows[i].data(),
                 geom[i].resid_bits ? arrays->resid[i].data() : nullptr};
  }
  const uint8_t* c = arrays->rows.codes.data();
  const uint64_t* id = arrays->rows.ids.data();
  return std::shared_ptr<const StaticIndex>(std::make_shared<MihIndex>(
      std::move(arrays), cb, n, c, id, std::move(geom), std::move(tables), options.flat_fallback));
}

}  // namespace hashmatch

#include "index/mih_index.h"

#include <emmintrin.h>  // SSE2: part of the x86-64 baseline
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <map>

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
  std::vector<index_internal::HugeArray<uint32_t>> table_rows;
  std::vector<index_internal::HugeArray<MihIndex::BucketBlock>> blocks;
  std::vector<index_internal::HugeArray<uint8_t>> overflow;
};

}  // namespace

MihIndex::MihIndex(std::shared_ptr<const void> keeper, size_t code_bytes, size_t num_rows,
                   const uint8_t* codes, const uint64_t* ids, std::vector<mih::TableGeom> geom,
                   std::vector<TableArrays> tables, bool flat_fallback)
    : geom_(std::move(geom)), tables_(std::move(tables)), flat_fallback_(flat_fallback) {
  SetArrays(std::move(keeper), code_bytes, num_rows, codes, ids);
  // Bucket masks by weight, enumerated once (Gosper's hack costs a division per mask), as long
  // as the lists stay small; heavier weights are enumerated on the fly.
  std::map<uint32_t, MaskList> by_bits;
  for (const mih::TableGeom& g : geom_) {
    MaskList& ml = by_bits[g.top_bits];
    if (!ml.by_weight.empty() || g.top_bits == 0) {
      masks_.push_back(ml);
      continue;
    }
    size_t total = 0;
    for (uint32_t w = 0; w <= g.top_bits; ++w) {
      std::vector<uint32_t> list;
      ForEachMask(g.top_bits, w, [&](uint64_t m) { list.push_back(uint32_t(m)); });
      total += list.size();
      if (total > kMaxListedMasks) break;
      ml.by_weight.push_back(std::move(list));
    }
    masks_.push_back(ml);
  }
  for (size_t i = 0; i < geom_.size(); ++i) {
    const size_t buckets = (size_t(1) << geom_[i].top_bits) + 1;
    table_bytes_ += buckets * sizeof(BucketBlock) + num_rows * 4 + tables_[i].overflow_bytes;
  }
}

void MihIndex::MakeBlocks(const uint32_t* offsets, const uint8_t* resid, size_t buckets,
                          index_internal::HugeArray<BucketBlock>* blocks,
                          index_internal::HugeArray<uint8_t>* overflow) {
  size_t overflow_bytes = 0;
  for (size_t b = 0; b < buckets; ++b) {
    const uint32_t count = offsets[b + 1] - offsets[b];
    if (count > BucketBlock::kInline) overflow_bytes += count - BucketBlock::kInlineLong;
  }
  blocks->Allocate(buckets + 1);  // zero-filled
  overflow->Allocate(resid ? overflow_bytes : 0);
  size_t next = 0;
  for (size_t b = 0; b <= buckets; ++b) {
    BucketBlock& blk = (*blocks)[b];
    blk.lo = offsets[b];
    if (b == buckets) break;
    const uint32_t count = offsets[b + 1] - offsets[b];
    if (!resid) continue;
    if (count <= BucketBlock::kInline) {
      std::memcpy(blk.resid, resid + blk.lo, count);
      continue;
    }
    std::memcpy(blk.resid, resid + blk.lo, BucketBlock::kInlineLong);
    const uint32_t index = uint32_t(next);
    std::memcpy(blk.resid + BucketBlock::kInlineLong, &index, 4);
    const uint32_t rest = count - BucketBlock::kInlineLong;
    std::memcpy(overflow->data() + next, resid + blk.lo + BucketBlock::kInlineLong, rest);
    next += rest;
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
                        RowFilter filter, ProbeScratch* scratch,
                        std::vector<IndexHit>* hits) const {
  const std::vector<int> radii = mih::Radii(int(geom_.size()), radius);
  std::vector<Probe>& probes = scratch->probes;
  std::vector<uint32_t>& candidates = scratch->candidates;
  std::vector<const uint32_t*>& entries = scratch->entries;
  probes.clear();
  candidates.clear();
  entries.clear();
  uint8_t qres[mih::kMaxTables];
  for (size_t i = 0; i < geom_.size(); ++i) {
    const int r = radii[i];
    if (r < 0) continue;
    const mih::TableGeom& g = geom_[i];
    const uint32_t key = mih::ExtractBits(query, g.start, g.bits);
    const uint32_t qtop = uint32_t(uint64_t(key) >> (g.resid_bits + g.low_bits));  // may shift 32
    qres[i] = uint8_t((key >> g.low_bits) & ((1u << g.resid_bits) - 1));
    const uint32_t max_w = std::min<uint32_t>(uint32_t(r), g.top_bits);
    const MaskList& masks = masks_[i];
    for (uint32_t w = 0; w <= max_w; ++w) {
      const uint32_t slack = uint32_t(r) - w;
      if (w < masks.by_weight.size()) {
        for (uint32_t mask : masks.by_weight[w]) {
          probes.push_back(Probe{uint32_t(i), qtop ^ mask, slack, 0, 0});
        }
      } else {
        ForEachMask(g.top_bits, w, [&](uint64_t mask) {
          probes.push_back(Probe{uint32_t(i), qtop ^ uint32_t(mask), slack, 0, 0});
        });
      }
    }
  }
  // A probe is two dependent reads that mostly miss the cache: its bucket block (start and the
  // residuals), then the rows of the entries whose residuals pass. A software pipeline keeps
  // many blocks in flight: at step j the blocks of probe j are prefetched and probe j - kLag
  // filters its inline residuals; the rest of long buckets (few: about eight rows a bucket)
  // are filtered in a second pass over the overflow residuals.
  constexpr size_t kLag = 16;
  std::vector<Overflow>& overflow = scratch->overflow;
  overflow.clear();
  const size_t np = probes.size();
  for (size_t j = 0; j < np + kLag; ++j) {
    if (j < np) {
      const BucketBlock* b = &tables_[probes[j].table].blocks[probes[j].bucket];
      __builtin_prefetch(b);
      __builtin_prefetch(b + 1);  // its successor's lo ends the bucket (often the same line)
    }
    if (j < kLag) continue;
    const Probe& p = probes[j - kLag];
    const BucketBlock* b = &tables_[p.table].blocks[p.bucket];
    const uint32_t lo = b->lo, hi = b[1].lo;
    if (lo == hi) continue;
    const TableArrays& t = tables_[p.table];
    const mih::TableGeom& g = geom_[p.table];
    const uint32_t count = hi - lo;
    const bool is_long = count > BucketBlock::kInline;
    const uint32_t inline_count = is_long ? BucketBlock::kInlineLong : count;
    uint32_t pass = (1u << inline_count) - 1;
    const bool filter_resid = p.slack < g.resid_bits;
    if (filter_resid) {
      // Popcount of each residual byte XOR the query's (SSE2 bit-slicing), compared with slack.
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
      __m128i x = _mm_xor_si128(v, _mm_set1_epi8(char(qres[p.table])));
      uint32_t fail;
      if (p.slack == 0) {
        fail = ~uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())));
      } else {
        const __m128i m1 = _mm_set1_epi8(0x55), m2 = _mm_set1_epi8(0x33), m4 = _mm_set1_epi8(0x0f);
        x = _mm_sub_epi8(x, _mm_and_si128(_mm_srli_epi16(x, 1), m1));
        x = _mm_add_epi8(_mm_and_si128(x, m2), _mm_and_si128(_mm_srli_epi16(x, 2), m2));
        x = _mm_and_si128(_mm_add_epi8(x, _mm_srli_epi16(x, 4)), m4);
        fail = uint32_t(_mm_movemask_epi8(_mm_cmpgt_epi8(x, _mm_set1_epi8(char(p.slack)))));
      }
      pass &= ~fail >> 4;  // bytes 0-3 of the block are lo
    }
    while (pass) {
      entries.push_back(t.rows + lo + uint32_t(std::countr_zero(pass)));
      pass &= pass - 1;
    }
    if (is_long) {
      const uint32_t* rest = t.rows + lo + BucketBlock::kInlineLong;
      const uint32_t n_rest = count - BucketBlock::kInlineLong;
      if (!filter_resid) {
        for (uint32_t e = 0; e < n_rest; ++e) entries.push_back(rest + e);
      } else {
        const uint8_t* r = t.overflow + b->overflow_index();
        overflow.push_back(Overflow{p.table, p.slack, rest, r, n_rest});
        __builtin_prefetch(r);
      }
    }
  }
  for (const Overflow& o : overflow) {
    const uint8_t q = qres[o.table];
    for (uint32_t e = 0; e < o.count; ++e) {
      if (kPop8[uint8_t(o.resid[e] ^ q)] <= o.slack) entries.push_back(o.rows + e);
    }
  }
  constexpr size_t kAhead = 8;
  const size_t ne = entries.size();
  for (size_t j = 0; j < ne; ++j) {
    if (j + kAhead < ne) __builtin_prefetch(entries[j + kAhead]);
    const uint32_t row = *entries[j];
    __builtin_prefetch(codes_ + size_t(row) * code_bytes_);
    candidates.push_back(row);
  }
  // Verify against the full codes; prefetch ahead since candidate rows are random.
  const DistanceKernels& kernels = DistanceKernels::Default();
  const size_t n = candidates.size();
  const uint32_t* cand = candidates.data();
  for (size_t j = 0; j < n; ++j) {
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
  ProbeScratch scratch;
  for (size_t q = q0; q < q1; ++q) {
    ProbeOne(queries.code(q), uint32_t(q), radius, filter, &scratch, hits);
  }
}

void MihIndex::KnnOne(const uint8_t* query, size_t k, RowFilter filter,
                      std::vector<Neighbor>* out) const {
  // Widen the radius until k live codes lie within it: then they are the k nearest. Once probing
  // would cost more than a scan, scan.
  const uint32_t bits = uint32_t(code_bytes_ * 8);
  ProbeScratch scratch;
  std::vector<IndexHit> hits;
  for (uint32_t r = std::max<uint32_t>(2, bits / 32); r < bits; r = r * 2) {
    if (mih::EstimateProbeNs(num_rows_, geom_, r) >
        mih::EstimateFlatNs(num_rows_, code_bytes_, 1)) {
      break;
    }
    hits.clear();
    ProbeOne(query, 0, r, filter, &scratch, &hits);
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
    s.push_back({kTagBlocks + n, tables_[i].blocks,
                 ((uint64_t(1) << geom_[i].top_bits) + 1) * sizeof(BucketBlock)});
    s.push_back({kTagRows + n, tables_[i].rows, num_rows_ * sizeof(uint32_t)});
    s.push_back({kTagOverflow + n, tables_[i].overflow, tables_[i].overflow_bytes});
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
  const int max_m = int(std::min<size_t>(bits, mih::kMaxTables));
  if (m < min_m || m > max_m) {
    return Status::InvalidArgument("MIH needs between " + std::to_string(min_m) + " and " +
                                   std::to_string(max_m) + " tables for " + std::to_string(bits) +
                                   "-bit codes, got " + std::to_string(m));
  }
  auto arrays = std::make_shared<MihArrays>();
  arrays->rows = std::move(sorted).value();
  std::vector<mih::TableGeom> geom = mih::Geometry(n, bits, m);
  arrays->table_rows.resize(size_t(m));
  arrays->blocks.resize(size_t(m));
  arrays->overflow.resize(size_t(m));
  const uint8_t* base = arrays->rows.codes.data();

  // Counting sort of the rows by bucket, one table per task; then the blocks.
  auto build_table = [&](size_t i) {
    const mih::TableGeom& g = geom[i];
    const size_t buckets = size_t(1) << g.top_bits;
    index_internal::HugeArray<uint32_t> off(buckets + 1);
    std::vector<uint32_t> keys(n);
    for (size_t r = 0; r < n; ++r) {
      keys[r] = mih::ExtractBits(base + r * cb, g.start, g.bits);
      ++off[(uint64_t(keys[r]) >> (g.resid_bits + g.low_bits)) + 1];
    }
    for (size_t b = 1; b < off.size(); ++b) off[b] += off[b - 1];
    std::vector<uint32_t> pos(off.begin(), off.end() - 1);
    index_internal::HugeArray<uint32_t>& rows = arrays->table_rows[i];
    rows.Allocate(n);
    index_internal::HugeArray<uint8_t> res;
    if (g.resid_bits) res.Allocate(n);
    const uint32_t rmask = (1u << g.resid_bits) - 1;
    for (size_t r = 0; r < n; ++r) {
      const uint32_t e = pos[uint64_t(keys[r]) >> (g.resid_bits + g.low_bits)]++;
      rows[e] = uint32_t(r);
      if (g.resid_bits) res[e] = uint8_t((keys[r] >> g.low_bits) & rmask);
    }
    MihIndex::MakeBlocks(off.data(), g.resid_bits ? res.data() : nullptr, buckets,
                         &arrays->blocks[i], &arrays->overflow[i]);
  };
  index_internal::ParallelBlocks(size_t(m), options.max_threads, build_table);

  std::vector<MihIndex::TableArrays> tables(static_cast<size_t>(m));
  for (size_t i = 0; i < size_t(m); ++i) {
    tables[i] = {arrays->blocks[i].data(), arrays->table_rows[i].data(), arrays->overflow[i].data(),
                 arrays->overflow[i].size()};
  }
  const uint8_t* c = arrays->rows.codes.data();
  const uint64_t* id = arrays->rows.ids.data();
  return std::shared_ptr<const StaticIndex>(std::make_shared<MihIndex>(
      std::move(arrays), cb, n, c, id, std::move(geom), std::move(tables), options.flat_fallback));
}

}  // namespace hashmatch

#include "hashmatch/core/live_index.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "index/gpu_route.h"
#include "index/search_driver.h"

namespace hashmatch {
namespace {

using Page = std::array<uint64_t, kRowFilterPageBits / 64>;

// A copy-on-write bitmap: versions share the pages they did not change.
struct PagedBits {
  std::vector<std::shared_ptr<const Page>> pages;
  std::vector<const uint64_t*> raw;  // pages[i]->data() or null, for RowFilter
  size_t count = 0;                  // bits set

  RowFilter filter() const { return RowFilter{raw.data(), raw.size()}; }
  bool test(uint64_t i) const { return filter().dead(i); }
  void set(uint64_t i) {
    const size_t p = size_t(i >> kRowFilterPageShift);
    if (p >= pages.size()) {
      pages.resize(p + 1);
      raw.resize(p + 1, nullptr);
    }
    auto page = pages[p] ? std::make_shared<Page>(*pages[p]) : std::make_shared<Page>(Page{});
    const size_t bit = size_t(i & (kRowFilterPageBits - 1));
    (*page)[bit >> 6] |= uint64_t(1) << (bit & 63);
    raw[p] = page->data();
    pages[p] = std::move(page);
    ++count;
  }
};

// Delta rows live in immutable chunks; only the last, partial chunk is copied on append.
constexpr size_t kChunkRows = 4096;
struct Chunk {
  std::vector<uint8_t> codes;
  std::vector<uint64_t> ids;
};

bool ChooseMih(const LiveIndexOptions& o, size_t n, size_t code_bytes) {
  if (o.method == LiveIndexOptions::Method::kMih) return true;
  if (o.method == LiveIndexOptions::Method::kFlat || n < 4096) return false;
  const MihPlan plan = PlanMih(n, code_bytes, o.mih.expected_radius);
  return plan.est_query_ns < plan.est_flat_ns;
}

Result<std::shared_ptr<const StaticIndex>> BuildBase(const LiveIndexOptions& o, CodeView codes,
                                                     std::span<const uint64_t> ids) {
  if (ChooseMih(o, codes.count, codes.code_bytes)) return BuildMihIndex(codes, ids, o.mih);
  return BuildFlatIndex(codes, ids);
}

// A base and its GPU mirror (null when there is none), installed together.
struct Base {
  std::shared_ptr<const StaticIndex> index;
  std::shared_ptr<const HammingIndex> mirror;
};

Result<Base> WithMirror(std::shared_ptr<const StaticIndex> index, const LiveIndexOptions& o) {
  auto mirror = index_internal::MakeGpuMirror(*index, o.gpu);
  if (!mirror.ok()) return mirror.status();
  return Base{std::move(index), std::move(mirror).value()};
}

// Shared by every version of one LiveIndex (snapshots may outlive it): the routing options and
// how many searches took each route.
struct GpuRouting {
  LiveIndexGpuOptions options;
  uint32_t expected_radius = 31;  // MihOptions::expected_radius: k-NN's routing estimate
  mutable std::atomic<uint64_t> gpu_searches{0};
  mutable std::atomic<uint64_t> cpu_searches{0};
};

}  // namespace

// One immutable version of the index.
class LiveVersion final : public LiveIndex::Snapshot {
 public:
  std::shared_ptr<const StaticIndex> base;
  std::shared_ptr<const HammingIndex> gpu_base;  // the base's GPU mirror; null: none
  std::shared_ptr<const GpuRouting> routing;
  PagedBits base_dead;
  std::vector<std::shared_ptr<const Chunk>> chunks;
  size_t delta_rows = 0;
  PagedBits delta_dead;
  uint64_t version_number = 0;

  uint64_t version() const override { return version_number; }
  size_t code_bytes() const override { return base->code_bytes(); }
  size_t size() const override {
    return base->size() - base_dead.count + delta_rows - delta_dead.count;
  }
  bool exact() const override { return true; }
  IndexStats Stats() const override {
    IndexStats s = base->Stats();
    if (gpu_base) s.method.append("+").append(gpu_base->Stats().method);
    s.method = "live(" + s.method + ")";
    s.size = size();
    s.memory_bytes += delta_rows * (code_bytes() + 8) +
                      (base_dead.pages.size() + delta_dead.pages.size()) * sizeof(Page);
    return s;
  }

  void CollectDelta(CodeView queries, size_t q0, size_t q1, uint32_t radius,
                    std::vector<IndexHit>* hits) const {
    const size_t cb = code_bytes();
    const CodeView sub{queries.code(q0), q1 - q0, cb};
    std::vector<RangeHit> raw;
    for (size_t c = 0; c < chunks.size(); ++c) {
      raw.clear();
      const Chunk& ch = *chunks[c];
      (void)DistanceKernels::Default().RangeSearch(
          sub, CodeView{ch.codes.data(), ch.ids.size(), cb}, radius, &raw, c * kChunkRows);
      for (const RangeHit& h : raw) {
        if (delta_dead.test(h.row)) continue;
        hits->push_back(
            IndexHit{uint32_t(q0 + h.query), h.distance, ch.ids[h.row - c * kChunkRows]});
      }
    }
  }

  // Whether this batch's base part runs on the GPU mirror (counted when there is one: an index
  // without a mirror pays no shared counter). Invalid batches take the CPU route, which reports
  // the error.
  bool RouteToGpu(CodeView queries, uint32_t radius) const {
    if (!gpu_base) return false;
    const bool gpu = ValidateQueries(*this, queries).ok() &&
                     index_internal::PreferGpu(*base, queries.count, radius, routing->options);
    (gpu ? routing->gpu_searches : routing->cpu_searches).fetch_add(1, std::memory_order_relaxed);
    return gpu;
  }

  Status RangeSearch(CodeView queries, const RangeSearchOptions& options,
                     RangeSearchResult* out) const override {
    // On the GPU route the mirror gives each query's nearest live base hits, at least cap + 1
    // of them when there are more (gpu_route.h): the merge with the delta below then caps and
    // flags exactly as it does with the CPU base's complete hit lists.
    std::vector<std::vector<IndexHit>> gpu_hits;
    const bool gpu = RouteToGpu(queries, options.radius);
    if (gpu) {
      if (Status s = index_internal::GpuBaseRange(
              *gpu_base, base->ids(), base_dead.filter(), base_dead.count, queries, options.radius,
              options.max_hits_per_query, options.max_threads, &gpu_hits);
          !s.ok()) {
        *out = RangeSearchResult{};
        return s;
      }
    }
    return index_internal::RunRangeSearch(
        *this, queries, options, 8,
        [&](size_t q0, size_t q1, std::vector<IndexHit>* hits) {
          if (gpu) {
            for (size_t q = q0; q < q1; ++q) {
              hits->insert(hits->end(), gpu_hits[q].begin(), gpu_hits[q].end());
            }
          } else {
            base->CollectHits(queries, q0, q1, options.radius, base_dead.filter(), hits);
          }
          CollectDelta(queries, q0, q1, options.radius, hits);
        },
        out);
  }

  Status Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const override {
    std::vector<std::vector<Neighbor>> gpu_nn;
    // k-NN has no radius: the CPU side is estimated at the radius MIH bases are built for.
    const bool gpu =
        options.k >= 1 && options.k <= 1'000'000 && RouteToGpu(queries, routing->expected_radius);
    if (gpu) {
      if (Status s = index_internal::GpuBaseKnn(*gpu_base, base->ids(), base_dead.filter(),
                                                base_dead.count, queries, options.k,
                                                options.max_threads, &gpu_nn);
          !s.ok()) {
        *out = KnnResult{};
        return s;
      }
    }
    return index_internal::RunKnn(
        *this, queries, options,
        [&](size_t q, std::vector<Neighbor>* nn) {
          if (gpu) {
            *nn = std::move(gpu_nn[q]);
          } else {
            base->KnnOne(queries.code(q), options.k, base_dead.filter(), nn);
          }
          if (delta_rows == 0) return;
          std::vector<Neighbor> d;
          const size_t cb = code_bytes();
          for (size_t c = 0; c < chunks.size(); ++c) {
            const Chunk& ch = *chunks[c];
            for (size_t i = 0; i < ch.ids.size(); ++i) {
              if (delta_dead.test(c * kChunkRows + i)) continue;
              d.push_back(Neighbor{ch.ids[i], DistanceKernels::Default().Distance(
                                                  queries.code(q), &ch.codes[i * cb], cb)});
            }
          }
          std::sort(d.begin(), d.end(), [](const Neighbor& a, const Neighbor& b) {
            return a.distance != b.distance ? a.distance < b.distance : a.row < b.row;
          });
          if (d.size() > options.k) d.resize(options.k);
          index_internal::MergeNeighbors(nn, d, options.k);
        },
        out);
  }

  // The live rows, in base-then-delta order.
  void LiveRows(std::vector<uint8_t>* codes, std::vector<uint64_t>* ids) const {
    const size_t cb = code_bytes();
    const CodeView bc = base->codes();
    const auto bids = base->ids();
    codes->reserve(size() * cb);
    ids->reserve(size());
    for (size_t r = 0; r < bc.count; ++r) {
      if (base_dead.test(r)) continue;
      codes->insert(codes->end(), bc.code(r), bc.code(r) + cb);
      ids->push_back(bids[r]);
    }
    for (size_t c = 0; c < chunks.size(); ++c) {
      const Chunk& ch = *chunks[c];
      for (size_t i = 0; i < ch.ids.size(); ++i) {
        if (delta_dead.test(c * kChunkRows + i)) continue;
        codes->insert(codes->end(), &ch.codes[i * cb], &ch.codes[(i + 1) * cb]);
        ids->push_back(ch.ids[i]);
      }
    }
  }
};

struct LiveIndex::State {
  LiveIndexOptions options;
  std::shared_ptr<GpuRouting> routing;
  // The published version. Readers hold `current_mu` only to copy the pointer (never during a
  // search, an update or a merge), so they are never held up by writers. (libstdc++ 12's
  // std::atomic<std::shared_ptr> is also a lock inside, and one ThreadSanitizer cannot see.)
  mutable std::mutex current_mu;
  std::shared_ptr<const LiveVersion> current_;
  std::shared_ptr<const LiveVersion> Current() const {
    std::lock_guard<std::mutex> lock(current_mu);
    return current_;
  }

  // Writer side, under `mu`.
  mutable std::mutex mu;
  std::unordered_map<uint64_t, uint64_t> delta_pos;  // live delta id -> delta position
  uint64_t next_version = 1;
  uint64_t merges = 0;
  bool merging = false;
  struct Op {
    bool add;
    std::vector<uint8_t> codes;
    std::vector<uint64_t> ids;
  };
  std::vector<Op> log;  // updates made while a merge runs, replayed onto its result
  std::thread merge_thread;
  Status merge_status;

  // Applies an update to `v` (a private copy) and the id map; the caller checked validity.
  void ApplyAdd(LiveVersion* v, std::unordered_map<uint64_t, uint64_t>* pos, CodeView codes,
                std::span<const uint64_t> ids) const {
    const size_t cb = codes.code_bytes;
    for (size_t i = 0; i < ids.size();) {
      if (v->delta_rows % kChunkRows == 0) v->chunks.push_back(std::make_shared<Chunk>());
      auto chunk = std::make_shared<Chunk>(*v->chunks.back());  // only the last chunk is copied
      const size_t take = std::min(kChunkRows - v->delta_rows % kChunkRows, ids.size() - i);
      chunk->codes.insert(chunk->codes.end(), codes.code(i), codes.code(i) + take * cb);
      chunk->ids.insert(chunk->ids.end(), ids.begin() + i, ids.begin() + i + take);
      for (size_t j = 0; j < take; ++j) (*pos)[ids[i + j]] = v->delta_rows + j;
      v->delta_rows += take;
      i += take;
      v->chunks.back() = std::move(chunk);
    }
  }

  Status CheckAdd(const LiveVersion& v, std::span<const uint64_t> ids) const {
    std::vector<uint64_t> sorted(ids.begin(), ids.end());
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (sorted[i] == sorted[i - 1]) {
        return Status::InvalidArgument("id " + std::to_string(sorted[i]) + " repeats in the batch");
      }
    }
    for (uint64_t id : ids) {
      if (IsLive(v, id)) {
        return Status(StatusCode::kAlreadyExists,
                      "id " + std::to_string(id) + " is already indexed");
      }
    }
    return Status::Ok();
  }

  bool IsLive(const LiveVersion& v, uint64_t id) const {
    if (delta_pos.count(id)) return true;
    const auto row = v.base->RowOf(id);
    return row && !v.base_dead.test(*row);
  }

  // Tombstones `ids` in `v`; false (v partly changed) if one is not live.
  bool ApplyRemove(LiveVersion* v, std::unordered_map<uint64_t, uint64_t>* pos,
                   std::span<const uint64_t> ids) const {
    for (uint64_t id : ids) {
      if (auto it = pos->find(id); it != pos->end()) {
        v->delta_dead.set(it->second);
        pos->erase(it);
        continue;
      }
      const auto row = v->base->RowOf(id);
      if (!row || v->base_dead.test(*row)) return false;
      v->base_dead.set(*row);
    }
    return true;
  }

  void Publish(std::shared_ptr<LiveVersion> v) {
    v->version_number = next_version++;
    std::shared_ptr<const LiveVersion> old;
    {
      std::lock_guard<std::mutex> lock(current_mu);
      old = std::exchange(current_, std::move(v));
    }
    // `old` is released here, outside the lock (the last reader of a version may free it).
  }

  bool MergeDue(const LiveVersion& v) const {
    const size_t threshold =
        std::max(options.merge_min_delta, size_t(options.merge_fraction * double(v.base->size())));
    return v.delta_rows >= threshold || v.base_dead.count >= threshold;
  }

  // Builds a new base from `snap` (without holding `mu`), then installs it with the logged
  // updates replayed. Returns the build's error, if any (the index is then left as it was).
  Status RunMerge(std::shared_ptr<const LiveVersion> snap) {
    std::vector<uint8_t> codes;
    std::vector<uint64_t> ids;
    snap->LiveRows(&codes, &ids);
    const size_t cb = snap->code_bytes();
    auto built = BuildBase(options, CodeView{codes.data(), ids.size(), cb}, ids);
    // The mirror is built here too, on the merge's thread and outside `mu`.
    Result<Base> installed =
        built.ok() ? WithMirror(std::move(built).value(), options) : Result<Base>(built.status());
    std::lock_guard<std::mutex> lock(mu);
    merging = false;
    std::vector<Op> ops = std::move(log);
    log.clear();
    if (!installed.ok()) return merge_status = installed.status();
    auto v = NewVersion(std::move(installed).value());
    std::unordered_map<uint64_t, uint64_t> pos;
    for (const Op& op : ops) {
      if (op.add) {
        ApplyAdd(v.get(), &pos, CodeView{op.codes.data(), op.ids.size(), cb}, op.ids);
      } else if (!ApplyRemove(v.get(), &pos, op.ids)) {
        return merge_status = Status::Internal("merge replay: a logged removal no longer applies");
      }
    }
    delta_pos = std::move(pos);
    ++merges;
    Publish(std::move(v));
    return merge_status = Status::Ok();
  }

  std::shared_ptr<LiveVersion> NewVersion(Base b) const {
    auto v = std::make_shared<LiveVersion>();
    v->base = std::move(b.index);
    v->gpu_base = std::move(b.mirror);
    v->routing = routing;
    return v;
  }

  // Under `mu`: starts a background merge of the current version. A previous merge thread has
  // finished its work (merging is false) and takes no lock any more, so joining it here is safe.
  void StartMerge() {
    if (merge_thread.joinable()) merge_thread.join();
    merging = true;
    log.clear();
    std::shared_ptr<const LiveVersion> snap = Current();
    merge_thread = std::thread([this, snap] { (void)RunMerge(snap); });
  }
};

LiveIndex::LiveIndex(size_t code_bytes, const LiveIndexOptions& options)
    : state_(std::make_unique<State>()), code_bytes_(code_bytes) {
  state_->options = options;
  auto routing = std::make_shared<GpuRouting>();
  routing->options = options.gpu;
  routing->expected_radius = options.mih.expected_radius;
  state_->routing = std::move(routing);
}

LiveIndex::~LiveIndex() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    t = std::move(state_->merge_thread);
  }
  if (t.joinable()) t.join();
}

Result<std::unique_ptr<LiveIndex>> LiveIndex::FromBase(std::shared_ptr<const StaticIndex> base,
                                                       const LiveIndexOptions& options) {
  if (!base) return Status::InvalidArgument("no base index");
  auto installed = WithMirror(std::move(base), options);
  if (!installed.ok()) return installed.status();
  std::unique_ptr<LiveIndex> li(new LiveIndex(installed->index->code_bytes(), options));
  li->state_->Publish(li->state_->NewVersion(std::move(installed).value()));
  return li;
}

Result<std::unique_ptr<LiveIndex>> LiveIndex::Create(size_t code_bytes,
                                                     const LiveIndexOptions& options) {
  auto base = BuildFlatIndex(CodeView{nullptr, 0, code_bytes}, {});
  if (!base.ok()) return base.status();
  return FromBase(std::move(base).value(), options);
}

Result<std::unique_ptr<LiveIndex>> LiveIndex::Open(const std::filesystem::path& path,
                                                   const LiveIndexOptions& options,
                                                   const LoadOptions& load) {
  auto base = LoadStaticIndex(path, load);
  if (!base.ok()) return base.status();
  return FromBase(std::move(base).value(), options);
}

Status LiveIndex::Add(CodeView codes, std::span<const uint64_t> ids) {
  if (codes.count != ids.size()) {
    return Status::InvalidArgument(std::to_string(codes.count) + " codes but " +
                                   std::to_string(ids.size()) + " ids");
  }
  if (codes.count == 0) return Status::Ok();
  if (codes.code_bytes != code_bytes_ || codes.data == nullptr) {
    return Status::InvalidArgument("codes of " + std::to_string(codes.code_bytes) +
                                   " bytes for an index of " + std::to_string(code_bytes_) +
                                   "-byte codes");
  }
  State& st = *state_;
  std::lock_guard<std::mutex> lock(st.mu);
  std::shared_ptr<const LiveVersion> cur = st.Current();
  if (Status s = st.CheckAdd(*cur, ids); !s.ok()) return s;
  if (cur->base->size() + cur->delta_rows + ids.size() > size_t(UINT32_MAX)) {
    return Status::OutOfRange("index would exceed 2^32-1 rows");
  }
  auto v = std::make_shared<LiveVersion>(*cur);
  st.ApplyAdd(v.get(), &st.delta_pos, codes, ids);
  if (st.merging) {
    st.log.push_back({true, std::vector<uint8_t>(codes.data, codes.data + ids.size() * code_bytes_),
                      std::vector<uint64_t>(ids.begin(), ids.end())});
  }
  const bool due = st.options.background_merge && !st.merging && st.MergeDue(*v);
  st.Publish(std::move(v));
  if (due) st.StartMerge();
  return Status::Ok();
}

Status LiveIndex::Remove(std::span<const uint64_t> ids) {
  if (ids.empty()) return Status::Ok();
  State& st = *state_;
  std::lock_guard<std::mutex> lock(st.mu);
  std::shared_ptr<const LiveVersion> cur = st.Current();
  std::vector<uint64_t> sorted(ids.begin(), ids.end());
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i] == sorted[i - 1]) {
      return Status::InvalidArgument("id " + std::to_string(sorted[i]) + " repeats in the batch");
    }
    if (!st.IsLive(*cur, sorted[i])) {
      return Status::NotFound("id " + std::to_string(sorted[i]) + " is not in the index");
    }
  }
  auto v = std::make_shared<LiveVersion>(*cur);
  auto pos = st.delta_pos;  // only committed once every removal applied
  if (!st.ApplyRemove(v.get(), &pos, ids)) return Status::Internal("removal check disagreed");
  st.delta_pos = std::move(pos);
  if (st.merging) st.log.push_back({false, {}, std::vector<uint64_t>(ids.begin(), ids.end())});
  const bool due = st.options.background_merge && !st.merging && st.MergeDue(*v);
  st.Publish(std::move(v));
  if (due) st.StartMerge();
  return Status::Ok();
}

bool LiveIndex::Contains(uint64_t id) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->IsLive(*state_->Current(), id);
}

std::shared_ptr<const LiveIndex::Snapshot> LiveIndex::GetSnapshot() const {
  return state_->Current();
}

Status LiveIndex::WaitForMerge() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    t = std::move(state_->merge_thread);
  }
  if (t.joinable()) t.join();
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->merge_status;
}

Status LiveIndex::Compact() {
  std::shared_ptr<const LiveVersion> snap;
  for (;;) {  // wait out any background merge, including one an update starts meanwhile
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (!state_->merge_thread.joinable() && !state_->merging) {
        state_->merging = true;
        state_->log.clear();
        snap = state_->Current();
        break;
      }
      t = std::move(state_->merge_thread);
    }
    if (t.joinable()) {
      t.join();
    } else {
      std::this_thread::yield();  // a Compact on another thread holds the merge
    }
  }
  return state_->RunMerge(std::move(snap));
}

Status LiveIndex::Save(const std::filesystem::path& path) const {
  std::shared_ptr<const LiveVersion> snap = state_->Current();
  if (snap->delta_rows == 0 && snap->base_dead.count == 0) return snap->base->Save(path);
  std::vector<uint8_t> codes;
  std::vector<uint64_t> ids;
  snap->LiveRows(&codes, &ids);
  auto built = BuildBase(state_->options, CodeView{codes.data(), ids.size(), code_bytes_}, ids);
  if (!built.ok()) return built.status();
  return built.value()->Save(path);
}

LiveIndexStats LiveIndex::LiveStats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::shared_ptr<const LiveVersion> v = state_->Current();
  LiveIndexStats s;
  s.base_rows = v->base->size();
  s.base_dead = v->base_dead.count;
  s.delta_rows = v->delta_rows;
  s.delta_dead = v->delta_dead.count;
  s.version = v->version_number;
  s.merges = state_->merges;
  s.merging = state_->merging;
  if (v->gpu_base) s.gpu_mirror = v->gpu_base->Stats().method;
  s.gpu_searches = state_->routing->gpu_searches.load(std::memory_order_relaxed);
  s.cpu_searches = state_->routing->cpu_searches.load(std::memory_order_relaxed);
  return s;
}

size_t LiveIndex::size() const {
  return state_->Current()->size();
}
IndexStats LiveIndex::Stats() const {
  return state_->Current()->Stats();
}

Status LiveIndex::RangeSearch(CodeView queries, const RangeSearchOptions& options,
                              RangeSearchResult* out) const {
  return state_->Current()->RangeSearch(queries, options, out);
}

Status LiveIndex::Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const {
  return state_->Current()->Knn(queries, options, out);
}

}  // namespace hashmatch

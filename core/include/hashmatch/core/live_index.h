// LiveIndex: an updatable index. Adds and removals apply while queries run, without rebuilding.
//
// Structure: an immutable StaticIndex (the base: MIH or flat), a small append-only delta of
// added codes scanned flat, and tombstones over both (copy-on-write bitmap pages). Every update
// publishes a new immutable Snapshot; a search runs on the snapshot current when it started and
// never waits for writers or merges. A change is visible to every search that starts after the
// call returns.
//
// When the delta grows past max(merge_min_delta, merge_fraction x base size), a background
// thread builds a new base from the live rows of a snapshot; updates made meanwhile are recorded
// and replayed onto the new base when it is installed, so nothing is lost or applied twice.
//
// GPU (LiveIndexOptions::gpu, docs/gpu.md): every installed base (the initial one and each
// merge's) can get a mirror on the GPU matcher, built outside the writer lock (a merge builds it on
// its own thread). A search sends the base part of a batch to the mirror when the planner says the
// GPU pays (see LiveIndexGpuOptions), otherwise to the CPU base; the delta and the tombstones are
// applied the same way on both routes, so results are identical, caps and truncated flags included.
//
// Thread safety: searches (and Snapshot()) from any number of threads; updates are serialised
// internally (one writer at a time; callers may call them from any thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "hashmatch/core/index.h"
#include "hashmatch/core/static_index.h"

namespace hashmatch {

// The GPU mirror of LiveIndex bases. core does not depend on CUDA: mirrors are built by the
// factory that the GPU matcher installs (gpu_mirror.h; EnableGpuMirrors() in core/cuda's
// gpu_index.h, called by hashmatchd in a CUDA build).
struct LiveIndexGpuOptions {
  enum class Mode : uint8_t {
    kOff,   // CPU only
    kAuto,  // a mirror when a GPU matcher is installed and a GPU is visible; else silently CPU
    kOn,    // a mirror or an error: Create/FromBase/Open (and merges) fail when none can be built
  };
  Mode mode = Mode::kOff;
  // Routing of a search's base part (the planner, core/src/index/gpu_route.h): to the mirror when
  // the batch has at least `min_batch` queries, or when the CPU base's cost-model estimate for the
  // batch (MIH probing or a flat scan at that radius) exceeds the GPU's: `overhead_ns` (launches,
  // copies, synchronisation) plus one pass over the codes per 32 queries at `scan_bytes_per_ns`.
  // The GPU constants are unmeasured guesses until the GPU proof runs (docs/gpu.md).
  size_t min_batch = 256;
  double overhead_ns = 100'000;
  double scan_bytes_per_ns = 1000;
  // Device bytes for resident codes (0: 70% of the free device memory; larger sets stream) and
  // the bound on one scan pass's hit buffer.
  size_t device_code_budget_bytes = 0;
  size_t buffer_bytes = size_t{256} << 20;
  // Tests: the mirror runs the GPU matcher's host logic on its CPU backend (no GPU needed), in
  // chunks of `cpu_chunk_rows` rows so that chunking is exercised.
  bool force_cpu_backend = false;
  size_t cpu_chunk_rows = 4096;
};

struct LiveIndexOptions {
  enum class Method : uint8_t {
    kAuto,  // MIH when the cost model says probing beats scanning at the expected radius
    kFlat,
    kMih,
  };
  Method method = Method::kAuto;
  MihOptions mih;  // num_tables, expected_radius and build threads of MIH bases
  size_t merge_min_delta = 65'536;
  double merge_fraction = 0.02;
  bool background_merge = true;  // false: the delta only merges on Compact()
  LiveIndexGpuOptions gpu;
};

struct LiveIndexStats {
  size_t base_rows = 0;   // rows in the base, deleted ones included
  size_t base_dead = 0;   // tombstoned base rows
  size_t delta_rows = 0;  // rows in the delta, deleted ones included
  size_t delta_dead = 0;
  uint64_t version = 0;  // increases with every applied update and every merge
  uint64_t merges = 0;   // completed background or explicit merges
  bool merging = false;
  std::string gpu_mirror;  // the current base's mirror (IndexStats::method); "" = none
  // Searches of versions that had a mirror, by where their base part ran (searches of versions
  // without one are not counted).
  uint64_t gpu_searches = 0;
  uint64_t cpu_searches = 0;
};

class LiveIndex final : public HammingIndex {
 public:
  class Snapshot;  // an immutable, searchable view (a HammingIndex)

  // An empty index of `code_bytes`-byte codes.
  static Result<std::unique_ptr<LiveIndex>> Create(size_t code_bytes,
                                                   const LiveIndexOptions& options = {});
  // An index whose base is `base` (for example one loaded with LoadStaticIndex).
  static Result<std::unique_ptr<LiveIndex>> FromBase(std::shared_ptr<const StaticIndex> base,
                                                     const LiveIndexOptions& options = {});
  // Loads a file written by Save; the base is mapped, not rebuilt.
  static Result<std::unique_ptr<LiveIndex>> Open(const std::filesystem::path& path,
                                                 const LiveIndexOptions& options = {},
                                                 const LoadOptions& load = {});

  ~LiveIndex() override;  // waits for a running merge
  LiveIndex(const LiveIndex&) = delete;
  LiveIndex& operator=(const LiveIndex&) = delete;

  // Adds codes with their ids, all or nothing: fails (changing nothing) if an id repeats in the
  // batch or is already live.
  Status Add(CodeView codes, std::span<const uint64_t> ids);
  // Removes by id, all or nothing: kNotFound (changing nothing) if an id is not live.
  Status Remove(std::span<const uint64_t> ids);
  bool Contains(uint64_t id) const;

  // The current version, searchable for as long as the caller holds it.
  std::shared_ptr<const Snapshot> GetSnapshot() const;

  // Merges the delta and tombstones into a new base now (waits for a running merge first).
  Status Compact();
  // Waits until no background merge is running; returns the last merge's error, if any.
  Status WaitForMerge();

  // Writes the live rows as one StaticIndex file (merging first when the delta or tombstones
  // are not empty; the running index is not changed).
  Status Save(const std::filesystem::path& path) const;

  LiveIndexStats LiveStats() const;

  // HammingIndex: each call searches the snapshot current when it starts.
  size_t code_bytes() const override { return code_bytes_; }
  size_t size() const override;
  bool exact() const override { return true; }
  IndexStats Stats() const override;
  Status RangeSearch(CodeView queries, const RangeSearchOptions& options,
                     RangeSearchResult* out) const override;
  Status Knn(CodeView queries, const KnnOptions& options, KnnResult* out) const override;

  struct State;  // implementation detail

 private:
  LiveIndex(size_t code_bytes, const LiveIndexOptions& options);
  std::unique_ptr<State> state_;
  size_t code_bytes_;
};

class LiveIndex::Snapshot : public HammingIndex {
 public:
  virtual uint64_t version() const = 0;
};

}  // namespace hashmatch

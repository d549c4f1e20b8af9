// Scan: the oneTBB pipeline (list/read tar -> read files, hash, match -> deliver in order). See
// scan.h for the contract.
#include "hashmatch/scan/scan.h"

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <utility>

#include "item_source.h"
#include "match_chunk.h"

namespace hashmatch {

using scan_internal::ItemSource;
using scan_internal::SourceItem;

void ScanSummary::Count(const ScanItemResult& item) {
  ++items;
  skipped_files += item.skipped_before;
  bytes += item.bytes;
  if (item.ok()) {
    ++scanned;
  } else {
    ++failed;
    ++failed_by_reason[std::string(StatusCodeName(item.status.code()))];
  }
  if (item.low_quality) ++low_quality;
  if (item.matched()) {
    ++matched;
  } else if (item.is_suppressed()) {
    ++suppressed;
  }
}

namespace {

struct Chunk {
  std::vector<SourceItem> source;
  std::vector<ScanItemResult> results;
};

// The pipeline's number of threads: as BatchHashOptions::max_threads.
int ThreadCount(int max_threads) {
  const int all = tbb::this_task_arena::max_concurrency();
  return max_threads <= 0 ? all : std::min(max_threads, all);
}

}  // namespace

Result<ScanSummary> Scan(const StoreSnapshot& store, std::span<const ScanInput> inputs,
                         const ScanOptions& options_in, const ScanSink& sink) {
  const auto start = std::chrono::steady_clock::now();
  ScanOptions options = options_in;
  options.signals.insert(SignalType::kPdq).insert(SignalType::kMd5);
  if (options.chunk_items == 0) return Status::InvalidArgument("chunk_items must be at least 1");
  if (options.min_quality < 0 || options.min_quality > 100) {
    return Status::InvalidArgument("min_quality must be 0..100");
  }
  auto plan = scan_internal::PlanMatching(store, options);
  if (!plan.ok()) return plan.status();

  ScanSummary summary;
  summary.store_sequence = store.sequence();
  summary.searched = plan->searched;

  ItemSource source(inputs, options);
  const int threads = ThreadCount(options.max_threads);
  const size_t tokens = options.max_tokens ? options.max_tokens : size_t(2 * threads);
  bool source_done = false;
  Status sink_error;
  std::atomic<bool> stop{false};

  // Stage 1, serial: number the items and read tar members (a tar stream is sequential; files are
  // read in stage 2, in parallel). The resumed items were skipped before the pipeline starts.
  auto list = [&](tbb::flow_control& fc) -> Chunk* {
    if (source_done || stop.load(std::memory_order_relaxed)) {
      fc.stop();
      return nullptr;
    }
    auto chunk = std::make_unique<Chunk>();
    uint64_t bytes = 0;
    while (chunk->source.size() < options.chunk_items && bytes < options.chunk_bytes) {
      SourceItem item;
      if (!source.Next(&item, /*read_data=*/true)) {
        source_done = true;
        break;
      }
      // Files are read in stage 2, all of a chunk's at once: their sizes count against the
      // chunk's byte budget too (a stat here), so a chunk holds chunk_bytes plus one item.
      if (item.is_tar_member || !item.status.ok()) {
        bytes += item.data.size();
      } else {
        std::error_code ec;
        const uintmax_t size = std::filesystem::file_size(item.path, ec);
        if (!ec) bytes += std::min<uint64_t>(size, options.max_item_bytes);
      }
      chunk->source.push_back(std::move(item));
    }
    if (chunk->source.empty()) {
      fc.stop();
      return nullptr;
    }
    return chunk.release();
  };
  // Stage 2, parallel: read files, hash, match.
  auto work = [&](Chunk* chunk) -> Chunk* {
    if (!stop.load(std::memory_order_relaxed)) {
      chunk->results = scan_internal::HashAndMatch(store, *plan, options, chunk->source);
    }
    chunk->source.clear();
    return chunk;
  };
  // Stage 3, serial in order: deliver.
  auto deliver = [&](Chunk* chunk) {
    std::unique_ptr<Chunk> owned(chunk);
    if (stop.load(std::memory_order_relaxed)) return;
    for (ScanItemResult& r : chunk->results) {
      summary.Count(r);
      if (Status s = sink(r); !s.ok()) {
        sink_error = std::move(s);
        stop.store(true, std::memory_order_relaxed);
        return;
      }
    }
  };

  // Skip to the resume point first, on this thread: numbering only.
  uint64_t skipped = 0;
  SourceItem last;
  for (; skipped < options.skip_items; ++skipped) {
    if (!source.Next(&last, /*read_data=*/false)) {
      source_done = true;
      break;
    }
  }
  if (options.resume_after && options.skip_items > 0) {
    const auto& [path, member] = *options.resume_after;
    if (skipped < options.skip_items) {
      return Status::InvalidArgument(
          "the inputs hold " + std::to_string(skipped) + " items, fewer than the " +
          std::to_string(options.skip_items) + " to resume after: the dataset changed");
    }
    if (last.path != path || last.member != member) {
      return Status::InvalidArgument("item " + std::to_string(options.skip_items - 1) + " is now " +
                                     last.path + (last.member.empty() ? "" : " " + last.member) +
                                     ", not " + path + (member.empty() ? "" : " " + member) +
                                     ": the dataset changed under the resume point");
    }
  }

  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(
        tokens, tbb::make_filter<void, Chunk*>(tbb::filter_mode::serial_in_order, list) &
                    tbb::make_filter<Chunk*, Chunk*>(tbb::filter_mode::parallel, work) &
                    tbb::make_filter<Chunk*, void>(tbb::filter_mode::serial_in_order, deliver));
  });
  if (!sink_error.ok()) return sink_error;
  summary.skipped_files += source.trailing_skipped();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

Result<std::vector<ScanItemResult>> ScanAll(const StoreSnapshot& store,
                                            std::span<const ScanInput> inputs,
                                            const ScanOptions& options, ScanSummary* summary) {
  std::vector<ScanItemResult> items;
  auto s = Scan(store, inputs, options, [&](ScanItemResult& item) {
    items.push_back(std::move(item));
    return Status::Ok();
  });
  if (!s.ok()) return s.status();
  if (summary) *summary = *std::move(s);
  return items;
}

uint64_t CountScanItems(std::span<const ScanInput> inputs, const ScanOptions& options) {
  ItemSource source(inputs, options);
  SourceItem item;
  uint64_t n = 0;
  while (source.Next(&item, /*read_data=*/false)) ++n;
  return n;
}

}  // namespace hashmatch

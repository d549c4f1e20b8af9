// Internal: the oneTBB loop behind HashBatch, kept in its own translation unit.
//
// Why a separate file: libtbb.so is not built with ThreadSanitizer, so the happens-before edges
// of its work stealing are invisible to TSan, and TBB's header code instantiated in an
// instrumented file (the split ranges, task objects, the thread-specific table) then shows up as
// data races that are not there. core/CMakeLists.txt compiles batch_parallel.cc without TSan
// instrumentation in TSan builds, with annotations that state the loop's real ordering;
// batch_hash.cc, where the per-item work is, stays instrumented, so races in our own code are
// still reported.
#pragma once

#include <cstddef>
#include <functional>

#include "hashmatch/core/pdq.h"

namespace hashmatch::batch_internal {

// One per worker thread, reused across that thread's items. New algorithms that keep scratch
// buffers add them here.
struct WorkerState {
  PdqHasher pdq;
  // The exact path's decoded JPEG, its pixel buffer reused from item to item: a fresh
  // multi-megabyte image per item costs page faults and a zero-fill (docs/benchmarks.md).
  Image image;
};

// Calls fn(i, state) for every i in [0, n), each on some pool thread with that thread's own
// WorkerState, and returns when all calls have returned. max_threads > 1 below TBB's default
// concurrency runs in a task_arena of that size; anything else uses the default pool.
void ParallelForItems(size_t n, int max_threads,
                      const std::function<void(size_t, WorkerState&)>& fn);

}  // namespace hashmatch::batch_internal

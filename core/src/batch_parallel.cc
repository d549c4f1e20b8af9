// The oneTBB loop for HashBatch (see batch_parallel.h for why it is a file of its own).
#include "batch_parallel.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

// In TSan builds this file is compiled without instrumentation and with HASHMATCH_TSAN_ANNOTATE
// (core/CMakeLists.txt); the annotations state the ordering oneTBB provides: the loop's start
// happens before every item, every item before the loop's end (and so before the per-thread
// states are destroyed). Two distinct sync points keep the items unordered among themselves.
#ifdef HASHMATCH_TSAN_ANNOTATE
#include <sanitizer/tsan_interface.h>
#define HASHMATCH_HAPPENS_BEFORE(addr) __tsan_release(addr)
#define HASHMATCH_HAPPENS_AFTER(addr) __tsan_acquire(addr)
#else
#define HASHMATCH_HAPPENS_BEFORE(addr) (void)(addr)
#define HASHMATCH_HAPPENS_AFTER(addr) (void)(addr)
#endif

namespace hashmatch::batch_internal {

void ParallelForItems(size_t n, int max_threads,
                      const std::function<void(size_t, WorkerState&)>& fn) {
  char loop_start = 0, loop_end = 0;
  HASHMATCH_HAPPENS_BEFORE(&loop_start);
  tbb::enumerable_thread_specific<WorkerState> states;
  auto body = [&] {
    // One item per task: items cost milliseconds and vary widely, so finer balance beats lower
    // scheduling overhead.
    tbb::parallel_for(
        tbb::blocked_range<size_t>(0, n, 1),
        [&](const tbb::blocked_range<size_t>& range) {
          WorkerState& state = states.local();
          for (size_t i = range.begin(); i != range.end(); ++i) {
            HASHMATCH_HAPPENS_AFTER(&loop_start);
            fn(i, state);
            HASHMATCH_HAPPENS_BEFORE(&loop_end);
          }
        },
        tbb::simple_partitioner());
  };
  // An arena only when it limits anything: asking TBB for more threads than it runs by default
  // gets a warning on stderr and no more threads.
  if (max_threads > 1 && max_threads < tbb::info::default_concurrency()) {
    tbb::task_arena arena(max_threads);
    arena.execute(body);
  } else {
    body();
  }
  HASHMATCH_HAPPENS_AFTER(&loop_end);
}

}  // namespace hashmatch::batch_internal

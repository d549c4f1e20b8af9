// The worker pool that keeps heavy work (matching, hashing images, store writes) off the RPC
// event loop, so one large batch never stalls the other connections.
//
// Run() is called on the event-loop thread and returns a kj::Promise that resolves there. The job
// itself runs on one of the pool's plain std::threads and hands its result back through a kj
// cross-thread fulfiller, which wakes the event loop. Jobs wait in one FIFO queue (a busy worker
// never holds back the others' jobs); a full queue refuses new jobs at once with
// "resource_exhausted". When the caller has given up by the time a worker picks a job (deadline,
// disconnect), the job is skipped.
#pragma once

#include <kj/async.h>
#include <kj/debug.h>
#include <kj/function.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hashmatch::daemon {

class WorkerPool {
 public:
  // Each job's wait in the queue, from Run() to the moment a worker takes it.
  using WaitObserver = std::function<void(std::chrono::steady_clock::duration)>;

  WorkerPool(size_t threads, size_t max_queued, WaitObserver on_wait = nullptr);
  ~WorkerPool();  // finishes the running jobs, drops (and so rejects) the queued ones

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn() on a worker. fn may throw a kj::Exception (or anything std::) to reject.
  template <class T>
  kj::Promise<T> Run(kj::Function<T()> fn) {
    auto paf = kj::newPromiseAndCrossThreadFulfiller<T>();
    auto job = [this, f = kj::mv(paf.fulfiller), fn = kj::mv(fn),
                queued_at = std::chrono::steady_clock::now()]() mutable {
      if (on_wait_) on_wait_(std::chrono::steady_clock::now() - queued_at);
      if (!f->isWaiting()) return;  // nobody wants the answer any more
      KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() { f->fulfill(fn()); })) {
        f->reject(kj::mv(*e));
      }
    };
    if (!Push(kj::Function<void()>(kj::mv(job)))) {
      return KJ_EXCEPTION(OVERLOADED, "resource_exhausted: server busy: worker queue full");
    }
    return kj::mv(paf.promise);
  }

  size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  // True when no job is queued or running, and every finished job (its captures, its fulfiller)
  // has been destroyed. The message-handling fuzz target waits for this between inputs.
  bool Idle() const {
    // queued_ first: a worker counts a job as running before it stops counting it as queued.
    return queued_.load(std::memory_order_seq_cst) == 0 &&
           running_.load(std::memory_order_seq_cst) == 0;
  }
  size_t threads() const { return threads_.size(); }

 private:
  bool Push(kj::Function<void()> job);
  void Loop();

  const size_t max_queued_;
  const WaitObserver on_wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<kj::Function<void()>> queue_;
  bool stopping_ = false;
  std::atomic<size_t> queued_{0};
  std::atomic<size_t> running_{0};
  std::vector<std::thread> threads_;
};

}  // namespace hashmatch::daemon

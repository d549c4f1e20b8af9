#include "worker_pool.h"

namespace hashmatch::daemon {

WorkerPool::WorkerPool(size_t threads, size_t max_queued, WaitObserver on_wait)
    : max_queued_(max_queued), on_wait_(std::move(on_wait)) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  std::deque<kj::Function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  // `dropped` is destroyed here: each job's fulfiller rejects its promise.
}

bool WorkerPool::Push(kj::Function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(kj::mv(job));
    queued_.store(queue_.size(), std::memory_order_relaxed);
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Loop() {
  for (;;) {
    {
      kj::Function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = kj::mv(queue_.front());
        queue_.pop_front();
        running_.fetch_add(1, std::memory_order_seq_cst);
        queued_.store(queue_.size(), std::memory_order_seq_cst);
      }
      job();
    }  // the job is destroyed before it stops counting as running
    running_.fetch_sub(1, std::memory_order_seq_cst);
  }
}

}  // namespace hashmatch::daemon

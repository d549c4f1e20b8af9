// WorkerPool::Idle: false while a job is queued or running, true only once every finished job has
// also been destroyed (the fuzz target relies on this to keep each input's frees within it).
#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "worker_pool.h"

namespace hashmatch::daemon {
namespace {

// Sets `flag` when destroyed: tells whether a job's captures are gone.
struct Sentinel {
  explicit Sentinel(std::atomic<bool>* f) : flag(f) {}
  Sentinel(Sentinel&& o) noexcept : flag(o.flag) { o.flag = nullptr; }
  ~Sentinel() {
    if (flag != nullptr) flag->store(true);
  }
  std::atomic<bool>* flag;
};

bool WaitIdle(const WorkerPool& pool) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pool.Idle()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

TEST(WorkerPoolTest, IdleOnlyOnceJobsAreFinishedAndDestroyed) {
  auto io = kj::setupAsyncIo();
  WorkerPool pool(1, 8);
  EXPECT_TRUE(pool.Idle());

  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first_destroyed{false}, second_destroyed{false};
  auto first = pool.Run<int>([released, s = Sentinel(&first_destroyed)]() {
    released.wait();
    return 1;
  });
  auto second = pool.Run<int>([s = Sentinel(&second_destroyed)]() { return 2; });
  // The first job holds the only worker: one running, one queued.
  EXPECT_FALSE(pool.Idle());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.queued() != 1 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(pool.queued(), 1u);  // the worker has taken the first
  EXPECT_FALSE(pool.Idle());

  release.set_value();
  EXPECT_EQ(first.wait(io.waitScope), 1);
  EXPECT_EQ(second.wait(io.waitScope), 2);
  ASSERT_TRUE(WaitIdle(pool));
  // Idle implies the jobs (and what they captured) have been destroyed.
  EXPECT_TRUE(first_destroyed.load());
  EXPECT_TRUE(second_destroyed.load());
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkerPoolTest, IdleAfterAJobWhoseCallerGaveUp) {
  auto io = kj::setupAsyncIo();
  WorkerPool pool(1, 8);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> destroyed{false};
  {
    auto blocker = pool.Run<int>([released]() {
      released.wait();
      return 0;
    });
    // Dropped before the worker reaches it: it is skipped, but still counts until destroyed.
    auto dropped = pool.Run<int>([s = Sentinel(&destroyed)]() { return 1; });
  }
  EXPECT_FALSE(pool.Idle());
  release.set_value();
  ASSERT_TRUE(WaitIdle(pool));
  EXPECT_TRUE(destroyed.load());
}

}  // namespace
}  // namespace hashmatch::daemon

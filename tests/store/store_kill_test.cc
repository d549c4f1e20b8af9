// SIGKILL at random points: a child process (store_crash_helper, fork + exec) imports numbered
// transactions into a store and is killed at least 24 times, at random moments: during commits,
// staged imports, snapshots, and its own recovery. After each kill the store must open and hold
// every transaction the child reported, at most the one it was committing when killed, and
// nothing of the rest: each transaction entirely or not at all, with its checkpoint.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>

#include <chrono>
#include <random>
#include <thread>

#include "crash_workload.h"

namespace hashmatch {
namespace {

struct ChildRun {
  long reported = -1;  // the last "COMMITTED i" read
  bool exited = false;
  int status = 0;
};

// Runs the helper; kills it after `commits` reported commits plus `extra` of time (or lets it
// exit when kill is false).
ChildRun RunChild(const std::string& dir, long last, bool kill, int commits,
                  std::chrono::microseconds extra) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    const std::string l = std::to_string(last);
    ::execl(HM_CRASH_HELPER, HM_CRASH_HELPER, dir.c_str(), l.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  ChildRun run;
  std::string buf;
  int seen = 0;
  auto parse = [&] {
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
      const std::string line = buf.substr(0, nl);
      if (line.rfind("COMMITTED ", 0) == 0) {
        run.reported = std::stol(line.substr(10));
        ++seen;
      }
    }
  };
  auto read_some = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char tmp[4096];
    const ssize_t n = ::read(fds[0], tmp, sizeof tmp);
    if (n <= 0) return false;  // EOF: the child exited
    buf.append(tmp, size_t(n));
    parse();
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool open = true;
  while (open && (!kill || seen < commits) && std::chrono::steady_clock::now() < deadline) {
    open = read_some(50);
  }
  if (kill) {
    std::this_thread::sleep_for(extra);
    ::kill(pid, SIGKILL);
  }
  while (read_some(1000)) {
  }
  ::close(fds[0]);
  ::waitpid(pid, &run.status, 0);
  run.exited = WIFEXITED(run.status);
  return run;
}

// Checks that the store holds exactly transactions 0..k, and returns k. While nothing has been
// committed the child may have been killed before it created the store at all (no directory, or
// no CURRENT file yet): that is the state "no transaction", k = -1.
long Verify(const std::string& dir, bool may_be_absent = false) {
  auto opened = HashSetStore::Open(dir);
  if (may_be_absent && !opened.ok() && opened.status().code() == StatusCode::kNotFound) return -1;
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return -2;
  const HashSetStore& s = *opened.value();
  const long k = crash::LastCommitted(s);
  auto snap = s.GetSnapshot();
  uint64_t live = 0;
  for (long i = 0; i <= k + 2; ++i) {
    const bool present = i <= k;
    for (int j = 0; j < crash::Records(i); ++j) {
      auto e = snap->GetEntry(crash::kSet, crash::Key(i, j));
      if (!present) {
        EXPECT_FALSE(e.ok()) << "txn " << i << " > checkpoint " << k << " left "
                             << crash::Key(i, j);
        if (e.ok()) return -2;
        continue;
      }
      if (!e.ok()) {
        ADD_FAILURE() << "txn " << i << " <= checkpoint " << k << " lacks " << crash::Key(i, j);
        return -2;
      }
      const bool deleted = j < crash::kDeletesPerTxn && i + 2 <= k;
      EXPECT_EQ(e->deleted, deleted) << crash::Key(i, j) << " at checkpoint " << k;
      EXPECT_EQ(e->code, crash::Code(i, j));
      live += !deleted;
    }
  }
  if (k >= 0) {
    EXPECT_EQ(s.GetSet(crash::kSet)->counts.live, live);
  }
  return k;
}

TEST(StoreKill, SigkillAtRandomPointsKeepsTransactionsWhole) {
  const std::filesystem::path base =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  const std::string dir = (base / testing::Str("hm-kill-", ::getpid())).string();
  std::filesystem::remove_all(dir);
  // HM_KILL_SEED replays a printed seed (the kill points also depend on timing).
  const char* seed_env = std::getenv("HM_KILL_SEED");
  const uint64_t seed = seed_env ? std::stoull(seed_env) : std::random_device{}();
  std::cout << "seed " << seed << std::endl;
  std::mt19937_64 rng(seed);
  long k = -1;
  int kills = 0, mid_txn = 0;
  for (; kills < 24; ++kills) {
    const int commits = int(rng() % 4);                            // 0: often during recovery
    const auto extra = std::chrono::microseconds(rng() % 25'000);  // then up to 25 ms more
    const ChildRun run = RunChild(dir, 1'000'000, true, commits, extra);
    ASSERT_FALSE(run.exited) << "the helper exited (status " << run.status
                             << ") instead of being killed";
    const long before = k;
    k = Verify(dir, before == -1 && run.reported == -1);
    ASSERT_GE(k, -1) << "kill " << kills;
    // Every reported commit survived; at most the one in flight is there unreported.
    ASSERT_GE(k, std::max(before, run.reported)) << "kill " << kills;
    ASSERT_LE(k, std::max(before, run.reported) + 1) << "kill " << kills;
    mid_txn += k == std::max(before, run.reported) + 1;
  }
  // A last run to completion, then a clean open.
  const ChildRun done = RunChild(dir, k + 4, false, 0, {});
  ASSERT_TRUE(done.exited && WEXITSTATUS(done.status) == 0) << done.status;
  EXPECT_EQ(Verify(dir), k + 4);
  std::cout << kills << " kills, last transaction " << k + 4 << ", " << mid_txn
            << " kills after a commit was durable but before it was reported" << std::endl;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hashmatch

// Kill and resume: the real `hashmatch scan` (fork + exec) is SIGKILLed at random moments while it
// scans tar shards (one of them damaged), a directory and a manifest, then resumed with --resume,
// again and again until a run completes. The output, keep and drop files must then be byte for byte
// those of an uninterrupted scan: no item repeated, none skipped. After every kill, the bytes the
// checkpoint vouches for must already equal the reference's prefix.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "scan_fixture.h"

namespace hashmatch {
namespace {

using namespace hashmatch::testing;
using Clock = std::chrono::steady_clock;

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A checkpoint's "key value" line, or -1.
long long CheckpointValue(const fs::path& p, const std::string& key) {
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key + " ", 0) == 0) return std::stoll(line.substr(key.size() + 1));
  }
  return -1;
}

struct Child {
  pid_t pid = -1;
};

Child Start(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(HASHMATCH_CLI));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(HASHMATCH_CLI, argv.data());
    ::_exit(127);
  }
  return {pid};
}

// Lets the child run until `ready()` holds (polled), then `extra` more, then SIGKILLs it. Returns
// true if it was killed, false if it exited by itself first (*status set).
template <class Ready>
bool KillWhen(const Child& c, Ready ready, Clock::duration extra, int* status) {
  const auto give_up = Clock::now() + std::chrono::seconds(120);
  while (!ready() && Clock::now() < give_up) {
    if (::waitpid(c.pid, status, WNOHANG) == c.pid) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  std::this_thread::sleep_for(extra);
  ::kill(c.pid, SIGKILL);
  ::waitpid(c.pid, status, 0);
  // It may have exited just before the signal.
  return !WIFEXITED(*status);
}

TEST(ScanKillTest, KilledAndResumedScanEqualsAnUninterruptedOne) {
  TempDir tmp("hm-scan-kill");
  const fs::path root = tmp.path();
  // 3 shards of 40 images (and a JSON member each), a corrupt member; a directory of 30; a
  // manifest naming 10 of the directory's files again.
  std::vector<Bytes> images;
  for (int i = 0; i < 150; ++i) images.push_back(FixtureImage(i));
  for (int s = 0; s < 3; ++s) {
    std::vector<std::pair<std::string, Bytes>> members;
    for (int k = 0; k < 40; ++k) {
      const int i = s * 40 + k;
      char key[32];
      std::snprintf(key, sizeof key, "%06d", i);
      members.emplace_back(std::string(key) + (i % 2 ? ".png" : ".jpg"), images[i]);
      members.emplace_back(std::string(key) + ".json", Bytes{'{', '}'});
      if (s == 1 && k == 7) members.emplace_back("corrupt.jpg", CorruptJpeg(3));
    }
    WriteTar(root / "shards" / ("shard-" + std::to_string(s) + ".tar"), members);
  }
  {  // and a damaged shard: shard 0 cut in the middle of a member
    const std::string whole = ReadAll(root / "shards" / "shard-0.tar");
    WriteText(root / "shards" / "zz-truncated.tar", whole.substr(0, whole.size() / 2 + 1000));
  }
  std::string manifest;
  for (int i = 120; i < 150; ++i) {
    const std::string name = "img" + std::to_string(i) + (i % 2 ? ".png" : ".jpg");
    WriteFile(root / "dir" / name, images[i]);
    if (i % 3 == 0) manifest += "dir/" + name + "\n";
  }
  WriteText(root / "list.txt", manifest);
  std::vector<EntryRecord> pdq, md5, allow;
  for (int i = 0; i < 150; i += 7) {
    pdq.push_back(Record("p" + std::to_string(i), SignalType::kPdq, PdqOf(images[i])));
  }
  for (int i = 3; i < 150; i += 11) {
    md5.push_back(Record("m" + std::to_string(i), SignalType::kMd5, Md5Of(images[i])));
  }
  allow.push_back(Record("ok14", SignalType::kPdq, PdqOf(images[14])));
  MakeStore(root / "store", pdq, md5, allow).reset();

  auto args = [&](const std::string& prefix, bool resume, const char* interval = "0") {
    std::vector<std::string> a = {"scan",
                                  "--store",
                                  (root / "store").string(),
                                  "--out",
                                  (root / (prefix + ".jsonl")).string(),
                                  "--keep",
                                  (root / (prefix + ".keep")).string(),
                                  "--drop",
                                  (root / (prefix + ".drop")).string(),
                                  "--all-items",
                                  "--threads",
                                  "2",
                                  "--checkpoint-interval",
                                  interval,
                                  "--no-progress",
                                  (root / "shards").string(),
                                  (root / "dir").string(),
                                  "--manifest",
                                  (root / "list.txt").string()};
    if (resume) a.push_back("--resume");
    return a;
  };

  // The uninterrupted reference, timed to place the kills.
  const auto t0 = Clock::now();
  int status = 0;
  const Child ref = Start(args("ref", false));
  ASSERT_EQ(::waitpid(ref.pid, &status, 0), ref.pid);
  const auto ref_time = Clock::now() - t0;
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 1);  // the corrupt member
  const std::string want_out = ReadAll(root / "ref.jsonl");
  const std::string want_keep = ReadAll(root / "ref.keep");
  const std::string want_drop = ReadAll(root / "ref.drop");
  const size_t items = size_t(std::count(want_out.begin(), want_out.end(), '\n'));
  // The shards, the damaged one's members up to the cut plus its error item, the directory and
  // the manifest.
  ASSERT_GT(items, 3u * 40 + 1 + 30 + 10 + 10);
  ASSERT_NE(want_drop, "");
  ASSERT_NE(want_keep, "");

  std::mt19937_64 rng(std::random_device{}());
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  // Scans from scratch, each killed again and again (resumed after every kill) until a run
  // completes; then its files must equal the reference. Repeated until 12 kills have landed (a
  // fast scan may complete before its kills do; at least 8 must land).
  int kills = 0, runs = 0, scans = 0;
  std::set<long long> kill_points;  // items done at each kill
  const fs::path ckpt = root / "run.jsonl.checkpoint";
  while (kills < 12 && scans < 6) {
    ++scans;
    // Checkpoints after every item, or every 50 / 200 ms (then more lines after the last one are
    // cut back and rescanned; the interval is not part of the fingerprint). At most 6 kills per
    // scan, so that every interval gets its turn.
    const char* intervals[] = {"0", "0.05", "0.2"};
    const char* interval = intervals[(scans - 1) % 3];
    int scan_kills = 0;
    for (const char* f : {"run.jsonl", "run.keep", "run.drop", "run.jsonl.checkpoint"}) {
      fs::remove(root / f);
    }
    for (int run = 0;; ++run, ++runs) {
      ASSERT_LT(run, 100) << "the scan never completed";
      const long long before = std::max(0LL, CheckpointValue(ckpt, "items"));
      const Child c = Start(args("run", true, interval));
      bool killed = false;
      if (scan_kills < 6) {
        // Kill once the scan has passed a random item (1..half of what is left), plus 0..3 ms so
        // the signal lands anywhere in the write/fsync/checkpoint cycle. A scan's first run is
        // cut by time alone, maybe before its first checkpoint.
        const long long target =
            before + 1 + (long long)(uniform(0, 0.5) * double(items - size_t(before)));
        const auto extra = std::chrono::microseconds((long long)uniform(0, 3000));
        if (run == 0) {
          const double ref_us = std::chrono::duration<double, std::micro>(ref_time).count();
          const auto t = std::chrono::microseconds((long long)(uniform(0, 0.3) * ref_us));
          killed = KillWhen(
              c, [] { return true; }, t, &status);
        } else {
          killed = KillWhen(
              c, [&] { return CheckpointValue(ckpt, "items") >= target; }, extra, &status);
        }
      } else {
        ASSERT_EQ(::waitpid(c.pid, &status, 0), c.pid);
      }
      if (!killed) break;
      ++kills;
      ++scan_kills;
      // What the checkpoint vouches for is already the reference's prefix.
      const long long done = CheckpointValue(ckpt, "items");
      const long long out_bytes = CheckpointValue(ckpt, "out_bytes");
      if (done >= 0) {
        kill_points.insert(done);
        const std::string got = ReadAll(root / "run.jsonl");
        ASSERT_GE(got.size(), size_t(out_bytes));
        EXPECT_EQ(got.substr(0, size_t(out_bytes)), want_out.substr(0, size_t(out_bytes)))
            << "after kill " << kills;
      }
    }
    ++runs;
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_EQ(ReadAll(root / "run.jsonl"), want_out) << "scan " << scans;
    EXPECT_EQ(ReadAll(root / "run.keep"), want_keep) << "scan " << scans;
    EXPECT_EQ(ReadAll(root / "run.drop"), want_drop) << "scan " << scans;
  }
  // Killed at several points mid-scan, not only before the first item or after the last.
  size_t mid = 0;
  for (long long p : kill_points) mid += p > 0 && p < (long long)items;
  std::cout << "kills: " << kills << " in " << runs << " runs of " << scans
            << " scans; distinct mid-scan points: " << mid << " (reference "
            << std::chrono::duration<double>(ref_time).count() << " s)\n";
  EXPECT_GE(kills, 8);
  EXPECT_GE(mid, 5u);
}

}  // namespace
}  // namespace hashmatch

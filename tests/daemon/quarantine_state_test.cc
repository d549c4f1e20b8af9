// Persistence of the daemon's surge quarantine (daemon/src/quarantine_file.h, hot_entries.h): the
// file format round trip, malformed files refused with their line, the quarantined list written
// on every quarantine and release and read back by a new HotEntries, write failures counted with
// the state still in force, quarantined entries never forgotten when idle, and a power loss at
// every fsync/rename boundary of a write leaving the old file or the new one (FaultInjectionEnv).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fault_injection_env.h"
#include "hashmatch/daemon/config.h"
#include "hot_entries.h"
#include "quarantine_file.h"

namespace hashmatch::daemon {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/hm-quarantine-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One query per hit, each hitting `set`/`key`.
EngineResult Hits(const std::string& set, const std::string& key, size_t n) {
  EngineResult r;
  for (size_t i = 0; i < n; ++i) {
    EngineQueryResult q;
    EngineHit h;
    h.hit.set = set;
    h.hit.entry.key = key;
    q.hits.push_back(h);
    r.queries.push_back(std::move(q));
  }
  return r;
}

size_t Quarantined(const EngineResult& r) {
  size_t n = 0;
  for (const EngineQueryResult& q : r.queries) n += q.quarantined.size();
  return n;
}

const Clock::time_point kT0 = Clock::time_point(std::chrono::minutes(1'000'000));
constexpr QuarantineConfig kDetect{5, 2};  // more than 5 hits in a minute, over 2x usual

// Quarantines setA/k0 in `h` (8 hits in one minute: the 6th and later are quarantined).
void Surge(HotEntries& h, const std::string& key = "k0") {
  EngineResult r = Hits("setA", key, 8);
  h.Apply(&r, kT0);
  ASSERT_EQ(Quarantined(r), 3u);
  ASSERT_EQ(r.total_hits, 5u);
}

bool Same(const QuarantinedEntry& a, const QuarantinedEntry& b) {
  return a.set == b.set && a.key == b.key && a.since == b.since &&
         a.hits_this_minute == b.hits_this_minute && a.usual_per_minute == b.usual_per_minute;
}

TEST(QuarantineFileTest, RoundTripKeepsEveryByteAndRate) {
  const std::vector<QuarantinedEntry> in = {
      {"setA", "k0", 1'764'300'000, 6, 0},
      {"set B%", "key with spaces\tand\nnewline %41", 1'764'300'001, 123456789012, 0.1},
      {"NCMEC_PDQ", "42:img1:pdq", 1, 0, 1.0 / 3},
      {"s", "utf8-\xc3\xa9\x7f\x01", 2, 7, 1e300},
  };
  const std::string text = EncodeQuarantineFile(in);
  auto out = ParseQuarantineFile(text, "f");
  ASSERT_TRUE(out.ok()) << out.status().ToString() << "\n" << text;
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_TRUE(Same((*out)[i], in[i])) << i;
  // Every entry is one line: the escapes leave no space or newline inside a field.
  EXPECT_NE(text.find("entry set%20B%25 key%20with%20spaces%09and%0Anewline%20%2541 "),
            std::string::npos)
      << text;
  auto empty = ParseQuarantineFile(EncodeQuarantineFile({}), "f");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
}

TEST(QuarantineFileTest, MalformedFilesAreRefusedWithTheirLine) {
  const std::string h = "hashmatchd-quarantine 1\n";
  const std::string e = "entry setA k0 1764300000 6 0.5\n";
  const struct {
    std::string text, want;
  } cases[] = {
      {"", "f:0: empty file"},
      {"# only a comment\n", "f:1: empty file"},
      {"hashmatchd-quarantine 2\nend 0\n", "f:1: unsupported version 2"},
      {"something else\n", "f:1: expected the header"},
      {h + e, "f:2: no 'end' line"},
      {h + e + "end 2\n", "f:3: 'end' says 2 entries, the file has 1"},
      {h + e + "end 1\n" + e, "f:4: text after the 'end' line"},
      {h + e + "end 1", "f:3: the last line has no newline"},
      {h + "entry setA k0 1764300000 6\nend 1\n", "f:2: expected 'entry SET KEY SINCE HITS USUAL'"},
      {h + "entry setA k0 soon 6 0\nend 1\n", "f:2: SINCE expects unix seconds"},
      {h + "entry setA k0 0 6 0\nend 1\n", "f:2: SINCE expects unix seconds"},
      {h + "entry setA k0 1764300000 -6 0\nend 1\n", "f:2: HITS expects a count"},
      {h + "entry setA k0 1764300000 6 nan\nend 1\n", "f:2: USUAL expects a rate >= 0"},
      {h + "entry setA k0 1764300000 6 -1\nend 1\n", "f:2: USUAL expects a rate >= 0"},
      {h + "entry setA k%4 1764300000 6 0\nend 1\n", "f:2: malformed key"},
      {h + "entry set%zz k0 1764300000 6 0\nend 1\n", "f:2: malformed set name"},
      {h + "\n# c\n" + e + e + "end 2\n", "f:5: entry setA/k0 listed twice"},
      {h + "release setA k0\nend 0\n", "f:2: expected 'entry' or 'end'"},
  };
  for (const auto& c : cases) {
    auto r = ParseQuarantineFile(c.text, "f");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.want), std::string::npos)
        << "got: " << r.status().message() << "\nwant: " << c.want << "\ntext:\n"
        << c.text;
  }
}

TEST(QuarantineConfigTest, StateFileDefaultsToTheStoreDirectory) {
  const std::string server = "[server]\nstore = data/store\n";
  auto d = ParseConfig(server, "c", "/etc/hm");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->quarantine.state_file, fs::path("/etc/hm/data/store/hashmatchd.quarantine"));
  auto rel = ParseConfig(server + "[quarantine]\nstate_file = q/state\n", "c", "/etc/hm");
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_EQ(rel->quarantine.state_file, fs::path("/etc/hm/q/state"));
  auto empty = ParseConfig(server + "[quarantine]\nstate_file =\n", "c", "/etc/hm");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("c:4: state_file expects a path"), std::string::npos)
      << empty.status().ToString();
}

TEST(HotEntriesPersistenceTest, QuarantineSurvivesARestartUntilReleased) {
  TempDir dir;
  const fs::path file = dir.path() / "hashmatchd.quarantine";
  {
    HotEntries h(kDetect, file);
    ASSERT_TRUE(h.Load().ok());
    EXPECT_FALSE(fs::exists(file));  // nothing quarantined, nothing written
    Surge(h);
    EXPECT_EQ(h.writes(), 1u);  // one write for the quarantine, none for the hits after it
    EngineResult more = Hits("setA", "k0", 3);
    h.Apply(&more, kT0);
    EXPECT_EQ(Quarantined(more), 3u);
    EXPECT_EQ(h.writes(), 1u);
  }
  auto on_disk = ReadQuarantineFile(Env::Default(), file);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status().ToString();
  ASSERT_EQ(on_disk->size(), 1u);
  EXPECT_EQ((*on_disk)[0].set, "setA");
  EXPECT_EQ((*on_disk)[0].key, "k0");
  EXPECT_EQ((*on_disk)[0].hits_this_minute, 6u);  // the rate that triggered it
  EXPECT_GT((*on_disk)[0].since, 0);

  // "Restart": a new HotEntries quarantines the entry from its first hit, even with detection
  // off (min_hits_per_minute = 0 stops new quarantines, not the ones in force).
  for (QuarantineConfig cfg : {kDetect, QuarantineConfig{0, 10}}) {
    HotEntries h(cfg, file);
    auto n = h.Load();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(h.quarantined(), 1u);
    ASSERT_EQ(h.List().size(), 1u);
    EXPECT_TRUE(Same(h.List()[0], (*on_disk)[0]));
    EngineResult r = Hits("setA", "k0", 1);
    EngineResult other = Hits("setA", "k1", 1);
    h.Apply(&r, kT0 + std::chrono::hours(5));
    h.Apply(&other, kT0 + std::chrono::hours(5));
    EXPECT_EQ(Quarantined(r), 1u);
    EXPECT_EQ(r.total_hits, 0u);
    EXPECT_EQ(other.total_hits, 1u);
  }

  {
    HotEntries h(kDetect, file);
    ASSERT_TRUE(h.Load().ok());
    EXPECT_FALSE(h.Release("setA", "nope"));
    EXPECT_EQ(h.writes(), 0u);
    EXPECT_TRUE(h.Release("setA", "k0", kT0 + std::chrono::hours(5)));
    EXPECT_EQ(h.writes(), 1u);
    EXPECT_EQ(h.quarantined(), 0u);
    // Released after a restart, the rate that triggered it counts as usual: the same rate again
    // does not quarantine it at once.
    EngineResult r = Hits("setA", "k0", 8);
    h.Apply(&r, kT0 + std::chrono::hours(5));
    EXPECT_EQ(Quarantined(r), 0u);
  }
  auto after = ReadQuarantineFile(Env::Default(), file);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->empty());
  HotEntries h(kDetect, file);
  ASSERT_TRUE(h.Load().ok());
  EngineResult r = Hits("setA", "k0", 1);
  h.Apply(&r, kT0);
  EXPECT_EQ(r.total_hits, 1u);
  EXPECT_EQ(Quarantined(r), 0u);
}

TEST(HotEntriesPersistenceTest, CorruptFileIsRefusedWithItsLineAndChangesNothing) {
  TempDir dir;
  const fs::path file = dir.path() / "q";
  const std::string text =
      "hashmatchd-quarantine 1\nentry setA k0 1764300000 6 0\nentry setA k1 17x 6 0\nend 2\n";
  std::ofstream(file) << text;
  HotEntries h(kDetect, file);
  auto n = h.Load();
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find(file.string() + ":3: SINCE"), std::string::npos)
      << n.status().ToString();
  EXPECT_EQ(h.quarantined(), 0u);
  EXPECT_EQ(ReadAll(file), text);  // not rewritten, not removed
}

TEST(HotEntriesPersistenceTest, QuarantinedEntriesAreNeverForgottenWhenIdle) {
  HotEntries h(kDetect);  // in memory: the rule is the same
  Surge(h);
  Surge(h, "k9");
  ASSERT_TRUE(h.Release("setA", "k9", kT0));
  // Hours later (the idle sweep runs on every Apply at least 10 minutes after the last one).
  for (int hours = 2; hours <= 48; hours += 2) {
    EngineResult other = Hits("setB", "x", 1);
    h.Apply(&other, kT0 + std::chrono::hours(hours));
  }
  EXPECT_EQ(h.quarantined(), 1u);
  ASSERT_EQ(h.List().size(), 1u);
  EXPECT_EQ(h.List()[0].key, "k0");
  EngineResult r = Hits("setA", "k0", 1);
  h.Apply(&r, kT0 + std::chrono::hours(49));
  EXPECT_EQ(Quarantined(r), 1u);
}

TEST(HotEntriesPersistenceTest, WriteFailureIsCountedAndTheStateStillApplies) {
  TempDir dir;
  const fs::path file = dir.path() / "missing-dir" / "q";  // no such directory: writes fail
  HotEntries h(kDetect, file);
  ASSERT_TRUE(h.Load().ok());
  Surge(h);
  EXPECT_EQ(h.write_failures(), 1u);
  EXPECT_EQ(h.writes(), 0u);
  EXPECT_EQ(h.quarantined(), 1u);
  EngineResult r = Hits("setA", "k0", 1);
  h.Apply(&r, kT0);
  EXPECT_EQ(Quarantined(r), 1u);
  EXPECT_EQ(h.write_failures(), 1u);  // the hits after it do not retry the write
  // The next change writes the whole list: the directory is back, a second entry is quarantined.
  fs::create_directory(dir.path() / "missing-dir");
  Surge(h, "k1");
  EXPECT_EQ(h.writes(), 1u);
  auto on_disk = ReadQuarantineFile(Env::Default(), file);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status().ToString();
  ASSERT_EQ(on_disk->size(), 2u);
  EXPECT_EQ((*on_disk)[0].key, "k0");
  EXPECT_EQ((*on_disk)[1].key, "k1");
}

TEST(HotEntriesPersistenceTest, DroppedSetsReleaseTheirEntries) {
  TempDir dir;
  const fs::path file = dir.path() / "q";
  HotEntries h(kDetect, file);
  Surge(h);
  EngineResult b = Hits("setB", "k0", 8);
  h.Apply(&b, kT0);
  ASSERT_EQ(h.quarantined(), 2u);
  auto dropped = h.DropSets([](const std::string& set) { return set != "setA"; });
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].set, "setA");
  EXPECT_EQ(h.quarantined(), 1u);
  auto on_disk = ReadQuarantineFile(Env::Default(), file);
  ASSERT_TRUE(on_disk.ok());
  ASSERT_EQ(on_disk->size(), 1u);
  EXPECT_EQ((*on_disk)[0].set, "setB");
  const uint64_t writes = h.writes();
  EXPECT_TRUE(h.DropSets([](const std::string&) { return true; }).empty());
  EXPECT_EQ(h.writes(), writes);  // nothing dropped, nothing written
}

// Workers quarantine and release concurrently: each change is written outside the state lock, and
// an older list never overwrites a newer one, so the file ends equal to the state in memory.
TEST(HotEntriesPersistenceTest, ConcurrentChangesLeaveTheLatestListOnDisk) {
  TempDir dir;
  const fs::path file = dir.path() / "q";
  HotEntries h(kDetect, file);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&h, t]() {
      for (int i = 0; i < 10; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        EngineResult r = Hits("setA", key, 8);
        h.Apply(&r, kT0);
        if (i % 2 == 1) h.Release("setA", key, kT0);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  EXPECT_EQ(h.quarantined(), 20u);
  EXPECT_EQ(h.write_failures(), 0u);
  auto on_disk = ReadQuarantineFile(Env::Default(), file);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status().ToString();
  const std::vector<QuarantinedEntry> mem = h.List();
  ASSERT_EQ(on_disk->size(), mem.size());
  for (size_t i = 0; i < mem.size(); ++i) EXPECT_TRUE(Same((*on_disk)[i], mem[i])) << i;
}

// A power loss at each fsync/rename boundary of a write (quarantine of k1 over a file that lists
// k0): the file that survives is the old list or the new one, never a mixture, and parses.
TEST(HotEntriesPersistenceTest, PowerLossDuringAWriteLeavesTheOldFileOrTheNew) {
  size_t saw_old = 0, saw_new = 0;
  for (uint64_t n = 1;; ++n) {
    TempDir dir;
    const fs::path file = dir.path() / "hashmatchd.quarantine";
    {
      HotEntries first(kDetect, file);
      Surge(first);  // the old file: k0
      ASSERT_EQ(first.writes(), 1u);
    }
    testing::FaultInjectionEnv env(dir.path());  // what is on disk now is durable
    bool crashed = false;
    {
      HotEntries h(kDetect, file, &env);
      ASSERT_TRUE(h.Load().ok());
      env.CrashAt(n);
      Surge(h, "k1");  // the state applies in memory whatever the disk did
      EXPECT_EQ(h.quarantined(), 2u);
      crashed = env.crashed();
      EXPECT_EQ(h.write_failures(), crashed ? 1u : 0u) << n;
    }
    env.RestoreDurableState();
    auto on_disk = ReadQuarantineFile(Env::Default(), file);
    ASSERT_TRUE(on_disk.ok()) << "boundary " << n << ": " << on_disk.status().ToString();
    ASSERT_TRUE(on_disk->size() == 1 || on_disk->size() == 2) << n;
    EXPECT_EQ((*on_disk)[0].key, "k0");
    (on_disk->size() == 1 ? saw_old : saw_new)++;
    if (!crashed) {
      EXPECT_EQ(on_disk->size(), 2u);  // no crash: the new list, durable
      break;
    }
    ASSERT_LT(n, 20u) << "the write never finished";
  }
  EXPECT_GE(saw_old, 2u);  // crashes before the rename, and before the directory's fsync
  EXPECT_GE(saw_new, 1u);
}

}  // namespace
}  // namespace hashmatch::daemon

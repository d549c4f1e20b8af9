// The operations side of the real hashmatchd: the HTTP port (/healthz, /readyz before and after
// the store loads, /metrics with request counters, latency histograms and per-set gauges) and
// the audit log of matches (one JSON line per hit, reopened on SIGHUP for rotation).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "daemon_harness.h"
#include "hashmatch/hashsets/env.h"
#include "quarantine_file.h"
#include "test_util.h"

namespace hashmatch::testing {
namespace {

const std::string kHash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

struct HttpReply {
  int status = 0;
  std::string body;
};

// One GET over a plain socket (HTTP/1.1, the server closes after the answer).
HttpReply Get(uint16_t port, const std::string& path) {
  HttpReply r;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return r;
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) all.append(buf, size_t(n));
  close(fd);
  if (all.rfind("HTTP/1.1 ", 0) == 0) r.status = std::stoi(all.substr(9, 3));
  const size_t body = all.find("\r\n\r\n");
  if (body != std::string::npos) r.body = all.substr(body + 4);
  return r;
}

uint16_t ReadPort(const fs::path& p) {
  std::ifstream in(p);
  int port = 0;
  in >> port;
  return uint16_t(port);
}

TEST(DaemonOpsTest, HealthReadinessAndMetrics) {
  Daemon d("[testing]\nload_delay_ms = 1000\n");
  d.server_extra = "http_listen = 127.0.0.1:0\nhttp_port_file = " + (d.dir() / "http").string();
  d.Start();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const uint16_t http = ReadPort(d.dir() / "http");
  ASSERT_GT(http, 0);
  EXPECT_EQ(Get(http, "/healthz").status, 200);
  HttpReply loading = Get(http, "/readyz");
  EXPECT_EQ(loading.status, 503);
  EXPECT_EQ(loading.body, "loading\n");
  d.WaitReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(Get(http, "/readyz").status, 200);
  EXPECT_EQ(Get(http, "/nope").status, 404);

  auto admin = d.Admin();
  MakePdqSet(*admin, "setA", {kHash});
  auto m = admin->Match({client::Query{{{"pdq", kHash, {}}}, -1}});
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(admin->CreateSet({.name = "setA"}).ok());  // exists: an error to count
  HttpReply metrics = Get(http, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string& b = metrics.body;
  for (const std::string& line : {
           std::string("hashmatch_ready 1\n"),
           std::string("hashmatch_requests_total{method=\"Matcher.match\"} 1\n"),
           std::string("hashmatch_request_errors_total{method=\"SetAdmin.createSet\"} 1\n"),
           std::string("hashmatch_request_duration_seconds_count{method=\"Matcher.match\"} 1\n"),
           std::string("hashmatch_queries_total 1\n"),
           std::string("hashmatch_matches_total 1\n"),
           std::string("hashmatch_set_entries{set=\"setA\",signal=\"pdq\"} 1\n"),
           std::string("hashmatch_set_version{set=\"setA\",signal=\"pdq\"} 2\n"),
           std::string("# TYPE hashmatch_request_duration_seconds histogram\n"),
       }) {
    EXPECT_NE(b.find(line), std::string::npos) << "missing: " << line << "in:\n" << b;
  }
  EXPECT_NE(b.find("hashmatch_set_seconds_since_sync{set=\"setA\"} "), std::string::npos);
  EXPECT_NE(b.find("hashmatch_store_bytes "), std::string::npos);
  // Every call that ran on a worker (set creation, the page, the match) waited for one.
  const std::string wait_count = "\nhashmatch_worker_queue_wait_seconds_count ";
  const size_t at = b.find(wait_count);
  ASSERT_NE(at, std::string::npos) << b;
  EXPECT_GE(std::stoull(b.substr(at + wait_count.size())), 1u);
  EXPECT_NE(b.find("hashmatch_worker_queue_wait_seconds_bucket{le=\"+Inf\"} "), std::string::npos);
}

TEST(DaemonOpsTest, AuditLogRecordsEveryHitAndReopensOnSighup) {
  Daemon d;
  const fs::path audit = d.dir() / "audit.jsonl";
  d.server_extra = "audit_log = " + audit.string();
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto admin = d.Admin();
  MakePdqSet(*admin, "setA", {kHash});
  auto scan = d.Connect(d.tokens().scan);
  ASSERT_TRUE(scan.ok());
  std::vector<client::Query> q(3, client::Query{{{"pdq", kHash, {}}}, -1});
  q[1].hashes[0].hex = std::string(64, '0');  // no hit: not logged
  ASSERT_TRUE((*scan)->Match(q).ok());
  auto lines = ReadLines(audit);
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& l : lines) {
    EXPECT_NE(l.find("\"principal\":\"scanner\",\"roles\":\"scan\",\"set\":\"setA\","
                     "\"set_version\":2,\"key\":\"k0\",\"distance\":0"),
              std::string::npos)
        << l;
  }
  EXPECT_NE(lines[1].find("\"query\":2"), std::string::npos) << lines[1];

  // Rotation: move the file away, SIGHUP, the next hits go to a new file.
  fs::rename(audit, d.dir() / "audit.1");
  d.Reload();
  ASSERT_TRUE(d.WaitForLog("event=tokens_reloaded"));
  ASSERT_TRUE((*scan)->Match({q[0]}).ok());
  EXPECT_EQ(ReadLines(audit).size(), 1u);
  EXPECT_EQ(ReadLines(d.dir() / "audit.1").size(), 2u);
}

// The Unix socket: the same service beside TCP, mode 0660, removed at shutdown.
TEST(DaemonOpsTest, UnixSocket) {
  Daemon d;
  const fs::path sock = d.dir() / "hashmatchd.sock";
  d.server_extra = "unix_socket = " + sock.string();
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_EQ(fs::status(sock).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::group_write);
  client::ConnectOptions o;
  o.address = "unix:" + sock.string();
  o.token = d.tokens().admin;
  auto c = client::Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  MakePdqSet(**c, "setA", {kHash});
  auto m = (*c)->Match({client::Query{{{"pdq", kHash, {}}}, -1}});
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->results[0].hits.size(), 1u);
  c.value().reset();
  d.Stop();
  EXPECT_FALSE(fs::exists(sock));
}

// An entry that suddenly matches far more than usual is quarantined: its hits come back as
// quarantined, not as matches, until an admin releases it.
TEST(DaemonOpsTest, SurgingEntriesAreQuarantinedUntilReleased) {
  Daemon d("[quarantine]\nmin_hits_per_minute = 5\nsurge_factor = 2\n");
  d.server_extra = "audit_log = " + (d.dir() / "audit.jsonl").string();
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto admin = d.Admin();
  const std::string other = "6745a555e6786eac6c28974c696558eccdd4c3ced8e91f1c865530d972b909a6";
  MakePdqSet(*admin, "setA", {kHash, other});
  std::vector<client::Query> q(8, client::Query{{{"pdq", kHash, {}}}, -1});
  q.push_back(client::Query{{{"pdq", other, {}}}, -1});
  auto r = admin->Match(q);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  for (size_t i = 0; i < 8; ++i) {
    const bool hot = i >= 5;  // the 6th hit in a minute is over 5 and over 2x the usual (none)
    EXPECT_EQ(r->results[i].hits.size(), hot ? 0u : 1u) << i;
    EXPECT_EQ(r->results[i].quarantined.size(), hot ? 1u : 0u) << i;
  }
  EXPECT_EQ(r->results[8].hits.size(), 1u);  // another entry is not affected
  EXPECT_TRUE(d.WaitForLog("event=entry_quarantined set=setA key=k0"));
  size_t audited_quarantined = 0;
  for (const std::string& l : ReadLines(d.dir() / "audit.jsonl")) {
    audited_quarantined += l.find("\"quarantined\":true") != std::string::npos;
  }
  EXPECT_EQ(audited_quarantined, 3u);

  auto list = admin->ListQuarantined();
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "k0");
  auto scan = d.Connect(d.tokens().scan);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ((*scan)->ReleaseQuarantined("setA", "k0").error().code, "permission_denied");
  auto released = admin->ReleaseQuarantined("setA", "k0");
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(*released);
  EXPECT_FALSE(*admin->ReleaseQuarantined("setA", "k0"));
  auto again = (*scan)->Match({q[0]});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->results[0].hits.size(), 1u);
  EXPECT_TRUE(admin->ListQuarantined()->empty());
}

// ---- Quarantine across restarts (the state file, daemon/src/quarantine_file.h) -----------------

const char kSurge[] = "[quarantine]\nmin_hits_per_minute = 5\nsurge_factor = 2\n";

// The state file's default place: inside the store directory.
fs::path QuarantineFile(const Daemon& d) {
  return d.dir() / "store" / "hashmatchd.quarantine";
}

// The quarantined list on disk, parsed strictly (fails the test on a malformed file).
std::vector<daemon::QuarantinedEntry> OnDisk(const fs::path& file) {
  auto list = daemon::ReadQuarantineFile(Env::Default(), file);
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  return list.ok() ? *list : std::vector<daemon::QuarantinedEntry>{};
}

// Matches `hex` once; returns {hits, quarantined} of that query.
std::pair<size_t, size_t> MatchOnce(client::Client& c, const std::string& hex) {
  auto r = c.Match({client::Query{{{"pdq", hex, {}}}, -1}});
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  if (!r.ok()) return {0, 0};
  return {r->results[0].hits.size(), r->results[0].quarantined.size()};
}

// A 64-hex PDQ hash from `rng`: random bits (far from any other), with a bit count the store does
// not take for degenerate (96..160).
std::string RandomPdq(std::mt19937_64& rng) {
  for (;;) {
    std::string h;
    int bits = 0;
    for (int i = 0; i < 4; ++i) {
      const uint64_t w = rng();
      bits += __builtin_popcountll(w);
      char buf[17];
      std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(w));
      h += buf;
    }
    if (bits > 100 && bits < 156) return h;
  }
}

TEST(DaemonOpsTest, QuarantineSurvivesRestartsUntilReleased) {
  Daemon d(kSurge);
  d.server_extra = "http_listen = 127.0.0.1:0\nhttp_port_file = " + (d.dir() / "http").string();
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const std::string other = "6745a555e6786eac6c28974c696558eccdd4c3ced8e91f1c865530d972b909a6";
  {
    auto admin = d.Admin();
    MakePdqSet(*admin, "setA", {kHash, other});
    auto r = admin->Match(std::vector<client::Query>(8, client::Query{{{"pdq", kHash, {}}}, -1}));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->results[7].quarantined.size(), 1u);
  }
  auto disk = OnDisk(QuarantineFile(d));
  ASSERT_EQ(disk.size(), 1u);
  EXPECT_EQ(disk[0].set, "setA");
  EXPECT_EQ(disk[0].key, "k0");
  EXPECT_EQ(disk[0].hits_this_minute, 6u);
  const std::string metrics = Get(ReadPort(d.dir() / "http"), "/metrics").body;
  EXPECT_NE(metrics.find("hashmatch_quarantine_state_writes_total 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("hashmatch_quarantine_state_write_failures_total 0\n"), std::string::npos);

  // SIGTERM and start again on the same store: quarantined from the first match.
  EXPECT_EQ(d.Stop(), 0);
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_TRUE(
      d.WaitForLog("event=quarantine_loaded file=" + QuarantineFile(d).string() + " entries=1"));
  {
    auto scan = d.Connect(d.tokens().scan);
    ASSERT_TRUE(scan.ok()) << scan.error().ToString();
    EXPECT_EQ(MatchOnce(**scan, kHash), std::make_pair(size_t(0), size_t(1)));
    EXPECT_EQ(MatchOnce(**scan, other), std::make_pair(size_t(1), size_t(0)));
    auto admin = d.Admin();
    auto list = admin->ListQuarantined();
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].key, "k0");
    EXPECT_EQ((*list)[0].since, disk[0].since);
    EXPECT_EQ((*list)[0].hits_this_minute, 6u);
    auto released = admin->ReleaseQuarantined("setA", "k0");
    ASSERT_TRUE(released.ok()) << released.error().ToString();
    EXPECT_TRUE(*released);
  }
  EXPECT_TRUE(OnDisk(QuarantineFile(d)).empty());  // the release is on disk before its answer

  // Released, restarted: it matches again.
  EXPECT_EQ(d.Stop(), 0);
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto scan = d.Connect(d.tokens().scan);
  ASSERT_TRUE(scan.ok()) << scan.error().ToString();
  EXPECT_EQ(MatchOnce(**scan, kHash), std::make_pair(size_t(1), size_t(0)));
  EXPECT_TRUE(d.Admin()->ListQuarantined()->empty());
}

// Quarantined entries of a set that is gone are released: when the set is dropped, and when the
// file names a set the store no longer has (dropped while stopped), with a log line.
TEST(DaemonOpsTest, QuarantineOfAGoneSetIsDropped) {
  Daemon d(kSurge);
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  {
    auto admin = d.Admin();
    MakePdqSet(*admin, "setA", {kHash});
    MakePdqSet(*admin, "setB", {kHash});
    ASSERT_TRUE(
        admin->Match(std::vector<client::Query>(8, client::Query{{{"pdq", kHash, {}}}, -1})).ok());
    ASSERT_EQ(admin->ListQuarantined()->size(), 2u);  // setA/k0 and setB/k0
    ASSERT_TRUE(admin->DropSet("setB").ok());
    auto list = admin->ListQuarantined();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ((*list)[0].set, "setA");
  }
  EXPECT_TRUE(d.WaitForLog("event=quarantine_dropped set=setB key=k0"));
  ASSERT_EQ(OnDisk(QuarantineFile(d)).size(), 1u);
  EXPECT_EQ(d.Stop(), 0);

  // While stopped, the file gains an entry of a set the store does not have.
  auto disk = OnDisk(QuarantineFile(d));
  disk.push_back({"setGone", "k7", 1'764'300'000, 9, 0.5});
  ASSERT_TRUE(daemon::WriteQuarantineFile(Env::Default(), QuarantineFile(d), disk).ok());
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_TRUE(d.WaitForLog("event=quarantine_dropped set=setGone key=k7"));
  auto list = d.Admin()->ListQuarantined();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].set, "setA");
  const auto after = OnDisk(QuarantineFile(d));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].set, "setA");
}

// A malformed state file stops the start with the file and line; the file is left as it was.
TEST(DaemonOpsTest, MalformedQuarantineFileStopsTheStart) {
  Daemon d(std::string(kSurge) + "state_file = quarantine.txt\n");  // relative to the config
  const fs::path file = d.dir() / "quarantine.txt";
  const std::string text = "hashmatchd-quarantine 1\nentry setA k0 1764300000 6\nend 1\n";
  std::ofstream(file) << text;
  std::ofstream(d.dir() / "hashmatchd.conf") << d.Config();
  const std::string cmd = "timeout 30 " + std::string(HASHMATCHD_PATH) + " --config " +
                          (d.dir() / "hashmatchd.conf").string() + " 2>" +
                          (d.dir() / "start.log").string();
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);  // 124 would be timeout's: it started
  std::ifstream in(d.dir() / "start.log");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("event=quarantine_state_failed"), std::string::npos) << log;
  EXPECT_NE(log.find(file.string() + ":2: expected 'entry SET KEY SINCE HITS USUAL'"),
            std::string::npos)
      << log;
  std::ifstream again(file);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>()),
            text);

  // --check-config reports it too (exit 2), and accepts the file once fixed.
  const std::string check = std::string(HASHMATCHD_PATH) + " --check-config " +
                            (d.dir() / "hashmatchd.conf").string() + " >" +
                            (d.dir() / "check.out").string() + " 2>&1";
  int st = std::system(check.c_str());
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 2);
  auto out = ReadLines(d.dir() / "check.out");
  ASSERT_FALSE(out.empty());
  EXPECT_NE(out[0].find(file.string() + ":2: expected 'entry SET KEY SINCE HITS USUAL'"),
            std::string::npos)
      << out[0];
  std::ofstream(file) << "hashmatchd-quarantine 1\nentry setA k0 1764300000 6 0\nend 1\n";
  st = std::system(check.c_str());
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  out = ReadLines(d.dir() / "check.out");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], "config OK: 4 tokens; 1 quarantined entries in " + file.string());
}

// SIGKILL at random moments around quarantine events: the file on disk always parses (the old
// list or the new one, never a torn file), and the daemon restarts on it with those entries
// quarantined.
TEST(DaemonOpsTest, KillDuringQuarantineLeavesAWholeStateFile) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  Daemon d(kSurge);
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  std::vector<std::string> hashes;
  for (int i = 0; i < 6; ++i) hashes.push_back(RandomPdq(rng));
  MakePdqSet(*d.Admin(), "setA", hashes);
  size_t written = 0;  // rounds whose quarantine reached the file before the kill
  size_t before = 0;   // entries on disk before the round
  for (size_t round = 0; round < hashes.size(); ++round) {
    // One match call quarantines k<round> (8 hits of it); the kill lands before, during or after
    // the state file's write.
    std::thread surge([&d, h = hashes[round]]() {
      auto c = d.Connect(d.tokens().scan);
      if (c.ok())
        (void)(*c)->Match(std::vector<client::Query>(8, client::Query{{{"pdq", h, {}}}, -1}));
    });
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 15000));
    kill(d.pid(), SIGKILL);
    surge.join();
    d.Stop();  // reaps it
    std::vector<daemon::QuarantinedEntry> disk;
    if (fs::exists(QuarantineFile(d))) disk = OnDisk(QuarantineFile(d));
    ASSERT_FALSE(::testing::Test::HasFailure()) << "round " << round;
    EXPECT_LE(disk.size(), before + 1);  // this round adds one entry at most
    EXPECT_GE(disk.size(), before);      // and never loses one
    written += disk.size() == before + 1;
    before = disk.size();
    d.StartReady();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto list = d.Admin()->ListQuarantined();
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    ASSERT_EQ(list->size(), disk.size()) << "round " << round;
    for (size_t i = 0; i < disk.size(); ++i) EXPECT_EQ((*list)[i].key, disk[i].key);
  }
  std::printf("kills after the round's write: %zu of %zu (seed %d)\n", written, hashes.size(),
              ::testing::UnitTest::GetInstance()->random_seed());
  // Each quarantined entry is still quarantined from the first hit.
  auto scan = d.Connect(d.tokens().scan);
  ASSERT_TRUE(scan.ok());
  for (const auto& e : OnDisk(QuarantineFile(d))) {
    const size_t i = std::stoul(e.key.substr(1));
    EXPECT_EQ(MatchOnce(**scan, hashes[i]), std::make_pair(size_t(0), size_t(1))) << e.key;
  }
}

}  // namespace
}  // namespace hashmatch::testing

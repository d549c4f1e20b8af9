// The operations side of the real hashmatchd: the HTTP port (/healthz, /readyz before and after
// the store loads, /metrics with request counters, latency histograms and per-set gauges) and
// the audit log of matches (one JSON line per hit, reopened on SIGHUP for rotation).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "daemon_harness.h"
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

}  // namespace
}  // namespace hashmatch::testing

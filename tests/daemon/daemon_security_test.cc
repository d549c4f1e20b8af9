// Capability security through the real hashmatchd: what each role's grant holds, the daemon's
// refusals of methods outside a role's row (and of sync on another set), wrong tokens (delayed,
// counted, logged, limited per connection), token reload on SIGHUP revoking live sessions, and
// the authentication timeout.
#include <gtest/gtest.h>

#include <chrono>

#include "daemon_harness.h"

namespace hashmatch::testing {
namespace {

using Clock = std::chrono::steady_clock;

class DaemonSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_.StartReady();
    ASSERT_FALSE(HasFatalFailure());
    admin_ = daemon_.Admin();
    ASSERT_TRUE(admin_);
    for (const char* name : {"setA", "setB"}) {
      client::SetConfig c;
      c.name = name;
      ASSERT_TRUE(admin_->CreateSet(c).ok());
    }
  }
  std::unique_ptr<client::Client> Connect(const std::string& token) {
    auto c = daemon_.Connect(token);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? std::move(c.value()) : nullptr;
  }
  static client::Page OnePage(const std::string& key) {
    client::Page p;
    client::Record r;
    r.key = key;
    r.hash.hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    p.records.push_back(r);
    return p;
  }
  Daemon daemon_;
  std::unique_ptr<client::Client> admin_;
};

TEST_F(DaemonSecurityTest, GrantsFollowRoles) {
  auto scan = Connect(daemon_.tokens().scan);
  auto sync = Connect(daemon_.tokens().sync_a);
  ASSERT_TRUE(scan && sync);
  const client::Grant& g = scan->grant();
  EXPECT_EQ(g.principal, "scanner");
  EXPECT_EQ(g.roles, std::vector<std::string>{"scan"});
  EXPECT_TRUE(g.matcher && g.sets && g.health);
  EXPECT_FALSE(g.sync);
  const client::Grant& y = sync->grant();
  EXPECT_EQ(y.roles, std::vector<std::string>{"sync:setA"});
  EXPECT_FALSE(y.matcher);
  EXPECT_TRUE(y.sync && y.sets && y.health);
  const client::Grant& a = admin_->grant();
  EXPECT_TRUE(a.matcher && a.sets && a.sync && a.health);
}

TEST_F(DaemonSecurityTest, RolesAreRefusedOutsideTheirRow) {
  // Unauthenticated: the Gate only.
  auto anon = Connect("");
  ASSERT_TRUE(anon);
  auto info = anon->Info();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->schema_version, 1u);
  EXPECT_TRUE(info->ready);
  EXPECT_EQ(anon->Match({}).error().code, "permission_denied");
  EXPECT_EQ(anon->ListSets().error().code, "permission_denied");

  // scan: matching and set metadata; the daemon refuses set changes.
  auto scan = Connect(daemon_.tokens().scan);
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->Match({}).ok());
  EXPECT_TRUE(scan->ListSets().ok());
  client::SetConfig c;
  c.name = "sneaky";
  auto created = scan->CreateSet(c);
  EXPECT_EQ(created.error().code, "permission_denied");
  EXPECT_NE(created.error().message.find("may not call SetAdmin.createSet"), std::string::npos)
      << created.error().message;
  EXPECT_EQ(scan->DropSet("setA").code, "permission_denied");
  EXPECT_EQ(scan->ConfigureSet("setA", {.threshold = 0}).error().code, "permission_denied");
  EXPECT_EQ(scan->SetEntryEnabled("setA", "k", false).error().code, "permission_denied");
  EXPECT_EQ(scan->ApplyPage("setA", OnePage("x")).error().code, "permission_denied");

  // sync:setA: its own set only.
  auto sync = Connect(daemon_.tokens().sync_a);
  ASSERT_TRUE(sync);
  EXPECT_TRUE(sync->ApplyPage("setA", OnePage("a1")).ok());
  EXPECT_TRUE(sync->GetCheckpoint("setA").ok());
  auto other = sync->ApplyPage("setB", OnePage("b1"));
  EXPECT_EQ(other.error().code, "permission_denied");
  EXPECT_NE(other.error().message.find("on set 'setB'"), std::string::npos)
      << other.error().message;
  EXPECT_EQ(sync->GetCheckpoint("setB").error().code, "permission_denied");
  EXPECT_EQ(sync->Match({}).error().code, "permission_denied");
  EXPECT_EQ(sync->DropSet("setB").code, "permission_denied");
  EXPECT_EQ(admin_->GetSet("setB")->live, 0u);  // nothing was written

  auto sync_b = Connect(daemon_.tokens().sync_b);
  ASSERT_TRUE(sync_b);
  EXPECT_TRUE(sync_b->ApplyPage("setB", OnePage("b1")).ok());
  EXPECT_EQ(sync_b->ApplyPage("setA", OnePage("a2")).error().code, "permission_denied");

  // The refusals are counted per method.
  auto stats = admin_->GetStats();
  ASSERT_TRUE(stats.ok());
  for (const auto& m : stats->methods) {
    if (m.method == "SetAdmin.createSet") {
      EXPECT_GE(m.errors, 1u);
    }
    if (m.method == "Sync.applyPage") {  // sync:setA on setB, sync:setB on setA
      EXPECT_GE(m.errors, 2u);
    }
  }
  EXPECT_TRUE(daemon_.WaitForLog("event=permission_denied principal=scanner"));
}

TEST_F(DaemonSecurityTest, WrongTokensAreDelayedCountedAndLimited) {
  auto c = Connect("");
  ASSERT_TRUE(c);
  const auto start = Clock::now();
  auto r = c->Authenticate("not-the-token");
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.error().code, "permission_denied");
  EXPECT_EQ(r.error().message, "invalid token");
  EXPECT_GE(took, std::chrono::milliseconds(90));  // auth_failure_delay_ms = 100
  // A token differing in its last character is just as wrong.
  std::string near = daemon_.tokens().admin;
  near.back() = near.back() == 'x' ? 'y' : 'x';
  EXPECT_EQ(c->Authenticate(near).error().code, "permission_denied");
  for (int i = 0; i < 3; ++i) c->Authenticate("guess" + std::to_string(i));
  // Five failures: this connection may not try again, not even with the right token.
  auto blocked = c->Authenticate(daemon_.tokens().admin);
  EXPECT_EQ(blocked.error().code, "permission_denied");
  EXPECT_NE(blocked.error().message.find("too many failed attempts"), std::string::npos);
  // A new connection with the right token works.
  auto ok = Connect(daemon_.tokens().scan);
  EXPECT_TRUE(ok);
  auto stats = admin_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->auth_failures, 5u);
  EXPECT_TRUE(daemon_.WaitForLog("event=auth_failed peer=127.0.0.1:"));
  EXPECT_EQ(daemon_.Log().find(daemon_.tokens().admin), std::string::npos)
      << "a token appeared in the log";
}

TEST_F(DaemonSecurityTest, SighupReloadsTokensAndRevokesRemovedOnes) {
  auto scan = Connect(daemon_.tokens().scan);
  ASSERT_TRUE(scan);
  ASSERT_TRUE(scan->Match({}).ok());
  Tokens t = daemon_.tokens();
  const std::string old_scan = t.scan;
  t.scan = RandomToken();  // the scanner's token is rotated
  daemon_.set_tokens(t);
  daemon_.Reload();
  ASSERT_TRUE(daemon_.WaitForLog("event=tokens_reloaded"));
  auto revoked = scan->Match({});
  EXPECT_EQ(revoked.error().code, "permission_denied");
  EXPECT_NE(revoked.error().message.find("no longer configured"), std::string::npos)
      << revoked.error().message;
  auto old = daemon_.Connect(old_scan);
  EXPECT_FALSE(old.ok());
  auto fresh = Connect(t.scan);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(fresh->Match({}).ok());
  EXPECT_TRUE(admin_->ListSets().ok());  // unchanged tokens keep working
}

TEST(DaemonAuthTimeoutTest, UnauthenticatedConnectionsAreClosed) {
  Daemon daemon("[limits]\nauth_timeout_ms = 300\nauth_failure_delay_ms = 10\n");
  daemon.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto idle = daemon.Connect("");
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE((*idle)->Info().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto late = (*idle)->Info();
  EXPECT_EQ(late.error().code, "unavailable") << late.error().ToString();
  EXPECT_TRUE(daemon.WaitForLog("event=auth_timeout"));
  // An authenticated connection stays open past the timeout.
  auto scan = daemon.Connect(daemon.tokens().scan);
  ASSERT_TRUE(scan.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE((*scan)->Match({}).ok());
}

// A self-signed certificate for "localhost" made with the openssl tool (ca-certificates brings
// it); false when the tool is missing.
bool MakeCertificate(const fs::path& dir, const std::string& name) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 2 -subj /CN=localhost -addext "
      "subjectAltName=DNS:localhost -keyout " +
      (dir / (name + ".key")).string() + " -out " + (dir / (name + ".pem")).string() +
      " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// TLS on the TCP port: a client trusting the certificate works; one without TLS, or trusting
// another certificate, or expecting another name, is refused; the daemon goes on serving.
TEST(DaemonTlsTest, TlsPort) {
  Daemon d;
  if (!MakeCertificate(d.dir(), "server") || !MakeCertificate(d.dir(), "other")) {
    GTEST_SKIP() << "the openssl tool is not installed";
  }
  d.server_extra = "tls_cert = " + (d.dir() / "server.pem").string() +
                   "\ntls_key = " + (d.dir() / "server.key").string();
  d.Start();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  client::ConnectOptions o;
  o.address = d.address();
  o.token = d.tokens().scan;
  o.tls = true;
  o.tls_ca_file = (d.dir() / "server.pem").string();
  o.tls_server_name = "localhost";
  o.timeout = std::chrono::milliseconds(10000);
  auto c = client::Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.error().ToString() << "\n" << d.Log();
  bool ready = false;
  for (int i = 0; i < 500 && !ready; ++i) {
    ready = (*c)->Match({}).ok();
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ready);

  auto wrong_ca = o;
  wrong_ca.tls_ca_file = (d.dir() / "other.pem").string();
  EXPECT_FALSE(client::Client::Connect(wrong_ca).ok());
  auto wrong_name = o;
  wrong_name.tls_server_name = "example.org";
  EXPECT_FALSE(client::Client::Connect(wrong_name).ok());
  auto plain = o;
  plain.tls = false;
  plain.timeout = std::chrono::milliseconds(3000);
  EXPECT_FALSE(client::Client::Connect(plain).ok());
  EXPECT_TRUE(d.WaitForLog("event=tls_handshake_failed"));
  EXPECT_TRUE(d.Alive());
  EXPECT_TRUE((*c)->Match({}).ok());
}

}  // namespace
}  // namespace hashmatch::testing

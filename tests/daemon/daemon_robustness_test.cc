// The real hashmatchd under hostile or unlucky conditions: random bytes and malformed Cap'n Proto
// messages on raw sockets (the daemon must stay up and keep serving), "not ready" while the store
// loads (never an empty answer), a store that cannot open, and SIGTERM draining a call in flight.
#include <arpa/inet.h>
#include <capnp/message.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <random>

#include "daemon_harness.h"
#include "hashmatch/schema/hashmatch.capnp.h"

namespace hashmatch::testing {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kHash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

// A raw TCP connection to the daemon.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~RawSocket() { close(fd_); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void Send(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = send(fd_, p, n, MSG_NOSIGNAL);
      if (w <= 0) return;  // the daemon may close on us: fine
      p += w;
      n -= size_t(w);
    }
  }
  void Send(capnp::MessageBuilder& m) {
    auto words = capnp::messageToFlatArray(m);
    Send(words.begin(), words.size() * sizeof(capnp::word));
  }
  // Reads until the peer closes or 2 s pass without data; returns the bytes read.
  size_t Drain() {
    char buf[4096];
    size_t total = 0;
    for (;;) {
      const ssize_t r = recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) return total;
      total += size_t(r);
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

void Bootstrap(capnp::MessageBuilder& m, uint32_t question) {
  m.initRoot<capnp::rpc::Message>().initBootstrap().setQuestionId(question);
}

// A call on the answer to `question`.
capnp::rpc::Call::Builder Call(capnp::MessageBuilder& m, uint32_t question, uint32_t on,
                               uint64_t interface, uint16_t method) {
  auto call = m.initRoot<capnp::rpc::Message>().initCall();
  call.setQuestionId(question);
  call.initTarget().initPromisedAnswer().setQuestionId(on);
  call.setInterfaceId(interface);
  call.setMethodId(method);
  return call;
}

class DaemonRobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_.StartReady();
    ASSERT_FALSE(HasFatalFailure());
    admin_ = daemon_.Admin();
    ASSERT_TRUE(admin_);
    MakePdqSet(*admin_, "setA", {kHash});
  }
  // The daemon is up and a client on a long-lived connection still matches.
  void ExpectServing(const std::string& after) {
    ASSERT_TRUE(daemon_.Alive()) << "hashmatchd died after " << after << ":\n" << daemon_.Log();
    auto r = admin_->Match({client::Query{{{"pdq", kHash, {}}}, -1}});
    ASSERT_TRUE(r.ok()) << after << ": " << r.error().ToString();
    ASSERT_EQ(r->results[0].hits.size(), 1u) << after;
  }
  Daemon daemon_;
  std::unique_ptr<client::Client> admin_;
};

TEST_F(DaemonRobustnessTest, RandomBytes) {
  std::mt19937_64 rng(20240501);
  for (size_t len :
       {size_t(1), size_t(7), size_t(8), size_t(9), size_t(100), size_t(4096), size_t(1) << 20}) {
    std::vector<uint8_t> bytes(len);
    for (auto& b : bytes) b = uint8_t(rng());
    RawSocket s(daemon_.port());
    ASSERT_TRUE(s.connected());
    s.Send(bytes.data(), bytes.size());
    shutdown(s.fd(), SHUT_WR);
    s.Drain();
    ExpectServing("random bytes x" + std::to_string(len));
  }
  // Many short-lived connections, some closed mid-message, some left open.
  std::vector<std::unique_ptr<RawSocket>> open;
  for (int i = 0; i < 100; ++i) {
    auto s = std::make_unique<RawSocket>(daemon_.port());
    std::vector<uint8_t> bytes(rng() % 64 + 1);
    for (auto& b : bytes) b = uint8_t(rng());
    if (i % 3 == 0) bytes[0] = 0;  // "one segment" so the size field is believed
    s->Send(bytes.data(), bytes.size());
    if (i % 2 == 0) open.push_back(std::move(s));
  }
  ExpectServing("100 garbage connections");
  open.clear();
  ExpectServing("closing them");
}

TEST_F(DaemonRobustnessTest, MalformedFrames) {
  const uint32_t frames[][2] = {
      {0xffffffffu, 1},  // 2^32 segments
      {1000, 1},         // too many segments
      {0, 0x7fffffffu},  // one segment of 16 GiB
      {0, 0},            // an empty segment
  };
  for (const auto& f : frames) {
    RawSocket s(daemon_.port());
    s.Send(f, sizeof f);
    shutdown(s.fd(), SHUT_WR);
    s.Drain();
    ExpectServing("frame header " + std::to_string(f[0]) + "/" + std::to_string(f[1]));
  }
  // A well-framed segment of garbage words (random pointers).
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::vector<uint64_t> words(9);
    words[0] = uint64_t(8) << 32;  // 1 segment of 8 words
    for (size_t w = 1; w < words.size(); ++w) words[w] = rng();
    RawSocket s(daemon_.port());
    s.Send(words.data(), words.size() * 8);
    s.Drain();
  }
  ExpectServing("framed garbage");
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST_F(DaemonRobustnessTest, MalformedRpcMessages) {
  const uint64_t gate = capnp::typeId<wire::Gate>();
  const size_t authenticated_before = Count(daemon_.Log(), "event=authenticated");
  {
    // A well-behaved exchange first: bootstrap, Gate.info, and its answer arrives.
    RawSocket s(daemon_.port());
    capnp::MallocMessageBuilder b, c;
    Bootstrap(b, 0);
    s.Send(b);
    Call(c, 1, 0, gate, 0).initParams().getContent().initAs<wire::Gate::InfoParams>();
    s.Send(c);
    size_t returns = 0;
    for (int i = 0; i < 2; ++i) {
      capnp::StreamFdMessageReader r(s.fd());
      if (r.getRoot<capnp::rpc::Message>().isReturn()) ++returns;
    }
    EXPECT_EQ(returns, 2u);
  }
  using Build = std::function<void(capnp::MessageBuilder&)>;
  const std::vector<std::pair<std::string, Build>> cases{
      {"call on an unknown question",
       [&](capnp::MessageBuilder& m) {
         Call(m, 1, 77, gate, 0).initParams().getContent().setAs<capnp::Text>("x");
       }},
      {"unknown method", [&](capnp::MessageBuilder& m) { Call(m, 1, 0, gate, 999).initParams(); }},
      {"unknown interface",
       [&](capnp::MessageBuilder& m) { Call(m, 1, 0, 0x1234, 0).initParams(); }},
      {"authenticate with a list for params",
       [&](capnp::MessageBuilder& m) {
         Call(m, 1, 0, gate, 1).initParams().getContent().initAs<capnp::List<uint32_t>>(3);
       }},
      {"finish of an unknown question",
       [&](capnp::MessageBuilder& m) {
         m.template initRoot<capnp::rpc::Message>().initFinish().setQuestionId(999);
       }},
      {"release of an unknown import",
       [&](capnp::MessageBuilder& m) {
         auto r = m.template initRoot<capnp::rpc::Message>().initRelease();
         r.setId(12345);
         r.setReferenceCount(1);
       }},
      {"return for a question never asked",
       [&](capnp::MessageBuilder& m) {
         m.template initRoot<capnp::rpc::Message>().initReturn().setAnswerId(42);
       }},
      {"abort",
       [&](capnp::MessageBuilder& m) { m.template initRoot<capnp::rpc::Message>().initAbort(); }},
      {"deeply nested params",
       [&](capnp::MessageBuilder& m) {
         auto content = Call(m, 1, 0, gate, 1).initParams().getContent();
         for (int i = 0; i < 200; ++i) {
           content =
               content.template initAs<capnp::rpc::Message>().initCall().initParams().getContent();
         }
       }},
  };
  for (const auto& [name, build] : cases) {
    RawSocket s(daemon_.port());
    capnp::MallocMessageBuilder boot, m;
    Bootstrap(boot, 0);
    s.Send(boot);
    build(m);
    s.Send(m);
    shutdown(s.fd(), SHUT_WR);
    s.Drain();
    ExpectServing(name);
  }
  EXPECT_EQ(Count(daemon_.Log(), "event=authenticated"), authenticated_before)
      << "a malformed message authenticated somebody";
}

TEST(DaemonLoadTest, NotReadyWhileTheStoreLoads) {
  Daemon d("[testing]\nload_delay_ms = 1500\n");
  d.Start();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto c = d.Connect(d.tokens().admin);  // tokens work before the store is open
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto info = (*c)->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->ready);
  auto health = (*c)->GetHealth();
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->state, "loading");
  auto m = (*c)->Match({client::Query{{{"pdq", kHash, {}}}, -1}});
  ASSERT_FALSE(m.ok()) << "a match answered while loading";
  EXPECT_EQ(m.error().code, "unavailable");
  EXPECT_NE(m.error().message.find("not ready"), std::string::npos) << m.error().message;
  EXPECT_EQ((*c)->ListSets().error().code, "unavailable");
  d.WaitReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto later = (*c)->Match({client::Query{{{"pdq", kHash, {}}}, -1}});
  EXPECT_TRUE(later.ok()) << later.error().ToString();
  EXPECT_EQ((*c)->GetHealth()->state, "ready");
}

TEST(DaemonLoadTest, StoreThatCannotOpenStopsTheDaemon) {
  Daemon d;
  std::ofstream(d.dir() / "store") << "not a directory";
  d.Start();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const auto until = Clock::now() + std::chrono::seconds(20);
  while (d.Alive() && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(d.Alive());
  const int status = d.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(d.Log().find("event=store_open_failed"), std::string::npos) << d.Log();
}

TEST(DaemonLoadTest, SigtermDrainsCallsInFlight) {
  Daemon d("[testing]\nmatch_delay_ms = 1000\nmatch_delay_min_hashes = 2\n");
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto admin = d.Admin();
  MakePdqSet(*admin, "setA", {kHash});
  std::vector<client::Query> two(2, client::Query{{{"pdq", kHash, {}}}, -1});
  auto slow = std::async(std::launch::async, [&]() { return admin->Match(two); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(d.pid(), SIGTERM);
  auto r = slow.get();
  ASSERT_TRUE(r.ok()) << "the call in flight was not drained: " << r.error().ToString();
  EXPECT_EQ(r->results[1].hits.size(), 1u);
  const int status = d.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << d.Log();
  EXPECT_NE(d.Log().find("event=draining in_flight=1"), std::string::npos) << d.Log();
}

}  // namespace
}  // namespace hashmatch::testing

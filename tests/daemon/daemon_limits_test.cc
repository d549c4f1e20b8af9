// Limits of the real hashmatchd: every exceeded limit gives a clear error and the daemon keeps
// serving the other clients (and the same client, where the connection survives). Also: a heavy
// batch on the worker pool does not stall another client's call.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "daemon_harness.h"

namespace hashmatch::testing {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kHash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

std::vector<client::Query> Queries(size_t n, size_t hashes_each = 1) {
  std::vector<client::Query> q(n);
  for (auto& x : q) x.hashes.assign(hashes_each, client::Hash{"pdq", kHash, {}});
  return q;
}

void StartWithSet(Daemon& d, std::unique_ptr<client::Client>* admin) {
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  *admin = d.Admin();
  ASSERT_TRUE(*admin);
  MakePdqSet(**admin, "setA", {kHash});
}

TEST(DaemonLimitsTest, BatchPageAndImageLimits) {
  Daemon d(
      "[limits]\nmax_batch = 100\nmax_hashes_per_query = 8\nmax_images = 2\n"
      "max_image_bytes = 1000\nmax_page_records = 10\nauth_failure_delay_ms = 10\n");
  std::unique_ptr<client::Client> admin;
  StartWithSet(d, &admin);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  EXPECT_TRUE(admin->Match(Queries(100)).ok());
  auto big = admin->Match(Queries(101));
  EXPECT_EQ(big.error().code, "out_of_range");
  EXPECT_NE(big.error().message.find("exceeds max_batch = 100"), std::string::npos)
      << big.error().message;
  EXPECT_TRUE(admin->Match(Queries(12, 8)).ok());  // 96 hashes, 8 per query
  auto wide = admin->Match(Queries(1, 9));
  EXPECT_EQ(wide.error().code, "out_of_range");
  EXPECT_NE(wide.error().message.find("max_hashes_per_query"), std::string::npos);

  std::vector<uint8_t> small(100, 1), large(1001, 1);
  EXPECT_EQ(admin->MatchImages({small, small, small}).error().code, "out_of_range");
  auto heavy = admin->MatchImages({large});
  EXPECT_EQ(heavy.error().code, "out_of_range");
  EXPECT_NE(heavy.error().message.find("max_image_bytes"), std::string::npos);

  client::Page page;
  for (int i = 0; i < 11; ++i) {
    client::Record r;
    r.key = "k" + std::to_string(i);
    r.hash.hex = kHash;
    page.records.push_back(r);
  }
  auto refused = admin->ApplyPage("setA", page);
  EXPECT_EQ(refused.error().code, "out_of_range");
  EXPECT_NE(refused.error().message.find("max_page_records = 10"), std::string::npos);
  // The same connection goes on working.
  auto ok = admin->Match(Queries(1));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->results[0].hits.size(), 1u);
}

// A message over max_message_bytes ends that connection with a clear error; others go on.
TEST(DaemonLimitsTest, MessageSizeAndNesting) {
  Daemon d("[limits]\nmax_message_bytes = 65536\nmax_image_bytes = 1000000\n");
  std::unique_ptr<client::Client> admin;
  StartWithSet(d, &admin);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto other = d.Connect(d.tokens().scan);
  ASSERT_TRUE(other.ok());

  auto victim = d.Connect(d.tokens().scan);
  ASSERT_TRUE(victim.ok());
  std::vector<uint8_t> image(200000, 7);
  auto r = (*victim)->MatchImages({image});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too large"), std::string::npos) << r.error().ToString();
  EXPECT_TRUE(d.Alive());
  auto still = (*other)->Match(Queries(1));
  ASSERT_TRUE(still.ok()) << still.error().ToString();
  EXPECT_EQ(still->results[0].hits.size(), 1u);
  d.Stop();

  // Nesting: a match request nests 8 deep (RPC message, params, queries, query, hashes, hash,
  // text), the gate's calls 4, so with max_nesting = 6 the match is refused, the gate is not.
  Daemon shallow("[limits]\nmax_nesting = 6\n");
  shallow.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto c = shallow.Connect(shallow.tokens().scan);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto deep = (*c)->Match(Queries(1));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message.find("nesting"), std::string::npos) << deep.error().ToString();
  EXPECT_TRUE(shallow.Alive());
  auto fresh = shallow.Connect(shallow.tokens().scan);
  EXPECT_TRUE(fresh.ok()) << fresh.error().ToString();
}

TEST(DaemonLimitsTest, ConnectionLimit) {
  Daemon d("[limits]\nmax_connections = 3\n");
  d.StartReady();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  std::vector<std::unique_ptr<client::Client>> held;
  for (int i = 0; i < 3; ++i) {
    // WaitReady's own connection may take a moment to be seen closed.
    auto c = d.Connect(d.tokens().scan);
    for (int retry = 0; retry < 50 && !c.ok(); ++retry) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      c = d.Connect(d.tokens().scan);
    }
    ASSERT_TRUE(c.ok()) << i << ": " << c.error().ToString();
    held.push_back(std::move(c.value()));
  }
  auto over = d.Connect(d.tokens().scan);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "resource_exhausted") << over.error().ToString();
  EXPECT_NE(over.error().message.find("too many connections"), std::string::npos);
  // The held ones still work; when one closes, a new client gets in.
  EXPECT_TRUE(held[0]->Match(Queries(1)).ok());
  held.pop_back();
  bool in = false;
  for (int i = 0; i < 100 && !in; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    in = d.Connect(d.tokens().scan).ok();
  }
  EXPECT_TRUE(in);
}

// A batch slowed to 1.5 s (the [testing] hook) runs past a 500 ms deadline: deadline_exceeded.
// Meanwhile a small call from another client, on another worker, answers at once.
TEST(DaemonLimitsTest, DeadlineAndHeavyBatchesDoNotStallOthers) {
  Daemon d(
      "[limits]\ncall_deadline_ms = 3000\n[testing]\nmatch_delay_ms = 1500\n"
      "match_delay_min_hashes = 50\n");
  std::unique_ptr<client::Client> admin;
  StartWithSet(d, &admin);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto heavy_client = d.Connect(d.tokens().scan);
  ASSERT_TRUE(heavy_client.ok());
  auto heavy =
      std::async(std::launch::async, [&]() { return (*heavy_client)->Match(Queries(60)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = Clock::now();
  auto light = admin->Match(Queries(1));
  const auto took = Clock::now() - start;
  ASSERT_TRUE(light.ok()) << light.error().ToString();
  EXPECT_LT(took, std::chrono::milliseconds(700)) << "a light call waited for the heavy batch";
  EXPECT_EQ(heavy.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  auto h = heavy.get();
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  EXPECT_EQ(h->results.size(), 60u);
  d.Stop();

  Daemon slow(
      "[limits]\ncall_deadline_ms = 500\n[testing]\nmatch_delay_ms = 1500\n"
      "match_delay_min_hashes = 50\n");
  std::unique_ptr<client::Client> admin2;
  StartWithSet(slow, &admin2);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const auto t0 = Clock::now();
  auto late = admin2->Match(Queries(60));
  EXPECT_EQ(late.error().code, "deadline_exceeded") << late.error().ToString();
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1400));
  EXPECT_TRUE(admin2->Match(Queries(1)).ok());  // the connection is fine
}

// One worker and a queue of one: a third concurrent heavy call is refused at once.
TEST(DaemonLimitsTest, WorkerQueueLimit) {
  Daemon d(
      "[limits]\nmax_queued_calls = 1\n[testing]\nmatch_delay_ms = 800\n"
      "match_delay_min_hashes = 2\n");
  d.workers = 1;
  std::unique_ptr<client::Client> admin;
  StartWithSet(d, &admin);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  auto a = std::async(std::launch::async, [&]() { return admin->Match(Queries(2)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto b = std::async(std::launch::async, [&]() { return admin->Match(Queries(2)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto c = admin->Match(Queries(2));
  EXPECT_EQ(c.error().code, "resource_exhausted") << c.error().ToString();
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
}

}  // namespace
}  // namespace hashmatch::testing

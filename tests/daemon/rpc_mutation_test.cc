// Mutated RPC traffic against the daemon's services, in-process, so that the sanitizers watch our
// message handling (the integration tests drive a separate process, where ASan in this test's
// build does not reach).
//
// Valid client conversations are recorded once (bootstrap, authenticate with an admin token,
// pipelined calls to every interface: match, matchImages, listSets, createSet, applyPage,
// getCheckpoint, stats), then replayed thousands of times with seeded random mutations (bit
// flips, byte overwrites, truncation, duplicated and dropped spans, spliced conversations) into
// a fresh server connection over an in-memory pipe, like hashmatchd's own (TwoPartyVatNetwork
// with the daemon's ReaderOptions, the Gate as bootstrap). Each replay must end (the server
// disconnects or goes quiet) without a crash or sanitizer report, and the services must still
// answer a clean conversation afterwards.
#include <capnp/message.h>
#include <capnp/rpc-twoparty.h>
#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <filesystem>
#include <random>

#include "hashmatch/core/digest.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/schema/hashmatch.capnp.h"
#include "services.h"

namespace hashmatch::daemon {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

const char kToken[] = "mutation-admin-token";
const std::string kHash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

void Append(Bytes* out, capnp::MessageBuilder& m) {
  auto words = capnp::messageToFlatArray(m);
  const auto bytes = words.asBytes();
  out->insert(out->end(), bytes.begin(), bytes.end());
}

// A call on `target`: the bootstrap (question 0) or a field path of question 1's answer.
capnp::rpc::Call::Builder Call(capnp::MessageBuilder& m, uint32_t question, bool on_grant,
                               uint16_t grant_field, uint64_t interface, uint16_t method) {
  auto call = m.initRoot<capnp::rpc::Message>().initCall();
  call.setQuestionId(question);
  auto target = call.initTarget().initPromisedAnswer();
  if (on_grant) {
    target.setQuestionId(1);
    auto ops = target.initTransform(2);
    ops[0].setGetPointerField(0);            // AuthenticateResults.grant
    ops[1].setGetPointerField(grant_field);  // Grant.<capability>
  } else {
    target.setQuestionId(0);
  }
  call.setInterfaceId(interface);
  call.setMethodId(method);
  return call;
}

// The recorded conversation: every interface exercised once, all pipelined.
Bytes Conversation() {
  Bytes out;
  {
    capnp::MallocMessageBuilder m;
    m.initRoot<capnp::rpc::Message>().initBootstrap().setQuestionId(0);
    Append(&out, m);
  }
  {
    capnp::MallocMessageBuilder m;
    auto p = Call(m, 1, false, 0, capnp::typeId<wire::Gate>(), 1).initParams().getContent();
    p.initAs<wire::Gate::AuthenticateParams>().setToken(kToken);
    Append(&out, m);
  }
  {  // Matcher.match: grant field 2
    capnp::MallocMessageBuilder m;
    auto p = Call(m, 2, true, 2, capnp::typeId<wire::Matcher>(), 0).initParams().getContent();
    auto params = p.initAs<wire::Matcher::MatchParams>();
    auto qs = params.initQueries(3);
    for (uint32_t i = 0; i < 3; ++i) {
      auto h = qs[i].initHashes(1)[0];
      h.setSignal(wire::SignalType::PDQ);
      h.setHex(i == 1 ? "zz" : kHash);
    }
    params.initOptions().initSets(1).set(0, "setA");
    Append(&out, m);
  }
  {  // Matcher.matchImages with a tiny not-an-image
    capnp::MallocMessageBuilder m;
    auto p = Call(m, 3, true, 2, capnp::typeId<wire::Matcher>(), 1).initParams().getContent();
    auto params = p.initAs<wire::Matcher::MatchImagesParams>();
    const uint8_t img[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F'};
    params.initImages(1).set(0, capnp::Data::Reader(img, sizeof img));
    params.initDigests(1).set(0, wire::SignalType::MD5);
    Append(&out, m);
  }
  {  // SetAdmin.listSets, createSet: grant field 3
    capnp::MallocMessageBuilder m;
    Call(m, 4, true, 3, capnp::typeId<wire::SetAdmin>(), 0).initParams();
    Append(&out, m);
    capnp::MallocMessageBuilder m2;
    auto p = Call(m2, 5, true, 3, capnp::typeId<wire::SetAdmin>(), 2).initParams().getContent();
    p.initAs<wire::SetAdmin::CreateSetParams>().initConfig().setName("setB");
    Append(&out, m2);
  }
  {  // Sync.applyPage, getCheckpoint: grant field 4
    capnp::MallocMessageBuilder m;
    auto p = Call(m, 6, true, 4, capnp::typeId<wire::Sync>(), 0).initParams().getContent();
    auto params = p.initAs<wire::Sync::ApplyPageParams>();
    params.setSet("setA");
    auto page = params.initPage();
    page.setHasCheckpoint(true);
    page.setCheckpoint("c1");
    auto r = page.initRecords(2);
    r[0].setKey("k1");
    r[0].initHash().setHex(kHash);
    r[1].setKey("k0");
    r[1].setDeleted(true);
    Append(&out, m);
    capnp::MallocMessageBuilder m2;
    auto p2 = Call(m2, 7, true, 4, capnp::typeId<wire::Sync>(), 1).initParams().getContent();
    p2.initAs<wire::Sync::GetCheckpointParams>().setSet("setA");
    Append(&out, m2);
  }
  {  // Health.stats: grant field 5
    capnp::MallocMessageBuilder m;
    Call(m, 8, true, 5, capnp::typeId<wire::Health>(), 1).initParams();
    Append(&out, m);
  }
  return out;
}

Bytes Mutate(const Bytes& in, const Bytes& other, std::mt19937_64& rng) {
  Bytes b = in;
  const int edits = 1 + int(rng() % 4);
  for (int e = 0; e < edits && !b.empty(); ++e) {
    const size_t at = rng() % b.size();
    switch (rng() % 7) {
      case 0:  // bit flip
        b[at] ^= uint8_t(1u << (rng() % 8));
        break;
      case 1:  // random byte
        b[at] = uint8_t(rng());
        break;
      case 2:  // an interesting value in a word (segment sizes, pointer offsets)
        for (size_t i = at & ~size_t(3); i < std::min(b.size(), (at & ~size_t(3)) + 4); ++i) {
          b[i] = uint8_t(rng() % 2 ? 0xff : 0x00);
        }
        break;
      case 3:  // truncate
        b.resize(at);
        break;
      case 4: {  // duplicate a span
        const size_t len = std::min<size_t>(b.size() - at, 1 + rng() % 64);
        Bytes span(b.begin() + long(at), b.begin() + long(at + len));
        b.insert(b.begin() + long(rng() % b.size()), span.begin(), span.end());
        break;
      }
      case 5: {  // drop a span
        const size_t len = std::min<size_t>(b.size() - at, 1 + rng() % 64);
        b.erase(b.begin() + long(at), b.begin() + long(at + len));
        break;
      }
      default: {  // splice in a piece of the other conversation
        const size_t from = rng() % other.size();
        const size_t len = std::min<size_t>(other.size() - from, 1 + rng() % 256);
        b.insert(b.begin() + long(at), other.begin() + long(from),
                 other.begin() + long(from + len));
        break;
      }
    }
  }
  return b;
}

class RpcMutationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hm-mutation-XXXXXX";
    dir_ = mkdtemp(tmpl);
    config_.store = dir_ / "store";
    config_.workers = 2;
    config_.limits.auth_failure_delay_ms = 0;
    config_.limits.max_message_bytes = 1 << 20;
    TokenConfig t;
    t.name = "admin";
    ASSERT_TRUE(DecodeHex(ToHex(*Sha256(std::span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(kToken), sizeof kToken - 1))),
                          t.sha256)
                    .ok());
    t.roles = {"admin"};
    config_.tokens.push_back(t);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  DaemonConfig config_;
};

TEST_F(RpcMutationTest, MutatedConversationsNeverCrashTheServices) {
  // The state outlives the event loop (as in hashmatchd: capnp keeps uncancellable calls in the
  // loop until it is destroyed, and they still count into the state's statistics).
  std::unique_ptr<ServiceState> owner;
  auto io = kj::setupAsyncIo();
  owner = std::make_unique<ServiceState>(config_, io.provider->getTimer());
  ServiceState& state = *owner;
  StoreOptions so;
  so.create_if_missing = true;
  auto store = HashSetStore::Open(config_.store, so);
  ASSERT_TRUE(store.ok());
  SetConfig c;
  c.name = "setA";
  ASSERT_TRUE((*store)->CreateSet(c).ok());
  state.SetStore(std::shared_ptr<HashSetStore>(std::move(store.value())));

  capnp::ReaderOptions reader;
  reader.traversalLimitInWords = config_.limits.max_message_bytes / 8;
  reader.nestingLimit = config_.limits.max_nesting;
  // One conversation: write `bytes` as the client, read whatever comes back, until the server
  // hangs up or has been quiet for a while. Returns the bytes the server sent.
  auto run = [&](const Bytes& bytes) -> size_t {
    auto pipe = io.provider->newTwoWayPipe();
    auto network = kj::heap<capnp::TwoPartyVatNetwork>(*pipe.ends[0],
                                                       capnp::rpc::twoparty::Side::SERVER, reader);
    auto rpc = kj::heap<capnp::RpcSystem<capnp::rpc::twoparty::VatId>>(
        capnp::makeRpcServer(*network, NewGate(state, std::make_shared<ConnectionInfo>())));
    auto& client = *pipe.ends[1];
    auto written =
        client.write(bytes.data(), bytes.size()).then([&client]() { client.shutdownWrite(); });
    auto buf = kj::heapArray<kj::byte>(4096);
    size_t got = 0;
    std::function<kj::Promise<void>()> drain = [&]() -> kj::Promise<void> {
      return client.tryRead(buf.begin(), 1, buf.size()).then([&](size_t n) -> kj::Promise<void> {
        if (n == 0) return kj::READY_NOW;
        got += n;
        return drain();
      });
    };
    auto done = drain()
                    .exclusiveJoin(io.provider->getTimer().afterDelay(2000 * kj::MILLISECONDS))
                    .exclusiveJoin(written.then(
                        []() { return kj::Promise<void>(kj::NEVER_DONE); },
                        [](kj::Exception&&) { return kj::Promise<void>(kj::NEVER_DONE); }));
    done.catch_([](kj::Exception&&) {}).wait(io.waitScope);
    rpc = nullptr;
    network = nullptr;
    return got;
  };

  const Bytes clean = Conversation();
  // The clean conversation gets answers (nine returns at least).
  EXPECT_GT(run(clean), 500u);
  std::mt19937_64 rng(20240501);
  const int iterations = std::getenv("HASHMATCH_MUTATION_ITERATIONS")
                             ? std::atoi(std::getenv("HASHMATCH_MUTATION_ITERATIONS"))
                             : 10000;
  size_t answered = 0;  // conversations that got at least one answer back
  for (int i = 0; i < iterations; ++i) answered += run(Mutate(clean, clean, rng)) > 0;
  // Most mutations leave the framing intact enough to reach the services.
  EXPECT_GT(answered, size_t(iterations) / 2);
  // Still serving.
  EXPECT_GT(run(clean), 500u);
  std::cout << iterations << " mutated conversations, " << answered << " answered\n";
  state.StopWorkers();
}

}  // namespace
}  // namespace hashmatch::daemon

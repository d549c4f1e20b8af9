#include "async_load.h"

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <stdexcept>

#include "hashmatch/schema/hashmatch.capnp.h"

namespace hashmatch::bench {
namespace {

using Clock = std::chrono::steady_clock;

class NoErrors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&& e) override {
    std::cerr << "load task failed: " << e.getDescription().cStr() << "\n";
  }
};

struct Connection {
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyClient> rpc;
  wire::Matcher::Client matcher = nullptr;
  wire::Health::Client health = nullptr;
};

// One event loop with `n` authenticated connections.
class Loop {
 public:
  Loop(const std::string& address, const std::string& token, int n)
      : io_(kj::setupAsyncIo()), tasks_(errors_) {
    auto addr = io_.provider->getNetwork().parseAddress(address).wait(io_.waitScope);
    for (int i = 0; i < n; ++i) {
      Connection c;
      c.stream = addr->connect().wait(io_.waitScope);
      c.rpc = kj::heap<capnp::TwoPartyClient>(*c.stream);
      auto gate = c.rpc->bootstrap().castAs<wire::Gate>();
      auto req = gate.authenticateRequest();
      req.setToken(token);
      auto grant = req.send().wait(io_.waitScope);
      if (!grant.getGrant().hasMatcher()) throw std::runtime_error("token has no scan role");
      c.matcher = grant.getGrant().getMatcher();
      if (grant.getGrant().hasHealth()) c.health = grant.getGrant().getHealth();
      conns_.push_back(kj::mv(c));
    }
  }

  kj::AsyncIoContext& io() { return io_; }
  kj::TaskSet& tasks() { return tasks_; }
  std::vector<Connection>& conns() { return conns_; }

  // Waits until every task has finished (or `limit` passed).
  void Drain(kj::Duration limit) {
    tasks_.onEmpty().exclusiveJoin(io_.provider->getTimer().afterDelay(limit)).wait(io_.waitScope);
  }

 private:
  kj::AsyncIoContext io_;
  NoErrors errors_;
  kj::TaskSet tasks_;
  std::vector<Connection> conns_;
};

kj::Promise<capnp::Response<wire::Matcher::MatchResults>> SendOne(
    wire::Matcher::Client& m, const std::array<uint8_t, 32>& code) {
  auto req = m.matchRequest();
  auto h = req.initQueries(1)[0].initHashes(1)[0];
  h.setSignal(wire::SignalType::PDQ);
  h.setBytes(kj::arrayPtr(code.data(), code.size()));
  return req.send();
}

bool QueryFailed(const wire::Matcher::MatchResults::Reader& r) {
  for (auto q : r.getResult().getResults()) {
    if (q.isError()) return true;
  }
  return false;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, size_t(p * double(v.size())));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

// Arms `fd` to fire at `t` (CLOCK_MONOTONIC = steady_clock on Linux).
void Arm(int fd, Clock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  itimerspec spec{};
  spec.it_value.tv_sec = ns / 1000000000;
  spec.it_value.tv_nsec = ns % 1000000000;
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    throw std::runtime_error("timerfd_settime failed");
  }
}

}  // namespace

double AsyncSingleCapacity(uint64_t* answered, const std::string& address, const std::string& token,
                           int connections, double seconds,
                           const std::vector<std::array<uint8_t, 32>>& codes) {
  Loop loop(address, token, connections);
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(seconds));
  uint64_t done = 0, next = 0;
  const auto start = Clock::now();
  // Each connection: send, and on the answer send the next, until `until`.
  std::function<kj::Promise<void>(Connection&)> run = [&](Connection& c) -> kj::Promise<void> {
    const auto& code = codes[(next++ * 7919) % codes.size()];
    return SendOne(c.matcher, code).then([&](capnp::Response<wire::Matcher::MatchResults>&&) {
      ++done;
      if (Clock::now() >= until) return kj::Promise<void>(kj::READY_NOW);
      return run(c);
    });
  };
  for (auto& c : loop.conns()) loop.tasks().add(run(c));
  loop.Drain(kj::SECONDS * int64_t(seconds + 60));
  *answered = done;
  return double(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

AsyncLoadResult AsyncOpenLoop(const std::string& address, const std::string& token, int connections,
                              double rate, double seconds,
                              const std::vector<std::array<uint8_t, 32>>& codes, Call call) {
  Loop loop(address, token, connections);
  const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0) throw std::runtime_error("timerfd_create failed");
  auto observer = kj::heap<kj::UnixEventPort::FdObserver>(
      loop.io().unixEventPort, tfd, kj::UnixEventPort::FdObserver::OBSERVE_READ);
  // Call j is due at start + j / rate on connection j mod C: each connection's calls are
  // `connections / rate` apart, and the connections are staggered evenly.
  const size_t total = std::max<size_t>(1, size_t(rate * seconds));
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  auto due = [&](size_t j) {
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(double(j) / rate));
  };
  std::vector<double> lat, late;
  lat.reserve(total);
  late.reserve(total);
  AsyncLoadResult r;
  size_t next = 0;
  Clock::time_point last_answer = start;
  auto send = [&](size_t j) {
    const Clock::time_point d = due(j);
    late.push_back(std::chrono::duration<double>(Clock::now() - d).count());
    Connection& c = loop.conns()[j % loop.conns().size()];
    auto answered = [&, d](bool failed) {
      last_answer = Clock::now();
      if (failed) {
        ++r.errors;
        return;
      }
      lat.push_back(std::chrono::duration<double>(last_answer - d).count());
    };
    auto failed = [&](kj::Exception&&) { ++r.errors; };
    if (call == Call::kHealth) {
      loop.tasks().add(c.health.healthRequest().send().then(
          [answered](capnp::Response<wire::Health::HealthResults>&&) mutable { answered(false); },
          failed));
    } else {
      loop.tasks().add(
          SendOne(c.matcher, codes[(j * 7919) % codes.size()])
              .then(
                  [answered](capnp::Response<wire::Matcher::MatchResults>&& res) mutable {
                    answered(QueryFailed(res));
                  },
                  failed));
    }
  };
  std::function<kj::Promise<void>()> tick = [&]() -> kj::Promise<void> {
    return observer->whenBecomesReadable().then([&]() -> kj::Promise<void> {
      uint64_t expirations;
      (void)!read(tfd, &expirations, sizeof expirations);  // clear it (EAGAIN if spurious)
      const auto now = Clock::now();
      while (next < total && due(next) <= now) send(next++);
      if (next >= total) return kj::READY_NOW;
      Arm(tfd, due(next));
      return tick();
    });
  };
  Arm(tfd, due(0));
  tick().wait(loop.io().waitScope);
  loop.Drain(kj::SECONDS * 60);
  observer = nullptr;  // leaves the epoll set before the fd closes
  close(tfd);
  r.offered = rate;
  r.achieved = double(lat.size()) / std::chrono::duration<double>(last_answer - start).count();
  r.p50_ms = Percentile(lat, 0.5) * 1e3;
  r.p99_ms = Percentile(lat, 0.99) * 1e3;
  r.p999_ms = Percentile(lat, 0.999) * 1e3;
  r.send_late_p99_ms = Percentile(late, 0.99) * 1e3;
  r.max_ms = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end()) * 1e3;
  return r;
}

}  // namespace hashmatch::bench

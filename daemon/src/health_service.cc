// Health: readiness and counters for authenticated clients (the HTTP /healthz needs no token).
#include "services.h"

namespace hashmatch::daemon {

namespace {

class HealthImpl final : public wire::Health::Server, ServiceBase {
 public:
  using ServiceBase::ServiceBase;

  kj::Promise<void> health(HealthContext ctx) override {
    return Serve("Health.health", {}, [this, ctx]() mutable -> kj::Promise<void> {
      ctx.getResults().setReady(state_.state() == ServerState::kReady);
      ctx.getResults().setState(state_.StateText());
      return kj::READY_NOW;
    });
  }

  kj::Promise<void> stats(StatsContext ctx) override {
    return Serve("Health.stats", {}, [this, ctx]() mutable -> kj::Promise<void> {
      Stats& s = state_.stats();
      auto out = ctx.getResults().initStats();
      out.setUptimeSeconds(uint64_t(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now() - state_.started())
                                        .count()));
      out.setReady(state_.state() == ServerState::kReady);
      out.setConnections(s.connections_open.load());
      out.setConnectionsTotal(s.connections_total.load());
      out.setConnectionsRefused(s.connections_refused.load());
      out.setAuthFailures(s.auth_failures.load());
      out.setQueriesMatched(s.queries.load());
      out.setHits(s.hits.load());
      out.setWorkerQueue(uint32_t(state_.pool().queued()));
      if (auto store = state_.store()) out.setStoreSequence(store->GetSnapshot()->sequence());
      const auto table = AccessTable();
      auto methods = out.initMethods(table.size());
      for (size_t i = 0; i < table.size(); ++i) {
        methods[i].setMethod(std::string(table[i].method));
        methods[i].setCalls(s.methods[i].calls.load());
        methods[i].setErrors(s.methods[i].errors.load());
      }
      return kj::READY_NOW;
    });
  }
};

}  // namespace

wire::Health::Client NewHealth(ServiceState& state, std::shared_ptr<const Principal> who) {
  return kj::heap<HealthImpl>(state, std::move(who));
}

}  // namespace hashmatch::daemon

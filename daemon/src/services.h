// The capability objects the daemon serves, one per interface of schema/hashmatch.capnp, and the
// wrapper every method goes through.
#pragma once

#include <kj/async.h>

#include <memory>
#include <string>
#include <string_view>

#include "access.h"
#include "hashmatch/schema/hashmatch.capnp.h"
#include "log.h"
#include "service_state.h"

namespace hashmatch::daemon {

// What the Gate knows about its connection.
struct ConnectionInfo {
  std::string peer;  // "127.0.0.1:53412", "unix"
  bool authenticated = false;
  bool authenticating = false;  // one authenticate call at a time per connection
  uint32_t auth_failures = 0;
};

wire::Gate::Client NewGate(ServiceState& state, std::shared_ptr<ConnectionInfo> connection);
wire::Matcher::Client NewMatcher(ServiceState& state, std::shared_ptr<const Principal> who);
wire::SetAdmin::Client NewSetAdmin(ServiceState& state, std::shared_ptr<const Principal> who);
wire::Sync::Client NewSync(ServiceState& state, std::shared_ptr<const Principal> who);
wire::Health::Client NewHealth(ServiceState& state, std::shared_ptr<const Principal> who);

class ServiceBase {
 public:
  ServiceBase(ServiceState& state, std::shared_ptr<const Principal> who)
      : state_(state), who_(std::move(who)) {}

 protected:
  // Every method's body runs through here: the call is counted, checked against the access table
  // (on `set` for set-scoped methods) and against the current token table (a token removed by a
  // reload stops working), bounded by the per-call deadline, and its failure counted. `body`
  // returns kj::Promise<void> and may throw (RpcError, or a kj exception).
  template <class F>
  kj::Promise<void> Serve(std::string_view method, std::string_view set, F&& body) {
    MethodCounters& counters = state_.stats().Method(method);
    counters.calls.fetch_add(1, std::memory_order_relaxed);
    std::optional<std::string> why = Refusal(*who_, method, set);
    if (!why && !state_.tokens().StillValid(*who_)) {
      why = "the token of '" + who_->name + "' is no longer configured";
    }
    if (why) {
      counters.errors.fetch_add(1, std::memory_order_relaxed);
      LogWarn("permission_denied",
              {{"principal", who_->name}, {"method", std::string(method)}, {"reason", *why}});
      return RpcError("permission_denied", *why);
    }
    ServiceState* st = &state_;
    st->inflight.fetch_add(1);
    MethodCounters* c = &counters;
    const auto start = std::chrono::steady_clock::now();
    return st->WithDeadline(kj::evalNow(kj::fwd<F>(body)))
        .catch_([c](kj::Exception&& e) -> kj::Promise<void> {
          c->errors.fetch_add(1, std::memory_order_relaxed);
          return kj::mv(e);
        })
        .attach(kj::defer([st, c, start]() {
          c->Observe(std::chrono::steady_clock::now() - start);
          st->inflight.fetch_sub(1);
        }));
  }

  ServiceState& state_;
  std::shared_ptr<const Principal> who_;
};

inline std::string_view TextView(capnp::Text::Reader t) {
  return std::string_view(t.cStr(), t.size());
}

}  // namespace hashmatch::daemon

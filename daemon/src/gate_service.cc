// The Gate: the bootstrap capability, all an unauthenticated connection holds.
#include "services.h"

namespace hashmatch::daemon {

namespace {

// Failed attempts a connection may make before authenticate refuses at once (reconnecting costs
// a TCP handshake and counts against max_connections).
constexpr uint32_t kMaxFailuresPerConnection = 5;

class GateImpl final : public wire::Gate::Server, ServiceBase {
 public:
  GateImpl(ServiceState& state, std::shared_ptr<ConnectionInfo> conn)
      : ServiceBase(state, std::make_shared<const Principal>()), conn_(std::move(conn)) {}

  kj::Promise<void> info(InfoContext ctx) override {
    return Serve("Gate.info", {}, [this, ctx]() mutable -> kj::Promise<void> {
      auto info = ctx.getResults().initInfo();
      info.setSchemaVersion(wire::SCHEMA_VERSION);
      info.setServerVersion("hashmatchd 0.1.0");
      info.setReady(state_.state() == ServerState::kReady);
      return kj::READY_NOW;
    });
  }

  kj::Promise<void> authenticate(AuthenticateContext ctx) override {
    return Serve("Gate.authenticate", {}, [this, ctx]() mutable -> kj::Promise<void> {
      if (conn_->authenticating) {
        // Parallel guesses on one connection would defeat the failure delay.
        throw RpcError("resource_exhausted", "one authenticate call at a time per connection");
      }
      if (conn_->auth_failures >= kMaxFailuresPerConnection) {
        throw RpcError("permission_denied", "too many failed attempts on this connection");
      }
      std::optional<Principal> p =
          state_.tokens().Authenticate(TextView(ctx.getParams().getToken()));
      ctx.releaseParams();
      if (!p) {
        conn_->auth_failures++;
        conn_->authenticating = true;
        state_.stats().auth_failures.fetch_add(1, std::memory_order_relaxed);
        LogWarn("auth_failed",
                {{"peer", conn_->peer}, {"attempt", std::to_string(conn_->auth_failures)}});
        auto conn = conn_;
        return state_.timer()
            .afterDelay(state_.limits().auth_failure_delay_ms * kj::MILLISECONDS)
            .then([conn]() -> kj::Promise<void> {
              conn->authenticating = false;
              return RpcError("permission_denied", "invalid token");
            });
      }
      conn_->authenticated = true;
      auto who = std::make_shared<const Principal>(std::move(*p));
      std::string roles;
      for (const std::string& r : who->role_names) roles += (roles.empty() ? "" : ",") + r;
      LogInfo("authenticated", {{"peer", conn_->peer}, {"principal", who->name}, {"roles", roles}});
      auto grant = ctx.getResults().initGrant();
      grant.setPrincipal(who->name);
      auto names = grant.initRoles(who->role_names.size());
      for (size_t i = 0; i < who->role_names.size(); ++i) names.set(i, who->role_names[i]);
      // Capabilities only for interfaces the roles can use at all; each method still checks.
      if (MayUseInterface(*who, "Matcher")) grant.setMatcher(NewMatcher(state_, who));
      if (MayUseInterface(*who, "SetAdmin")) grant.setSets(NewSetAdmin(state_, who));
      if (MayUseInterface(*who, "Sync")) grant.setSync(NewSync(state_, who));
      if (MayUseInterface(*who, "Health")) grant.setHealth(NewHealth(state_, who));
      return kj::READY_NOW;
    });
  }

 private:
  std::shared_ptr<ConnectionInfo> conn_;
};

}  // namespace

wire::Gate::Client NewGate(ServiceState& state, std::shared_ptr<ConnectionInfo> connection) {
  return kj::heap<GateImpl>(state, std::move(connection));
}

}  // namespace hashmatch::daemon

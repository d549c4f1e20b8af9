#include "server.h"

#include <arpa/inet.h>
#include <capnp/rpc-twoparty.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "log.h"
#include "services.h"

namespace hashmatch::daemon {

namespace {

// Connections over max_connections are answered (so the client sees why) but at most this many
// at once; beyond that they are closed without a word.
constexpr uint32_t kMaxRefusedOpen = 64;
constexpr auto kRefusedGrace = 2 * kj::SECONDS;

capnp::ReaderOptions ReaderOptionsFor(const Limits& limits) {
  capnp::ReaderOptions o;
  o.traversalLimitInWords = limits.max_message_bytes / 8;
  o.nestingLimit = limits.max_nesting;
  return o;
}

std::string PeerName(kj::AsyncIoStream& stream, bool unix_socket) {
  if (unix_socket) return "unix";
  sockaddr_storage addr{};
  uint len = sizeof addr;
  KJ_IF_MAYBE (e, kj::runCatchingExceptions(
                      [&]() { stream.getpeername(reinterpret_cast<sockaddr*>(&addr), &len); })) {
    return "unknown";
  }
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

// One client connection: the stream, its two-party network and RPC system.
struct Server::Connection {
  Connection(ServiceState& state, kj::Own<kj::AsyncIoStream> s, std::string peer, bool refuse)
      : stream(kj::mv(s)),
        info(std::make_shared<ConnectionInfo>()),
        network(*stream, capnp::rpc::twoparty::Side::SERVER, ReaderOptionsFor(state.limits())),
        rpc(capnp::makeRpcServer(network, Bootstrap(state, refuse))) {
    info->peer = std::move(peer);
    rpc.setFlowLimit(state.limits().max_inflight_bytes / 8);
  }

  capnp::Capability::Client Bootstrap(ServiceState& state, bool refuse) {
    if (refuse) {
      return capnp::Capability::Client(
          RpcError("resource_exhausted", "too many connections (max_connections = " +
                                             std::to_string(state.limits().max_connections) +
                                             "); retry later"));
    }
    return NewGate(state, info);
  }

  kj::Own<kj::AsyncIoStream> stream;
  std::shared_ptr<ConnectionInfo> info;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
};

void Server::ErrorHandler::taskFailed(kj::Exception&& e) {
  if (e.getType() == kj::Exception::Type::DISCONNECTED) return;
  LogWarn("connection_error", {{"error", std::string(e.getDescription().cStr())}});
}

Server::Server(ServiceState& state, kj::AsyncIoContext& io)
    : state_(state), io_(io), connections_(errors_) {}

Server::~Server() {
  StopAccepting();
}

kj::Promise<uint32_t> Server::Listen() {
  const DaemonConfig& cfg = state_.config();
  kj::Promise<void> unix_ready = kj::READY_NOW;
  if (!cfg.unix_socket.empty()) {
    // A socket file left by a previous run would make bind fail; anything else is not ours.
    std::error_code ec;
    if (std::filesystem::is_socket(cfg.unix_socket, ec)) std::filesystem::remove(cfg.unix_socket);
    unix_ready = io_.provider->getNetwork()
                     .parseAddress(kj::str("unix:", cfg.unix_socket.c_str()))
                     .then([this, path = cfg.unix_socket](kj::Own<kj::NetworkAddress> addr) {
                       unix_ = addr->listen();
                       // Owner and group only: the socket is as good as a TCP port on loopback.
                       chmod(path.c_str(), 0660);
                       loops_.add(AcceptLoop(*unix_, true));
                     });
  }
  return unix_ready.then([this]() -> kj::Promise<uint32_t> {
    const std::string& listen = state_.config().listen;
    if (listen.empty()) return uint32_t(0);
    if (!state_.config().tls_cert.empty()) SetUpTls();
    return io_.provider->getNetwork()
        .parseAddress(kj::StringPtr(listen.c_str()))
        .then([this](kj::Own<kj::NetworkAddress> addr) {
          tcp_ = addr->listen();
          loops_.add(AcceptLoop(*tcp_, false));
          return uint32_t(tcp_->getPort());
        });
  });
}

void Server::StopAccepting() {
  loops_.clear();
  tcp_ = nullptr;
  if (unix_.get() != nullptr) {
    unix_ = nullptr;
    std::error_code ec;
    std::filesystem::remove(state_.config().unix_socket, ec);
  }
}

kj::Promise<void> Server::AcceptLoop(kj::ConnectionReceiver& listener, bool unix_socket) {
  return listener.accept()
      .then([this, &listener, unix_socket](kj::Own<kj::AsyncIoStream> stream) {
        std::string peer = PeerName(*stream, unix_socket);
        if (tls_.get() != nullptr && !unix_socket) {
          Handshake(kj::mv(stream), std::move(peer));
        } else {
          Serve(kj::mv(stream), std::move(peer));
        }
        return AcceptLoop(listener, unix_socket);
      })
      .eagerlyEvaluate([](kj::Exception&& e) {
        LogError("accept_failed", {{"error", std::string(e.getDescription().cStr())}});
      });
}

void Server::SetUpTls() {
  const DaemonConfig& cfg = state_.config();
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw RpcError("io_error", "cannot read " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string cert = read(cfg.tls_cert), key = read(cfg.tls_key);
  tls_keypair_ =
      kj::heap<kj::TlsKeypair>(kj::TlsKeypair{kj::TlsPrivateKey(kj::StringPtr(key.c_str())),
                                              kj::TlsCertificate(kj::StringPtr(cert.c_str()))});
  kj::TlsContext::Options options;
  options.defaultKeypair = *tls_keypair_;
  tls_ = kj::heap<kj::TlsContext>(kj::mv(options));
}

void Server::Handshake(kj::Own<kj::AsyncIoStream> stream, std::string peer) {
  KJ_REQUIRE(tls_.get() != nullptr, "Server::Handshake before SetUpTls");
  // Handshakes in progress count against the refused-connection allowance, not the sessions.
  if (handshaking_ >= state_.limits().max_connections + kMaxRefusedOpen) return;
  ++handshaking_;
  const uint32_t ms = std::max<uint32_t>(state_.limits().auth_timeout_ms, 1000);
  connections_.add(
      state_.timer()
          .timeoutAfter(ms * kj::MILLISECONDS, tls_->wrapServer(kj::mv(stream)))
          .then(
              [this, peer](kj::Own<kj::AsyncIoStream> tls) {
                --handshaking_;
                Serve(kj::mv(tls), peer);
              },
              [this, peer](kj::Exception&& e) {
                --handshaking_;
                LogWarn("tls_handshake_failed",
                        {{"peer", peer}, {"error", std::string(e.getDescription().cStr())}});
              }));
}

void Server::Serve(kj::Own<kj::AsyncIoStream> stream, std::string peer) {
  Stats& stats = state_.stats();
  stats.connections_total.fetch_add(1, std::memory_order_relaxed);
  const bool refuse = open_ >= state_.limits().max_connections;
  if (refuse) {
    stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
    LogWarn("connection_refused", {{"peer", peer}, {"open", std::to_string(open_)}});
    if (refused_open_ >= kMaxRefusedOpen) return;  // closed at once
  }
  auto conn = kj::heap<Connection>(state_, kj::mv(stream), peer, refuse);
  kj::Promise<void> done = conn->network.onDisconnect();
  if (refuse) {
    ++refused_open_;
    done = done.exclusiveJoin(state_.timer().afterDelay(kRefusedGrace));
    connections_.add(done.attach(kj::mv(conn), kj::defer([this]() { --refused_open_; })));
    return;
  }
  // A connection must authenticate within auth_timeout_ms, or it is closed.
  std::shared_ptr<ConnectionInfo> info = conn->info;
  const uint32_t timeout_ms = state_.limits().auth_timeout_ms;
  if (timeout_ms > 0) {
    done = done.exclusiveJoin(state_.timer()
                                  .afterDelay(timeout_ms * kj::MILLISECONDS)
                                  .then([info]() -> kj::Promise<void> {
                                    if (info->authenticated) return kj::NEVER_DONE;
                                    LogWarn("auth_timeout", {{"peer", info->peer}});
                                    return kj::READY_NOW;
                                  }));
  }
  ++open_;
  stats.connections_open.store(open_, std::memory_order_relaxed);
  connections_.add(done.attach(kj::mv(conn), kj::defer([this]() {
                                 --open_;
                                 state_.stats().connections_open.store(open_,
                                                                       std::memory_order_relaxed);
                               })));
}

}  // namespace hashmatch::daemon

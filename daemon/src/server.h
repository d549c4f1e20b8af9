// The listening side of hashmatchd: TCP and Unix-socket listeners, and one Cap'n Proto two-party
// RPC session per connection, with the connection-level limits:
//   - ReaderOptions (max_message_bytes, max_nesting) on every incoming message, through
//     TwoPartyVatNetwork; a message over them ends that connection with a "too large" error;
//   - flow control: at most max_inflight_bytes of unanswered calls per connection (the RPC
//     system stops reading from a connection that has more);
//   - max_connections: a connection over the limit gets a Gate that answers every call with
//     "resource_exhausted: too many connections" and is closed after a short grace;
//   - auth_timeout_ms: a connection that has not authenticated by then is closed.
// With tls_cert/tls_key the TCP port speaks TLS only (kj-tls; the Unix socket stays plain). Each
// accepted connection does its handshake on its own, within auth_timeout_ms, so a client that
// never finishes one holds back nobody.
// A protocol error or garbage on one connection ends that connection only.
#pragma once

#include <kj/async-io.h>
#include <kj/compat/tls.h>
#include <kj/vector.h>

#include <string>

#include "service_state.h"

namespace hashmatch::daemon {

class Server {
 public:
  Server(ServiceState& state, kj::AsyncIoContext& io);
  ~Server();

  // Binds the configured listeners and starts accepting; resolves to the bound TCP port (0 when
  // there is no TCP listener). A bind failure rejects.
  kj::Promise<uint32_t> Listen();
  // Closes the listeners (draining); open connections keep being served.
  void StopAccepting();
  uint32_t open_connections() const { return open_; }
  // Serves one accepted stream as a client connection (every limit of a listener's connection
  // applies). The listeners call it; the message-handling fuzz target (fuzz/daemon/) hands it one
  // end of an in-memory pipe.
  void Serve(kj::Own<kj::AsyncIoStream> stream, std::string peer);
  // Sets up the TLS context from the config's tls_cert/tls_key (PEM); throws on a bad file.
  // Listen() calls it when there is a TCP listener; the TLS fuzz target calls it directly.
  void SetUpTls();
  // Serves one accepted stream that must first complete a TLS handshake (within
  // max(auth_timeout_ms, 1 s)), then as Serve(). Needs SetUpTls() first. The TCP listener calls it
  // when TLS is on; the TLS fuzz target (fuzz/daemon/) hands it one end of an in-memory pipe.
  void Handshake(kj::Own<kj::AsyncIoStream> stream, std::string peer);
  // TLS handshakes in progress (a handshake that ends, either way, is no longer counted).
  uint32_t handshakes_in_progress() const { return handshaking_; }

 private:
  struct Connection;
  class ErrorHandler : public kj::TaskSet::ErrorHandler {
   public:
    void taskFailed(kj::Exception&& e) override;
  };

  kj::Promise<void> AcceptLoop(kj::ConnectionReceiver& listener, bool unix_socket);

  ServiceState& state_;
  kj::AsyncIoContext& io_;
  uint32_t open_ = 0;  // before connections_: their destructors update it
  uint32_t refused_open_ = 0;
  uint32_t handshaking_ = 0;
  kj::Own<kj::TlsKeypair> tls_keypair_;  // before tls_, which refers to it
  kj::Own<kj::TlsContext> tls_;
  ErrorHandler errors_;
  kj::TaskSet connections_;
  kj::Own<kj::ConnectionReceiver> tcp_, unix_;
  kj::Vector<kj::Promise<void>> loops_;
};

}  // namespace hashmatch::daemon

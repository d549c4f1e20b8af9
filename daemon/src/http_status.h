// The operations HTTP port: GET /metrics (Prometheus text, metrics.h), /healthz (the process is
// up: always 200) and /readyz (200 once the store is loaded, else 503 with the state). Plain HTTP
// on its own address (http_listen, IP:PORT), no token: bind it to loopback or a private network.
// Served by Boost.Beast on one thread of its own, apart from the RPC event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hashmatch/core/status.h"
#include "service_state.h"

namespace hashmatch::daemon {

class HttpStatusServer {
 public:
  // Binds `listen` ("127.0.0.1:9100", "[::1]:0") and starts serving.
  static Result<std::unique_ptr<HttpStatusServer>> Start(ServiceState& state,
                                                         const std::string& listen);
  ~HttpStatusServer();  // stops and joins the thread
  uint16_t port() const;
  // Connections accepted and not yet finished (their socket closed and state freed). For tests and
  // the HTTP fuzz target (fuzz/daemon/http_status_fuzzer.cc), which waits for 0 after each input.
  int open_sessions() const;

  struct Impl;

 private:
  explicit HttpStatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hashmatch::daemon

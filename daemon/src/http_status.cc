// Boost.Beast compiles slowly: this is the only file that includes it.
// <utility> first: Boost 1.74's Asio uses std::exchange without including it, which GCC 12's
// C++20 headers no longer provide transitively.
#include <utility>

#include "http_status.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

#include "log.h"
#include "metrics.h"

namespace hashmatch::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

http::response<http::string_body> Answer(ServiceState& state,
                                         const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(false);
  res.set(http::field::server, "hashmatchd");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  const beast::string_view target = req.target();
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.body() = "GET only\n";
  } else if (target == "/healthz") {
    res.result(http::status::ok);
    res.body() = "ok\n";
  } else if (target == "/readyz") {
    const bool ready = state.state() == ServerState::kReady;
    res.result(ready ? http::status::ok : http::status::service_unavailable);
    res.body() = state.StateText() + "\n";
  } else if (target == "/metrics") {
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = RenderMetrics(state);
  } else {
    res.result(http::status::not_found);
    res.body() = "not found: /metrics, /healthz, /readyz\n";
  }
  if (req.method() == http::verb::head) res.body().clear();
  res.prepare_payload();
  return res;
}

// Counts a session from its construction until its last member is destroyed (its socket closed):
// the first member, so destroyed last.
class OpenCount {
 public:
  explicit OpenCount(std::atomic<int>& n) : n_(n) { n_.fetch_add(1, std::memory_order_relaxed); }
  ~OpenCount() { n_.fetch_sub(1, std::memory_order_release); }
  OpenCount(const OpenCount&) = delete;
  OpenCount& operator=(const OpenCount&) = delete;

 private:
  std::atomic<int>& n_;
};

// One request per connection, with a 5 s budget for reading it and small size limits.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServiceState& state, std::atomic<int>& open)
      : open_(open), stream_(std::move(socket)), state_(state) {}

  void Run() {
    parser_.emplace();
    parser_->header_limit(8192);
    parser_->body_limit(4096);
    stream_.expires_after(std::chrono::seconds(5));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->res_ = Answer(self->state_, self->parser_->get());
                       http::async_write(self->stream_, self->res_,
                                         [self](beast::error_code, size_t) { self->Close(); });
                     });
  }

 private:
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  OpenCount open_;
  beast::tcp_stream stream_;
  ServiceState& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

}  // namespace

struct HttpStatusServer::Impl {
  explicit Impl(ServiceState& s) : state(s) {}
  ServiceState& state;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::atomic<int> open_sessions{0};
  std::thread thread;

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (!acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(s), state, open_sessions)->Run();
      Accept();
    });
  }
};

HttpStatusServer::HttpStatusServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpStatusServer>> HttpStatusServer::Start(ServiceState& state,
                                                                  const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("http_listen: expected IP:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1));
  } catch (...) {
    return Status::InvalidArgument("http_listen: bad port in '" + listen + "'");
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec || port > 65535) {
    return Status::InvalidArgument("http_listen: '" + listen + "' is not IP:PORT");
  }
  auto impl = std::make_unique<Impl>(state);
  const tcp::endpoint endpoint(address, uint16_t(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) impl->port = impl->acceptor.local_endpoint(ec).port();
  if (ec) return Status::IoError("http_listen " + listen + ": " + ec.message());
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw]() { raw->ioc.run(); });
  return std::unique_ptr<HttpStatusServer>(new HttpStatusServer(std::move(impl)));
}

HttpStatusServer::~HttpStatusServer() {
  net::post(impl_->ioc, [impl = impl_.get()]() {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t HttpStatusServer::port() const {
  return impl_->port;
}

int HttpStatusServer::open_sessions() const {
  return impl_->open_sessions.load(std::memory_order_acquire);
}

}  // namespace hashmatch::daemon

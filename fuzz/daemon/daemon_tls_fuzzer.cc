// libFuzzer target over hashmatchd's TLS port (issue 6): every input is one connection to the
// in-process daemon of fuzz_daemon.h (the ready one) through Server::Handshake, the function the
// TCP listener calls for each accepted socket when tls_cert/tls_key are set: the server's own
// kj-tls context (the test certificate of tls_test_cert.h) wraps one end of an in-memory pipe,
// with the handshake timeout, then Serve() as for a plain connection.
//
// Byte 0 picks the mode (its low bit):
//   even ('H'): handshake bytes. The rest is written as it is to the connection, then the write
//               side is closed: record framing, ClientHello fields and extensions, alerts,
//               renegotiation and plain-text Cap'n Proto all reach the server's handshake.
//   odd:        inside TLS. A real kj-tls client (trusting the test certificate) completes the
//               handshake, then writes the rest inside TLS, as the RPC bytes of a session; bit 1
//               picks the end: clear ('I'), a TLS close (close_notify, shutdownWrite); set ('K'),
//               the transport is dropped without one (a peer that vanishes mid-session).
// After each input the target checks the server still serves: a fresh TLS client must complete
// a handshake and get an answer to Gate.info. A finding is a crash, a sanitizer report, a leak, a
// connection or handshake the daemon has not finished within a few seconds of the client going
// away (Settle), or a server that no longer serves TLS.
//
// Coverage: kj-tls and OpenSSL are Debian's uninstrumented libraries, so libFuzzer's feedback
// comes only from our code and the kj templates inlined into it; the handshake-bytes mode mutates
// the seeds (recorded ClientHellos and client flights) mostly blind.
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/compat/tls.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <thread>
#include <utility>

#include "fuzz_daemon.h"
#include "hashmatch/schema/hashmatch.capnp.h"
#include "log.h"
#include "script_seeds.h"
#include "script_session.h"
#include "tls_test_cert.h"

namespace hashmatch::fuzz {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "daemon tls fuzz: %s\n", what.c_str());
  std::abort();
}

// Runs the event loop until done() or `until`, whatever the daemon is doing (FuzzDaemon::Pump
// stops early when the daemon has nothing in flight, but here the client's side may still be).
bool Loop(kj::FunctionParam<bool()> done, Clock::time_point until) {
  FuzzDaemon& d = FuzzDaemon::Get();
  for (;;) {
    d.wait_scope().poll();
    if (done()) return true;
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

kj::Promise<void> Drain(kj::AsyncIoStream& s, kj::byte* buf, size_t size) {
  return s.tryRead(buf, 1, size).then([&s, buf, size](size_t n) -> kj::Promise<void> {
    if (n == 0) return kj::READY_NOW;
    return Drain(s, buf, size);
  });
}

// A client that trusts the test certificate only (and checks the name "localhost").
kj::TlsContext& ClientTls() {
  static kj::TlsContext* context = [] {
    static const kj::TlsCertificate cert(kj::StringPtr{kTlsTestCert});
    kj::TlsContext::Options options;
    options.useSystemTrustStore = false;
    options.trustedCertificates = kj::arrayPtr(&cert, 1);
    return new kj::TlsContext(kj::mv(options));
  }();
  return *context;
}

// Keeps what the client writes (and passes it on when `forward`): the recorded handshake seeds.
class TeeStream final : public kj::AsyncIoStream {
 public:
  TeeStream(kj::Own<kj::AsyncIoStream> inner, std::string& out, bool forward)
      : inner_(kj::mv(inner)), out_(out), forward_(forward) {}
  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    return inner_->tryRead(buffer, min_bytes, max_bytes);
  }
  kj::Promise<void> write(const void* buffer, size_t size) override {
    out_.append(static_cast<const char*>(buffer), size);
    return forward_ ? inner_->write(buffer, size) : kj::READY_NOW;
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    for (auto p : pieces) out_.append(reinterpret_cast<const char*>(p.begin()), p.size());
    return forward_ ? inner_->write(pieces) : kj::READY_NOW;
  }
  kj::Promise<void> whenWriteDisconnected() override { return inner_->whenWriteDisconnected(); }
  void shutdownWrite() override {
    if (forward_) inner_->shutdownWrite();
  }

 private:
  kj::Own<kj::AsyncIoStream> inner_;
  std::string& out_;
  const bool forward_;
};

// A TLS client handshake with the server over a fresh pipe; the client's stream, or null after
// `until`. `record`: the client's bytes are also kept there (`forward` false: only kept, the
// server gets nothing and the handshake never completes; then null).
kj::Own<kj::AsyncIoStream> ConnectTls(Clock::time_point until, std::string* record = nullptr,
                                      bool forward = true) {
  FuzzDaemon& d = FuzzDaemon::Get();
  auto pipe = kj::newTwoWayPipe();
  d.tls_server().Handshake(kj::mv(pipe.ends[0]), "fuzz-tls");
  kj::Own<kj::AsyncIoStream> end = kj::mv(pipe.ends[1]);
  if (record != nullptr) end = kj::heap<TeeStream>(kj::mv(end), *record, forward);
  kj::Own<kj::AsyncIoStream> tls;
  bool done = false;
  std::string error;
  auto handshake = ClientTls()
                       .wrapClient(kj::mv(end), "localhost")
                       .then([&](kj::Own<kj::AsyncIoStream> s) { tls = kj::mv(s); },
                             [&](kj::Exception&& e) { error = e.getDescription().cStr(); })
                       .then([&done]() { done = true; })
                       .eagerlyEvaluate(nullptr);
  Loop([&done] { return done; }, until);
  if (!done && forward) Die("the TLS handshake of a real client did not finish");
  if (done && tls.get() == nullptr) Die("a real client's TLS handshake failed: " + error);
  return tls;
}

// The server must still serve TLS: a real client's handshake and one Gate.info call.
void CheckServing() {
  FuzzDaemon& d = FuzzDaemon::Get();
  const auto until = Clock::now() + std::chrono::seconds(4);
  {
    kj::Own<kj::AsyncIoStream> tls = ConnectTls(until);
    capnp::TwoPartyClient client(*tls);
    bool done = false, ready = false;
    std::string error;
    auto call = client.bootstrap()
                    .castAs<wire::Gate>()
                    .infoRequest()
                    .send()
                    .then([&](auto&& r) { ready = r.getInfo().getReady(); },
                          [&](kj::Exception&& e) { error = e.getDescription().cStr(); })
                    .then([&done]() { done = true; })
                    .eagerlyEvaluate(nullptr);
    Loop([&done] { return done; }, until);
    if (!done) Die("Gate.info over TLS got no answer within 4 s");
    if (!error.empty()) Die("Gate.info over TLS failed: " + error);
    if (!ready) Die("Gate.info over TLS reports the ready daemon not ready");
  }
  d.Settle(until + std::chrono::seconds(4), "TLS check");
}

// Writes `bytes` to `s` while reading (and dropping) what comes back, then ends the stream
// (shutdownWrite when `close`); returns with the answers read to the end, or at `until`.
void Exchange(kj::AsyncIoStream& s, std::span<const uint8_t> bytes, bool close,
              Clock::time_point until) {
  kj::byte buf[4096];
  bool written = false, closed = false;
  // The answers are read: an in-memory pipe holds no bytes, so an unread answer would stall the
  // daemon's writes.
  auto reading =
      Drain(s, buf, sizeof buf)
          .then([&closed]() { closed = true; }, [&closed](kj::Exception&&) { closed = true; })
          .eagerlyEvaluate(nullptr);
  auto writing =
      s.write(bytes.data(), bytes.size())
          .then([&written]() { written = true; }, [&written](kj::Exception&&) { written = true; })
          .eagerlyEvaluate(nullptr);
  Loop([&written] { return written; }, until);
  if (written && close) {
    kj::runCatchingExceptions([&]() { s.shutdownWrite(); });
    Loop([&closed] { return closed; }, until);
  }
  // A write the daemon stopped reading is dropped with the stream.
}

void RunHandshakeBytes(std::span<const uint8_t> bytes) {
  FuzzDaemon& d = FuzzDaemon::Get();
  const auto until = Clock::now() + std::chrono::seconds(4);
  auto pipe = kj::newTwoWayPipe();
  d.tls_server().Handshake(kj::mv(pipe.ends[0]), "fuzz-tls-raw");
  {
    kj::Own<kj::AsyncIoStream> end = kj::mv(pipe.ends[1]);
    Exchange(*end, bytes, true, until);
  }
  d.Settle(until + std::chrono::seconds(4), "TLS handshake bytes");
}

void RunInsideTls(std::span<const uint8_t> bytes, bool close) {
  FuzzDaemon& d = FuzzDaemon::Get();
  const auto until = Clock::now() + std::chrono::seconds(4);
  {
    kj::Own<kj::AsyncIoStream> tls = ConnectTls(until);
    Exchange(*tls, bytes, close, until);
    // Without close: the TLS stream and its pipe go now, with no close_notify.
  }
  d.Settle(until + std::chrono::seconds(4), "bytes inside TLS");
}

// HASHMATCH_DAEMON_TLS_FUZZ_WRITE_SEEDS=DIR: writes the seeds into DIR, then exits. H-*: what a
// real kj-tls client sends first (its ClientHello, recorded without an answer), the whole client
// side of a real handshake (replayed it fails at the keys, after the server parsed it all), and a
// plain Cap'n Proto session (a client that forgot TLS); I-*/K-*: the script seeds' recorded RPC
// bytes (fuzz/daemon/corpus's R-*), sent inside TLS and ended with and without close_notify.
void WriteSeeds(const std::filesystem::path& dir) {
  FuzzDaemon& d = FuzzDaemon::Get();
  std::filesystem::create_directories(dir);
  auto put = [&dir](const std::string& name, char mode, const std::string& body) {
    std::ofstream(dir / name, std::ios::binary) << mode << body;
    std::printf("%s: %zu bytes\n", name.c_str(), body.size() + 1);
  };
  {
    std::string hello;
    ConnectTls(Clock::now() + std::chrono::milliseconds(200), &hello, false);
    d.Settle(Clock::now() + std::chrono::seconds(8), "seed: ClientHello");
    put("H-client-hello", 'H', hello);
  }
  {
    std::string flight;
    {
      kj::Own<kj::AsyncIoStream> tls = ConnectTls(Clock::now() + std::chrono::seconds(4), &flight);
    }
    d.Settle(Clock::now() + std::chrono::seconds(8), "seed: handshake");
    put("H-client-handshake", 'H', flight);
  }
  for (const auto& [name, script] : ScriptSeeds("")) {
    if (name != "gate-info" && name != "admin-match" && name != "scan-roles") continue;
    std::string recorded;
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(script.data()),
                                         script.size());
    RunScript(bytes.subspan(1), &recorded);
    if (name == "gate-info") put("H-plain-capnp-" + name, 'H', recorded);
    put("I-" + name, 'I', recorded);
    if (name != "admin-match") put("K-" + name, 'K', recorded);
  }
  std::fflush(stdout);
  std::exit(0);  // the daemon is never torn down; exit removes its directory
}

}  // namespace

}  // namespace hashmatch::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // HASHMATCH_DAEMON_FUZZ_LOG=1 keeps the daemon's logs (a warning per failed handshake).
  const char* log = std::getenv("HASHMATCH_DAEMON_FUZZ_LOG");
  hashmatch::daemon::SetMinLogLevel(log != nullptr && log[0] == '1' ? "info" : "off");
  hashmatch::fuzz::FuzzDaemon::Get().tls_server();
  if (const char* dir = std::getenv("HASHMATCH_DAEMON_TLS_FUZZ_WRITE_SEEDS")) {
    hashmatch::fuzz::WriteSeeds(dir);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  if (data[0] & 1) {
    hashmatch::fuzz::RunInsideTls(rest, !(data[0] & 2));
  } else {
    hashmatch::fuzz::RunHandshakeBytes(rest);
  }
  hashmatch::fuzz::CheckServing();
  return 0;
}

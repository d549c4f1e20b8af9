// libFuzzer target over hashmatchd's operations HTTP port (issue 6): the real HttpStatusServer
// (daemon/src/http_status.cc, Boost.Beast on its own thread) listening on a loopback port, over
// the ServiceStates of fuzz_daemon.h, gets every input as the bytes of one TCP connection.
//
// Byte 0 picks (its value modulo 3) the daemon whose state the port reports: the ready one (with
// the baseline store, so /metrics renders per-set gauges), one still loading, one whose store
// failed to open; bit 2 (0x04) picks the end of the connection: clear, the client closes its
// write side and reads the answer to the end; set, it resets the connection (SO_LINGER 0) right
// after writing, while the server may still be reading or answering.
//
// A finding is a crash, a sanitizer report or leak (the server's thread included), or a broken
// invariant of the target's own:
//   - the server ends the connection (EOF or reset) within 3 s of the client's end of input, and
//     frees its session (HttpStatusServer::open_sessions() back to 0) within 3 s;
//   - an answer, when there is one, is one HTTP/1.x response with a status the port gives (200,
//     404, 405, 503) and a Content-Length equal to the body that followed; 503 only from a daemon
//     not ready, with its state ("loading", "failed: ..."), and "ready" only from the ready one;
//   - after every input, a valid GET /healthz on a new connection still gets 200 "ok".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "fuzz_daemon.h"
#include "http_status.h"
#include "log.h"

namespace hashmatch::fuzz {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kBound = std::chrono::seconds(3);

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "http status fuzz: %s\n", what.c_str());
  std::abort();
}

// One status server per daemon state, started once; never stopped (reachable for LSan).
daemon::HttpStatusServer& Server(Readiness r) {
  static daemon::HttpStatusServer* servers[3] = {};
  daemon::HttpStatusServer*& s = servers[size_t(r)];
  if (s == nullptr) {
    auto started = daemon::HttpStatusServer::Start(FuzzDaemon::Get().state(r), "127.0.0.1:0");
    if (!started.ok()) Die("start: " + started.status().ToString());
    s = started.value().release();
  }
  return *s;
}

int Connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    // libFuzzer's once-a-second SIGALRM (for -timeout) can interrupt connect, which then goes on
    // asynchronously: wait for it to finish, and take its outcome.
    if (errno != EINTR) Die(std::string("connect: ") + std::strerror(errno));
    pollfd p{fd, POLLOUT, 0};
    while (poll(&p, 1, 3000) < 0 && errno == EINTR) {
    }
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0 ||
        !(p.revents & POLLOUT)) {
      Die(std::string("connect (after EINTR): ") + std::strerror(error));
    }
  }
  return fd;
}

// Writes what the server takes; it may close early (it stops at a malformed request or a limit),
// which ends the writing. Bounded by SO_SNDTIMEO.
void WriteAll(int fd, std::span<const uint8_t> bytes) {
  timeval tv{};
  tv.tv_sec = 3;
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // EPIPE, ECONNRESET, or the timeout: the server stopped reading
    }
    off += size_t(n);
  }
}

// Reads to the end (EOF or reset) until `until`; false when the connection is still open then.
bool ReadAll(int fd, std::string* out, Clock::time_point until) {
  char buf[8192];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, int(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;  // EOF, or reset (ECONNRESET after unread input)
    out->append(buf, size_t(n));
  }
}

// An answer must be one response the port can give; a cut one (the read ended in a reset) only
// needs a well-formed start.
void CheckAnswer(const std::string& a, std::span<const uint8_t> input, bool ready) {
  if (a.empty()) return;  // nothing parsed: the server closes without a word
  auto fail = [&](const std::string& why) {
    Die(why + "\n--- input (" + std::to_string(input.size()) + " bytes) ---\n" +
        std::string(reinterpret_cast<const char*>(input.data()),
                    std::min<size_t>(input.size(), 512)) +
        "\n--- answer ---\n" + a.substr(0, 1024));
  };
  if (!a.starts_with("HTTP/1.0 ") && !a.starts_with("HTTP/1.1 ")) fail("not an HTTP/1.x answer");
  if (a.size() < 12) return;
  const std::string_view code(a.data() + 9, 3);
  if (code != "200" && code != "404" && code != "405" && code != "503") {
    fail("an unexpected status " + std::string(code));
  }
  const size_t head_end = a.find("\r\n\r\n");
  if (head_end == std::string::npos) return;
  const size_t cl = a.find("\r\nContent-Length: ");
  if (cl == std::string::npos || cl > head_end) fail("no Content-Length");
  const size_t body = a.size() - (head_end + 4);
  if (std::strtoull(a.c_str() + cl + 18, nullptr, 10) != body) {
    fail("Content-Length differs from the body's " + std::to_string(body) + " bytes");
  }
  // 503 is /readyz's answer while not ready, with the state; /readyz says "ready" with 200 only.
  const std::string_view text(a.data() + head_end + 4, body);
  if (code == "503" &&
      (ready || (!text.empty() && text != "loading\n" && !text.starts_with("failed: ")))) {
    fail("503 from the " + std::string(ready ? "ready" : "not-ready") + " daemon");
  }
  if (code == "200" && text == "ready\n" && !ready) fail("'ready' from a daemon not ready");
}

// HASHMATCH_HTTP_FUZZ_TRACE=1: each answer (its first 400 bytes) on stderr, to see what an input
// does.
bool Tracing() {
  static const bool trace = [] {
    const char* t = std::getenv("HASHMATCH_HTTP_FUZZ_TRACE");
    return t != nullptr && t[0] == '1';
  }();
  return trace;
}

void WaitSessionsDone(daemon::HttpStatusServer& s, const char* what) {
  const auto until = Clock::now() + kBound;
  while (s.open_sessions() != 0) {
    if (Clock::now() >= until) {
      Die(std::string(what) + ": the server still holds " + std::to_string(s.open_sessions()) +
          " sessions 3 s after the connection ended");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void RunInput(daemon::HttpStatusServer& s, std::span<const uint8_t> bytes, bool reset, bool ready) {
  const int fd = Connect(s.port());
  WriteAll(fd, bytes);
  if (reset) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
  } else {
    shutdown(fd, SHUT_WR);
    std::string answer;
    if (!ReadAll(fd, &answer, Clock::now() + kBound)) {
      Die("the server did not end the connection within 3 s of the end of input (" +
          std::to_string(bytes.size()) + " bytes)");
    }
    close(fd);
    if (Tracing()) {  // the answer's first line
      std::fprintf(stderr, "  answer: %s\n", answer.substr(0, 400).c_str());
    }
    CheckAnswer(answer, bytes, ready);
  }
  WaitSessionsDone(s, "input");
}

void CheckHealthz(daemon::HttpStatusServer& s) {
  static constexpr std::string_view kRequest = "GET /healthz HTTP/1.1\r\nHost: fuzz\r\n\r\n";
  const int fd = Connect(s.port());
  WriteAll(fd, {reinterpret_cast<const uint8_t*>(kRequest.data()), kRequest.size()});
  std::string answer;
  const bool ended = ReadAll(fd, &answer, Clock::now() + kBound);
  close(fd);
  if (!ended || !answer.starts_with("HTTP/1.1 200 ") || !answer.ends_with("\r\n\r\nok\n")) {
    Die("GET /healthz after the input got: " + answer.substr(0, 512));
  }
  WaitSessionsDone(s, "/healthz");
}

}  // namespace

}  // namespace hashmatch::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* log = std::getenv("HASHMATCH_DAEMON_FUZZ_LOG");
  hashmatch::daemon::SetMinLogLevel(log != nullptr && log[0] == '1' ? "info" : "off");
  using hashmatch::fuzz::Readiness;
  for (Readiness r : {Readiness::kReady, Readiness::kLoading, Readiness::kFailed}) {
    hashmatch::fuzz::Server(r);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto readiness = hashmatch::fuzz::Readiness(data[0] % 3);
  auto& server = hashmatch::fuzz::Server(readiness);
  hashmatch::fuzz::RunInput(server, {data + 1, size - 1}, data[0] & 4,
                            readiness == hashmatch::fuzz::Readiness::kReady);
  hashmatch::fuzz::CheckHealthz(server);
  return 0;
}

// Runs the real hashmatchd binary for the integration tests: a temporary directory with a config
// (loopback TCP on port 0, a store, four tokens), the daemon started as a child process, its
// bound port read from the port file it writes, and SIGTERM (then SIGKILL) at the end.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hashmatch/client/client.h"
#include "hashmatch/core/digest.h"
#include "hashmatch/core/hex.h"

namespace hashmatch::testing {

namespace fs = std::filesystem;

inline std::string Sha256Hex(const std::string& s) {
  auto d = Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  return ToHex(*d);
}

inline std::string RandomToken() {
  std::random_device rd;
  std::string t;
  for (int i = 0; i < 4; ++i) t += std::to_string(rd());
  return "tok-" + t;
}

// The tokens every daemon of a test knows, by role.
struct Tokens {
  std::string admin = RandomToken();
  std::string scan = RandomToken();
  std::string sync_a = RandomToken();  // sync:setA
  std::string sync_b = RandomToken();  // sync:setB
};

class Daemon {
 public:
  // `extra` is appended to the config ([limits]/[testing] sections).
  explicit Daemon(std::string extra = "", fs::path dir = {}) : extra_(std::move(extra)) {
    if (dir.empty()) {
      char tmpl[] = "/tmp/hashmatchd-test-XXXXXX";
      dir_ = mkdtemp(tmpl);
      owns_dir_ = true;
    } else {
      dir_ = dir;
    }
  }
  ~Daemon() {
    Stop();
    // In a sanitizer build the daemon is instrumented too: its reports land in its log.
    const std::string log = Log();
    for (const char* report : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                               "runtime error:", "WARNING: ThreadSanitizer"}) {
      EXPECT_EQ(log.find(report), std::string::npos) << "hashmatchd: " << report << "\n" << log;
    }
    if (owns_dir_) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  int workers = 2;           // [server] workers, read by Start
  std::string server_extra;  // more [server] lines, read by Start

  const fs::path& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  // Rewrites the config (e.g. after set_tokens) and sends SIGHUP.
  void Reload() {
    std::ofstream(dir_ / "hashmatchd.conf") << Config();
    kill(pid_, SIGHUP);
  }

  // Waits up to `seconds` for `text` to appear in the log.
  bool WaitForLog(const std::string& text, int seconds = 10) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < until) {
      if (Log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  const Tokens& tokens() const { return tokens_; }
  void set_tokens(const Tokens& t) { tokens_ = t; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }

  std::string Config() const {
    std::ostringstream c;
    c << "[server]\nlisten = 127.0.0.1:0\nport_file = " << (dir_ / "port").string()
      << "\nstore = " << (dir_ / "store").string() << "\ncreate_store = true\nworkers = " << workers
      << "\n"
      << server_extra << "\n"
      << "[tokens]\n"
      << "ops = " << Sha256Hex(tokens_.admin) << " admin\n"
      << "scanner = " << Sha256Hex(tokens_.scan) << " scan\n"
      << "sync-a = " << Sha256Hex(tokens_.sync_a) << " sync:setA\n"
      << "sync-b = " << Sha256Hex(tokens_.sync_b) << " sync:setB\n"
      << (extra_.find("[limits]") == std::string::npos ? "[limits]\nauth_failure_delay_ms = 100\n"
                                                       : "")
      << extra_ << "\n";
    return c.str();
  }

  // Starts the daemon and waits (up to 30 s) for its port file.
  void Start() {
    { std::ofstream(dir_ / "hashmatchd.conf") << Config(); }
    fs::remove(dir_ / "port");
    const std::string log = (dir_ / "hashmatchd.log").string();
    const std::string conf = (dir_ / "hashmatchd.conf").string();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      execl(HASHMATCHD_PATH, "hashmatchd", "--config", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      std::ifstream in(dir_ / "port");
      int p = 0;
      if (in >> p && p > 0) {
        port_ = uint16_t(p);
        return;
      }
      ASSERT_TRUE(Alive()) << "hashmatchd exited during start:\n" << Log();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "hashmatchd wrote no port file in 30 s:\n" << Log();
  }

  // Waits until the store is loaded (health says ready), up to 30 s.
  void WaitReady() {
    auto c = Connect(tokens_.admin);
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      auto h = (*c)->GetHealth();
      ASSERT_TRUE(h.ok()) << h.error().ToString();
      if (h->ready) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "not ready after 30 s:\n" << Log();
  }

  void StartReady() {
    Start();
    if (!::testing::Test::HasFatalFailure()) WaitReady();
  }

  bool Alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM, then up to 20 s for a clean exit, then SIGKILL. Returns the wait status.
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &exit_status_, 0);
    pid_ = -1;
    ADD_FAILURE() << "hashmatchd did not stop on SIGTERM";
    return exit_status_;
  }

  std::string Log() const {
    std::ifstream in(dir_ / "hashmatchd.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  client::Result<std::unique_ptr<client::Client>> Connect(const std::string& token = "") const {
    client::ConnectOptions o;
    o.address = address();
    o.token = token;
    o.timeout = std::chrono::milliseconds(30000);
    return client::Client::Connect(o);
  }

  // An admin client; fails the test when it cannot connect.
  std::unique_ptr<client::Client> Admin() const {
    auto c = Connect(tokens_.admin);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? std::move(c.value()) : nullptr;
  }

 private:
  std::string extra_;
  fs::path dir_;
  bool owns_dir_ = false;
  Tokens tokens_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  uint16_t port_ = 0;
};

// A PDQ set named `name` holding `hexes` keyed "k<i>", created and filled through `admin`.
inline void MakePdqSet(client::Client& admin, const std::string& name,
                       const std::vector<std::string>& hexes) {
  client::SetConfig cfg;
  cfg.name = name;
  auto s = admin.CreateSet(cfg);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  client::Page page;
  for (size_t i = 0; i < hexes.size(); ++i) {
    client::Record r;
    r.key = "k" + std::to_string(i);
    r.hash.hex = hexes[i];
    page.records.push_back(r);
  }
  auto st = admin.ApplyPage(name, page);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
}

inline std::vector<uint8_t> ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

}  // namespace hashmatch::testing

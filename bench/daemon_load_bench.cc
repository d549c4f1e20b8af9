// daemon_load_bench: hashmatchd under load, beside the same matching in-process.
//
// It starts the real hashmatchd on a temporary store, fills one PDQ set with N random codes
// through sync pages, then measures, for each connection count C:
//   1. capacity: C clients send batches back to back for S seconds (closed loop), queries/s;
//   2. single-hash capacity: C connections each keep one call outstanding (closed loop);
//   3. open loop: single-hash calls on a fixed schedule over C connections at a total rate of
//      `--load` x the single-hash capacity; each latency is measured from the call's scheduled
//      time, so a late send counts (no coordinated omission); p50/p99/p999/max are reported.
//      Steps 2 and 3 drive every connection from one event-loop thread (async_load.h): the
//      client library's thread per connection would charge its own overhead to the daemon on a
//      machine the generator shares with it.
// and, in-process, the store's Match on the same snapshot (read-only open of the daemon's store)
// with one thread per CPU, batched and single.
//
//   daemon_load_bench --daemon build/release/daemon/hashmatchd [--entries 1000000] [--batch 1000]
//                     [--connections 1,16,64] [--seconds 5] [--load 0.5] [--workers N (daemon)]
//                     [--dir D]   (keeps the filled store in D; a later run with D reuses it)
//
// Queries: random codes, 10% of them within 8 bits of a listed code (so some hit).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "async_load.h"
#include "hashmatch/client/client.h"
#include "hashmatch/core/digest.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "prom_histogram.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using hashmatch::client::Client;

struct Options {
  std::string daemon;
  size_t entries = 1000000;
  size_t batch = 1000;
  std::vector<int> connections{1, 16, 64};
  double seconds = 5;
  double load = 0.5;
  unsigned workers = 0;  // the daemon's; 0: its default (two per CPU)
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());  // in-process
  std::string dir;  // keep the store here; a store already there (same --entries) is reused
};

std::array<uint8_t, 32> RandomCode(std::mt19937_64& rng) {
  std::array<uint8_t, 32> c;
  for (size_t i = 0; i < 32; i += 8) {
    const uint64_t v = rng();
    std::memcpy(c.data() + i, &v, 8);
  }
  return c;
}

std::vector<std::array<uint8_t, 32>> Queries(const std::vector<std::array<uint8_t, 32>>& listed,
                                             size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::array<uint8_t, 32>> out(n);
  for (auto& q : out) {
    if (rng() % 10 == 0) {
      q = listed[rng() % listed.size()];
      for (int f = int(rng() % 9); f > 0; --f) q[rng() % 32] ^= uint8_t(1u << (rng() % 8));
    } else {
      q = RandomCode(rng);
    }
  }
  return out;
}

std::vector<hashmatch::client::Query> ToQueries(const std::vector<std::array<uint8_t, 32>>& codes,
                                                size_t from, size_t n) {
  std::vector<hashmatch::client::Query> out(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = codes[(from + i) % codes.size()];
    out[i].hashes = {hashmatch::client::Hash{"pdq", "", {c.begin(), c.end()}}};
  }
  return out;
}

class DaemonProcess {
 public:
  DaemonProcess(const Options& o, const fs::path& dir, const std::string& token) : dir_(dir) {
    std::error_code ec;
    fs::remove(dir / "port", ec);  // a previous run's ports
    fs::remove(dir / "http_port", ec);
    std::ofstream(dir / "conf")
        << "[server]\nlisten = 127.0.0.1:0\nport_file = " << (dir / "port").string()
        << "\nhttp_listen = 127.0.0.1:0\nhttp_port_file = " << (dir / "http_port").string()
        << "\nstore = " << (dir / "store").string()
        << "\ncreate_store = true\nworkers = " << o.workers
        << "\n[limits]\nmax_batch = " << std::max<size_t>(o.batch, 10000)
        << "\nmax_page_records = 100000\nmax_connections = 1024\n"
        << "max_queued_calls = 100000\ncall_deadline_ms = 600000\n"
        << "[tokens]\nbench = "
        << hashmatch::ToHex(*hashmatch::Sha256(std::span<const uint8_t>(
               reinterpret_cast<const uint8_t*>(token.data()), token.size())))
        << " admin\n";
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = (dir / "log").string(), conf = (dir / "conf").string();
      if (!std::freopen(log.c_str(), "w", stderr)) _exit(126);
      execl(o.daemon.c_str(), "hashmatchd", "--config", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 600 && (port_ == 0 || http_port_ == 0); ++i) {
      std::ifstream(dir / "port") >> port_;
      std::ifstream(dir / "http_port") >> http_port_;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~DaemonProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Metrics() const { return hashmatch::bench::HttpGet(http_port_, "/metrics"); }
  // The daemon's CPU time so far (user + system), from /proc; 10 ms resolution.
  double CpuSeconds() const {
    const auto f = StatFields();
    return double(f[14] + f[15]) / double(sysconf(_SC_CLK_TCK));
  }
  // Page faults that had to read from disk (a mapped store page the kernel had dropped).
  unsigned long long MajorFaults() const { return StatFields()[12]; }
  bool ok() const { return port_ != 0; }

 private:
  // /proc/PID/stat fields 1..15, numbered as in proc(5) (text fields read as 0).
  std::array<unsigned long long, 16> StatFields() const {
    std::array<unsigned long long, 16> out{};
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) return out;
    std::istringstream rest(stat.substr(paren + 2));  // from field 3, after "pid (comm) "
    std::string field;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i >= 4) out[size_t(i)] = std::stoull(field);
    }
    return out;
  }

  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int http_port_ = 0;
};

std::unique_ptr<Client> Connect(const std::string& address, const std::string& token) {
  hashmatch::client::ConnectOptions c;
  c.address = address;
  c.token = token;
  c.timeout = std::chrono::milliseconds(600000);
  auto r = Client::Connect(c);
  if (!r.ok()) {
    std::cerr << "connect: " << r.error().ToString() << "\n";
    std::exit(1);
  }
  return std::move(r.value());
}

// C clients, back to back, `batch` queries per call, for `seconds`: queries per second; the
// number of queries answered in `*answered` (the calls in flight at the end finish and count).
double Capacity(uint64_t* answered, const std::string& address, const std::string& token,
                int connections, size_t batch, double seconds,
                const std::vector<std::array<uint8_t, 32>>& codes) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < connections; ++i) clients.push_back(Connect(address, token));
  std::atomic<uint64_t> done{0};
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i]() {
      size_t from = size_t(i) * 7919;
      while (Clock::now() < until) {
        auto r = clients[size_t(i)]->Match(ToQueries(codes, from, batch));
        if (!r.ok()) {
          std::cerr << "match: " << r.error().ToString() << "\n";
          return;
        }
        from += batch;
        done += batch;
      }
    });
  }
  for (auto& t : threads) t.join();
  *answered = done;
  return double(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

struct Rate {
  double per_second = 0;  // queries per second, wall clock
  double cpu_us = 0;      // CPU microseconds per query (the side that matches)
};

// The store's Match in-process, `threads` threads, `batch` queries per call: queries per second.
double InProcess(uint64_t* answered, const hashmatch::StoreSnapshot& snap, unsigned threads,
                 size_t batch, double seconds, const std::vector<std::array<uint8_t, 32>>& codes) {
  std::atomic<uint64_t> done{0};
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t]() {
      std::vector<uint8_t> flat(batch * 32);
      size_t from = size_t(t) * 7919;
      hashmatch::MatchOptions mo;
      mo.max_threads = 1;  // as the daemon's workers (match_threads = 1)
      while (Clock::now() < until) {
        for (size_t i = 0; i < batch; ++i) {
          std::memcpy(flat.data() + i * 32, codes[(from + i) % codes.size()].data(), 32);
        }
        auto r = snap.Match(hashmatch::SignalType::kPdq, {flat.data(), batch, 32}, mo);
        if (!r.ok()) return;
        from += batch;
        done += batch;
      }
    });
  }
  for (auto& t : pool) t.join();
  *answered = done;
  return double(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--daemon") {
      o.daemon = v;
    } else if (a == "--entries") {
      o.entries = std::stoul(v);
    } else if (a == "--batch") {
      o.batch = std::stoul(v);
    } else if (a == "--seconds") {
      o.seconds = std::stod(v);
    } else if (a == "--load") {
      o.load = std::stod(v);
    } else if (a == "--workers") {
      o.workers = unsigned(std::stoul(v));
    } else if (a == "--dir") {
      o.dir = v;
    } else if (a == "--connections") {
      o.connections.clear();
      std::stringstream ss(v);
      for (std::string c; std::getline(ss, c, ',');) o.connections.push_back(std::stoi(c));
    } else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
    ++i;
  }
  if (o.daemon.empty()) {
    std::cerr << "usage: daemon_load_bench --daemon PATH/hashmatchd [--entries N] [--batch B] "
                 "[--connections 1,16,64] [--seconds S] [--load F] [--workers W]\n";
    return 2;
  }
  char tmpl[] = "/tmp/hashmatch-load-XXXXXX";
  const fs::path dir = o.dir.empty() ? fs::path(mkdtemp(tmpl)) : fs::path(o.dir);
  const fs::path filled = dir / ("filled-" + std::to_string(o.entries));
  const bool reuse = fs::exists(filled);
  if (!o.dir.empty()) fs::create_directories(dir);
  const std::string token = "bench-token";
  std::vector<std::array<uint8_t, 32>> listed(o.entries);
  {
    std::mt19937_64 rng(1);
    for (auto& c : listed) c = RandomCode(rng);
  }
  const auto queries = Queries(listed, 200000, 2);
  if (reuse) {
    std::printf("reusing the store of %zu codes in %s\n", o.entries, dir.c_str());
  } else {
    fs::remove_all(dir / "store");
    DaemonProcess daemon(o, dir, token);
    if (!daemon.ok()) {
      std::cerr << "hashmatchd did not start; see " << (dir / "log") << "\n";
      return 1;
    }
    auto admin = Connect(daemon.address(), token);
    for (int i = 0; i < 600 && !admin->GetHealth()->ready; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    hashmatch::client::SetConfig cfg;
    cfg.name = "bench";
    if (!admin->CreateSet(cfg).ok()) return 1;
    const auto fill_start = Clock::now();
    for (size_t from = 0; from < listed.size(); from += 50000) {
      hashmatch::client::Page page;
      for (size_t i = from; i < std::min(listed.size(), from + 50000); ++i) {
        hashmatch::client::Record r;
        r.key = "e";
        r.key += std::to_string(i);  // not "e" + ...: GCC 12's -Wrestrict false positive
        r.hash.bytes.assign(listed[i].begin(), listed[i].end());
        page.records.push_back(std::move(r));
      }
      auto st = admin->ApplyPage("bench", page);
      if (!st.ok()) {
        std::cerr << "sync: " << st.error().ToString() << "\n";
        return 1;
      }
    }
    std::printf("set of %zu PDQ codes filled through sync pages in %.1f s\n", listed.size(),
                std::chrono::duration<double>(Clock::now() - fill_start).count());
  }  // SIGTERM: the daemon drains and closes the store

  // Both sides are measured on the same settled state: a snapshot with the set's index file and
  // an empty log, so neither has a delta to scan nor a merge or snapshot running in the
  // background while it is measured (right after a bulk sync, both would).
  {
    auto store = hashmatch::HashSetStore::Open(dir / "store", {});
    if (!store.ok()) {
      std::cerr << "open: " << store.status().ToString() << "\n";
      return 1;
    }
    if (auto s = (*store)->WriteSnapshot(); !s.ok()) {
      std::cerr << "snapshot: " << s.ToString() << "\n";
      return 1;
    }
    std::ofstream(filled) << "filled\n";
  }
  double inproc_batch = 0, inproc_batch_us = 0;
  {
    hashmatch::StoreOptions so;
    so.read_only = true;
    auto store = hashmatch::HashSetStore::Open(dir / "store", so);
    if (!store.ok()) {
      std::cerr << "read-only open: " << store.status().ToString() << "\n";
      return 1;
    }
    auto snap = (*store)->GetSnapshot();
    uint64_t answered = 0;
    double cpu = ProcessCpuSeconds();
    inproc_batch = InProcess(&answered, *snap, o.threads, o.batch, o.seconds, queries);
    const double batch_us = (ProcessCpuSeconds() - cpu) * 1e6 / double(answered);
    cpu = ProcessCpuSeconds();
    const double inproc_single = InProcess(&answered, *snap, o.threads, 1, o.seconds, queries);
    const double single_us = (ProcessCpuSeconds() - cpu) * 1e6 / double(answered);
    inproc_batch_us = batch_us;
    std::printf(
        "in-process (%u threads): batch of %zu: %.0f queries/s (%.1f CPU us/query); "
        "single: %.0f queries/s (%.1f CPU us/query)\n",
        o.threads, o.batch, inproc_batch, batch_us, inproc_single, single_us);
  }
  {
    const auto start = Clock::now();
    DaemonProcess daemon(o, dir, token);
    if (!daemon.ok()) {
      std::cerr << "hashmatchd did not restart; see " << (dir / "log") << "\n";
      return 1;
    }
    auto admin = Connect(daemon.address(), token);
    for (int i = 0; i < 6000 && !admin->GetHealth()->ready; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::printf("daemon (workers = %u%s) restarted on the store, ready in %.2f s\n", o.workers,
                o.workers == 0 ? ": two per CPU" : "",
                std::chrono::duration<double>(Clock::now() - start).count());
    std::printf("%-12s %-18s %-18s %-10s %-10s %-10s %-10s %-10s %-8s\n", "connections",
                "batched q/s", "single q/s (cap)", "offered/s", "p50 ms", "p99 ms", "p999 ms",
                "max ms", "errors");
    for (int c : o.connections) {
      uint64_t answered = 0;
      double cpu = daemon.CpuSeconds();
      const double batched =
          Capacity(&answered, daemon.address(), token, c, o.batch, o.seconds, queries);
      const double batched_us = (daemon.CpuSeconds() - cpu) * 1e6 / double(answered);
      cpu = daemon.CpuSeconds();
      const double single = hashmatch::bench::AsyncSingleCapacity(&answered, daemon.address(),
                                                                  token, c, o.seconds, queries);
      const double single_us = (daemon.CpuSeconds() - cpu) * 1e6 / double(answered);
      const unsigned long long faults = daemon.MajorFaults();
      const std::string metrics_before = daemon.Metrics();
      const auto ol = hashmatch::bench::AsyncOpenLoop(daemon.address(), token, c, o.load * single,
                                                      o.seconds, queries);
      const unsigned long long open_loop_faults = daemon.MajorFaults() - faults;
      const std::string metrics_after = daemon.Metrics();
      std::printf("%-12d %-18.0f %-18.0f %-10.0f %-10.3f %-10.3f %-10.3f %-10.3f %-8llu\n", c,
                  batched, single, ol.offered, ol.p50_ms, ol.p99_ms, ol.p999_ms, ol.max_ms,
                  static_cast<unsigned long long>(ol.errors));
      std::printf(
          "  batched RPC / in-process batched: %.0f%% of the rate; daemon CPU %.1f us/query "
          "batched (in-process %.1f: %.0f%% efficiency), %.1f us/call single\n",
          100.0 * batched / inproc_batch, batched_us, inproc_batch_us,
          100.0 * inproc_batch_us / batched_us, single_us);
      std::printf(
          "  open loop: %llu major page faults in the daemon; p99 of the generator's "
          "send lateness %.3f ms\n",
          open_loop_faults, ol.send_late_p99_ms);
      // Where the time went, from the daemon's own histograms over this open-loop run.
      using hashmatch::bench::Histogram;
      const char* kInside = "hashmatch_request_duration_seconds_bucket{method=\"Matcher.match\",";
      const char* kWait = "hashmatch_worker_queue_wait_seconds_bucket{";
      const Histogram inside =
          Histogram::Parse(metrics_after, kInside).Minus(Histogram::Parse(metrics_before, kInside));
      const Histogram wait =
          Histogram::Parse(metrics_after, kWait).Minus(Histogram::Parse(metrics_before, kWait));
      std::printf(
          "  inside the daemon (arrival to answer, %llu calls): p99 <= %.1f ms, %.2f%% "
          "over 1 ms, %.2f%% over 2.5 ms; waiting for a worker: p99 <= %.1f ms, %.2f%% "
          "over 1 ms\n",
          static_cast<unsigned long long>(inside.count()), inside.QuantileBound(0.99) * 1e3,
          100 * inside.ShareAbove(0.001), 100 * inside.ShareAbove(0.0025),
          wait.QuantileBound(0.99) * 1e3, 100 * wait.ShareAbove(0.001));
      // The floor: the same schedule of calls that do no matching (answered on the event loop).
      const auto floor =
          hashmatch::bench::AsyncOpenLoop(daemon.address(), token, c, o.load * single, o.seconds,
                                          queries, hashmatch::bench::Call::kHealth);
      std::printf(
          "  floor, Health.health on the same schedule: p50 %.3f ms, p99 %.3f ms, "
          "p999 %.3f ms\n",
          floor.p50_ms, floor.p99_ms, floor.p999_ms);
    }
  }
  std::error_code ec;
  if (o.dir.empty()) fs::remove_all(dir, ec);
  return 0;
}

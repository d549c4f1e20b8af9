// Single-hash load against hashmatchd from one event-loop thread.
//
// Why not the client library: hashmatch::client::Client gives each connection its own event-loop
// thread and blocks the caller, so 64 connections are 128 threads and every call crosses threads
// twice on the client side. On a small machine shared with the daemon that overhead is charged to
// the daemon's latency. Here every connection lives on one kj event loop, calls on a connection are
// pipelined (open loop: a call is sent when due, whether or not earlier calls have answered), and
// send times come from a timerfd armed to the nanosecond (kj's own timers round up to whole
// milliseconds, which would add up to 1 ms of generator lateness to every latency).
//
// Latency is measured from each call's scheduled time, so a late send is charged to the latency
// (no coordinated omission).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace hashmatch::bench {

struct AsyncLoadResult {
  double offered = 0;   // calls/s scheduled
  double achieved = 0;  // calls/s answered
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  double send_late_p99_ms = 0;  // how late the generator sent (part of the latency above)
  uint64_t errors = 0;          // calls that failed (counted, not in the percentiles)
};

// Closed loop: `connections` connections each keep one single-hash call outstanding for
// `seconds`; answered calls per second (their number in `*answered`).
double AsyncSingleCapacity(uint64_t* answered, const std::string& address, const std::string& token,
                           int connections, double seconds,
                           const std::vector<std::array<uint8_t, 32>>& codes);

enum class Call {
  kMatch,   // Matcher.match with one PDQ hash (runs on a worker)
  kHealth,  // Health.health: answered on the event loop, no matching; the RPC path's floor
};

// Open loop: calls at `rate` per second in total, spread evenly over `connections` connections
// (each on a fixed schedule, staggered so the total is even), for `seconds`.
AsyncLoadResult AsyncOpenLoop(const std::string& address, const std::string& token, int connections,
                              double rate, double seconds,
                              const std::vector<std::array<uint8_t, 32>>& codes,
                              Call call = Call::kMatch);

}  // namespace hashmatch::bench

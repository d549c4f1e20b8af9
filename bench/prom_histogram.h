// Reading hashmatchd's /metrics from a benchmark: one Prometheus histogram series, and the
// difference of two scrapes (the calls of one phase only).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hashmatch::bench {

// GET `path` from 127.0.0.1:`port` (HTTP/1.0); the body, or "" on any failure.
std::string HttpGet(int port, const std::string& path);

// Cumulative bucket counts (upper bound in seconds, count; +Inf last) of the series whose bucket
// lines begin with `bucket_prefix`, e.g. `hashmatch_worker_queue_wait_seconds_bucket{`; a label
// filter may follow the brace, e.g. `..._bucket{method="Matcher.match",`.
class Histogram {
 public:
  static Histogram Parse(const std::string& metrics, const std::string& bucket_prefix);
  Histogram Minus(const Histogram& earlier) const;

  uint64_t count() const { return buckets_.empty() ? 0 : buckets_.back().second; }
  // The smallest bucket bound with at least `q` of the observations at or below it (seconds;
  // infinity when only +Inf holds them).
  double QuantileBound(double q) const;
  // The share of observations above `bound_seconds` (a bucket bound).
  double ShareAbove(double bound_seconds) const;

 private:
  std::vector<std::pair<double, uint64_t>> buckets_;
};

}  // namespace hashmatch::bench

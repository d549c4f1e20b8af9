#include "prom_histogram.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <sstream>

namespace hashmatch::bench {

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req.data(), req.size()) == ssize_t(req.size())) {
      char buf[65536];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    }
  }
  close(fd);
  const size_t body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

Histogram Histogram::Parse(const std::string& metrics, const std::string& bucket_prefix) {
  Histogram h;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(bucket_prefix, 0) != 0) continue;
    const size_t le = line.find("le=\"", bucket_prefix.size());
    const size_t end = le == std::string::npos ? le : line.find('"', le + 4);
    const size_t space = line.rfind(' ');
    if (end == std::string::npos || space == std::string::npos) continue;
    const std::string bound = line.substr(le + 4, end - le - 4);
    const double b = bound == "+Inf" ? std::numeric_limits<double>::infinity()
                                     : std::strtod(bound.c_str(), nullptr);
    h.buckets_.emplace_back(b, std::strtoull(line.c_str() + space + 1, nullptr, 10));
  }
  return h;
}

Histogram Histogram::Minus(const Histogram& earlier) const {
  Histogram d = *this;
  for (size_t i = 0; i < d.buckets_.size() && i < earlier.buckets_.size(); ++i) {
    d.buckets_[i].second -= earlier.buckets_[i].second;
  }
  return d;
}

double Histogram::QuantileBound(double q) const {
  const double need = q * double(count());
  for (const auto& [bound, cumulative] : buckets_) {
    if (double(cumulative) >= need) return bound;
  }
  return std::numeric_limits<double>::infinity();
}

double Histogram::ShareAbove(double bound_seconds) const {
  if (count() == 0) return 0;
  for (const auto& [bound, cumulative] : buckets_) {
    if (bound >= bound_seconds) return 1.0 - double(cumulative) / double(count());
  }
  return 0;
}

}  // namespace hashmatch::bench

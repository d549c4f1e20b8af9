#include "log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace hashmatch::daemon {

namespace {

std::mutex g_log_mu;

void AppendValue(std::string* out, const std::string& v) {
  const bool quote = v.empty() || v.find_first_of(" \t\"=\n\\") != std::string::npos;
  if (!quote) {
    *out += v;
    return;
  }
  *out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += c;
    } else if (c == '\n') {
      *out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      *out += ' ';
    } else {
      *out += c;
    }
  }
  *out += '"';
}

int LevelRank(std::string_view level) {
  if (level == "info") return 0;
  if (level == "warn") return 1;
  if (level == "error") return 2;
  return 3;
}

std::atomic<int> g_min_level{0};

}  // namespace

void SetMinLogLevel(std::string_view level) {
  g_min_level.store(LevelRank(level), std::memory_order_relaxed);
}

void Log(std::string_view level, std::string_view event, std::initializer_list<LogField> fields) {
  if (LevelRank(level) < g_min_level.load(std::memory_order_relaxed)) return;
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const int ms = int(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  std::string line = ts;
  line += " level=";
  line += level;
  line += " event=";
  line += event;
  for (const LogField& f : fields) {
    line += ' ';
    line += f.first;
    line += '=';
    AppendValue(&line, f.second);
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(g_log_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace hashmatch::daemon

// Structured logs: one line per event on stderr, logfmt style, so a collector can parse them:
//   2024-05-01T12:00:00.123Z level=warn event=auth_failed peer=127.0.0.1:53412 attempt=3
// Values with spaces, quotes or '=' are quoted. Safe to call from any thread.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace hashmatch::daemon {

using LogField = std::pair<std::string_view, std::string>;

void Log(std::string_view level, std::string_view event, std::initializer_list<LogField> fields);

// Lines of a lower level than `level` ("info" < "warn" < "error"; "off": none) are dropped.
// hashmatchd writes every line; the message-handling fuzz target (fuzz/daemon/) turns them off,
// since a warning for every malformed input would drown libFuzzer's own output.
void SetMinLogLevel(std::string_view level);

inline void LogInfo(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log("info", event, fields);
}
inline void LogWarn(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log("warn", event, fields);
}
inline void LogError(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log("error", event, fields);
}

}  // namespace hashmatch::daemon

#include "quarantine_file.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

namespace hashmatch::daemon {

namespace {

constexpr std::string_view kHeader = "hashmatchd-quarantine 1";

bool NeedsEscape(unsigned char c) {
  return c == '%' || c <= 0x20 || c == 0x7f;
}

std::string Escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (NeedsEscape(c)) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      o += buf;
    } else {
      o += char(c);
    }
  }
  return o;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool Unescape(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;  // '%' needs two hex digits after it
    const int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(char(hi * 16 + lo));
    i += 2;
  }
  return !out->empty();
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

template <class T>
bool Number(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string EncodeQuarantineFile(const std::vector<QuarantinedEntry>& entries) {
  std::string o =
      "# hashmatchd's quarantined entries (docs/daemon.md). Replaced whole on every quarantine\n"
      "# and release; edit only while hashmatchd is stopped.\n"
      "# entry SET KEY SINCE HITS_IN_TRIGGER_MINUTE USUAL_PER_MINUTE (SET, KEY percent-encoded)\n";
  o += kHeader;
  o += '\n';
  for (const QuarantinedEntry& e : entries) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.17g", e.usual_per_minute);
    o += "entry " + Escape(e.set) + " " + Escape(e.key) + " " + std::to_string(e.since) + " " +
         std::to_string(e.hits_this_minute) + " " + rate + "\n";
  }
  o += "end " + std::to_string(entries.size()) + "\n";
  return o;
}

Result<std::vector<QuarantinedEntry>> ParseQuarantineFile(std::string_view text,
                                                          std::string_view name) {
  size_t line_no = 0;
  auto error = [&](const std::string& why) {
    return Status::Corruption(std::string(name) + ":" + std::to_string(line_no) + ": " + why);
  };
  std::vector<QuarantinedEntry> out;
  std::set<std::pair<std::string, std::string>> seen;
  bool header = false, end = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      ++line_no;
      return error("the last line has no newline (a file cut short?)");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    const std::vector<std::string_view> f = Fields(line);
    if (f.empty() || f[0][0] == '#') continue;
    if (end) return error("text after the 'end' line");
    if (!header) {
      if (f.size() != 2 || f[0] != "hashmatchd-quarantine") {
        return error("expected the header '" + std::string(kHeader) + "'");
      }
      if (f[1] != "1") return error("unsupported version " + std::string(f[1]) + " (this is 1)");
      header = true;
      continue;
    }
    if (f[0] == "end") {
      uint64_t n = 0;
      if (f.size() != 2 || !Number(f[1], &n)) return error("expected 'end COUNT'");
      if (n != out.size()) {
        return error("'end' says " + std::to_string(n) + " entries, the file has " +
                     std::to_string(out.size()));
      }
      end = true;
      continue;
    }
    if (f[0] != "entry") return error("expected 'entry' or 'end', got '" + std::string(f[0]) + "'");
    if (f.size() != 6) {
      return error("expected 'entry SET KEY SINCE HITS USUAL' (6 fields), got " +
                   std::to_string(f.size()));
    }
    QuarantinedEntry e;
    if (!Unescape(f[1], &e.set)) return error("malformed set name '" + std::string(f[1]) + "'");
    if (!Unescape(f[2], &e.key)) return error("malformed key '" + std::string(f[2]) + "'");
    if (!Number(f[3], &e.since) || e.since <= 0) {
      return error("SINCE expects unix seconds, got '" + std::string(f[3]) + "'");
    }
    if (!Number(f[4], &e.hits_this_minute)) {
      return error("HITS expects a count, got '" + std::string(f[4]) + "'");
    }
    if (!Number(f[5], &e.usual_per_minute) || !std::isfinite(e.usual_per_minute) ||
        e.usual_per_minute < 0) {
      return error("USUAL expects a rate >= 0, got '" + std::string(f[5]) + "'");
    }
    if (!seen.emplace(e.set, e.key).second) {
      return error("entry " + e.set + "/" + e.key + " listed twice");
    }
    out.push_back(std::move(e));
  }
  if (!header) return error("empty file: no header '" + std::string(kHeader) + "'");
  if (!end) return error("no 'end' line (a file cut short?)");
  return out;
}

Result<std::vector<QuarantinedEntry>> ReadQuarantineFile(Env* env,
                                                         const std::filesystem::path& path) {
  if (!env->FileExists(path)) return std::vector<QuarantinedEntry>{};
  std::string text;
  if (Status s = env->ReadFileToString(path, &text); !s.ok()) return s;
  return ParseQuarantineFile(text, path.string());
}

Status WriteQuarantineFile(Env* env, const std::filesystem::path& path,
                           const std::vector<QuarantinedEntry>& entries) {
  return WriteFileAtomically(env, path, EncodeQuarantineFile(entries));
}

}  // namespace hashmatch::daemon

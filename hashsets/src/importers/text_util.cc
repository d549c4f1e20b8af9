#include "text_util.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>

#include "hashmatch/core/hex.h"

namespace hashmatch::importers {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

static char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::vector<std::string> SplitTags(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    if (sep == 0) {
      while (i < s.size() && IsSpace(s[i])) ++i;
      j = i;
      while (j < s.size() && !IsSpace(s[j])) ++j;
    } else {
      while (j < s.size() && s[j] != sep) ++j;
    }
    std::string_view part = Trim(s.substr(i, j - i));
    if (!part.empty()) out.emplace_back(part);
    i = j + 1;
  }
  return out;
}

std::string Shown(std::string_view s, size_t max) {
  std::string out = "'";
  const size_t n = std::min<size_t>(s.size(), max);
  for (size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u < 0x7f && u != '\\') {
      out += char(u);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(u));
      out += buf;
    }
  }
  if (n < s.size()) out += "...";
  return out + "'";
}

std::string Where(std::string_view name, uint64_t line) {
  std::string w(name);
  w += ':';
  w += std::to_string(line);
  w += ": ";
  return w;
}

namespace {

// Hex digit values; 0x80 marks a non-digit. A table rather than comparisons: list hashes are
// random, so a digit-or-letter branch mispredicts about every other character, which made
// core's DecodeHex the largest cost of a plain import.
constexpr std::array<uint8_t, 256> MakeHexTable() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0x80;
  for (int c = 0; c < 10; ++c) t['0' + c] = uint8_t(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = uint8_t(10 + c);
  return t;
}
constexpr std::array<uint8_t, 256> kHexTable = MakeHexTable();

}  // namespace

Status DecodeCode(std::string_view hex, SignalType signal, std::vector<uint8_t>* code) {
  const size_t n = GetSignalInfo(signal).code_bytes;
  code->resize(n);
  if (hex.size() == 2 * n) {
    uint8_t bad = 0;
    uint8_t* out = code->data();
    const auto* in = reinterpret_cast<const unsigned char*>(hex.data());
    for (size_t i = 0; i < n; ++i) {
      const uint8_t hi = kHexTable[in[2 * i]], lo = kHexTable[in[2 * i + 1]];
      bad |= hi | lo;
      out[i] = uint8_t(hi << 4 | (lo & 15));
    }
    if ((bad & 0x80) == 0) return Status::Ok();
  }
  // Malformed: core's decoder gives the canonical message (length, or character and position).
  Status s = DecodeHex(hex, std::span<uint8_t>(code->data(), n));
  code->clear();
  if (s.ok()) return Status::Internal("hex table and DecodeHex disagree");
  return s;
}

std::string LowerHex(std::string_view hex) {
  std::string out(hex);
  for (char& c : out) c = Lower(c);
  return out;
}

std::optional<SignalType> SignalFromHexLength(size_t hex_digits) {
  std::optional<SignalType> found;
  for (const SignalInfo& info : AllSignalTypes()) {
    if (info.code_bytes * 2 != hex_digits) continue;
    if (found) return std::nullopt;  // two types share the length
    found = info.type;
  }
  return found;
}

std::string AmbiguousLengthReason(size_t hex_digits) {
  std::string types;
  for (const SignalInfo& info : AllSignalTypes()) {
    if (info.code_bytes * 2 != hex_digits) continue;
    if (!types.empty()) types += " or ";
    types += info.name;
  }
  if (types.empty()) {
    return "no signal type has " + std::to_string(hex_digits) + " hex digits";
  }
  return "cannot tell the signal type of " + std::to_string(hex_digits) + " hex digits (" + types +
         "); give the signal type";
}

std::optional<SignalType> SignalFromListName(std::string_view name) {
  if (auto t = SignalTypeFromName(name)) return t;
  if (EqualsIgnoreCase(name, "video_md5") || EqualsIgnoreCase(name, "photo_md5")) {
    return SignalType::kMd5;
  }
  return std::nullopt;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = int64_t(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Reads exactly `n` digits at s[*i].
bool Digits(std::string_view s, size_t* i, size_t n, unsigned* out) {
  if (*i + n > s.size()) return false;
  unsigned v = 0;
  for (size_t k = 0; k < n; ++k) {
    const char c = s[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + unsigned(c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

}  // namespace

std::optional<int64_t> ParseTimeMicros(std::string_view s) {
  if (s.empty()) return std::nullopt;
  // Unix seconds.
  {
    size_t i = s[0] == '-' ? 1 : 0;
    if (i < s.size() && s.size() - i <= 18 &&
        s.substr(i).find_first_not_of("0123456789") == std::string_view::npos) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
      if (v > INT64_MAX / 1000000 || v < INT64_MIN / 1000000) return std::nullopt;
      return v * 1000000;
    }
  }
  // ISO 8601.
  size_t i = 0;
  unsigned year, mon, day, hh = 0, mm = 0, ss = 0;
  if (!Digits(s, &i, 4, &year) || i >= s.size() || s[i++] != '-' || !Digits(s, &i, 2, &mon) ||
      i >= s.size() || s[i++] != '-' || !Digits(s, &i, 2, &day)) {
    return std::nullopt;
  }
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mon < 1 || mon > 12 || day < 1) return std::nullopt;
  if (day > kDays[mon - 1] + unsigned(mon == 2 && IsLeap(year))) return std::nullopt;
  int64_t frac_us = 0;
  int64_t offset_s = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
    ++i;
    if (!Digits(s, &i, 2, &hh) || i >= s.size() || s[i++] != ':' || !Digits(s, &i, 2, &mm)) {
      return std::nullopt;
    }
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!Digits(s, &i, 2, &ss)) return std::nullopt;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        size_t n = 0;
        int64_t scale = 100000;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          if (n < 6) frac_us += (s[i] - '0') * scale, scale /= 10;
          ++i, ++n;
        }
        if (n == 0 || n > 12) return std::nullopt;
      }
    }
    if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;  // 60: a leap second
    if (i < s.size()) {
      const char z = s[i];
      if (z == 'Z' || z == 'z') {
        ++i;
      } else if (z == '+' || z == '-') {
        ++i;
        unsigned oh, om = 0;
        if (!Digits(s, &i, 2, &oh)) return std::nullopt;
        if (i < s.size() && s[i] == ':') ++i;
        if (i < s.size() && !Digits(s, &i, 2, &om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset_s = (z == '+' ? 1 : -1) * int64_t(oh * 3600 + om * 60);
      } else {
        return std::nullopt;
      }
    }
  }
  if (i != s.size()) return std::nullopt;
  const int64_t secs = DaysFromCivil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  return secs * 1000000 + frac_us;
}

std::string FormatIsoSeconds(int64_t t) {
  const int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  const int64_t rem = t - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
                unsigned(rem / 3600), unsigned(rem / 60 % 60), unsigned(rem % 60));
  return buf;
}

std::optional<bool> ParseBool(std::string_view s, bool empty_value) {
  s = Trim(s);
  if (s.empty()) return empty_value;
  if (EqualsIgnoreCase(s, "true") || s == "1" || EqualsIgnoreCase(s, "yes")) return true;
  if (EqualsIgnoreCase(s, "false") || s == "0" || EqualsIgnoreCase(s, "no")) return false;
  return std::nullopt;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (size_t(end - p) <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (p[k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

Status CheckKey(std::string_view key, size_t max_bytes) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  if (key.size() > max_bytes) {
    return Status::OutOfRange("key of " + std::to_string(key.size()) +
                              " bytes is over the limit of " + std::to_string(max_bytes) +
                              " (max_key_bytes)");
  }
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "key contains control character 0x%02x",
                    unsigned(static_cast<unsigned char>(c)));
      return Status::InvalidArgument(buf);
    }
  }
  if (!IsValidUtf8(key)) return Status::InvalidArgument("key is not valid UTF-8");
  return Status::Ok();
}

Status CheckLabel(std::string_view what, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) + " contains a NUL byte");
  }
  if (!IsValidUtf8(value))
    return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
  return Status::Ok();
}

}  // namespace hashmatch::importers

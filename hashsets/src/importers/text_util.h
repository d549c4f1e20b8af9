// Small text helpers shared by the importers and the exporter: trimming, hash decoding with the
// importers' error wording, signal-type names used by the sources, timestamps, and the checks on
// keys and labels. Private to the importers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"

namespace hashmatch::importers {

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
std::string_view Trim(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);
// Splits on runs of whitespace (sep == 0) or on `sep`, trimming parts and dropping empty ones.
std::vector<std::string> SplitTags(std::string_view s, char sep);

// `s` quoted for a message: at most `max` bytes, bytes outside printable ASCII as \xNN.
std::string Shown(std::string_view s, size_t max = 40);

// "<name>:<line>: " for error messages.
std::string Where(std::string_view name, uint64_t line);

// Decodes hex of `signal`'s size into `code` (resized). On error returns the reason without a
// location: "expected 64 hex digits, got 63" / "invalid hex character 'g' (0x67) at position 12".
Status DecodeCode(std::string_view hex, SignalType signal, std::vector<uint8_t>* code);
// Lower-case copy of hex digits already validated by DecodeCode.
std::string LowerHex(std::string_view hex);

// The type a hex length implies when only one type has it (32: md5, 40: sha1); nullopt otherwise.
std::optional<SignalType> SignalFromHexLength(size_t hex_digits);
// A reason for a length no type or several types have, for messages.
std::string AmbiguousLengthReason(size_t hex_digits);

// Names sources use for a type: hashmatch's own (SignalTypeFromName, case-insensitive) plus
// python-threatexchange's "video_md5" / "photo_md5" (our md5).
std::optional<SignalType> SignalFromListName(std::string_view name);

// Timestamps as microseconds since the Unix epoch, UTC: an optional '-' and 1-18 digits (unix
// seconds), or ISO 8601 "YYYY-MM-DD[Thh:mm[:ss[.fraction]]][Z|+hh:mm|+hhmm|-...]" (also ' ' for
// 'T'; no zone means UTC). Sub-second digits are kept so that entries differing only in
// milliseconds still order correctly. nullopt when malformed.
std::optional<int64_t> ParseTimeMicros(std::string_view s);
// Whole seconds, rounded towards minus infinity.
inline int64_t MicrosToSeconds(int64_t us) {
  return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}
// "2026-10-02T12:00:05Z".
std::string FormatIsoSeconds(int64_t unix_seconds);

// Parses true/false, 1/0, yes/no (case-insensitive); empty gives `empty_value`.
std::optional<bool> ParseBool(std::string_view s, bool empty_value);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Keys are identifiers printed in match output and used as the store's index: non-empty, at most
// `max_bytes`, UTF-8, no control characters. Empty Status or the reason.
Status CheckKey(std::string_view key, size_t max_bytes);
// Classification and tags: UTF-8 without NUL. Empty Status or the reason.
Status CheckLabel(std::string_view what, std::string_view value);

}  // namespace hashmatch::importers

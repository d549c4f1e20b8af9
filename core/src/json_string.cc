#include "hashmatch/core/json_string.h"

namespace hashmatch {

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + 2);
  *out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += ch;
    } else if (c < 0x20) {
      *out += "\\u00";
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
    } else {
      *out += ch;
    }
  }
  *out += '"';
}

std::string JsonEscape(std::string_view s) {
  std::string quoted;
  AppendJsonString(&quoted, s);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace hashmatch

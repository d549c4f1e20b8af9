// JSON string escaping for the JSON-lines outputs (CLI, scan reports, the daemon's audit log).
//
// Escapes '"', '\' and the control characters below 0x20 (as \uXXXX); every other byte is copied
// as it is, so UTF-8 text stays readable. Input that is not valid UTF-8 stays not valid UTF-8:
// callers that need strictly valid JSON from arbitrary bytes must hex-encode such fields instead.
#pragma once

#include <string>
#include <string_view>

namespace hashmatch {

// `s` escaped for use between the quotes of a JSON string (the quotes are not added).
std::string JsonEscape(std::string_view s);
// Appends `s` as a quoted JSON string to `out`.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace hashmatch

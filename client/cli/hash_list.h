// Reading plain hash files for the CLI: one hex code per line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"

namespace hashmatch::cli {

// Codes of one signal type, back to back, with where each came from.
struct HashFile {
  SignalType type = SignalType::kPdq;
  std::vector<uint8_t> codes;
  std::vector<std::string> labels;  // "path:line"
  size_t size() const { return labels.size(); }
};

// Reads `path`: one hex code per line; surrounding spaces and tabs, blank lines and lines starting
// with '#' are ignored; CRLF is accepted. Any malformed line refuses the whole file with
// "path:line: reason", and `out` is unchanged.
Status ReadHashFile(const std::filesystem::path& path, SignalType type, HashFile* out);

// Parses one hex code of `type` into `out` (code_bytes long).
Status ParseOneCode(std::string_view text, SignalType type, uint8_t* out);

}  // namespace hashmatch::cli

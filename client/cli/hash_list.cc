#include "hash_list.h"

#include <fstream>
#include <span>

#include "hashmatch/core/hex.h"

namespace hashmatch::cli {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Status ParseOneCode(std::string_view text, SignalType type, uint8_t* out) {
  return DecodeHex(text, std::span<uint8_t>(out, GetSignalInfo(type).code_bytes));
}

Status ReadHashFile(const std::filesystem::path& path, SignalType type, HashFile* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path.string() + ": cannot open");
  const size_t cb = GetSignalInfo(type).code_bytes;
  HashFile f;
  f.type = type;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    f.codes.resize(f.codes.size() + cb);
    Status s = ParseOneCode(t, type, f.codes.data() + f.codes.size() - cb);
    if (!s.ok()) {
      return Status::InvalidArgument(path.string() + ":" + std::to_string(lineno) + ": " +
                                     s.message());
    }
    f.labels.push_back(path.filename().string() + ":" + std::to_string(lineno));
  }
  if (in.bad()) return Status::IoError(path.string() + ": read error");
  *out = std::move(f);
  return Status::Ok();
}

}  // namespace hashmatch::cli

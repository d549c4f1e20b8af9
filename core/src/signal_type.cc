#include "hashmatch/core/signal_type.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace hashmatch {
namespace {

constexpr std::array<SignalInfo, 8> kSignals = {{
    {SignalType::kPdq, "pdq", 32, true, 256},
    {SignalType::kAHash64, "ahash64", 8, true, 64},
    {SignalType::kDHash64, "dhash64", 8, true, 64},
    {SignalType::kPHash64, "phash64", 8, true, 64},
    {SignalType::kWHash64, "whash64", 8, true, 64},
    {SignalType::kMd5, "md5", 16, false, 0},
    {SignalType::kSha1, "sha1", 20, false, 0},
    {SignalType::kSha256, "sha256", 32, false, 0},
}};

}  // namespace

std::span<const SignalInfo> AllSignalTypes() {
  return kSignals;
}

const SignalInfo& GetSignalInfo(SignalType type) {
  return kSignals[static_cast<size_t>(type)];
}

std::optional<SignalType> SignalTypeFromName(std::string_view name) {
  for (const SignalInfo& s : kSignals) {
    if (s.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), s.name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return s.type;
    }
  }
  return std::nullopt;
}

}  // namespace hashmatch

// The configured tokens, looked up by the SHA-256 of what a client presents.
//
// The secret itself is never stored: the config holds SHA-256 digests. A presented token is
// hashed (so every comparison is over 32 bytes whatever its length) and compared with every
// configured digest with CRYPTO_memcmp, without stopping at a match, so the time taken says
// nothing about which digest, or how much of one, matched.
//
// A table is immutable; SIGHUP builds a new one and swaps it in. Principals remember the digest
// they authenticated with, so a token removed (or whose roles changed) on reload stops working on
// connections that had already authenticated with it (StillValid).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "access.h"
#include "hashmatch/daemon/config.h"

namespace hashmatch::daemon {

class TokenTable {
 public:
  // The configs were validated by ParseConfig (roles parse).
  explicit TokenTable(const std::vector<TokenConfig>& tokens);

  // The principal of `token`, or nullopt.
  std::optional<Principal> Authenticate(std::string_view token) const;
  // True while a token with this principal's digest, name and roles is configured.
  bool StillValid(const Principal& who) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<uint8_t, 32> digest;
    Principal principal;
  };
  std::vector<Entry> entries_;
};

}  // namespace hashmatch::daemon

#include "tokens.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace hashmatch::daemon {

TokenTable::TokenTable(const std::vector<TokenConfig>& tokens) {
  for (const TokenConfig& t : tokens) {
    auto p = MakePrincipal(t.name, t.roles);
    if (!p.ok()) continue;  // refused by ParseConfig already
    p->digest = t.sha256;
    entries_.push_back(Entry{t.sha256, std::move(p.value())});
  }
}

std::optional<Principal> TokenTable::Authenticate(std::string_view token) const {
  std::array<uint8_t, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  const Entry* found = nullptr;
  for (const Entry& e : entries_) {
    // No early exit: every digest is compared.
    const bool equal = CRYPTO_memcmp(digest.data(), e.digest.data(), digest.size()) == 0;
    if (equal && found == nullptr) found = &e;
  }
  if (found == nullptr || token.empty()) return std::nullopt;
  return found->principal;
}

bool TokenTable::StillValid(const Principal& who) const {
  if (!who.authenticated()) return true;
  for (const Entry& e : entries_) {
    if (e.digest == who.digest) {
      return e.principal.name == who.name && e.principal.role_names == who.role_names;
    }
  }
  return false;
}

}  // namespace hashmatch::daemon

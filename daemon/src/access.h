// Who may call what: roles, the principal a connection has become, and the one table that gives
// every RPC method its allowed roles.
//
// Every method implementation asks Authorize() before doing anything, whatever capability the
// call came in on, so the table is the single place to read (and review) the policy. The Gate
// hands out a capability only when the principal may call at least one of its methods, but that
// is a convenience, not the check. tests/daemon/access_table_test.cc walks the schema and fails
// when a method has no row, and calls every method as every role to prove the refusals.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/status.h"

namespace hashmatch::daemon {

// Role bits. Every connection holds kAnyone; a token adds its roles.
enum Role : uint8_t {
  kAnyone = 1,  // unauthenticated: the Gate only
  kScan = 2,    // match, read set metadata; never lists or exports hashes
  kSync = 4,    // sync:SET: write to the named sets only, read set metadata
  kAdmin = 8,   // everything
};

struct Principal {
  std::string name;                     // the token's name in the config; "" when anonymous
  uint8_t roles = kAnyone;              // bit set of Role
  std::vector<std::string> sync_sets;   // the SETs of its sync:SET roles
  std::vector<std::string> role_names;  // as configured, for answers and logs
  std::array<uint8_t, 32> digest{};     // SHA-256 of the token it authenticated with

  bool authenticated() const { return roles != kAnyone; }
  bool MaySync(std::string_view set) const;
};

// Builds a principal from configured role names ("scan", "sync:SET", "admin").
Result<Principal> MakePrincipal(std::string name, const std::vector<std::string>& roles);

// One row: "Interface.method", the roles allowed, and whether the method acts on one set named by
// its `set` parameter (then a sync principal must hold sync:<that set>).
struct MethodAccess {
  std::string_view method;
  uint8_t roles;
  bool set_scoped;
};

std::span<const MethodAccess> AccessTable();
const MethodAccess* FindMethodAccess(std::string_view method);

// nullopt when `who` may call `method` (on `set`, for set-scoped methods); else why not, naming
// the method and the principal's roles. A method missing from the table is refused to everyone.
std::optional<std::string> Refusal(const Principal& who, std::string_view method,
                                   std::string_view set = {});

// True when `who` may call at least one method of `interface` ("Matcher", "Sync", ...).
bool MayUseInterface(const Principal& who, std::string_view interface);

}  // namespace hashmatch::daemon

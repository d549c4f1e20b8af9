#include "access.h"

#include <algorithm>
#include <optional>

namespace hashmatch::daemon {

namespace {

constexpr uint8_t kAuthenticated = kScan | kSync | kAdmin;

// The policy. Keep it in schema order; the test fails when a schema method is missing here or a
// row names a method the schema lacks.
constexpr MethodAccess kTable[] = {
    // The gate is all an unauthenticated connection has.
    {"Gate.info", kAnyone | kAuthenticated, false},
    {"Gate.authenticate", kAnyone | kAuthenticated, false},
    // Matching: scanners and operators.
    {"Matcher.match", kScan | kAdmin, false},
    {"Matcher.matchImages", kScan | kAdmin, false},
    // Set metadata (names, sizes, versions, checkpoints; never codes): every authenticated role.
    {"SetAdmin.listSets", kAuthenticated, false},
    {"SetAdmin.getSet", kAuthenticated, false},
    // Changing sets: operators only.
    {"SetAdmin.createSet", kAdmin, false},
    {"SetAdmin.configureSet", kAdmin, false},
    {"SetAdmin.dropSet", kAdmin, false},
    {"SetAdmin.setEntryEnabled", kAdmin, false},
    {"SetAdmin.listQuarantined", kAdmin, false},
    {"SetAdmin.releaseQuarantined", kAdmin, false},
    // Sync: a sync:SET token writes to SET only; operators to any set.
    {"Sync.applyPage", kSync | kAdmin, true},
    {"Sync.getCheckpoint", kSync | kAdmin, true},
    // Health: every authenticated role (the HTTP /healthz needs no token).
    {"Health.health", kAuthenticated, false},
    {"Health.stats", kAuthenticated, false},
};

std::string RolesText(const Principal& who) {
  if (!who.authenticated()) return "unauthenticated";
  std::string s;
  for (const std::string& r : who.role_names) s += (s.empty() ? "" : ",") + r;
  return "'" + who.name + "' (" + s + ")";
}

}  // namespace

bool Principal::MaySync(std::string_view set) const {
  return std::find(sync_sets.begin(), sync_sets.end(), set) != sync_sets.end();
}

Result<Principal> MakePrincipal(std::string name, const std::vector<std::string>& roles) {
  Principal p;
  p.name = std::move(name);
  if (roles.empty()) return Status::InvalidArgument("token '" + p.name + "' has no roles");
  for (const std::string& r : roles) {
    if (r == "scan") {
      p.roles |= kScan;
    } else if (r == "admin") {
      p.roles |= kAdmin;
    } else if (r.rfind("sync:", 0) == 0 && r.size() > 5) {
      p.roles |= kSync;
      p.sync_sets.push_back(r.substr(5));
    } else {
      return Status::InvalidArgument("unknown role '" + r + "' (expected scan, sync:SET or admin)");
    }
    p.role_names.push_back(r);
  }
  return p;
}

std::span<const MethodAccess> AccessTable() {
  return kTable;
}

const MethodAccess* FindMethodAccess(std::string_view method) {
  for (const MethodAccess& m : kTable) {
    if (m.method == method) return &m;
  }
  return nullptr;
}

std::optional<std::string> Refusal(const Principal& who, std::string_view method,
                                   std::string_view set) {
  const MethodAccess* row = FindMethodAccess(method);
  if (row == nullptr) return std::string(method) + " has no access rule";
  // Any role other than sync that the row allows is enough.
  if ((row->roles & who.roles & ~kSync) != 0) return std::nullopt;
  if ((row->roles & who.roles & kSync) != 0) {
    if (!row->set_scoped || who.MaySync(set)) return std::nullopt;
    return RolesText(who) + " may not call " + std::string(method) + " on set '" +
           std::string(set) + "'";
  }
  return RolesText(who) + " may not call " + std::string(method);
}

bool MayUseInterface(const Principal& who, std::string_view interface) {
  for (const MethodAccess& m : kTable) {
    if (m.method.size() > interface.size() && m.method.substr(0, interface.size()) == interface &&
        m.method[interface.size()] == '.' && (m.roles & who.roles) != 0) {
      return true;
    }
  }
  return false;
}

}  // namespace hashmatch::daemon

// The access table (daemon/src/access.cc) against the schema and against the running services.
//
// 1. The schema file is parsed at run time (capnp::SchemaParser) and every method of every
//    interface in it must have a row, and every row must name a method of the schema: a new
//    method cannot ship without a policy.
// 2. Every method is then called, in-process through Cap'n Proto's dynamic API, as each role
//    (unauthenticated, scan, sync:setA on its own set and on setB, admin); the call must be
//    refused exactly when the table leaves the role out. Calls are made on service objects built
//    directly for each principal, so the per-method check is tested on its own, not only the
//    Gate's choice of which capabilities to hand out.
#include <capnp/dynamic.h>
#include <capnp/schema-parser.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <kj/filesystem.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "access.h"
#include "hashmatch/core/digest.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/schema/hashmatch.capnp.h"
#include "services.h"

namespace hashmatch::daemon {
namespace {

namespace fs = std::filesystem;

struct ParsedInterface {
  std::string name;
  std::vector<std::string> methods;
  std::map<std::string, std::vector<std::string>> params;  // method -> parameter names
};

std::vector<ParsedInterface> WalkSchemaFile() {
  auto disk = kj::newDiskFilesystem();
  const fs::path file = fs::path(HASHMATCH_SOURCE_DIR) / "schema" / "hashmatch.capnp";
  auto include = disk->getRoot().openSubdir(kj::Path::parse("usr/include"));
  const kj::ReadableDirectory* import_path[] = {include.get()};
  capnp::SchemaParser parser;
  auto parsed = parser.parseFromDirectory(
      disk->getRoot(), kj::Path::parse(file.relative_path().c_str()), kj::arrayPtr(import_path, 1));
  std::vector<ParsedInterface> out;
  for (capnp::ParsedSchema node : parsed.getAllNested()) {
    if (!node.getProto().isInterface()) continue;
    ParsedInterface iface;
    iface.name = node.getUnqualifiedName().cStr();
    for (auto m : node.asInterface().getMethods()) {
      const std::string name = m.getProto().getName().cStr();
      iface.methods.push_back(name);
      iface.params[name];  // present even without parameters
      for (auto f : m.getParamType().getFields()) {
        iface.params[name].push_back(f.getProto().getName().cStr());
      }
    }
    out.push_back(std::move(iface));
  }
  return out;
}

TEST(AccessTableTest, EveryMethodOfTheSchemaHasExactlyOneRow) {
  const auto interfaces = WalkSchemaFile();
  ASSERT_GE(interfaces.size(), 5u);
  std::set<std::string> schema_methods;
  for (const auto& i : interfaces) {
    for (const auto& m : i.methods) {
      const std::string full = i.name + "." + m;
      schema_methods.insert(full);
      const MethodAccess* row = FindMethodAccess(full);
      EXPECT_NE(row, nullptr) << full << " has no row in the access table (daemon/src/access.cc)";
      if (row != nullptr && row->set_scoped) {
        const auto& p = i.params.at(m);
        EXPECT_NE(std::find(p.begin(), p.end(), "set"), p.end())
            << full << " is set-scoped but has no 'set' parameter";
      }
    }
  }
  std::set<std::string> rows;
  for (const MethodAccess& row : AccessTable()) {
    EXPECT_TRUE(rows.insert(std::string(row.method)).second) << row.method << " has two rows";
    EXPECT_TRUE(schema_methods.count(std::string(row.method)))
        << row.method << " is in the table but not in the schema";
  }
}

// The policy's intent, independent of the table, so it cannot be loosened by accident.
TEST(AccessTableTest, PolicySanity) {
  Principal anyone, scan = *MakePrincipal("s", {"scan"}), sync = *MakePrincipal("y", {"sync:A"}),
                    admin = *MakePrincipal("a", {"admin"});
  for (const MethodAccess& row : AccessTable()) {
    const std::string m(row.method);
    const bool gate = m.rfind("Gate.", 0) == 0;
    EXPECT_EQ(Refusal(anyone, m, "A").has_value(), !gate) << m;
    EXPECT_FALSE(Refusal(admin, m, "A").has_value()) << m;
  }
  for (const char* m : {"SetAdmin.createSet", "SetAdmin.dropSet", "SetAdmin.configureSet",
                        "SetAdmin.setEntryEnabled", "Sync.applyPage", "Sync.getCheckpoint"}) {
    EXPECT_TRUE(Refusal(scan, m, "A").has_value()) << "scan may call " << m;
  }
  for (const char* m :
       {"Matcher.match", "Matcher.matchImages", "SetAdmin.createSet", "SetAdmin.dropSet"}) {
    EXPECT_TRUE(Refusal(sync, m, "A").has_value()) << "sync may call " << m;
  }
  EXPECT_FALSE(Refusal(sync, "Sync.applyPage", "A").has_value());
  EXPECT_TRUE(Refusal(sync, "Sync.applyPage", "B").has_value());
  EXPECT_TRUE(Refusal(anyone, "No.such", "").has_value());
}

std::string Sha256Hex(const std::string& s) {
  return ToHex(
      *Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size())));
}

class RoleWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hm-access-XXXXXX";
    dir_ = mkdtemp(tmpl);
    config_.store = dir_ / "store";
    config_.workers = 2;
    config_.limits.auth_failure_delay_ms = 0;
    for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{
             {"scan", "scan"}, {"sync", "sync:setA"}, {"admin", "admin"}}) {
      TokenConfig t;
      t.name = name;
      ASSERT_TRUE(DecodeHex(Sha256Hex("token-" + name), t.sha256).ok());
      t.roles = {role};
      config_.tokens.push_back(t);
    }
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  DaemonConfig config_;
};

TEST_F(RoleWalkTest, EveryRoleIsRefusedExactlyTheMethodsOutsideItsRow) {
  // The state outlives the event loop (as in hashmatchd: capnp keeps uncancellable calls in the
  // loop until it is destroyed, and they still count into the state's statistics).
  std::unique_ptr<ServiceState> owner;
  auto io = kj::setupAsyncIo();
  owner = std::make_unique<ServiceState>(config_, io.provider->getTimer());
  ServiceState& state = *owner;
  StoreOptions so;
  so.create_if_missing = true;
  auto store = HashSetStore::Open(config_.store, so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (const char* name : {"setA", "setB"}) {
    SetConfig c;
    c.name = name;
    ASSERT_TRUE((*store)->CreateSet(c).ok());
  }
  state.SetStore(std::shared_ptr<HashSetStore>(std::move(store.value())));

  struct Case {
    std::string label;
    std::shared_ptr<const Principal> who;
    std::string set;  // the `set` argument of set-scoped methods
  };
  std::vector<Case> cases{{"unauthenticated", std::make_shared<const Principal>(), "setA"}};
  for (const char* name : {"scan", "sync", "admin"}) {
    auto p = state.tokens().Authenticate(std::string("token-") + name);
    ASSERT_TRUE(p.has_value()) << name;
    cases.push_back({name, std::make_shared<const Principal>(*p), "setA"});
  }
  cases.push_back({"sync on another set", cases[2].who, "setB"});

  using Factory = std::function<capnp::Capability::Client(std::shared_ptr<const Principal>)>;
  const std::map<std::string, std::pair<capnp::InterfaceSchema, Factory>> services{
      {"Gate",
       {capnp::Schema::from<wire::Gate>(),
        [&](auto) { return NewGate(state, std::make_shared<ConnectionInfo>()); }}},
      {"Matcher",
       {capnp::Schema::from<wire::Matcher>(), [&](auto w) { return NewMatcher(state, w); }}},
      {"SetAdmin",
       {capnp::Schema::from<wire::SetAdmin>(), [&](auto w) { return NewSetAdmin(state, w); }}},
      {"Sync", {capnp::Schema::from<wire::Sync>(), [&](auto w) { return NewSync(state, w); }}},
      {"Health",
       {capnp::Schema::from<wire::Health>(), [&](auto w) { return NewHealth(state, w); }}},
  };

  size_t calls = 0, refusals = 0;
  for (const ParsedInterface& iface : WalkSchemaFile()) {
    auto it = services.find(iface.name);
    ASSERT_NE(it, services.end()) << "interface " << iface.name
                                  << " is served by nothing this test knows";
    for (const Case& c : cases) {
      // The Gate is all an unauthenticated connection holds; it serves everyone alike.
      capnp::DynamicCapability::Client cap =
          it->second.second(c.who).castAs<capnp::DynamicCapability>(it->second.first);
      for (const std::string& method : iface.methods) {
        const std::string full = iface.name + "." + method;
        auto req = cap.newRequest(method);
        const auto& params = iface.params.at(method);
        if (std::find(params.begin(), params.end(), "set") != params.end()) {
          req.set("set", capnp::Text::Reader(c.set.c_str()));
        }
        const std::string outcome =
            req.send()
                .then([](auto&&) { return std::string("ok"); },
                      [](kj::Exception&& e) { return std::string(e.getDescription().cStr()); })
                .wait(io.waitScope);
        const bool refused = outcome.find("may not call " + full) != std::string::npos;
        const bool expected =
            iface.name == "Gate" ? false : Refusal(*c.who, full, c.set).has_value();
        EXPECT_EQ(refused, expected) << c.label << " calling " << full << ": " << outcome;
        if (refused) {
          EXPECT_EQ(outcome.rfind("permission_denied: ", 0), 0u) << outcome;
        }
        ++calls;
        refusals += refused;
      }
    }
  }
  EXPECT_GT(refusals, 20u);
  std::cout << "role walk: " << calls << " calls, " << refusals << " refused\n";
  state.StopWorkers();
}

}  // namespace
}  // namespace hashmatch::daemon

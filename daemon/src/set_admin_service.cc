// SetAdmin: set metadata for every authenticated role; changes for admins (access.cc). Reads
// answer from the current snapshot on the RPC thread (cheap); writes fsync, so they run on the
// worker pool.
#include "services.h"
#include "wire_convert.h"

namespace hashmatch::daemon {

namespace {

class SetAdminImpl final : public wire::SetAdmin::Server, ServiceBase {
 public:
  using ServiceBase::ServiceBase;

  kj::Promise<void> listSets(ListSetsContext ctx) override {
    return Serve("SetAdmin.listSets", {}, [this, ctx]() mutable -> kj::Promise<void> {
      auto snap = state_.RequireStore()->GetSnapshot();
      const std::vector<SetInfo> sets = snap->ListSets();
      auto out = ctx.getResults();
      out.setSequence(snap->sequence());
      auto list = out.initSets(sets.size());
      for (size_t i = 0; i < sets.size(); ++i) FillSetInfo(list[i], sets[i]);
      return kj::READY_NOW;
    });
  }

  kj::Promise<void> getSet(GetSetContext ctx) override {
    return Serve("SetAdmin.getSet", {}, [this, ctx]() mutable -> kj::Promise<void> {
      auto info = state_.RequireStore()->GetSet(TextView(ctx.getParams().getName()));
      if (!info.ok()) throw StatusError(info.status());
      FillSetInfo(ctx.getResults().initSet(), *info);
      return kj::READY_NOW;
    });
  }

  kj::Promise<void> createSet(CreateSetContext ctx) override {
    return Serve("SetAdmin.createSet", {}, [this, ctx]() mutable -> kj::Promise<void> {
      auto store = state_.RequireStore();
      auto config = SetConfigFromWire(ctx.getParams().getConfig());
      if (!config.ok()) throw StatusError(config.status());
      const std::string name = config->name;
      LogInfo("set_create", {{"principal", who_->name}, {"set", name}});
      return Write(ctx, store, name,
                   [store, c = std::move(config.value())]() { return store->CreateSet(c); });
    });
  }

  kj::Promise<void> configureSet(ConfigureSetContext ctx) override {
    return Serve("SetAdmin.configureSet", {}, [this, ctx]() mutable -> kj::Promise<void> {
      auto store = state_.RequireStore();
      const std::string name(TextView(ctx.getParams().getName()));
      const SetUpdate update = SetUpdateFromWire(ctx.getParams().getUpdate());
      LogInfo("set_configure", {{"principal", who_->name}, {"set", name}});
      return Write(ctx, store, name,
                   [store, name, update]() { return store->UpdateSet(name, update); });
    });
  }

  kj::Promise<void> dropSet(DropSetContext ctx) override {
    return Serve("SetAdmin.dropSet", {}, [this, ctx]() mutable -> kj::Promise<void> {
      auto store = state_.RequireStore();
      const std::string name(TextView(ctx.getParams().getName()));
      LogInfo("set_drop", {{"principal", who_->name}, {"set", name}});
      HotEntries* hot = &state_.hot();
      return state_.pool()
          .Run<Status>([store, name, hot]() {
            Status st = store->DropSet(name);
            // Its quarantined entries go with it (a set created later under the name is another
            // list); the state file is rewritten here, on the worker.
            if (st.ok()) hot->DropSets([&name](const std::string& set) { return set != name; });
            return st;
          })
          .then([](Status st) {
            if (!st.ok()) throw StatusError(st);
          });
    });
  }

  kj::Promise<void> listQuarantined(ListQuarantinedContext ctx) override {
    return Serve("SetAdmin.listQuarantined", {}, [this, ctx]() mutable -> kj::Promise<void> {
      const std::vector<QuarantinedEntry> entries = state_.hot().List();
      auto list = ctx.getResults().initEntries(entries.size());
      for (size_t i = 0; i < entries.size(); ++i) {
        list[i].setSet(entries[i].set);
        list[i].setKey(entries[i].key);
        list[i].setSince(entries[i].since);
        list[i].setHitsThisMinute(entries[i].hits_this_minute);
        list[i].setUsualPerMinute(entries[i].usual_per_minute);
      }
      return kj::READY_NOW;
    });
  }

  kj::Promise<void> releaseQuarantined(ReleaseQuarantinedContext ctx) override {
    return Serve("SetAdmin.releaseQuarantined", {}, [this, ctx]() mutable -> kj::Promise<void> {
      // Ready only: the store's open removes stray temporaries in its directory, where the
      // state file's temporary lives by default.
      state_.RequireStore();
      const std::string set(TextView(ctx.getParams().getSet())),
          key(TextView(ctx.getParams().getKey()));
      HotEntries* hot = &state_.hot();
      // Rewrites the state file (fsync), so on the worker pool.
      return state_.pool()
          .Run<bool>([hot, set, key]() { return hot->Release(set, key); })
          .then([ctx, set, key, who = who_](bool released) mutable {
            LogInfo("quarantine_release", {{"principal", who->name},
                                           {"set", set},
                                           {"key", key},
                                           {"released", released ? "true" : "false"}});
            ctx.getResults().setReleased(released);
          });
    });
  }

  kj::Promise<void> setEntryEnabled(SetEntryEnabledContext ctx) override {
    return Serve("SetAdmin.setEntryEnabled", {}, [this, ctx]() mutable -> kj::Promise<void> {
      auto store = state_.RequireStore();
      auto p = ctx.getParams();
      const std::string set(TextView(p.getSet())), key(TextView(p.getKey()));
      const bool enabled = p.getEnabled();
      LogInfo("entry_enabled", {{"principal", who_->name},
                                {"set", set},
                                {"key", key},
                                {"enabled", enabled ? "true" : "false"}});
      return Write(ctx, store, set, [store, set, key, enabled]() {
        return store->SetEntryEnabled(set, key, enabled);
      });
    });
  }

 private:
  // Runs a store write on the pool, then answers with the set's info.
  template <class Ctx, class F>
  kj::Promise<void> Write(Ctx ctx, std::shared_ptr<HashSetStore> store, std::string name, F fn) {
    return state_.pool()
        .Run<Result<SetInfo>>([store, name, fn = std::move(fn)]() -> Result<SetInfo> {
          Status st = fn();
          if (!st.ok()) return st;
          return store->GetSet(name);
        })
        .then([ctx](Result<SetInfo> info) mutable {
          if (!info.ok()) throw StatusError(info.status());
          FillSetInfo(ctx.getResults().initSet(), *info);
        });
  }
};

}  // namespace

wire::SetAdmin::Client NewSetAdmin(ServiceState& state, std::shared_ptr<const Principal> who) {
  return kj::heap<SetAdminImpl>(state, std::move(who));
}

}  // namespace hashmatch::daemon

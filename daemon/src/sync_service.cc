// Sync: the write path of partner-list sync jobs. One page is one store transaction (validated
// whole, applied with its checkpoint, or not at all); the store makes re-applying a page a no-op.
#include <capnp/message.h>

#include "services.h"
#include "wire_convert.h"

namespace hashmatch::daemon {

namespace {

class SyncImpl final : public wire::Sync::Server, ServiceBase {
 public:
  using ServiceBase::ServiceBase;

  kj::Promise<void> applyPage(ApplyPageContext ctx) override {
    const std::string set(TextView(ctx.getParams().getSet()));
    return Serve("Sync.applyPage", set, [this, ctx, set]() mutable -> kj::Promise<void> {
      auto store = state_.RequireStore();
      auto params = ctx.getParams();
      const size_t n = params.getPage().getRecords().size();
      if (n > state_.limits().max_page_records) {
        throw RpcError("out_of_range", "page of " + std::to_string(n) +
                                           " records exceeds max_page_records = " +
                                           std::to_string(state_.limits().max_page_records));
      }
      auto info = store->GetSet(set);
      if (!info.ok()) throw StatusError(info.status());
      const SignalType signal = info->config.signal;
      auto request = kj::heap<capnp::MallocMessageBuilder>();
      request->setRoot(params);
      ctx.releaseParams();
      const std::string who = who_->name;
      return state_.pool()
          .Run<Result<CommitStats>>(
              [request = kj::mv(request), store, set, signal]() mutable -> Result<CommitStats> {
                auto in = request->getRoot<wire::Sync::ApplyPageParams>().asReader().getPage();
                auto page = PageFromWire(in, signal);
                if (!page.ok()) return page.status();
                ApplyOptions options;
                options.full_list = in.getFullList();
                options.skip_other_signals = in.getSkipOtherSignals();
                page->full_list = options.full_list;
                return store->ApplyPage(set, *page, options);
              })
          .then([ctx, set, who, n](Result<CommitStats> stats) mutable {
            if (!stats.ok()) {
              LogWarn("page_refused",
                      {{"principal", who}, {"set", set}, {"reason", stats.status().ToString()}});
              throw StatusError(stats.status());
            }
            LogInfo("page_applied", {{"principal", who},
                                     {"set", set},
                                     {"records", std::to_string(n)},
                                     {"version", std::to_string(stats->set_version)},
                                     {"changed", stats->changed ? "true" : "false"}});
            FillCommitStats(ctx.getResults().initStats(), *stats);
          });
    });
  }

  kj::Promise<void> getCheckpoint(GetCheckpointContext ctx) override {
    const std::string set(TextView(ctx.getParams().getSet()));
    return Serve("Sync.getCheckpoint", set, [this, ctx, set]() mutable -> kj::Promise<void> {
      auto info = state_.RequireStore()->GetSet(set);
      if (!info.ok()) throw StatusError(info.status());
      auto out = ctx.getResults();
      out.setHasCheckpoint(info->checkpoint.has_value());
      if (info->checkpoint) out.setCheckpoint(info->checkpoint->value);
      out.setVersion(info->version);
      out.setLastSyncTime(info->last_sync_time);
      return kj::READY_NOW;
    });
  }
};

}  // namespace

wire::Sync::Client NewSync(ServiceState& state, std::shared_ptr<const Principal> who) {
  return kj::heap<SyncImpl>(state, std::move(who));
}

}  // namespace hashmatch::daemon

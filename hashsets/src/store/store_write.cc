// The commit path: prepare, log + fsync, install, publish. Set operations, pages, staged imports.
#include "coding.h"
#include "log_reader.h"
#include "store_impl.h"

namespace hashmatch::store {
namespace {

namespace fs = std::filesystem;

Status Refused(const Status& error) {
  return Status(error.code(),
                "the store refuses writes until it is reopened, after: " + error.message());
}

}  // namespace

Status HashSetStoreImpl::CheckWritable() const {
  if (options_.read_only) {
    return Status::Unsupported("store " + dir_.string() + " is open read-only");
  }
  if (!error_.ok()) return Refused(error_);
  return Status::Ok();
}

Result<std::shared_ptr<const SetState>> HashSetStoreImpl::FindSet(const StoreState& st,
                                                                  std::string_view name) const {
  auto it = st.sets.find(name);
  if (it == st.sets.end()) return Status::NotFound("no set '" + std::string(name) + "'");
  return it->second;
}

Result<Prepared> HashSetStoreImpl::PrepareTxn(const StoreState& st, const Txn& t) {
  if (t.kind == TxnKind::kCreateSet) {
    if (st.sets.count(t.config.name)) {
      return Status(StatusCode::kAlreadyExists, "set '" + t.config.name + "' exists");
    }
    if (t.set_id < st.next_set_id) {
      return Status::Internal("set id " + std::to_string(t.set_id) + " was used before");
    }
    return PrepareCreate(t);
  }
  std::shared_ptr<const SetState> set = st.FindId(t.set_id);
  if (!set) return Status::NotFound("no set with id " + std::to_string(t.set_id));
  switch (t.kind) {
    case TxnKind::kUpdateSet:
      return PrepareUpdate(set, t);
    case TxnKind::kDropSet: {
      Prepared p;
      p.kind = TxnKind::kDropSet;
      p.set_id = t.set_id;
      p.changed = true;
      return p;
    }
    case TxnKind::kEntryEnabled:
      return PrepareEntryEnabled(set, t);
    case TxnKind::kImport: {
      ImportApplier a(set, t.time, t.import, options_.degenerate);
      if (t.staged) {
        Status s =
            FeedStagingFile(env_, dir_ / StageFileName(t.staged->file_number), *t.staged, &a);
        if (!s.ok()) return s;
      } else if (Status s = a.Feed(t.records); !s.ok()) {
        return s;
      }
      return a.Finish(t.checkpoint);
    }
    default:
      return Status::Internal("unknown transaction kind");
  }
}

Status HashSetStoreImpl::InstallAndPublish(const Txn& t, Prepared* p) {
  auto next = std::make_shared<StoreState>(*Current());
  next->sequence = t.sequence;
  if (t.kind == TxnKind::kDropSet) {
    std::shared_ptr<const SetState> s = next->FindId(t.set_id);
    if (s) next->sets.erase(s->config.name);
    indexes_.erase(t.set_id);  // searches hold their own index snapshots
  } else {
    if (t.kind == TxnKind::kCreateSet) {
      next->next_set_id = std::max(next->next_set_id, t.set_id + 1);
      if (p->next->perceptual()) {
        auto li = LiveIndex::Create(p->next->code_bytes(), options_.index);
        if (!li.ok()) return li.status();
        indexes_[t.set_id] = std::move(li).value();
      }
    }
    auto it = indexes_.find(p->set_id);
    if (Status s = Install(p, it == indexes_.end() ? nullptr : it->second.get()); !s.ok()) {
      return s;
    }
    next->sets[p->next->config.name] = p->next;
  }
  Publish(std::move(next));
  return Status::Ok();
}

Result<CommitStats> HashSetStoreImpl::CommitLocked(Txn t, Prepared p,
                                                   std::span<const EntryRecord> records) {
  t.sequence = Current()->sequence + 1;
  Status s = log_->AddRecord(RecordType::kTxn, EncodeTxn(t, records));
  if (s.ok()) s = log_->Sync();
  if (!s.ok()) {
    error_ = s;
    return Status(s.code(), "commit of transaction " + std::to_string(t.sequence) +
                                " failed: " + s.message());
  }
  if (Status i = InstallAndPublish(t, &p); !i.ok()) {
    error_ = i;  // logged but not applied: only a reopen (replay) can make memory agree
    return i;
  }
  CommitStats stats = std::move(p.stats);
  stats.sequence = t.sequence;
  return stats;
}

void HashSetStoreImpl::MaybeSnapshot() {
  if (options_.read_only || options_.snapshot_log_bytes == 0) return;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (!log_ || !error_.ok() || log_->Size() + staged_bytes_ < options_.snapshot_log_bytes) {
      return;
    }
  }
  if (!options_.background_snapshots) {
    Status s = SnapshotNow();
    std::lock_guard<std::mutex> lock(bg_mu_);
    bg_status_ = s;
    return;
  }
  std::lock_guard<std::mutex> lock(bg_mu_);
  if (bg_running_) return;
  // A finished thread takes no lock any more, so joining it under bg_mu_ is safe.
  if (bg_thread_.joinable()) bg_thread_.join();
  bg_running_ = true;
  bg_thread_ = std::thread([this] {
    Status s = SnapshotNow();
    std::lock_guard<std::mutex> l(bg_mu_);
    bg_status_ = s;
    bg_running_ = false;
  });
}

Status HashSetStoreImpl::CreateSet(const SetConfig& config) {
  Result<CommitStats> r = [&]() -> Result<CommitStats> {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (Status s = CheckWritable(); !s.ok()) return s;
    const auto cur = Current();
    Txn t;
    t.kind = TxnKind::kCreateSet;
    t.time = env_->NowSeconds();
    t.config = config;
    t.set_id = cur->next_set_id;
    auto p = PrepareTxn(*cur, t);
    if (!p.ok()) return p.status();
    return CommitLocked(std::move(t), std::move(p).value());
  }();
  MaybeSnapshot();
  return r.status();
}

Status HashSetStoreImpl::UpdateSet(std::string_view name, const SetUpdate& update) {
  Result<CommitStats> r = [&]() -> Result<CommitStats> {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (Status s = CheckWritable(); !s.ok()) return s;
    const auto cur = Current();
    auto set = FindSet(*cur, name);
    if (!set.ok()) return set.status();
    Txn t;
    t.kind = TxnKind::kUpdateSet;
    t.time = env_->NowSeconds();
    t.set_id = set.value()->id;
    t.update = update;
    auto p = PrepareTxn(*cur, t);
    if (!p.ok()) return p.status();
    if (!p->changed) return CommitStats{};  // nothing to change, nothing to log
    return CommitLocked(std::move(t), std::move(p).value());
  }();
  MaybeSnapshot();
  return r.status();
}

Status HashSetStoreImpl::DropSet(std::string_view name) {
  Result<CommitStats> r = [&]() -> Result<CommitStats> {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (Status s = CheckWritable(); !s.ok()) return s;
    const auto cur = Current();
    auto set = FindSet(*cur, name);
    if (!set.ok()) return set.status();
    Txn t;
    t.kind = TxnKind::kDropSet;
    t.time = env_->NowSeconds();
    t.set_id = set.value()->id;
    auto p = PrepareTxn(*cur, t);
    if (!p.ok()) return p.status();
    return CommitLocked(std::move(t), std::move(p).value());
  }();
  MaybeSnapshot();
  return r.status();
}

Status HashSetStoreImpl::SetEntryEnabled(std::string_view set_name, std::string_view key,
                                         bool enabled) {
  Result<CommitStats> r = [&]() -> Result<CommitStats> {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (Status s = CheckWritable(); !s.ok()) return s;
    const auto cur = Current();
    auto set = FindSet(*cur, set_name);
    if (!set.ok()) return set.status();
    Txn t;
    t.kind = TxnKind::kEntryEnabled;
    t.time = env_->NowSeconds();
    t.set_id = set.value()->id;
    t.key = std::string(key);
    t.enabled = enabled;
    auto p = PrepareTxn(*cur, t);
    if (!p.ok()) return p.status();
    if (!p->changed) return CommitStats{};
    return CommitLocked(std::move(t), std::move(p).value());
  }();
  MaybeSnapshot();
  return r.status();
}

Result<CommitStats> HashSetStoreImpl::ApplyPage(std::string_view set_name, const ImportPage& page,
                                                const ApplyOptions& options) {
  Result<CommitStats> r = [&]() -> Result<CommitStats> {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (Status s = CheckWritable(); !s.ok()) return s;
    const auto cur = Current();
    auto set = FindSet(*cur, set_name);
    if (!set.ok()) return set.status();
    Txn t;
    t.kind = TxnKind::kImport;
    t.time = env_->NowSeconds();
    t.set_id = set.value()->id;
    t.import = options;
    t.import.full_list = options.full_list || page.full_list;
    t.checkpoint = page.checkpoint;
    // Prepare reads the page's records in place; the log record carries a copy.
    ImportApplier a(set.value(), t.time, t.import, options_.degenerate);
    if (Status s = a.Feed(page.records); !s.ok()) return s;
    return CommitLocked(std::move(t), a.Finish(t.checkpoint), page.records);
  }();
  MaybeSnapshot();
  return r;
}

}  // namespace hashmatch::store

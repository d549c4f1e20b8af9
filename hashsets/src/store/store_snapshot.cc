// Snapshots: rotate the log, write the snapshot of the state at the rotation, install it.
//
//   1. (writer lock) create the next log N+1 (header, fsync); install MANIFEST {old snapshot, old
//      logs, N+1}; commits now go to N+1; take the state V at this point.
//   2. (no lock) write V to NNNNNN.snap.tmp, fsync, rename, fsync the directory; save each
//      perceptual set's index file (a cache).
//   3. (writer lock) install MANIFEST {new snapshot at V's sequence, logs from N+1}; then remove
//      the old snapshot, logs, manifests and the staging files V covers.
//
// A crash between any two steps leaves a CURRENT that names a complete, consistent set of files:
// before 1's install the old manifest; between 1 and 3 the old snapshot plus every log; after 3
// the new snapshot plus the new log. Orphans (a log, snapshot or index file that no manifest
// names) are removed on the next open.
#include <system_error>

#include "hashmatch/core/static_index.h"
#include "snapshot_file.h"
#include "store_impl.h"

namespace hashmatch::store {
namespace {

namespace fs = std::filesystem;

Result<std::shared_ptr<const StaticIndex>> BuildFromEntries(const SetState& s,
                                                            const LiveIndexOptions& o) {
  std::vector<uint8_t> codes;
  std::vector<uint64_t> ids;
  const size_t cb = s.code_bytes();
  codes.reserve(s.counts.indexed * cb);
  ids.reserve(s.counts.indexed);
  for (uint64_t r = 0; r < s.entries.rows(); ++r) {
    const EntryView v = s.entries.Get(r);
    if (!Indexed(v.flags)) continue;
    codes.insert(codes.end(), v.code, v.code + cb);
    ids.push_back(r);
  }
  const CodeView view{codes.data(), ids.size(), cb};
  bool mih = o.method == LiveIndexOptions::Method::kMih;
  if (o.method == LiveIndexOptions::Method::kAuto && ids.size() >= 4096) {
    const MihPlan plan = PlanMih(ids.size(), cb, o.mih.expected_radius);
    mih = plan.est_query_ns < plan.est_flat_ns;
  }
  if (mih) return BuildMihIndex(view, ids, o.mih);
  return BuildFlatIndex(view, ids);
}

}  // namespace

Status HashSetStoreImpl::WriteSnapshot() {
  return SnapshotNow();
}

Status HashSetStoreImpl::WaitForSnapshot() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    t = std::move(bg_thread_);
  }
  if (t.joinable()) t.join();
  std::lock_guard<std::mutex> lock(bg_mu_);
  return bg_status_;
}

Status HashSetStoreImpl::SnapshotNow() {
  std::lock_guard<std::mutex> snapshot_lock(snapshot_mu_);
  std::shared_ptr<const StoreState> v;
  uint64_t new_log = 0, snap = 0;
  {  // 1. rotate
    std::lock_guard<std::mutex> lock(write_mu_);
    if (Status s = CheckWritable(); !s.ok()) return s;
    new_log = next_file_number_++;
    std::unique_ptr<WritableFile> f;
    if (Status s = env_->NewWritableFile(dir_ / LogFileName(new_log), &f); !s.ok()) return s;
    auto writer = std::make_unique<LogWriter>(std::move(f));
    Status s = writer->WriteFileHeader(FileKind::kLog, new_log);
    if (s.ok()) s = writer->Sync();
    if (!s.ok()) {
      (void)writer->Close();
      return s;  // not named by any manifest: an orphan
    }
    Manifest m = manifest_;
    m.logs.push_back(new_log);
    const uint64_t mnum = next_file_number_++;
    m.next_file_number = next_file_number_;
    if (s = InstallManifest(env_, dir_, m, mnum); !s.ok()) {
      // CURRENT may name either manifest now; appending to the old log could leave a torn tail
      // in a log that is not the last. Refuse writes until a reopen settles it.
      error_ = s;
      (void)writer->Close();
      return s;
    }
    manifest_ = std::move(m);
    manifest_number_ = mnum;
    (void)log_->Close();  // every record in it was fsynced by its commit
    log_ = std::move(writer);
    log_number_ = new_log;
    staged_bytes_ = 0;
    v = Current();
    snap = next_file_number_++;
  }
  // 2. write (readers and writers go on)
  const fs::path final_path = dir_ / SnapshotFileName(snap);
  const fs::path tmp = final_path.string() + ".tmp";
  Status s = WriteSnapshotFile(env_, tmp, *v);
  if (s.ok()) s = env_->RenameFile(tmp, final_path);
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) {
    (void)env_->RemoveFile(tmp);
    return s;
  }
  if (options_.persist_index_files) {
    for (const auto& [name, set] : v->sets) {
      if (!set->perceptual()) continue;
      const fs::path p = dir_ / IndexFileName(snap, set->id);
      auto prev = index_files_.find(set->id);
      if (prev != index_files_.end() && prev->second.second == set->version) {
        // Unchanged since the last snapshot: share its index file.
        std::error_code ec;
        fs::create_hard_link(dir_ / IndexFileName(prev->second.first, set->id), p, ec);
        if (!ec) continue;
      }
      auto built = BuildFromEntries(*set, options_.index);
      if (built.ok()) (void)built.value()->Save(p);
    }
  }
  // The new columns, to rebase the in-memory state on (frees the entries held in memory).
  auto loaded = LoadSnapshotFile(env_, final_path, /*verify_checksums=*/false,
                                 /*build_maps=*/false);
  {  // 3. install
    std::lock_guard<std::mutex> lock(write_mu_);
    Manifest m;
    m.snapshot_number = snap;
    m.snapshot_sequence = v->sequence;
    for (uint64_t l : manifest_.logs) {
      if (l >= new_log) m.logs.push_back(l);
    }
    const uint64_t mnum = next_file_number_++;
    m.next_file_number = next_file_number_;
    if (s = InstallManifest(env_, dir_, m, mnum); !s.ok()) {
      // Both manifests name complete files and the log is untouched: keep going on the old one.
      return s;
    }
    manifest_ = std::move(m);
    manifest_number_ = mnum;
    std::erase_if(live_stages_, [&](const auto& p) { return p.second <= v->sequence; });
    index_files_.clear();
    for (const auto& [name, set] : v->sets) {
      if (set->perceptual() && options_.persist_index_files) {
        index_files_[set->id] = {snap, set->version};
      }
    }
    const auto cur = Current();
    if (loaded.ok() && cur->sequence == v->sequence) {
      auto next = std::make_shared<StoreState>(*cur);
      for (auto& [name, set] : next->sets) {
        auto it = loaded->sets.find(name);
        if (it == loaded->sets.end()) continue;
        auto s2 = std::make_shared<SetState>(*set);
        s2->entries = it->second->entries;
        set = std::move(s2);
      }
      Publish(std::move(next));
    }
    (void)RemoveObsoleteFiles(nullptr);
  }
  // Index files are a cache: without one, the next open rebuilds the index (and says so).
  return Status::Ok();
}

}  // namespace hashmatch::store

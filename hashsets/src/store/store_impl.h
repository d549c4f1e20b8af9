// HashSetStoreImpl: the store behind hash_set_store.h. Split by concern:
//   store_open.cc      Open, recovery (snapshot, index files, log replay), obsolete-file cleanup
//   store_write.cc     the commit path, set operations, pages, staged imports
//   store_snapshot.cc  writing snapshots, log rotation, manifest installation
//   store_read.cc      StoreSnapshot: listing, entries, matching
//
// Locks: snapshot_mu_ (one snapshot at a time) is taken before write_mu_ (one writer at a time).
// Readers take neither: they copy the published version's pointer once (under current_mu_, held
// for the copy only).
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "hashmatch/hashsets/hash_set_store.h"
#include "log_writer.h"
#include "manifest.h"
#include "set_apply.h"
#include "set_state.h"

namespace hashmatch::store {

class HashSetStoreImpl final : public HashSetStore {
 public:
  HashSetStoreImpl(std::filesystem::path dir, const StoreOptions& options);
  ~HashSetStoreImpl() override;

  Status Open();

  Status CreateSet(const SetConfig& config) override;
  Status UpdateSet(std::string_view name, const SetUpdate& update) override;
  Status DropSet(std::string_view name) override;
  Status SetEntryEnabled(std::string_view set, std::string_view key, bool enabled) override;
  Result<CommitStats> ApplyPage(std::string_view set, const ImportPage& page,
                                const ApplyOptions& options) override;
  Result<std::unique_ptr<ImportTransaction>> BeginImport(std::string_view set,
                                                         const ApplyOptions& options) override;
  std::shared_ptr<const StoreSnapshot> GetSnapshot() const override;
  Status WriteSnapshot() override;
  Status WaitForSnapshot() override;
  const RecoveryInfo& recovery() const override { return recovery_; }
  const std::filesystem::path& dir() const override { return dir_; }

  // --- used by the staged import (store_write.cc) ------------------------------------------
  Env* env() const { return env_; }
  const StoreOptions& options() const { return options_; }
  Result<CommitStats> CommitStaged(uint32_t set_id, const ApplyOptions& options,
                                   const std::optional<Checkpoint>& checkpoint,
                                   const StagedRef& ref);
  void EndStaged(uint64_t file_number, bool committed);

 private:
  // Common checks before a write (read-only store, sticky error); under write_mu_.
  Status CheckWritable() const;
  std::shared_ptr<const StoreState> Current() const {
    std::lock_guard<std::mutex> lock(current_mu_);
    return current_;
  }
  void Publish(std::shared_ptr<const StoreState> next) {
    std::shared_ptr<const StoreState> old;
    {
      std::lock_guard<std::mutex> lock(current_mu_);
      old = std::exchange(current_, std::move(next));
    }
    // `old` is released here, outside the lock (the last holder of a version frees it).
  }
  Result<std::shared_ptr<const SetState>> FindSet(const StoreState& st,
                                                  std::string_view name) const;

  // Prepares `t` against `st` (live commits and replay alike). Staged imports read their file.
  Result<Prepared> PrepareTxn(const StoreState& st, const Txn& t);
  // Installs a prepared transaction and publishes the next state (after logging, or in replay).
  Status InstallAndPublish(const Txn& t, Prepared* p);
  // Logs, fsyncs, installs and publishes; then maybe schedules a snapshot. Under write_mu_.
  // `records` are an inline import's records (kept by the caller, not copied into `t`).
  Result<CommitStats> CommitLocked(Txn t, Prepared p, std::span<const EntryRecord> records = {});
  // Runs a snapshot if the log has grown past the threshold (after write_mu_ is released).
  void MaybeSnapshot();

  // store_open.cc
  Status CreateNew();
  Status LoadIndexes(StoreState* st);
  Status ReplayLog(uint64_t number, bool last, uint64_t snapshot_sequence);
  // Removes files no manifest, committed transaction or open import needs; under write_mu_.
  Status RemoveObsoleteFiles(std::vector<std::string>* notes);

  // store_snapshot.cc
  Status SnapshotNow();

  std::filesystem::path dir_;
  StoreOptions options_;
  Env* env_;
  std::unique_ptr<FileLock> lock_;
  RecoveryInfo recovery_;

  // The published version. A mutex that guards only the pointer copy, rather than
  // std::atomic<std::shared_ptr> (in libstdc++ 12 a lock too, and one TSan cannot see).
  mutable std::mutex current_mu_;
  std::shared_ptr<const StoreState> current_ = std::make_shared<const StoreState>();

  mutable std::mutex write_mu_;  // everything below, up to the snapshot fields
  std::map<uint32_t, std::unique_ptr<LiveIndex>> indexes_;  // by set id, perceptual sets
  std::unique_ptr<LogWriter> log_;
  uint64_t log_number_ = 0;
  Manifest manifest_;
  uint64_t manifest_number_ = 0;
  uint64_t next_file_number_ = 1;
  Status error_;  // sticky: set when a log write or install failed
  bool staged_open_ = false;
  uint64_t open_stage_number_ = 0;
  // Staging files named by committed transactions still in the live logs: (file, sequence).
  std::vector<std::pair<uint64_t, uint64_t>> live_stages_;
  // Bytes of the staging files committed since the last log rotation: they count towards
  // snapshot_log_bytes like the log's own (a reopen replays them too).
  uint64_t staged_bytes_ = 0;
  // Index files of the live snapshot: set id -> (snapshot number, set version it holds).
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> index_files_;

  std::mutex snapshot_mu_;  // one snapshot at a time
  std::mutex bg_mu_;        // the background thread's fields
  std::thread bg_thread_;
  bool bg_running_ = false;
  Status bg_status_;
};

// Streams a staging file's chunks into `applier`, checking it against `ref`.
Status FeedStagingFile(Env* env, const std::filesystem::path& path, const StagedRef& ref,
                       ImportApplier* applier);

}  // namespace hashmatch::store

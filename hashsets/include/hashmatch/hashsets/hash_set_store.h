// HashSetStore: the embedded, crash-safe store of hash sets. docs/store.md describes the files.
//
// Durability. Every change is a transaction: creating, configuring or dropping a set, enabling or
// disabling one entry, and importing records (one sync page or one import file) together with the
// source's checkpoint. A transaction is validated completely, then written to the write-ahead log
// as one checksummed record and fsynced; only then is it applied and made visible. When a call
// returns OK the transaction survives any crash; when it returns an error nothing of it is applied
// (after an I/O error the store refuses further writes until reopened, and the transaction is then
// either wholly present or wholly absent). Large imports stage their records in a staging file,
// chunk by chunk; the commit record names that file, so a crash before the commit applies nothing.
// Snapshots (columns of every set, plus each set's index file) are written to a temporary file,
// fsynced, renamed and the directory fsynced, then a new MANIFEST is installed through CURRENT.
//
// Recovery (Open) loads the snapshot, replays the log after it, accepts a torn tail at the end of
// the last log (reported in recovery()), and refuses corruption elsewhere with a message naming
// the file and the byte offset.
//
// Concurrency. One writer at a time (writes are serialised inside); any number of readers. Readers
// work on immutable versions (GetSnapshot): they see every set at one consistent sequence number
// and are never blocked by a commit, an import or a snapshot. A store directory is locked by the
// process that opens it for writing. A read_only open takes no lock and writes nothing, so it can
// read a store another process is writing (it sees the transactions committed when it opened; if
// a snapshot replaces the files under it, the open is retried).
//
// Matching. Each perceptual set's entries live in a LiveIndex whose ids are the set's entry
// ordinals; exact digests in a hash table. See match.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/distance.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/degenerate.h"
#include "hashmatch/hashsets/env.h"
#include "hashmatch/hashsets/match.h"
#include "hashmatch/hashsets/records.h"
#include "hashmatch/hashsets/set_model.h"

namespace hashmatch {

struct StoreOptions {
  Env* env = nullptr;  // nullptr: Env::Default()
  bool create_if_missing = false;
  bool error_if_exists = false;
  // Open without the lock, write nothing (no log trimming, no cleanup); writes are refused.
  bool read_only = false;
  // Write a snapshot (and start a new log) once the log, plus the staging files of the imports
  // committed since the last one, hold this many bytes; 0: only when WriteSnapshot is called.
  uint64_t snapshot_log_bytes = uint64_t(256) << 20;
  // Take automatic snapshots on a background thread (true) or in the committing call (false).
  bool background_snapshots = true;
  // Save each perceptual set's index with its snapshot, so opening maps it instead of rebuilding.
  bool persist_index_files = true;
  // Check the CRC of every snapshot column on open (reads them once).
  bool verify_checksums = true;
  DegenerateOptions degenerate;
  LiveIndexOptions index;  // for every set's LiveIndex
};

// What Open found and did.
struct RecoveryInfo {
  uint64_t snapshot_sequence = 0;  // sequence number of the loaded snapshot (0: none)
  uint64_t replayed = 0;           // transactions replayed from the log
  uint64_t sequence = 0;           // last committed sequence after recovery
  bool torn_tail = false;          // the last log ended in a torn record (dropped)
  std::string torn_tail_file;
  uint64_t torn_tail_offset = 0;  // where the dropped bytes began
  uint64_t torn_tail_bytes = 0;
  std::vector<std::string> notes;  // rebuilt index files, removed orphan files, ...
};

// An immutable, consistent view of the whole store.
class StoreSnapshot {
 public:
  virtual ~StoreSnapshot() = default;
  virtual uint64_t sequence() const = 0;
  virtual std::vector<SetInfo> ListSets() const = 0;  // by name
  virtual Result<SetInfo> GetSet(std::string_view name) const = 0;
  virtual Result<Entry> GetEntry(std::string_view set, std::string_view key) const = 0;
  // Calls fn for every entry of the set (tombstones included), in ordinal order, until it returns
  // false.
  virtual Status ForEachEntry(std::string_view set,
                              const std::function<bool(const Entry&)>& fn) const = 0;
  // Matches `queries` (codes of `signal`: queries.code_bytes must be its size). See match.h.
  virtual Result<MatchResult> Match(SignalType signal, CodeView queries,
                                    const MatchOptions& options = {}) const = 0;
};

// A large import: records are validated and staged chunk by chunk (written to a staging file, not
// applied), then committed with the checkpoint in one atomic step. Destroying an uncommitted
// transaction aborts it. Only one staged import per store may be open at a time, and it must not
// outlive its store. Other writes may commit while it is open (they are applied first).
class ImportTransaction {
 public:
  virtual ~ImportTransaction() = default;
  // Validates and stages a chunk. An error aborts the transaction (nothing is applied).
  virtual Status Add(std::span<const EntryRecord> records) = 0;
  // Applies every staged record and `checkpoint` atomically.
  virtual Result<CommitStats> Commit(const std::optional<Checkpoint>& checkpoint) = 0;
  virtual void Abort() = 0;
  virtual uint64_t staged_records() const = 0;

  // The transaction as an importer's RecordSink (importers.h): each chunk the parser emits is
  // staged; commit with the checkpoint the parse returns, only when it returns OK.
  //   auto txn = store->BeginImport("NCMEC_PDQ", {.skip_other_signals = true}).value();
  //   auto summary = ImportFile(path, import_options, txn->AsSink());
  //   if (summary.ok()) txn->Commit(summary->checkpoint);   // else: destroyed, nothing applied
  std::function<Status(std::vector<EntryRecord>&)> AsSink() {
    return [this](std::vector<EntryRecord>& chunk) { return Add(chunk); };
  }
};

class HashSetStore {
 public:
  // Opens (or, with create_if_missing, creates) the store in `dir`.
  static Result<std::unique_ptr<HashSetStore>> Open(const std::filesystem::path& dir,
                                                    const StoreOptions& options = {});
  // Creates a new store; kAlreadyExists when `dir` already holds one.
  static Result<std::unique_ptr<HashSetStore>> Create(const std::filesystem::path& dir,
                                                      StoreOptions options = {});

  virtual ~HashSetStore() = default;  // waits for a running snapshot; closes the files

  // --- Sets -------------------------------------------------------------------------------
  virtual Status CreateSet(const SetConfig& config) = 0;
  virtual Status UpdateSet(std::string_view name, const SetUpdate& update) = 0;
  virtual Status DropSet(std::string_view name) = 0;
  // Enables or disables one live entry (the set's version increases when this changes it).
  virtual Status SetEntryEnabled(std::string_view set, std::string_view key, bool enabled) = 0;

  // --- Imports ----------------------------------------------------------------------------
  // One page as one transaction (one log record): every record validated, then applied with the
  // page's checkpoint, or nothing. ImportPage::full_list tombstones the keys the page lacks.
  virtual Result<CommitStats> ApplyPage(std::string_view set, const ImportPage& page,
                                        const ApplyOptions& options = {}) = 0;
  // A staged import (large files).
  virtual Result<std::unique_ptr<ImportTransaction>> BeginImport(
      std::string_view set, const ApplyOptions& options = {}) = 0;

  // --- Reading ----------------------------------------------------------------------------
  virtual std::shared_ptr<const StoreSnapshot> GetSnapshot() const = 0;
  // Conveniences on the current snapshot.
  std::vector<SetInfo> ListSets() const { return GetSnapshot()->ListSets(); }
  Result<SetInfo> GetSet(std::string_view name) const { return GetSnapshot()->GetSet(name); }
  Result<MatchResult> Match(SignalType signal, CodeView queries,
                            const MatchOptions& options = {}) const {
    return GetSnapshot()->Match(signal, queries, options);
  }

  // --- Maintenance ------------------------------------------------------------------------
  // Writes a snapshot now and drops the log it covers.
  virtual Status WriteSnapshot() = 0;
  // Waits for a background snapshot; returns its error, if any.
  virtual Status WaitForSnapshot() = 0;
  virtual const RecoveryInfo& recovery() const = 0;
  virtual const std::filesystem::path& dir() const = 0;
};

}  // namespace hashmatch

// Applying transactions to the in-memory state, in two steps.
//
//   Prepare  validates the transaction against the current state and builds the next SetState
//            (from copies that share what is untouched) plus the LiveIndex diff. Pure: the
//            current state is not changed, so a transaction that fails validation, or whose log
//            write fails, leaves nothing behind.
//   Install  applies the LiveIndex diff (the only mutable object) and completes the next state
//            with the new index snapshot. It cannot fail on a prepared diff except through a bug.
//
// The live commit path runs Prepare, writes and fsyncs the log record, then Installs; recovery
// runs the same two steps on each logged transaction, which is why the log can hold inputs rather
// than results.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hashmatch/core/live_index.h"
#include "hashmatch/hashsets/degenerate.h"
#include "set_state.h"
#include "txn_codec.h"

namespace hashmatch::store {

struct IndexDiff {
  std::vector<uint64_t> removes;
  std::vector<uint64_t> add_ids;
  std::vector<uint8_t> add_codes;
  bool empty() const { return removes.empty() && add_ids.empty(); }
};

struct Prepared {
  TxnKind kind = TxnKind::kImport;
  uint32_t set_id = 0;
  std::shared_ptr<SetState> next;  // null for kDropSet
  IndexDiff diff;
  CommitStats stats;
  bool changed = false;  // anything to log (false: a no-op, e.g. enabling an enabled entry)
};

// Limits on one record's fields (a malformed list must not make the store hold huge strings).
inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr size_t kMaxClassificationBytes = 1024;
inline constexpr size_t kMaxTags = 64;
inline constexpr size_t kMaxTagBytes = 256;

Status ValidateConfig(const SetConfig& c);

// Checks one record against a set's configuration: Status on a malformed or refused record; false
// when it is to be skipped (another signal); true otherwise, with *reason set for a degenerate
// code that the set quarantines. Deletions only need a valid key.
Result<bool> CheckRecord(const SetConfig& c, const EntryRecord& r, uint64_t position,
                         const ApplyOptions& options, const DegenerateOptions& degenerate,
                         std::optional<std::string>* reason);

// Builds an import transaction's next state record by record (so staged chunks stream through).
class ImportApplier {
 public:
  ImportApplier(std::shared_ptr<const SetState> cur, int64_t time, const ApplyOptions& options,
                const DegenerateOptions& degenerate);

  // Validates and applies `records` to the next state. An error names the record (its source_ref,
  // or its position in the transaction) and leaves the applier unusable.
  Status Feed(std::span<const EntryRecord> records);
  // Completes the transaction (full-list tombstones, counts, index diff, version, checkpoint).
  Prepared Finish(const std::optional<Checkpoint>& checkpoint);

 private:
  void Touch(uint32_t ordinal) { touched_.push_back(ordinal); }
  void See(uint32_t ordinal);
  bool Seen(uint32_t ordinal) const {
    return ordinal / 64 < seen_.size() && (seen_[ordinal / 64] >> (ordinal % 64)) & 1u;
  }

  std::shared_ptr<const SetState> cur_;
  std::shared_ptr<SetState> next_;
  HashMultimap keys_;  // next_'s key index, being extended
  int64_t time_;
  ApplyOptions options_;
  DegenerateOptions degenerate_;
  uint64_t position_ = 0;  // records fed so far
  std::vector<uint32_t> touched_;
  std::vector<uint64_t> seen_;  // full_list: ordinals named by the transaction
  CommitStats stats_;
};

// The catalog transactions. `cur` is null for kCreateSet.
Result<Prepared> PrepareCreate(const Txn& t);
Result<Prepared> PrepareUpdate(std::shared_ptr<const SetState> cur, const Txn& t);
Result<Prepared> PrepareEntryEnabled(std::shared_ptr<const SetState> cur, const Txn& t);

// Applies p.diff to `index` and stores its snapshot in p.next.
Status Install(Prepared* p, LiveIndex* index);

}  // namespace hashmatch::store

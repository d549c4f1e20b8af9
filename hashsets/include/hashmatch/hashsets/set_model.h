// The hash-set model: sets ("banks"), their entries, and what a commit reports.
//
// A store holds named sets. Each set has one signal type, a match threshold (inclusive Hamming
// distance; 0 for exact digests), a kind, an enabled flag and a version. Entries are identified by
// the source's key within their set; they are updated and deleted by key (a deletion leaves a
// tombstone, so a stale re-add of a deleted entry can be recognised), never by guessing from the
// hash.
//
// Versions: a set's version increases by one with every transaction that changes its content or
// its configuration, and only then. Re-applying a page that is already applied changes nothing
// (the checkpoint and last-sync time are recorded, the version stays).
//
// An entry is matched only when it is live (not deleted), matchable (the source says so: StopNCII
// "Withdrawn" entries are not), enabled (an operator can disable one entry, e.g. a known false
// positive), and not quarantined (a degenerate code, see degenerate.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hashmatch/core/signal_type.h"
#include "hashmatch/hashsets/records.h"

namespace hashmatch {

enum class SetKind : uint8_t {
  kMatch = 0,     // hits are matches
  kSuppress = 1,  // a vetted allow-list: its hits cancel the hits of other sets on the same query
};

// What an import does with a degenerate code (degenerate.h).
enum class DegeneratePolicy : uint8_t {
  kQuarantine = 0,  // store the entry, never match it, keep the reason
  kRefuse = 1,      // refuse the whole transaction, naming the record and the reason
};

struct SetConfig {
  std::string name;  // 1..64 of [A-Za-z0-9_.-], unique in the store
  SignalType signal = SignalType::kPdq;
  uint32_t threshold = 31;  // match when distance <= threshold; must be 0 for exact digests
  SetKind kind = SetKind::kMatch;
  bool enabled = true;
  DegeneratePolicy degenerate = DegeneratePolicy::kQuarantine;
};

// A change to a set's configuration; unset fields keep their value.
struct SetUpdate {
  std::optional<uint32_t> threshold;
  std::optional<SetKind> kind;
  std::optional<bool> enabled;
  std::optional<DegeneratePolicy> degenerate;
};

struct SetCounts {
  uint64_t live = 0;         // entries not deleted
  uint64_t tombstones = 0;   // deleted entries kept as tombstones
  uint64_t indexed = 0;      // live entries that queries can match
  uint64_t quarantined = 0;  // live entries with a degenerate code
  uint64_t disabled = 0;     // live entries an operator disabled
  uint64_t unmatchable = 0;  // live entries the source marked not matchable
};

struct SetInfo {
  SetConfig config;
  uint32_t id = 0;           // internal, never reused (a dropped and re-created set gets a new one)
  uint64_t version = 0;      // 1 after creation
  int64_t created_time = 0;  // unix seconds
  int64_t last_sync_time = 0;            // commit time of the last import into the set; 0 = never
  std::optional<Checkpoint> checkpoint;  // stored with the last import that carried one
  SetCounts counts;
  // The set's index (IndexStats::method), e.g. "live(mih(...)+gpu-flat(cuda))" when searches may
  // go to a GPU mirror (LiveIndexOptions::gpu); "" for exact-digest sets.
  std::string index_method;
};

// One entry as stored.
struct Entry {
  std::string key;
  std::vector<uint8_t> code;  // the signal's code bytes (kept for tombstones too)
  std::string classification;
  std::vector<std::string> tags;
  int64_t source_time = 0;   // the source's timestamp of the version stored
  int64_t first_seen = 0;    // commit time when the store first saw the key
  int64_t last_updated = 0;  // commit time of the last change
  bool deleted = false;
  bool matchable = true;
  bool enabled = true;
  std::string quarantine_reason;  // non-empty: degenerate, never matched

  bool matched() const { return !deleted && matchable && enabled && quarantine_reason.empty(); }
};

// How an import treats records of a signal other than the set's.
struct ApplyOptions {
  // true: the page is the whole list; live entries whose keys it lacks are tombstoned.
  bool full_list = false;
  // Skip (and count) records of another signal type instead of refusing the transaction; an NCMEC
  // page carries MD5, SHA-1 and PDQ fingerprints of one entry, a PDQ set takes the PDQ ones.
  // Deletions apply by key whatever their signal.
  bool skip_other_signals = false;
};

// What one committed transaction did.
struct CommitStats {
  uint64_t sequence = 0;           // the store's sequence number of the transaction
  uint64_t set_version = 0;        // the set's version after it
  bool changed = false;            // true when the set's content changed (version increased)
  uint64_t records = 0;            // records in the transaction
  uint64_t added = 0;              // keys that became live
  uint64_t updated = 0;            // live entries whose content changed
  uint64_t deleted = 0;            // live entries tombstoned (deletions and full-list omissions)
  uint64_t unchanged = 0;          // records identical to what was stored
  uint64_t stale = 0;              // records older (source_time) than the stored version: ignored
  uint64_t skipped = 0;            // records of another signal (ApplyOptions::skip_other_signals)
  uint64_t quarantined = 0;        // records stored quarantined (degenerate code)
  std::vector<std::string> notes;  // the first quarantine reasons, naming their records
};

// Checks a set name: 1..64 characters of [A-Za-z0-9_.-], not starting with '.'.
bool ValidSetName(std::string_view name);

}  // namespace hashmatch

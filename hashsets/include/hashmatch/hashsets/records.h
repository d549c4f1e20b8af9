// The neutral form every importer produces and the store consumes: one page of entry records plus
// the source's checkpoint. Importers (importers.h) know file formats and nothing of storage; the
// store (hash_set_store.h) knows storage and nothing of formats.
//
// A page is a transaction: the store validates all of it and applies it, with its checkpoint, in
// one atomic commit, or applies nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hashmatch/core/signal_type.h"

namespace hashmatch {

// One entry as a source describes it. Entries are identified by `key` within a set: the source's
// own identity (NCMEC "member:entry", StopNCII "signalType:hashValue", a CSV external id), or the
// normalised hash when the source has none (plain hex lists).
struct EntryRecord {
  std::string key;
  SignalType signal = SignalType::kPdq;
  std::vector<uint8_t> code;  // GetSignalInfo(signal).code_bytes bytes, hex order; empty for a deletion
  bool deleted = false;       // a tombstone: remove the entry with this key
  bool matchable = true;      // false: kept for the record but never matched (StopNCII Withdrawn)
  std::string classification;     // e.g. NCMEC "A1"; empty when unknown
  std::vector<std::string> tags;  // free labels, source order
  int64_t source_time = 0;  // the source's timestamp of this record (unix seconds), 0 if none;
                            // of two records for one key, the later source_time wins
  std::string source_ref;   // where it came from: "file:line" or "page record N", for messages
};

// A source's resume point after a page (opaque to the store, stored verbatim with the commit).
struct Checkpoint {
  std::string value;  // e.g. NCMEC next URL / time window, StopNCII nextPageToken + nextSetTimestamp
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

struct ImportPage {
  std::vector<EntryRecord> records;
  std::optional<Checkpoint> checkpoint;  // set by sync sources
  bool full_list = false;  // true: the page is the whole list; keys it lacks are tombstoned
};

}  // namespace hashmatch

// Delivery of parsed records: RecordEmitter batches records into sink chunks and keeps the
// summary's counts; PageBuffer holds one sync page and keeps, per key, the record with the latest
// source timestamp. Private to the importers.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/hashsets/importers.h"

namespace hashmatch::importers {

class RecordEmitter {
 public:
  RecordEmitter(const ImportOptions& options, const RecordSink& sink, ImportSummary* summary);

  // True (and counted in summary->filtered) when ImportOptions::signal excludes `signal`.
  bool Filtered(SignalType signal);
  // Counts `r` and queues it; hands a full chunk to the sink.
  Status Emit(EntryRecord&& r);
  // Hands the last partial chunk to the sink.
  Status Finish();

  ImportSummary& summary() { return *summary_; }
  const ImportOptions& options() const { return options_; }

 private:
  Status Flush();

  const ImportOptions& options_;
  const RecordSink& sink_;
  ImportSummary* summary_;
  size_t chunk_size_;
  std::vector<EntryRecord> chunk_;
};

class PageBuffer {
 public:
  PageBuffer() = default;

  // Keeps `r` unless the page already holds a record for its key with a later `time_us`; of two
  // with the same time the later added wins. Either way one of the two is counted a duplicate.
  void Add(EntryRecord&& r, int64_t time_us, ImportSummary* summary);
  size_t size() const { return slots_.size(); }
  // Emits the kept records, in the order their keys first appeared.
  Status EmitTo(RecordEmitter& out);

 private:
  struct Slot {
    EntryRecord record;
    int64_t time_us;
  };
  // Open addressing (linear probing, load <= 1/2) over slot numbers, with each key's hash kept
  // so that a probe rarely touches a record: a page holds 10^5-10^6 keys, and a node-based map
  // cost a cache miss or two and an allocation per record.
  struct IndexEntry {
    uint64_t hash = 0;
    uint32_t slot_plus_1 = 0;  // 0: empty
  };
  void Grow();

  std::deque<Slot> slots_;  // a deque: growing it never moves records
  std::vector<IndexEntry> index_;
};

}  // namespace hashmatch::importers

// Invariants every importer fuzzer checks on what a parse hands its sink, beyond the sanitizers:
// a violation is a bug and traps. Shared by fuzz/importers/*_fuzzer.cc.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "hashmatch/hashsets/importers.h"

namespace hashmatch::fuzz {

// Limits small enough that the fuzzer reaches them: every limit error path is exercised.
inline ImportLimits SmallLimits(uint8_t knob) {
  ImportLimits l;
  l.max_line_bytes = 64 + (knob & 15) * 256;  // 64 B - 3.9 KB
  l.max_key_bytes = 32 + (knob >> 4) * 8;
  l.max_page_records = 64;
  l.max_page_bytes = 1 << 16;
  l.max_depth = 4 + (knob & 7);
  l.chunk_records = 1 + (knob % 5);
  return l;
}

// Collects records and checks each chunk and record as it arrives.
struct CheckedSink {
  size_t max_chunk = 0;
  std::vector<EntryRecord> records;

  RecordSink Sink() {
    return [this](std::vector<EntryRecord>& chunk) {
      if (chunk.empty() || chunk.size() > max_chunk) __builtin_trap();
      for (EntryRecord& r : chunk) {
        const SignalInfo& info = GetSignalInfo(r.signal);
        if (r.key.empty()) __builtin_trap();
        if (r.deleted ? !r.code.empty() : r.code.size() != info.code_bytes) __builtin_trap();
        records.push_back(std::move(r));
      }
      return Status::Ok();
    };
  }
};

// The summary agrees with what the sink saw; pages hold one record per key.
inline void CheckSummary(const ImportSummary& s, const std::vector<EntryRecord>& records,
                         bool page) {
  uint64_t live = 0, tomb = 0, unmatchable = 0;
  std::array<uint64_t, kSignalTypeCount> per{};
  for (const EntryRecord& r : records) {
    if (r.deleted) {
      ++tomb;
    } else {
      ++live;
      ++per[size_t(r.signal)];
      unmatchable += !r.matchable;
    }
  }
  if (s.emitted != records.size() || s.tombstones != tomb || per != s.per_signal ||
      s.not_matchable != unmatchable) {
    __builtin_trap();
  }
  if (page) {
    if (!s.checkpoint) __builtin_trap();
    std::set<std::string> keys;
    for (const EntryRecord& r : records)
      if (!keys.insert(r.key).second) __builtin_trap();  // de-duplicated by key
  } else if (s.checkpoint) {
    __builtin_trap();
  }
}

}  // namespace hashmatch::fuzz

// Helpers for the importer tests: collect what a parse emits, and a tiny model of a set that
// applies pages in order (a record replaces the held one for its key unless the held one is
// later; tombstones remove), standing in for the store.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "hashmatch/core/hex.h"
#include "hashmatch/hashsets/importers.h"

namespace hashmatch::testing {

struct Collected {
  Status status;
  ImportSummary summary;
  std::vector<EntryRecord> records;
  size_t chunks = 0;
};

inline Collected CollectBytes(std::string_view bytes, std::string_view name,
                              const ImportOptions& options) {
  Collected c;
  auto r = ImportBytes(bytes, name, options, [&](std::vector<EntryRecord>& chunk) {
    ++c.chunks;
    for (EntryRecord& e : chunk) c.records.push_back(std::move(e));
    return Status::Ok();
  });
  if (r.ok()) {
    c.summary = *r;
  } else {
    c.status = r.status();
  }
  return c;
}

inline Collected CollectFile(const std::filesystem::path& path, const ImportOptions& options) {
  Collected c;
  auto r = ImportFile(path, options, [&](std::vector<EntryRecord>& chunk) {
    ++c.chunks;
    for (EntryRecord& e : chunk) c.records.push_back(std::move(e));
    return Status::Ok();
  });
  if (r.ok()) {
    c.summary = *r;
  } else {
    c.status = r.status();
  }
  return c;
}

inline ImportOptions WithFormat(ListFormat f, std::optional<SignalType> signal = std::nullopt) {
  ImportOptions o;
  o.format = f;
  o.signal = signal;
  return o;
}

// A set as the store would hold it after applying pages in order.
class SetModel {
 public:
  void Apply(const std::vector<EntryRecord>& page) {
    for (const EntryRecord& r : page) {
      auto it = times_.find(r.key);
      if (it != times_.end() && it->second > r.source_time) continue;  // the held one is later
      times_[r.key] = r.source_time;
      if (r.deleted) {
        live_.erase(r.key);
      } else {
        live_[r.key] = r;
      }
    }
  }
  const std::map<std::string, EntryRecord>& live() const { return live_; }
  const EntryRecord* Find(const std::string& key) const {
    auto it = live_.find(key);
    return it == live_.end() ? nullptr : &it->second;
  }
  size_t Count(SignalType s, bool matchable_only = false) const {
    size_t n = 0;
    for (const auto& [k, r] : live_) n += r.signal == s && (!matchable_only || r.matchable);
    return n;
  }

 private:
  std::map<std::string, EntryRecord> live_;
  std::map<std::string, int64_t> times_;  // latest time seen per key, tombstones included
};

inline std::string Hex(const EntryRecord& r) {
  return EncodeHex(r.code);
}

// Records with the same fields, source_ref aside.
inline bool SameRecord(const EntryRecord& a, const EntryRecord& b) {
  return a.key == b.key && a.signal == b.signal && a.code == b.code && a.deleted == b.deleted &&
         a.matchable == b.matchable && a.classification == b.classification && a.tags == b.tags &&
         a.source_time == b.source_time;
}

}  // namespace hashmatch::testing

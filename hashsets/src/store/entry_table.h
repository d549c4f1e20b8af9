// EntryTable: one set's entries, by ordinal, as an immutable version.
//
// An entry's ordinal is assigned when its key is first seen and never changes; it is the id the
// set's LiveIndex reports. The table is the snapshot's columns (memory-mapped, read on demand, so a
// 10M-entry set opens without materialising 10M objects) overlaid with the entries changed since
// (a PersistentArray of EntryData). Both sides expose an entry as an EntryView.
//
// Per-entry metadata that is read only for hits and exports (key, classification, tags, quarantine
// reason) is kept as one packed byte string, the same bytes in memory and in the snapshot's meta
// column: lp(key) lp(classification) varint(#tags) lp(tag)... lp(reason).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/hashsets/env.h"
#include "hashmatch/hashsets/set_model.h"
#include "persistent_array.h"

namespace hashmatch::store {

// Entry flag bits (also the snapshot's flags column).
inline constexpr uint8_t kFlagDeleted = 1;
inline constexpr uint8_t kFlagMatchable = 2;
inline constexpr uint8_t kFlagEnabled = 4;
inline constexpr uint8_t kFlagQuarantined = 8;

inline bool Indexed(uint8_t flags) {
  return (flags & (kFlagDeleted | kFlagMatchable | kFlagEnabled | kFlagQuarantined)) ==
         (kFlagMatchable | kFlagEnabled);
}

std::string EncodeMeta(std::string_view key, std::string_view classification,
                       const std::vector<std::string>& tags, std::string_view reason);

// A decoded view of packed metadata (views into the packed bytes).
struct MetaView {
  std::string_view key;
  std::string_view classification;
  std::vector<std::string_view> tags;
  std::string_view reason;
};
bool DecodeMeta(std::string_view packed, MetaView* out);
// Just the key (the first field), for key comparisons.
std::string_view MetaKey(std::string_view packed);

// An entry held in memory (changed since the snapshot).
struct EntryData {
  std::array<uint8_t, 32> code{};  // code_bytes used, the rest zero
  uint8_t flags = 0;
  int64_t source_time = 0;
  int64_t first_seen = 0;
  int64_t last_updated = 0;
  std::string meta;  // packed, see above
};

struct EntryView {
  bool exists = false;  // false: ordinal beyond the table
  const uint8_t* code = nullptr;
  uint8_t flags = 0;
  int64_t source_time = 0;
  int64_t first_seen = 0;
  int64_t last_updated = 0;
  std::string_view meta;

  std::string_view key() const { return MetaKey(meta); }
};

// The columns of one set in a mapped snapshot file (snapshot_file.h validates them).
struct BaseColumns {
  std::shared_ptr<const MappedFile> file;  // keeps the mapping alive
  uint64_t rows = 0;
  size_t code_bytes = 0;
  const uint8_t* codes = nullptr;
  const uint8_t* flags = nullptr;
  const int64_t* source_time = nullptr;
  const int64_t* first_seen = nullptr;
  const int64_t* last_updated = nullptr;
  const uint64_t* meta_offsets = nullptr;  // rows + 1
  const char* meta = nullptr;
};

class EntryTable {
 public:
  EntryTable() = default;
  EntryTable(size_t code_bytes, std::shared_ptr<const BaseColumns> base)
      : code_bytes_(code_bytes), base_(std::move(base)), rows_(base_ ? base_->rows : 0) {}

  size_t code_bytes() const { return code_bytes_; }
  uint64_t rows() const { return rows_; }  // ordinals 0..rows()-1 exist

  EntryView Get(uint64_t ordinal) const {
    EntryView v;
    if (ordinal >= rows_) return v;
    v.exists = true;
    if (const auto& d = overlay_.Get(ordinal)) {
      v.code = d->code.data();
      v.flags = d->flags;
      v.source_time = d->source_time;
      v.first_seen = d->first_seen;
      v.last_updated = d->last_updated;
      v.meta = d->meta;
      return v;
    }
    const BaseColumns& b = *base_;
    v.code = b.codes + ordinal * code_bytes_;
    v.flags = b.flags[ordinal];
    v.source_time = b.source_time[ordinal];
    v.first_seen = b.first_seen[ordinal];
    v.last_updated = b.last_updated[ordinal];
    v.meta = std::string_view(b.meta + b.meta_offsets[ordinal],
                              b.meta_offsets[ordinal + 1] - b.meta_offsets[ordinal]);
    return v;
  }

  // Replaces (or, at ordinal == rows(), appends) an entry.
  void Put(uint64_t ordinal, std::shared_ptr<const EntryData> data) {
    if (ordinal >= rows_) rows_ = ordinal + 1;
    overlay_.Set(ordinal, std::move(data));
  }

  // The full Entry of a view.
  Entry Materialize(const EntryView& v) const;

 private:
  size_t code_bytes_ = 0;
  std::shared_ptr<const BaseColumns> base_;
  uint64_t rows_ = 0;
  PersistentArray<std::shared_ptr<const EntryData>> overlay_;
};

}  // namespace hashmatch::store

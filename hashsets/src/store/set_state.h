// The in-memory state of the store: immutable versions that readers share.
//
// SetState is one set at one sequence number: its configuration, version, checkpoint, counts,
// entries (EntryTable), key index, and its match structure: the LiveIndex snapshot (perceptual
// signals) or the digest table (exact digests). StoreState is every set at one sequence number.
// The writer builds the next version from copies (the persistent structures share everything the
// transaction does not touch) and publishes it with one atomic store; readers load it once per
// call and never wait.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "entry_table.h"
#include "hash_multimap.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/hashsets/set_model.h"

namespace hashmatch::store {

// A set's key index (HashBytes(key) -> ordinal, every ordinal, tombstones too), built from the
// entries on first use: opening a 10M-entry set does not pay for it until a write or a lookup by
// key needs it. Thread-safe (call_once); shared by the versions that have the same keys.
class KeyIndex {
 public:
  static std::shared_ptr<const KeyIndex> Lazy(EntryTable entries) {
    auto k = std::make_shared<KeyIndex>();
    k->entries_ = std::move(entries);
    return k;
  }
  static std::shared_ptr<const KeyIndex> Ready(HashMultimap map) {
    auto k = std::make_shared<KeyIndex>();
    std::call_once(k->once_, [&] { k->map_ = std::move(map); });
    return k;
  }
  const HashMultimap& map() const {
    std::call_once(once_, [this] {
      std::vector<std::pair<uint64_t, uint32_t>> pairs(entries_.rows());
      for (uint64_t o = 0; o < entries_.rows(); ++o) {
        const std::string_view key = entries_.Get(o).key();
        pairs[o] = {HashBytes(key.data(), key.size()), uint32_t(o)};
      }
      map_ = HashMultimap::Build(pairs);
      entries_ = EntryTable();
    });
    return map_;
  }

 private:
  mutable std::once_flag once_;
  mutable EntryTable entries_;
  mutable HashMultimap map_;
};

// The ordinal of `key` in `entries` through `keys`, or nullopt.
inline std::optional<uint32_t> FindKey(const HashMultimap& keys, const EntryTable& entries,
                                       std::string_view key) {
  uint32_t found = 0;
  if (keys.FindIf(HashBytes(key.data(), key.size()), [&](uint32_t o) {
        found = o;
        return entries.Get(o).key() == key;
      })) {
    return found;
  }
  return std::nullopt;
}

struct SetState {
  SetConfig config;
  uint32_t id = 0;
  uint64_t version = 0;
  int64_t created_time = 0;
  int64_t last_sync_time = 0;
  std::optional<Checkpoint> checkpoint;
  SetCounts counts;

  EntryTable entries;
  std::shared_ptr<const KeyIndex> keys = KeyIndex::Ready({});
  // Perceptual signals: the LiveIndex version holding exactly the indexed entries (ids =
  // ordinals). Exact digests: HashBytes(code) -> ordinal of every indexed entry.
  std::shared_ptr<const LiveIndex::Snapshot> index;
  HashMultimap digests;

  bool perceptual() const { return GetSignalInfo(config.signal).perceptual; }
  size_t code_bytes() const { return GetSignalInfo(config.signal).code_bytes; }

  // The ordinal of `key`, or nullopt.
  std::optional<uint32_t> FindKey(std::string_view key) const {
    return store::FindKey(keys->map(), entries, key);
  }

  SetInfo Info() const {
    SetInfo i;
    i.config = config;
    i.id = id;
    i.version = version;
    i.created_time = created_time;
    i.last_sync_time = last_sync_time;
    i.checkpoint = checkpoint;
    i.counts = counts;
    if (index) i.index_method = index->Stats().method;
    return i;
  }
};

struct StoreState {
  uint64_t sequence = 0;     // last applied transaction
  uint32_t next_set_id = 1;  // ids are never reused
  std::map<std::string, std::shared_ptr<const SetState>, std::less<>> sets;  // by name

  std::shared_ptr<const SetState> FindId(uint32_t id) const {
    for (const auto& [name, s] : sets) {
      if (s->id == id) return s;
    }
    return nullptr;
  }
};

}  // namespace hashmatch::store

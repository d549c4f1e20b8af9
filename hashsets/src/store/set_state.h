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
#include <optional>
#include <string>

#include "entry_table.h"
#include "hash_multimap.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/hashsets/set_model.h"

namespace hashmatch::store {

struct SetState {
  SetConfig config;
  uint32_t id = 0;
  uint64_t version = 0;
  int64_t created_time = 0;
  int64_t last_sync_time = 0;
  std::optional<Checkpoint> checkpoint;
  SetCounts counts;

  EntryTable entries;
  HashMultimap keys;  // HashBytes(key) -> ordinal, every ordinal (tombstones too)
  // Perceptual signals: the LiveIndex version holding exactly the indexed entries (ids =
  // ordinals). Exact digests: HashBytes(code) -> ordinal of every indexed entry.
  std::shared_ptr<const LiveIndex::Snapshot> index;
  HashMultimap digests;

  bool perceptual() const { return GetSignalInfo(config.signal).perceptual; }
  size_t code_bytes() const { return GetSignalInfo(config.signal).code_bytes; }

  // The ordinal of `key`, or nullopt.
  std::optional<uint32_t> FindKey(std::string_view key) const {
    std::vector<uint32_t> c;
    keys.Find(HashBytes(key.data(), key.size()), &c);
    for (uint32_t o : c) {
      if (entries.Get(o).key() == key) return o;
    }
    return std::nullopt;
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

// Snapshot files (NNNNNN.snap): every set's configuration and entries at one sequence number, in
// columns that are memory-mapped on open. docs/store.md has the byte layout.
//
//   sections, each at a 64-byte aligned offset:
//     catalog (set 0, tag 1)      sequence, next set id, and each set's header
//     per set (set id, tag 2..8)  codes, flags, source_time, first_seen, last_updated,
//                                 meta_offsets (rows + 1 x u64), meta (packed key/metadata)
//   directory   one 32-byte entry per section: set, tag, offset, bytes, CRC-32C
//   footer      64 bytes: magic "HMSNAP01", format version, directory offset and count, sequence,
//               directory CRC, footer CRC
//
// Columns are fixed-width arrays indexed by ordinal, so opening a set costs a mapping and one
// checksum pass, not a parse. The LiveIndex of each perceptual set is saved beside the snapshot
// (NNNNNN-<set id>.idx, StaticIndex::Save); it is a cache: open checks it against the columns and
// rebuilds it when it is missing or disagrees.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "hashmatch/hashsets/env.h"
#include "set_state.h"

namespace hashmatch::store {

// Writes `state` to `path` (not atomically: the caller writes a temporary name, then renames) and
// fsyncs it.
Status WriteSnapshotFile(Env* env, const std::filesystem::path& path, const StoreState& state);

// Maps and validates a snapshot. The sets come back with their entries and, with `build_maps`,
// their key index and digest table; their `index` is null (the store loads or builds it).
Result<StoreState> LoadSnapshotFile(Env* env, const std::filesystem::path& path,
                                    bool verify_checksums, bool build_maps = true);

}  // namespace hashmatch::store

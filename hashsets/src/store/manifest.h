// The store directory's file names, the MANIFEST and CURRENT.
//
//   CURRENT            "MANIFEST-NNNNNN\n": the live manifest, replaced atomically (temporary
//                      file, fsync, rename, directory fsync)
//   MANIFEST-NNNNNN    the live files: the snapshot (number and sequence, or none) and the logs to
//                      replay after it, in order; immutable once written
//   NNNNNN.log         write-ahead log (log_format.h)
//   NNNNNN.snap        snapshot (snapshot_file.h)
//   NNNNNN-S.idx       index file of set S for snapshot NNNNNN (a cache, rebuilt when missing)
//   NNNNNN.stage       staged records of one large import, live once a logged commit names it
//   LOCK               held by the process that opens the store for writing
//   *.tmp              temporary files, removed on open
//
// Numbers come from one counter (the manifest's next_file_number, raised past any number found in
// the directory on open), so no name is ever reused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/hashsets/env.h"

namespace hashmatch::store {

struct Manifest {
  uint64_t next_file_number = 1;
  uint64_t snapshot_number = 0;  // 0: no snapshot
  uint64_t snapshot_sequence = 0;
  std::vector<uint64_t> logs;  // replayed in this order; the last one is appended to
};

std::string EncodeManifest(const Manifest& m);
Result<Manifest> DecodeManifest(std::string_view data, const std::string& file_name);

std::string LogFileName(uint64_t number);
std::string SnapshotFileName(uint64_t number);
std::string IndexFileName(uint64_t snapshot_number, uint32_t set_id);
std::string StageFileName(uint64_t number);
std::string ManifestFileName(uint64_t number);
inline constexpr std::string_view kCurrentFileName = "CURRENT";
inline constexpr std::string_view kLockFileName = "LOCK";

enum class FileType { kLog, kSnapshot, kIndex, kStage, kManifest, kCurrent, kLock, kTemp, kOther };
// Classifies a directory entry; *number (and *set_id for index files) when it has them.
FileType ParseFileName(std::string_view name, uint64_t* number, uint32_t* set_id);

// Writes MANIFEST-`number` (fsynced), then points CURRENT at it atomically.
Status InstallManifest(Env* env, const std::filesystem::path& dir, const Manifest& m,
                       uint64_t number);
// Reads CURRENT and the manifest it names; *number receives the manifest's number.
Result<Manifest> ReadCurrentManifest(Env* env, const std::filesystem::path& dir, uint64_t* number);

}  // namespace hashmatch::store

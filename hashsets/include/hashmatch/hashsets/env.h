// Env: the file layer under the hash-set store, in the manner of LevelDB's Env.
//
// Every byte the store persists goes through an Env, so a test can put a fault-injecting Env
// underneath (tests/store/fault_injection_env.h): it remembers what has been fsynced and, on a
// simulated power loss, throws away every write and directory change that was not, which is how
// the crash tests prove that a commit is durable exactly when the store says so.
//
// Contract of the durability primitives (what the store relies on, and what the fault-injecting
// Env models):
//   * WritableFile::Sync makes the file's data durable, not its directory entry.
//   * SyncDir makes the directory's entries (creations, renames, removals) durable.
//   * RenameFile replaces the target atomically: after a crash the target is the old file or the
//     new one, never a mixture.
// Paths are plain std::filesystem paths; the store keeps all of its files in one directory.
//
// Thread safety: an Env may be used from any number of threads. A WritableFile is used by one
// thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/status.h"

namespace hashmatch {

// A file being written from its start or appended to. Writes are buffered; Flush hands them to
// the operating system, Sync makes them durable.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Flush() = 0;
  virtual Status Sync() = 0;   // flushes first
  virtual Status Close() = 0;  // flushes; does not sync
  // Bytes appended so far (including any the file held when it was opened for appending).
  virtual uint64_t Size() const = 0;
};

// A read-only view of a whole file (memory-mapped by the posix Env). The bytes stay valid for as
// long as the object lives, even after the file is removed.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual const uint8_t* data() const = 0;
  virtual size_t size() const = 0;
  std::string_view view() const { return {reinterpret_cast<const char*>(data()), size()}; }
};

// An exclusive lock on a store directory, released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide posix Env (never destroyed).
  static Env* Default();

  // Creates or truncates `path`.
  virtual Status NewWritableFile(const std::filesystem::path& path,
                                 std::unique_ptr<WritableFile>* out) = 0;
  // Opens `path` for appending at its end, creating it if missing.
  virtual Status NewAppendableFile(const std::filesystem::path& path,
                                   std::unique_ptr<WritableFile>* out) = 0;
  // Maps the whole file read-only. An empty file gives an empty view.
  virtual Status MapFile(const std::filesystem::path& path,
                         std::shared_ptr<const MappedFile>* out) = 0;
  virtual Status ReadFileToString(const std::filesystem::path& path, std::string* out) = 0;

  virtual bool FileExists(const std::filesystem::path& path) = 0;
  virtual Status GetFileSize(const std::filesystem::path& path, uint64_t* size) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..".
  virtual Status GetChildren(const std::filesystem::path& dir, std::vector<std::string>* out) = 0;
  virtual Status CreateDir(const std::filesystem::path& dir) = 0;  // OK if it exists
  virtual Status RemoveFile(const std::filesystem::path& path) = 0;
  virtual Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // Cuts the file to `size` bytes (the store trims a torn log tail before appending again).
  virtual Status TruncateFile(const std::filesystem::path& path, uint64_t size) = 0;
  virtual Status SyncDir(const std::filesystem::path& dir) = 0;

  // Takes an exclusive, advisory lock on `path` (created if missing); kUnavailable when another
  // process or object holds it.
  virtual Status LockFile(const std::filesystem::path& path, std::unique_ptr<FileLock>* out) = 0;

  // Wall-clock time in unix seconds (commit times, first-seen and last-updated of entries).
  virtual int64_t NowSeconds() = 0;
};

// Writes `data` to `path` durably and atomically: a temporary file beside it, fsynced, renamed over
// `path`, then the directory fsynced. After a crash `path` holds the old contents or the new.
Status WriteFileAtomically(Env* env, const std::filesystem::path& path, std::string_view data);

}  // namespace hashmatch

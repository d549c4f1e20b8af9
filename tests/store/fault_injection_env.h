// FaultInjectionEnv: an Env that remembers what is durable and can simulate a power loss, in the
// manner of LevelDB's FaultInjectionTestEnv.
//
// Model (the strict POSIX one): a file's data is durable only up to its last WritableFile::Sync; a
// directory's entries (creations, renames, removals) only as of its last SyncDir. The Env tracks,
// per inode, the data as of its last sync, and the directory's names as of the last SyncDir.
// RestoreDurableState() rewrites the directory to exactly that image: every write not yet fsynced
// is dropped, every name change not yet fsynced is undone.
//
// Crash points: every Sync, SyncDir and RenameFile is a boundary, numbered from 1. With
// CrashAt(n), the n-th boundary fails without taking effect and from then on every operation that
// would change the disk fails ("simulated power loss"), as if the machine had stopped there.
// Files written behind the Env's back (the index files core saves itself) are left alone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hashmatch/hashsets/env.h"

namespace hashmatch::testing {

class FaultInjectionEnv final : public Env {
 public:
  // Tracks `dir` (one directory, as the store uses); its current files are taken as durable.
  explicit FaultInjectionEnv(std::filesystem::path dir, Env* base = Env::Default());

  // Fail the n-th boundary from now (0: never).
  void CrashAt(uint64_t n);
  uint64_t boundaries() const;  // boundaries passed so far
  bool crashed() const;
  // Rewrites the directory to its durable image (call once the store is closed).
  void RestoreDurableState();

  // A fixed clock, so that two stores given the same transactions hold the same times.
  void SetNow(int64_t t) { now_ = t; }

  Status NewWritableFile(const std::filesystem::path& path,
                         std::unique_ptr<WritableFile>* out) override;
  Status NewAppendableFile(const std::filesystem::path& path,
                           std::unique_ptr<WritableFile>* out) override;
  Status MapFile(const std::filesystem::path& path,
                 std::shared_ptr<const MappedFile>* out) override {
    return base_->MapFile(path, out);
  }
  Status ReadFileToString(const std::filesystem::path& path, std::string* out) override {
    return base_->ReadFileToString(path, out);
  }
  bool FileExists(const std::filesystem::path& path) override { return base_->FileExists(path); }
  Status GetFileSize(const std::filesystem::path& path, uint64_t* size) override {
    return base_->GetFileSize(path, size);
  }
  Status GetChildren(const std::filesystem::path& dir, std::vector<std::string>* out) override {
    return base_->GetChildren(dir, out);
  }
  Status CreateDir(const std::filesystem::path& dir) override;
  Status RemoveFile(const std::filesystem::path& path) override;
  Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status TruncateFile(const std::filesystem::path& path, uint64_t size) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Status LockFile(const std::filesystem::path& path, std::unique_ptr<FileLock>* out) override {
    return base_->LockFile(path, out);
  }
  int64_t NowSeconds() override { return now_; }

  // --- used by the files it hands out -----------------------------------------------------
  Status FileSynced(uint64_t inode, const std::filesystem::path& path);
  Status Check();  // fails once crashed

 private:
  Status Boundary();  // counts a boundary; fails (and crashes) at the chosen one
  uint64_t NewInode(const std::string& name);

  std::filesystem::path dir_;
  Env* base_;
  int64_t now_ = 1'700'000'000;
  mutable std::mutex mu_;
  uint64_t count_ = 0, crash_at_ = 0;
  bool crashed_ = false;
  uint64_t next_inode_ = 1;
  std::map<uint64_t, std::string> durable_data_;   // inode -> data as of its last sync
  std::map<std::string, uint64_t> names_;          // current name -> inode
  std::map<std::string, uint64_t> durable_names_;  // as of the last SyncDir
};

}  // namespace hashmatch::testing

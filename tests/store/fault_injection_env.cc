#include "fault_injection_env.h"

#include <fstream>
#include <sstream>

namespace hashmatch::testing {
namespace {

namespace fs = std::filesystem;

Status PowerLoss() {
  return Status::IoError("simulated power loss");
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class FaultFile final : public WritableFile {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base, uint64_t inode,
            fs::path path)
      : env_(env), base_(std::move(base)), inode_(inode), path_(std::move(path)) {}

  Status Append(std::string_view data) override {
    if (Status s = env_->Check(); !s.ok()) return s;
    return base_->Append(data);
  }
  Status Flush() override {
    if (Status s = env_->Check(); !s.ok()) return s;
    return base_->Flush();
  }
  Status Sync() override {
    if (Status s = env_->Check(); !s.ok()) return s;
    if (Status s = base_->Flush(); !s.ok()) return s;
    return env_->FileSynced(inode_, path_);
  }
  Status Close() override {
    // Once crashed, buffered bytes must not reach the disk (they were never written).
    if (!env_->Check().ok()) return PowerLoss();
    return base_->Close();
  }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<WritableFile> base_;
  uint64_t inode_;
  fs::path path_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(fs::path dir, Env* base) : dir_(std::move(dir)), base_(base) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    const uint64_t ino = next_inode_++;
    durable_data_[ino] = ReadAll(e.path());
    names_[name] = ino;
    durable_names_[name] = ino;
  }
}

void FaultInjectionEnv::CrashAt(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  crash_at_ = n == 0 ? 0 : count_ + n;
}

uint64_t FaultInjectionEnv::boundaries() const {
  std::lock_guard<std::mutex> l(mu_);
  return count_;
}

bool FaultInjectionEnv::crashed() const {
  std::lock_guard<std::mutex> l(mu_);
  return crashed_;
}

Status FaultInjectionEnv::Check() {
  std::lock_guard<std::mutex> l(mu_);
  return crashed_ ? PowerLoss() : Status::Ok();
}

Status FaultInjectionEnv::Boundary() {
  std::lock_guard<std::mutex> l(mu_);
  if (crashed_) return PowerLoss();
  ++count_;
  if (crash_at_ != 0 && count_ == crash_at_) {
    crashed_ = true;
    return PowerLoss();
  }
  return Status::Ok();
}

uint64_t FaultInjectionEnv::NewInode(const std::string& name) {
  const uint64_t ino = next_inode_++;
  durable_data_[ino] = "";
  names_[name] = ino;
  return ino;
}

Status FaultInjectionEnv::NewWritableFile(const fs::path& path,
                                          std::unique_ptr<WritableFile>* out) {
  if (Status s = Check(); !s.ok()) return s;
  std::unique_ptr<WritableFile> f;
  if (Status s = base_->NewWritableFile(path, &f); !s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t ino = NewInode(path.filename().string());
  *out = std::make_unique<FaultFile>(this, std::move(f), ino, path);
  return Status::Ok();
}

Status FaultInjectionEnv::NewAppendableFile(const fs::path& path,
                                            std::unique_ptr<WritableFile>* out) {
  if (Status s = Check(); !s.ok()) return s;
  std::unique_ptr<WritableFile> f;
  if (Status s = base_->NewAppendableFile(path, &f); !s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  const std::string name = path.filename().string();
  auto it = names_.find(name);
  const uint64_t ino = it != names_.end() ? it->second : NewInode(name);
  *out = std::make_unique<FaultFile>(this, std::move(f), ino, path);
  return Status::Ok();
}

Status FaultInjectionEnv::FileSynced(uint64_t inode, const fs::path& path) {
  if (Status s = Boundary(); !s.ok()) return s;
  std::string data = ReadAll(path);
  std::lock_guard<std::mutex> l(mu_);
  durable_data_[inode] = std::move(data);
  return Status::Ok();
}

Status FaultInjectionEnv::CreateDir(const fs::path& dir) {
  if (Status s = Check(); !s.ok()) return s;
  return base_->CreateDir(dir);
}

Status FaultInjectionEnv::RemoveFile(const fs::path& path) {
  if (Status s = Check(); !s.ok()) return s;
  if (Status s = base_->RemoveFile(path); !s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  names_.erase(path.filename().string());
  return Status::Ok();
}

Status FaultInjectionEnv::RenameFile(const fs::path& from, const fs::path& to) {
  if (Status s = Boundary(); !s.ok()) return s;
  if (Status s = base_->RenameFile(from, to); !s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  auto it = names_.find(from.filename().string());
  if (it != names_.end()) {
    names_[to.filename().string()] = it->second;
    names_.erase(it);
  }
  return Status::Ok();
}

Status FaultInjectionEnv::TruncateFile(const fs::path& path, uint64_t size) {
  if (Status s = Check(); !s.ok()) return s;
  return base_->TruncateFile(path, size);  // durable once the file is synced
}

Status FaultInjectionEnv::SyncDir(const fs::path& dir) {
  if (Status s = Boundary(); !s.ok()) return s;
  if (Status s = base_->SyncDir(dir); !s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  durable_names_ = names_;
  return Status::Ok();
}

void FaultInjectionEnv::RestoreDurableState() {
  std::lock_guard<std::mutex> l(mu_);
  // Every file the Env knows of, under its current name, goes; the durable names come back with
  // their durable data.
  for (const auto& [name, ino] : names_) fs::remove(dir_ / name);
  for (const auto& [name, ino] : durable_names_) fs::remove(dir_ / name);
  for (const auto& [name, ino] : durable_names_) {
    std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
    const std::string& data = durable_data_[ino];
    out.write(data.data(), std::streamsize(data.size()));
  }
  names_ = durable_names_;
  crashed_ = false;
  crash_at_ = 0;
}

}  // namespace hashmatch::testing

// The posix Env: buffered writes through write(2), fsync(2), mmap(2) for reading, flock(2) for the
// store lock. Errors name the operation, the path and strerror.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "hashmatch/hashsets/env.h"

namespace hashmatch {
namespace {

namespace fs = std::filesystem;

Status PosixError(const std::string& what, const fs::path& p, int err) {
  std::string m = what + " " + p.string() + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(std::move(m));
  return Status::IoError(std::move(m));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(fs::path path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) (void)Close();
  }

  Status Append(std::string_view data) override {
    size_ += data.size();
    if (buf_.size() + data.size() <= kBuffer) {
      buf_.append(data);
      return Status::Ok();
    }
    if (Status s = Flush(); !s.ok()) return s;
    if (data.size() <= kBuffer) {
      buf_.append(data);
      return Status::Ok();
    }
    return WriteRaw(data);
  }
  Status Flush() override {
    Status s = WriteRaw(buf_);
    buf_.clear();
    return s;
  }
  Status Sync() override {
    if (Status s = Flush(); !s.ok()) return s;
    if (::fdatasync(fd_) != 0) return PosixError("cannot fsync", path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    Status s = Flush();
    if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = PosixError("cannot close", path_, errno);
    fd_ = -1;
    return s;
  }
  uint64_t Size() const override { return size_; }

 private:
  static constexpr size_t kBuffer = 1 << 20;

  Status WriteRaw(std::string_view data) {
    if (fd_ < 0 && !data.empty()) return Status::IoError("write to closed file " + path_.string());
    while (!data.empty()) {
      const ssize_t w = ::write(fd_, data.data(), std::min<size_t>(data.size(), size_t(1) << 30));
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError("cannot write", path_, errno);
      }
      data.remove_prefix(size_t(w));
    }
    return Status::Ok();
  }

  fs::path path_;
  int fd_;
  uint64_t size_;
  std::string buf_;
};

class PosixMappedFile final : public MappedFile {
 public:
  PosixMappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}
  ~PosixMappedFile() override {
    if (size_ > 0) ::munmap(addr_, size_);
  }
  const uint8_t* data() const override { return static_cast<const uint8_t*>(addr_); }
  size_t size() const override { return size_; }

 private:
  void* addr_;
  size_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Status NewWritableFile(const fs::path& path, std::unique_ptr<WritableFile>* out) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("cannot create", path, errno);
    *out = std::make_unique<PosixWritableFile>(path, fd, 0);
    return Status::Ok();
  }
  Status NewAppendableFile(const fs::path& path, std::unique_ptr<WritableFile>* out) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("cannot open for appending", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return PosixError("cannot stat", path, err);
    }
    *out = std::make_unique<PosixWritableFile>(path, fd, uint64_t(st.st_size));
    return Status::Ok();
  }
  Status MapFile(const fs::path& path, std::shared_ptr<const MappedFile>* out) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("cannot open", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return PosixError("cannot stat", path, err);
    }
    const size_t size = size_t(st.st_size);
    void* addr = nullptr;
    if (size > 0) {
      addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      if (addr == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return PosixError("cannot map", path, err);
      }
    }
    ::close(fd);
    *out = std::make_shared<PosixMappedFile>(addr, size);
    return Status::Ok();
  }
  Status ReadFileToString(const fs::path& path, std::string* out) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("cannot open", path, errno);
    out->clear();
    char buf[65536];
    for (;;) {
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        return PosixError("cannot read", path, err);
      }
      if (r == 0) break;
      out->append(buf, size_t(r));
    }
    ::close(fd);
    return Status::Ok();
  }
  bool FileExists(const fs::path& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Status GetFileSize(const fs::path& path, uint64_t* size) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return PosixError("cannot stat", path, errno);
    *size = uint64_t(st.st_size);
    return Status::Ok();
  }
  Status GetChildren(const fs::path& dir, std::vector<std::string>* out) override {
    out->clear();
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      out->push_back(it->path().filename().string());
    }
    if (ec) return Status::IoError("cannot list " + dir.string() + ": " + ec.message());
    return Status::Ok();
  }
  Status CreateDir(const fs::path& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return PosixError("cannot create directory", dir, errno);
    }
    return Status::Ok();
  }
  Status RemoveFile(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("cannot remove", path, errno);
    return Status::Ok();
  }
  Status RenameFile(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("cannot rename " + from.string() + " to", to, errno);
    }
    return Status::Ok();
  }
  Status TruncateFile(const fs::path& path, uint64_t size) override {
    if (::truncate(path.c_str(), off_t(size)) != 0)
      return PosixError("cannot truncate", path, errno);
    return Status::Ok();
  }
  Status SyncDir(const fs::path& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("cannot open directory", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("cannot fsync directory", dir, err);
    return Status::Ok();
  }
  Status LockFile(const fs::path& path, std::unique_ptr<FileLock>* out) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("cannot open lock file", path, errno);
    // flock locks belong to the open file description, so a second Open in the same process is
    // refused as well (fcntl locks would not be).
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status(StatusCode::kUnavailable,
                      "store " + path.parent_path().string() + " is in use (" + path.string() +
                          " is locked by another process or store object)");
      }
      return PosixError("cannot lock", path, err);
    }
    *out = std::make_unique<PosixFileLock>(fd);
    return Status::Ok();
  }
  int64_t NowSeconds() override { return int64_t(std::time(nullptr)); }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv;  // never destroyed: used until exit
  return env;
}

Status WriteFileAtomically(Env* env, const fs::path& path, std::string_view data) {
  const fs::path tmp = path.string() + ".tmp";
  std::unique_ptr<WritableFile> f;
  if (Status s = env->NewWritableFile(tmp, &f); !s.ok()) return s;
  Status s = f->Append(data);
  if (s.ok()) s = f->Sync();
  if (Status c = f->Close(); s.ok()) s = c;
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    (void)env->RemoveFile(tmp);
    return s;
  }
  return env->SyncDir(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

}  // namespace hashmatch

#include "input.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <istream>

namespace hashmatch::importers {
namespace {

// Reads of up to 1 MiB: large enough that read(2) costs nothing per line, small enough to stay in
// L2/L3. The buffer starts at 64 KiB and grows only as the input needs, so parsing a few bytes
// (a fuzzer input, a small page) does not allocate megabytes.
constexpr size_t kBlock = 1 << 20;
constexpr size_t kInitial = 64 << 10;

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~FileSource() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      const ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return size_t(got);
      if (errno == EINTR) continue;
      return Status::IoError(name_ + ": read failed: " + std::strerror(errno));
    }
  }

 private:
  int fd_;
  std::string name_;
};

class MemSource final : public ByteSource {
 public:
  explicit MemSource(std::string_view bytes) : rest_(bytes) {}
  Result<size_t> Read(char* buf, size_t n) override {
    const size_t k = std::min(n, rest_.size());
    if (k != 0) std::memcpy(buf, rest_.data(), k);
    rest_.remove_prefix(k);
    return k;
  }

 private:
  std::string_view rest_;
};

class IstreamSource final : public ByteSource {
 public:
  IstreamSource(std::istream& in, std::string name) : in_(in), name_(std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (in_.eof()) return size_t{0};
    in_.read(buf, std::streamsize(n));
    if (in_.bad()) return Status::IoError(name_ + ": read failed");
    return size_t(in_.gcount());
  }

 private:
  std::istream& in_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    std::string m = path.string() + ": cannot open: " + std::strerror(e);
    return e == ENOENT ? Status::NotFound(std::move(m)) : Status::IoError(std::move(m));
  }
#ifdef POSIX_FADV_SEQUENTIAL
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return std::unique_ptr<ByteSource>(new FileSource(fd, path.string()));
}

std::unique_ptr<ByteSource> MemorySource(std::string_view bytes) {
  return std::make_unique<MemSource>(bytes);
}

std::unique_ptr<ByteSource> StreamSource(std::istream& in, std::string name) {
  return std::make_unique<IstreamSource>(in, std::move(name));
}

BufferedInput::BufferedInput(ByteSource& source, std::string name, size_t max_line_bytes)
    : source_(source), name_(std::move(name)), max_line_(max_line_bytes) {
  // At full size a line of max_line_ bytes plus its '\n' fits, with a block of room to read into.
  cap_ = std::max(kBlock, max_line_ + 1) + kBlock;
  buf_.resize(std::min(kInitial, cap_));
}

Result<bool> BufferedInput::ReadMore() {
  if (eof_) return false;
  if (pos_ != 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  while (buf_.size() - end_ < kInitial / 2 && buf_.size() < cap_) {
    buf_.resize(std::min(cap_, buf_.size() * 2));
  }
  const size_t room = buf_.size() - end_;
  if (room == 0) {
    // Only a raw reader that never consumes could get here; every parser consumes what it reads.
    return Status::Internal(name_ + ": input buffer full");
  }
  auto got = source_.Read(buf_.data() + end_, std::min(room, kBlock));
  if (!got.ok()) return got.status();
  if (*got == 0) {
    eof_ = true;
    return false;
  }
  end_ += *got;
  bytes_read_ += *got;
  return true;
}

void BufferedInput::SkipBom() {
  if (bom_checked_) return;
  // Needs three bytes (or the end of the input) to decide.
  while (end_ - pos_ < 3 && !eof_) {
    auto more = ReadMore();
    if (!more.ok() || !*more) break;
  }
  if (end_ - pos_ >= 3 && std::memcmp(buf_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
  bom_checked_ = true;
}

Result<std::string_view> BufferedInput::Head(size_t n) {
  n = std::min(n, kInitial / 2);
  while (end_ - pos_ < n) {
    auto more = ReadMore();
    if (!more.ok()) return more.status();
    if (!*more) break;
  }
  return std::string_view(buf_.data() + pos_, std::min(n, end_ - pos_));
}

Result<bool> BufferedInput::Fill() {
  SkipBom();
  const size_t before = end_ - pos_;
  auto more = ReadMore();
  if (!more.ok()) return more.status();
  return end_ - pos_ > before;
}

Result<bool> BufferedInput::NextLine(std::string_view* line) {
  SkipBom();
  size_t scanned = 0;  // bytes after pos_ already known to hold no '\n'
  for (;;) {
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start + scanned, '\n', end_ - pos_ - scanned);
    if (nl != nullptr) {
      const size_t len = static_cast<const char*>(nl) - start;
      ++line_;
      if (len > max_line_) {
        return Status::OutOfRange(name_ + ":" + std::to_string(line_) + ": line of " +
                                  std::to_string(len) + " bytes is over the limit of " +
                                  std::to_string(max_line_) + " (max_line_bytes)");
      }
      *line = std::string_view(start, len);
      pos_ += len + 1;
      return true;
    }
    scanned = end_ - pos_;
    if (scanned > max_line_) {
      ++line_;
      return Status::OutOfRange(name_ + ":" + std::to_string(line_) +
                                ": line is over the limit of " + std::to_string(max_line_) +
                                " bytes (max_line_bytes)");
    }
    auto more = ReadMore();
    if (!more.ok()) return more.status();
    if (!*more) {
      if (end_ == pos_) return false;
      // The last line has no '\n'.
      ++line_;
      *line = std::string_view(buf_.data() + pos_, end_ - pos_);
      pos_ = end_;
      return true;
    }
  }
}

}  // namespace hashmatch::importers

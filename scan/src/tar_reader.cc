#include "tar_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace hashmatch::scan_internal {

Result<std::unique_ptr<TarReader>> TarReader::Open(const std::string& path) {
  // libarchive opens any path it is given; check first so that a missing shard is not_found.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  struct archive* a = archive_read_new();
  if (a == nullptr) return Status::Internal("archive_read_new failed");
  archive_read_support_format_tar(a);
  // gzip, bzip2, xz, zstd, lz4 ... through the libraries libarchive was built with.
  archive_read_support_filter_all(a);
  // 64 KiB reads; libarchive's file reader seeks over skipped data of uncompressed shards.
  if (archive_read_open_filename(a, path.c_str(), 64 << 10) != ARCHIVE_OK) {
    const char* m = archive_error_string(a);
    Status s = Status::IoError(path + ": cannot open as a tar shard: " + (m ? m : "unknown error"));
    archive_read_free(a);
    return s;
  }
  return std::unique_ptr<TarReader>(new TarReader(a, path));
}

TarReader::~TarReader() {
  archive_read_free(a_);
}

Status TarReader::Error(const std::string& what) const {
  const char* m = archive_error_string(a_);
  return Status::Corruption(path_ + ": " + what + ": " + (m ? m : "damaged archive"));
}

TarReader::Step TarReader::Next(std::string* name, uint64_t* size, Status* error) {
  if (done_) return Step::kEnd;
  // A member whose data could not be read or skipped ends the shard here, the same way whether it
  // was read or skipped: libarchive itself may or may not refuse the next header after each.
  if (damaged_) {
    done_ = true;
    *error = Status::Corruption(path_ + ": damaged tar shard at member '" + member_ +
                                "': nothing after it can be read");
    return Step::kError;
  }
  for (;;) {
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a_, &e);
    if (r == ARCHIVE_EOF) {
      done_ = true;
      return Step::kEnd;
    }
    if (r < ARCHIVE_WARN) {  // FAILED / FATAL / RETRY: nothing after this can be trusted
      done_ = true;
      *error = Error(member_.empty() ? "damaged tar header at the start"
                                     : "damaged tar header after member '" + member_ + "'");
      return Step::kError;
    }
    member_ = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (archive_entry_filetype(e) != AE_IFREG) continue;  // data (if any) is skipped by libarchive
    size_ = archive_entry_size_is_set(e) ? uint64_t(archive_entry_size(e)) : 0;
    *name = member_;
    *size = size_;
    return Step::kMember;
  }
}

Status TarReader::Read(uint64_t max_bytes, std::vector<uint8_t>* out) {
  out->clear();
  if (size_ > max_bytes) {
    (void)Skip();  // a damaged archive shows at the next header
    return Status::OutOfRange(path_ + ": " + member_ + ": " + std::to_string(size_) +
                              " bytes, over the limit of " + std::to_string(max_bytes));
  }
  out->resize(size_);
  size_t got = 0;
  while (got < out->size()) {
    const la_ssize_t n = archive_read_data(a_, out->data() + got, out->size() - got);
    if (n < 0) {
      out->clear();
      damaged_ = true;
      return Error(member_);
    }
    if (n == 0) break;
    got += size_t(n);
  }
  if (got != out->size()) {
    out->clear();
    damaged_ = true;
    return Status::Corruption(path_ + ": " + member_ + ": truncated member (" +
                              std::to_string(got) + " of " + std::to_string(size_) + " bytes)");
  }
  return Status::Ok();
}

Status TarReader::Skip() {
  if (archive_read_data_skip(a_) < ARCHIVE_WARN) {
    damaged_ = true;
    return Error(member_);
  }
  return Status::Ok();
}

}  // namespace hashmatch::scan_internal

// LogWriter appends framed records (log_format.h) to a WritableFile. It does not sync: the caller
// decides where the durability boundary is (one fsync per transaction).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "hashmatch/hashsets/env.h"
#include "log_format.h"

namespace hashmatch::store {

class LogWriter {
 public:
  explicit LogWriter(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}

  // Writes the kFileHeader record of a new file.
  Status WriteFileHeader(FileKind kind, uint64_t number);
  Status AddRecord(RecordType type, std::string_view payload);
  Status Sync() { return file_->Sync(); }
  Status Flush() { return file_->Flush(); }
  Status Close() { return file_->Close(); }
  uint64_t Size() const { return file_->Size(); }

 private:
  std::unique_ptr<WritableFile> file_;
};

// The payload of a kFileHeader record, and its check.
std::string EncodeFileHeader(FileKind kind, uint64_t number);
Status CheckFileHeader(std::string_view payload, FileKind kind, uint64_t number,
                       const std::string& file_name);

}  // namespace hashmatch::store

// LogReader walks the records of a mapped log or staging file and tells a torn tail from
// corruption.
//
// A torn tail is what a crash can leave behind the last fsynced record. The store fsyncs after
// every transaction record, so at most the last record can be unsynced, and its pages may have
// reached the disk in any order: a partial header, a header promising more bytes than the file
// has, a payload failing its checksum, zeros where the header should be. So a record that fails a
// check is a torn tail when no good record follows it anywhere in the file, and corruption (a
// Status::Corruption naming the file and the byte offset) when one does.
//
// A damaged last record therefore reads as a torn tail: indistinguishable from a crash during its
// write. The store reports such a tail (recovery info) but opens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hashmatch/core/status.h"
#include "log_format.h"

namespace hashmatch::store {

class LogReader {
 public:
  // `data` must outlive the reader; `file_name` is used in messages.
  LogReader(std::string_view data, std::string file_name)
      : data_(data), name_(std::move(file_name)) {}

  enum class Next { kRecord, kEnd, kError };
  // Reads the next record into *type / *payload (a view into the data). kEnd at the end of the
  // file or at a torn tail (see torn_tail()); kError with status() on corruption.
  Next Read(RecordType* type, std::string_view* payload);

  const Status& status() const { return status_; }
  // Offset of the record last returned by Read.
  uint64_t record_offset() const { return record_offset_; }
  // Offset just past the last good record: where appending may resume.
  uint64_t valid_end() const { return pos_; }
  // True when Read stopped at a torn tail rather than at the exact end of the file.
  bool torn_tail() const { return torn_; }
  const std::string& file_name() const { return name_; }

  // "file 000012.log: <what> at offset N"
  Status CorruptionAt(uint64_t offset, const std::string& what) const;

 private:
  bool HeaderValidAt(uint64_t at) const;
  bool ValidRecordAfter(uint64_t from) const;
  Next Torn() {
    torn_ = true;
    return Next::kEnd;
  }

  std::string_view data_;
  std::string name_;
  uint64_t pos_ = 0;
  uint64_t record_offset_ = 0;
  bool torn_ = false;
  Status status_;
};

}  // namespace hashmatch::store

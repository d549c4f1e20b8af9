// Record framing: writer, reader and the file header record (log_format.h).
#include <cstring>

#include "coding.h"
#include "log_reader.h"
#include "log_writer.h"

namespace hashmatch::store {
namespace {

constexpr std::string_view kFileMagic = "hashmatch-store-log";
constexpr uint64_t kFormatVersion = 1;

}  // namespace

std::string EncodeFileHeader(FileKind kind, uint64_t number) {
  std::string p;
  PutBytes(&p, kFileMagic);
  PutVarint64(&p, kFormatVersion);
  p.push_back(char(kind));
  PutVarint64(&p, number);
  return p;
}

Status CheckFileHeader(std::string_view payload, FileKind kind, uint64_t number,
                       const std::string& file_name) {
  Decoder d(payload);
  const std::string_view magic = d.Bytes();
  const uint64_t version = d.Varint64();
  const uint8_t k = d.Byte();
  const uint64_t n = d.Varint64();
  if (!d.ok() || magic != kFileMagic) {
    return Status::Corruption("file " + file_name + ": not a hashmatch store log (bad header)");
  }
  if (version != kFormatVersion) {
    return Status::Unsupported("file " + file_name + " has log format version " +
                               std::to_string(version) + "; this build reads " +
                               std::to_string(kFormatVersion));
  }
  if (k != uint8_t(kind) || n != number) {
    return Status::Corruption("file " + file_name + ": header names file kind " +
                              std::to_string(k) + " number " + std::to_string(n) +
                              " (renamed or misplaced file?)");
  }
  return Status::Ok();
}

Status LogWriter::WriteFileHeader(FileKind kind, uint64_t number) {
  return AddRecord(RecordType::kFileHeader, EncodeFileHeader(kind, number));
}

Status LogWriter::AddRecord(RecordType type, std::string_view payload) {
  if (payload.size() > kMaxRecordBytes) {
    return Status::OutOfRange("log record of " + std::to_string(payload.size()) +
                              " bytes exceeds the limit of " + std::to_string(kMaxRecordBytes));
  }
  char h[kRecordHeaderBytes] = {};
  const uint32_t len = uint32_t(payload.size());
  std::memcpy(h, &len, 4);
  h[4] = char(type);
  const uint32_t pcrc = MaskCrc(Crc32c(payload.data(), payload.size()));
  std::memcpy(h + 8, &pcrc, 4);
  const uint32_t hcrc = MaskCrc(Crc32c(h, 12));
  std::memcpy(h + 12, &hcrc, 4);
  if (Status s = file_->Append(std::string_view(h, sizeof h)); !s.ok()) return s;
  return file_->Append(payload);
}

Status LogReader::CorruptionAt(uint64_t offset, const std::string& what) const {
  return Status::Corruption("file " + name_ + ": " + what + " at offset " + std::to_string(offset));
}

bool LogReader::HeaderValidAt(uint64_t at) const {
  if (data_.size() - at < kRecordHeaderBytes) return false;
  const char* h = data_.data() + at;
  return h[5] == 0 && h[6] == 0 && h[7] == 0 && LoadFixed32(h) <= kMaxRecordBytes &&
         UnmaskCrc(LoadFixed32(h + 12)) == Crc32c(h, 12);
}

bool LogReader::ValidRecordAfter(uint64_t from) const {
  for (uint64_t at = from; at + kRecordHeaderBytes <= data_.size(); ++at) {
    if (!HeaderValidAt(at)) continue;
    const uint32_t len = LoadFixed32(data_.data() + at);
    if (len > data_.size() - at - kRecordHeaderBytes) continue;
    const char* p = data_.data() + at + kRecordHeaderBytes;
    if (UnmaskCrc(LoadFixed32(data_.data() + at + 8)) == Crc32c(p, len)) return true;
  }
  return false;
}

LogReader::Next LogReader::Read(RecordType* type, std::string_view* payload) {
  if (!status_.ok()) return Next::kError;
  if (torn_ || pos_ == data_.size()) return Next::kEnd;
  const uint64_t at = pos_;
  const uint64_t left = data_.size() - at;
  // Every transaction is one record followed by an fsync, so a crash leaves at most one record
  // unsynced: the last. Its pages may reach the disk in any order (a zero header before a written
  // payload, say), so a bad record is a torn tail exactly when no good record follows it.
  auto bad = [&](const std::string& what) {
    if (!ValidRecordAfter(at + 1)) return Torn();
    status_ = CorruptionAt(at, what + ", and good records follow it");
    return Next::kError;
  };
  if (left < kRecordHeaderBytes) return bad("partial record header");
  if (!HeaderValidAt(at)) return bad("record header checksum mismatch");
  const char* h = data_.data() + at;
  const uint32_t len = LoadFixed32(h);
  if (len > left - kRecordHeaderBytes) return Torn();  // a trusted length: still being written
  const std::string_view p = data_.substr(at + kRecordHeaderBytes, len);
  if (UnmaskCrc(LoadFixed32(h + 8)) != Crc32c(p.data(), p.size())) {
    return bad("record payload checksum mismatch (record of " + std::to_string(len) + " bytes)");
  }
  const uint8_t t = uint8_t(h[4]);
  if (t < uint8_t(RecordType::kFileHeader) || t > uint8_t(RecordType::kStageChunk)) {
    status_ = CorruptionAt(at, "unknown record type " + std::to_string(t));
    return Next::kError;
  }
  *type = RecordType(t);
  *payload = p;
  record_offset_ = at;
  pos_ = at + kRecordHeaderBytes + len;
  return Next::kRecord;
}

}  // namespace hashmatch::store

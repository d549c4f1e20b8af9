// Byte sources and the buffered reader every importer reads through: a file, memory or a stream,
// read in blocks so no input is ever held whole. Private to the importers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/status.h"

namespace hashmatch::importers {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; 0 means the end of the input.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

// A file read with read(2). Open fails with kNotFound / kIoError naming the path.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::filesystem::path& path);
std::unique_ptr<ByteSource> MemorySource(std::string_view bytes);
std::unique_ptr<ByteSource> StreamSource(std::istream& in, std::string name);

// A window over a ByteSource. Text formats read lines (NextLine); the CSV tokenizer and the
// XML/JSON parsers take raw bytes (Available/Consume/Fill). Lines end at '\n'; the '\n' is not part
// of the line ('\r' is left to the caller's trimming). A leading UTF-8 BOM is dropped.
class BufferedInput {
 public:
  // `max_line_bytes` bounds NextLine; the buffer may grow to one read block more.
  BufferedInput(ByteSource& source, std::string name, size_t max_line_bytes);

  const std::string& name() const { return name_; }

  // Up to `n` bytes from the start of the input without consuming them (format detection).
  Result<std::string_view> Head(size_t n);

  // The next line in `*line` (valid until the next call) and true, or false at the end of the
  // input. Counts lines (line_number() is the 1-based number of the line returned). A line over
  // the limit is kOutOfRange naming the line.
  Result<bool> NextLine(std::string_view* line);
  uint64_t line_number() const { return line_; }

  // Raw access: the bytes buffered and not yet consumed; Fill reads another block (false at the
  // end of the input); Consume drops bytes from the front.
  std::string_view Available() {
    SkipBom();
    return std::string_view(buf_.data() + pos_, end_ - pos_);
  }
  void Consume(size_t n) { pos_ += n; }
  Result<bool> Fill();

  uint64_t bytes_read() const { return bytes_read_; }  // from the source so far

 private:
  Result<bool> ReadMore();  // compacts, then reads one block; false at the end of the input
  void SkipBom();

  ByteSource& source_;
  std::string name_;
  size_t max_line_;
  size_t cap_;  // the size the buffer may grow to
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool bom_checked_ = false;
  uint64_t line_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace hashmatch::importers

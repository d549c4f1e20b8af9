// RFC 4180 record reader over a BufferedInput, for csv, tsv and te-csv. Private to the importers.
//
// Fields are separated by `delimiter`; a field that starts with '"' (after optional spaces) is
// quoted: it ends at the next lone '"', "" inside it is one '"', and it may hold delimiters and
// newlines. After the closing quote only spaces may come before the next delimiter or the end of
// the record. Unquoted fields are trimmed of spaces, tabs and '\r' (so CRLF ends a record like
// LF); quoted fields are kept verbatim. Blank lines are skipped. The same rules for tab as
// delimiter are Python's excel-tab dialect.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/status.h"
#include "input.h"

namespace hashmatch::importers {

struct CsvRecord {
  uint64_t line = 0;  // 1-based line where the record starts
  std::string data;   // the fields' bytes back to back
  std::vector<uint32_t> ends;
  std::vector<uint8_t> quoted;

  size_t size() const { return ends.size(); }
  std::string_view field(size_t i) const {
    const uint32_t b = i == 0 ? 0 : ends[i - 1];
    return std::string_view(data).substr(b, ends[i] - b);
  }
  void clear() {
    data.clear();
    ends.clear();
    quoted.clear();
  }
};

class CsvReader {
 public:
  // `max_record_bytes` bounds one record including its quoted newlines (ImportLimits::
  // max_line_bytes).
  CsvReader(BufferedInput& in, char delimiter, size_t max_record_bytes)
      : in_(in), delim_(delimiter), max_bytes_(max_record_bytes) {}

  // The next record, or false at the end of the input. Errors name the input and line.
  Result<bool> Next(CsvRecord* rec);
  // Lines consumed so far (a final line without '\n' included once the input ends).
  uint64_t lines() const { return lines_; }

 private:
  BufferedInput& in_;
  char delim_;
  size_t max_bytes_;
  uint64_t lines_ = 0;
  bool ended_with_newline_ = true;
};

}  // namespace hashmatch::importers

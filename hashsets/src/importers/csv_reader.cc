#include "csv_reader.h"

#include <cstdio>

#include "text_util.h"

namespace hashmatch::importers {
namespace {

enum class State {
  kFieldStart,  // nothing of the field yet (leading blanks skipped)
  kUnquoted,
  kQuoted,
  kQuoteSeen,   // a '"' inside a quoted field: the end, or the first of ""
  kAfterQuote,  // blanks after the closing quote
};

std::string Describe(char c) {
  char buf[32];
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  }
  return buf;
}

}  // namespace

Result<bool> CsvReader::Next(CsvRecord* rec) {
  rec->clear();
  State state = State::kFieldStart;
  size_t field_start = 0;  // offset in rec->data of the current field
  bool field_quoted = false;
  size_t bytes = 0;
  rec->line = lines_ + 1;

  auto end_field = [&]() {
    if (!field_quoted) {
      // Unquoted: drop trailing blanks ('\r' of CRLF included).
      while (rec->data.size() > field_start &&
             (rec->data.back() == ' ' || rec->data.back() == '\t' || rec->data.back() == '\r')) {
        rec->data.pop_back();
      }
    }
    rec->ends.push_back(uint32_t(rec->data.size()));
    rec->quoted.push_back(field_quoted);
    field_start = rec->data.size();
    field_quoted = false;
  };
  // True for a record that is one empty unquoted field: a blank line, skipped.
  auto blank = [&]() { return rec->size() == 1 && rec->data.empty() && !rec->quoted[0]; };

  for (;;) {
    std::string_view avail = in_.Available();
    if (avail.empty()) {
      auto more = in_.Fill();
      if (!more.ok()) return more.status();
      if (*more) continue;
      // End of input.
      if (state == State::kQuoted) {
        return Status::InvalidArgument(Where(in_.name(), rec->line) +
                                       "quoted field is never closed: the input ends inside it");
      }
      if (!ended_with_newline_) {
        ++lines_;
        ended_with_newline_ = true;
      }
      if (bytes == 0) return false;
      end_field();
      if (blank()) return false;
      return true;
    }
    for (size_t i = 0; i < avail.size(); ++i) {
      const char c = avail[i];
      if (++bytes > max_bytes_) {
        in_.Consume(i);
        return Status::OutOfRange(Where(in_.name(), rec->line) + "record is over the limit of " +
                                  std::to_string(max_bytes_) + " bytes (max_line_bytes)");
      }
      ended_with_newline_ = c == '\n';
      bool end_record = false;
      switch (state) {
        case State::kFieldStart:
          if (c == '"') {
            state = State::kQuoted;
            field_quoted = true;
          } else if (c == delim_) {
            end_field();
          } else if (c == '\n') {
            end_record = true;
          } else if (c != ' ' && c != '\t' && c != '\r') {
            rec->data.push_back(c);
            state = State::kUnquoted;
          }
          break;
        case State::kUnquoted:
          if (c == delim_) {
            end_field();
            state = State::kFieldStart;
          } else if (c == '\n') {
            end_record = true;
          } else {
            rec->data.push_back(c);
          }
          break;
        case State::kQuoted:
          if (c == '"') {
            state = State::kQuoteSeen;
          } else {
            if (c == '\n') ++lines_;
            rec->data.push_back(c);
          }
          break;
        case State::kQuoteSeen:
        case State::kAfterQuote:
          if (c == '"' && state == State::kQuoteSeen) {
            rec->data.push_back('"');
            state = State::kQuoted;
          } else if (c == delim_) {
            end_field();
            state = State::kFieldStart;
          } else if (c == '\n') {
            end_record = true;
          } else if (c == ' ' || c == '\t' || c == '\r') {
            state = State::kAfterQuote;
          } else {
            in_.Consume(i);
            return Status::InvalidArgument(Where(in_.name(), lines_ + 1) + "unexpected " +
                                           Describe(c) + " after the closing quote of field " +
                                           std::to_string(rec->size() + 1));
          }
          break;
      }
      if (!end_record) continue;
      ++lines_;
      end_field();
      if (blank()) {
        // A blank line: start over after it.
        rec->clear();
        state = State::kFieldStart;
        field_start = 0;
        bytes = 0;
        rec->line = lines_ + 1;
        continue;
      }
      in_.Consume(i + 1);
      return true;
    }
    in_.Consume(avail.size());
  }
}

}  // namespace hashmatch::importers

// The CSV exporter: the inverse of the csv importer with the default mapping. Everything that
// could not be read back identically is refused here, at export time, rather than discovered at
// the next import.
#include <ostream>

#include "hashmatch/core/hex.h"
#include "hashmatch/hashsets/importers.h"
#include "text_util.h"

namespace hashmatch {
namespace {

using importers::IsSpace;

// RFC 4180 quoting when the field needs it: separators, quotes, line breaks, or surrounding
// blanks (which the importer trims from unquoted fields).
void AppendField(std::string* line, std::string_view f) {
  const bool quote = f.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!f.empty() && (IsSpace(f.front()) || IsSpace(f.back())));
  if (!quote) {
    line->append(f);
    return;
  }
  line->push_back('"');
  for (char c : f) {
    if (c == '"') line->push_back('"');
    line->push_back(c);
  }
  line->push_back('"');
}

// Times the importer's ISO reader takes (years 0000-9999) go out as ISO 8601, others as seconds.
std::string FormatTime(int64_t t) {
  if (t == 0) return {};
  constexpr int64_t kYear0 = -62167219200, kYear10000 = 253402300800;
  if (t >= kYear0 && t < kYear10000) return importers::FormatIsoSeconds(t);
  return std::to_string(t);
}

}  // namespace

CsvExporter::CsvExporter(std::ostream& out, CsvExportOptions options)
    : out_(out), options_(options) {}

Status CsvExporter::WriteHeaderOnce() {
  if (header_written_) return Status::Ok();
  out_ << kCsvExportHeader << '\n';
  header_written_ = true;
  if (!out_) return Status::IoError("export: write failed");
  return Status::Ok();
}

Status CsvExporter::Write(const EntryRecord& r) {
  const std::string where = "export: entry " + importers::Shown(r.key, 80) + ": ";
  auto fail = [&](const std::string& why) { return Status::InvalidArgument(where + why); };
  if (r.deleted) return fail("is a tombstone; only live entries are exported");
  const SignalInfo& info = GetSignalInfo(r.signal);
  if (r.code.size() != info.code_bytes) {
    return fail("code has " + std::to_string(r.code.size()) + " bytes, " + std::string(info.name) +
                " needs " + std::to_string(info.code_bytes));
  }
  Status s = importers::CheckKey(r.key, ImportLimits{}.max_key_bytes);
  if (!s.ok()) return fail(s.message());
  s = importers::CheckLabel("classification", r.classification);
  if (!s.ok()) return fail(s.message());
  const char sep = options_.tag_separator;
  std::string tags;
  for (const std::string& t : r.tags) {
    s = importers::CheckLabel("tag", t);
    if (!s.ok()) return fail(s.message());
    if (t.empty() || IsSpace(t.front()) || IsSpace(t.back())) {
      return fail("tag " + importers::Shown(t) + " is empty or has surrounding whitespace");
    }
    bool clash = t.find(sep) != std::string::npos;
    if (sep == ' ') {
      for (char c : t) clash |= IsSpace(c);
    }
    if (clash) {
      return fail("tag " + importers::Shown(t) +
                  " contains the tag separator; choose another CsvExportOptions::tag_separator");
    }
    if (!tags.empty()) tags.push_back(sep);
    tags += t;
  }
  s = WriteHeaderOnce();
  if (!s.ok()) return s;

  std::string line;
  line.reserve(160);
  AppendField(&line, r.key);
  line += ',';
  line += info.name;
  line += ',';
  line += EncodeHex(r.code);
  line += ',';
  AppendField(&line, r.classification);
  line += ',';
  AppendField(&line, tags);
  line += ',';
  line += FormatTime(r.source_time);
  line += ',';
  line += r.matchable ? "true" : "false";
  line += '\n';
  out_.write(line.data(), std::streamsize(line.size()));
  if (!out_) return Status::IoError("export: write failed");
  ++rows_;
  return Status::Ok();
}

Status CsvExporter::Finish() {
  Status s = WriteHeaderOnce();
  if (!s.ok()) return s;
  out_.flush();
  if (!out_) return Status::IoError("export: write failed");
  return Status::Ok();
}

}  // namespace hashmatch

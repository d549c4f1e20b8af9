// CSV/TSV lists with a header mapped by CsvMapping, and ThreatExchange CLI cache files (te-csv),
// both on the RFC 4180 reader.
#include <array>
#include <filesystem>

#include "csv_reader.h"
#include "parsers.h"
#include "text_util.h"

namespace hashmatch::importers {
namespace {

enum Role { kKey, kHash, kSignal, kClass, kTags, kTime, kMatchable, kDeleted, kRoles };

constexpr std::array<std::string_view, kRoles> kRoleNames = {
    "key", "hash", "signal_type", "classification", "tags", "source_time", "matchable", "deleted"};

// Default header names per role, tried in order (documented in importers.h).
const std::vector<std::string_view>& Defaults(Role r) {
  static const std::array<std::vector<std::string_view>, kRoles> d = {{
      {"key", "external_id", "id"},
      {"hash", "hash_value", "value", "indicator"},
      {"signal_type", "type", "signal", "hash_type"},
      {"classification", "category"},
      {"tags", "labels"},
      {"source_time", "time", "timestamp", "updated_at", "last_updated", "added_on"},
      {"matchable"},
      {"deleted"},
  }};
  return d[r];
}

constexpr size_t kNone = size_t(-1);

// The column named `name`, kNone when absent; two columns with that name are an error.
Result<size_t> FindColumn(const CsvRecord& header, std::string_view name,
                          const std::string& where) {
  size_t found = kNone;
  for (size_t i = 0; i < header.size(); ++i) {
    if (!EqualsIgnoreCase(Trim(header.field(i)), Trim(name))) continue;
    if (found != kNone) {
      return Status::InvalidArgument(where + "column '" + std::string(name) +
                                     "' appears twice in the header");
    }
    found = i;
  }
  return found;
}

Result<std::array<size_t, kRoles>> MapHeader(const CsvRecord& header, const CsvMapping& m,
                                             const std::string& where) {
  const std::array<const std::optional<std::string>*, kRoles> given = {
      &m.key,  &m.hash,        &m.signal_type, &m.classification,
      &m.tags, &m.source_time, &m.matchable,   &m.deleted};
  std::array<size_t, kRoles> col;
  for (int r = 0; r < kRoles; ++r) {
    col[r] = kNone;
    if (*given[r]) {
      auto c = FindColumn(header, **given[r], where);
      if (!c.ok()) return c.status();
      if (*c == kNone) {
        return Status::InvalidArgument(where + "header has no column '" + **given[r] +
                                       "' (CsvMapping::" + std::string(kRoleNames[r]) + ")");
      }
      col[r] = *c;
      continue;
    }
    for (std::string_view name : Defaults(Role(r))) {
      auto c = FindColumn(header, name, where);
      if (!c.ok()) return c.status();
      if (*c != kNone) {
        col[r] = *c;
        break;
      }
    }
  }
  if (col[kHash] == kNone) {
    std::string names;
    for (std::string_view n : Defaults(kHash))
      names += (names.empty() ? "" : ", ") + std::string(n);
    return Status::InvalidArgument(where + "header has no hash column (looked for " + names +
                                   "; set CsvMapping::hash)");
  }
  return col;
}

// Validated labels from a record: classification and tags.
Status FillLabels(EntryRecord* r, std::string_view classification, std::string_view tags,
                  char sep) {
  Status s = CheckLabel("classification", classification);
  if (!s.ok()) return s;
  r->classification = std::string(classification);
  r->tags = SplitTags(tags, sep);
  for (const std::string& t : r->tags) {
    s = CheckLabel("tag", t);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status ParseCsv(BufferedInput& in, RecordEmitter& out, char delimiter) {
  const ImportOptions& opt = out.options();
  ImportSummary& sum = out.summary();
  CsvReader reader(in, delimiter, opt.limits.max_line_bytes);
  CsvRecord rec;
  auto got = reader.Next(&rec);
  if (!got.ok()) return got.status();
  if (!*got) {  // an empty file: nothing to import
    sum.lines = reader.lines();
    return Status::Ok();
  }
  auto mapped = MapHeader(rec, opt.csv, Where(in.name(), rec.line));
  if (!mapped.ok()) return mapped.status();
  const std::array<size_t, kRoles> col = *mapped;
  const size_t width = rec.size();
  auto field = [&](Role r) { return col[r] == kNone ? std::string_view() : rec.field(col[r]); };

  for (;;) {
    got = reader.Next(&rec);
    if (!got.ok()) return got.status();
    if (!*got) break;
    ++sum.source_records;
    const std::string where = Where(in.name(), rec.line);
    auto fail = [&](const std::string& why) { return Status::InvalidArgument(where + why); };
    if (rec.size() != width) {
      return fail("expected " + std::to_string(width) + " fields as in the header, got " +
                  std::to_string(rec.size()));
    }
    const std::optional<bool> deleted = ParseBool(field(kDeleted), false);
    if (!deleted) return fail("deleted: expected true or false, got " + Shown(field(kDeleted)));
    const std::string_view hash = Trim(field(kHash));

    std::optional<SignalType> signal;
    if (col[kSignal] != kNone) {
      const std::string_view name = Trim(field(kSignal));
      signal = SignalFromListName(name);
      if (!signal) return fail("unknown signal type " + Shown(name));
    } else if (opt.signal) {
      signal = opt.signal;
    } else if (hash.empty()) {
      return fail("cannot tell the signal type of a deletion without a hash; give the signal type");
    } else {
      signal = SignalFromHexLength(hash.size());
      if (!signal) return fail(AmbiguousLengthReason(hash.size()));
    }

    EntryRecord r;
    r.signal = *signal;
    r.deleted = *deleted;
    if (!hash.empty() || !r.deleted) {
      Status s = DecodeCode(hash, r.signal, &r.code);
      if (!s.ok()) return fail("hash: " + s.message());
    }
    if (col[kKey] != kNone) {
      r.key = std::string(field(kKey));
    } else if (!hash.empty()) {
      r.key = LowerHex(hash);
    } else {
      return fail("a deletion needs a key or a hash");
    }
    Status s = CheckKey(r.key, opt.limits.max_key_bytes);
    if (!s.ok()) return Status(s.code(), where + s.message());
    if (r.deleted) {
      r.code.clear();  // records.h: a tombstone carries no code
    } else {
      s = FillLabels(&r, field(kClass), field(kTags), opt.csv.tag_separator);
      if (!s.ok()) return fail(s.message());
      const std::optional<bool> matchable = ParseBool(field(kMatchable), true);
      if (!matchable) {
        return fail("matchable: expected true or false, got " + Shown(field(kMatchable)));
      }
      r.matchable = *matchable;
    }
    const std::string_view time = Trim(field(kTime));
    if (!time.empty()) {
      const std::optional<int64_t> us = ParseTimeMicros(time);
      if (!us) return fail("source_time: not a unix time or ISO 8601 time: " + Shown(time));
      r.source_time = MicrosToSeconds(*us);
    }
    // Filtered only once valid: a malformed row refuses the file whatever its type.
    if (col[kSignal] != kNone && out.Filtered(r.signal)) continue;
    r.source_ref = SourceRef(out, in.name(), rec.line);
    s = out.Emit(std::move(r));
    if (!s.ok()) return s;
  }
  sum.lines = reader.lines();
  return Status::Ok();
}

Status ParseTeCsv(BufferedInput& in, RecordEmitter& out) {
  const ImportOptions& opt = out.options();
  ImportSummary& sum = out.summary();
  // The ThreatExchange CLI names its cache files "<collaboration>.<SignalType>.te".
  std::optional<SignalType> file_signal;
  {
    const std::string base = std::filesystem::path(in.name()).filename().string();
    const size_t last = base.rfind('.');
    const size_t prev =
        last == std::string::npos || last == 0 ? std::string::npos : base.rfind('.', last - 1);
    if (prev != std::string::npos)
      file_signal = SignalFromListName(base.substr(prev + 1, last - prev - 1));
  }
  CsvReader reader(in, ',', opt.limits.max_line_bytes);
  CsvRecord rec;
  for (;;) {
    auto got = reader.Next(&rec);
    if (!got.ok()) return got.status();
    if (!*got) break;
    ++sum.source_records;
    const std::string where = Where(in.name(), rec.line);
    auto fail = [&](const std::string& why) { return Status::InvalidArgument(where + why); };
    if (rec.size() != 4) {
      return fail("expected 4 fields (indicator,first_descriptor_id,added_on,labels), got " +
                  std::to_string(rec.size()));
    }
    const std::string_view hash = Trim(rec.field(0));
    std::optional<SignalType> signal = file_signal ? file_signal : opt.signal;
    if (!signal) signal = SignalFromHexLength(hash.size());
    if (!signal) return fail(AmbiguousLengthReason(hash.size()));
    EntryRecord r;
    r.signal = *signal;
    Status s = DecodeCode(hash, r.signal, &r.code);
    if (!s.ok()) return fail("indicator: " + s.message());
    r.key = std::string(Trim(rec.field(1)));
    s = CheckKey(r.key, opt.limits.max_key_bytes);
    if (!s.ok()) return Status(s.code(), where + "first_descriptor_id: " + s.message());
    const std::string_view time = Trim(rec.field(2));
    if (!time.empty()) {
      const std::optional<int64_t> us = ParseTimeMicros(time);
      if (!us) return fail("added_on: not an ISO 8601 time: " + Shown(time));
      r.source_time = MicrosToSeconds(*us);
    }
    s = FillLabels(&r, {}, rec.field(3), 0);
    if (!s.ok()) return fail(s.message());
    if (out.Filtered(r.signal)) continue;  // only once valid
    r.source_ref = SourceRef(out, in.name(), rec.line);
    s = out.Emit(std::move(r));
    if (!s.ok()) return s;
  }
  sum.lines = reader.lines();
  return Status::Ok();
}

}  // namespace hashmatch::importers

// Line formats: plain hex lists and python-threatexchange local files. These are the formats of
// the largest lists (millions of lines), so the loop does one memchr per line, one validation and
// decode pass per hash, and three small allocations per record (code, key, source_ref).
#include "parsers.h"
#include "text_util.h"

namespace hashmatch::importers {

std::string SourceRef(const RecordEmitter& out, std::string_view name, uint64_t line) {
  if (!out.options().source_refs) return {};
  std::string ref;
  ref.reserve(name.size() + 21);
  ref += name;
  ref += ':';
  ref += std::to_string(line);
  return ref;
}

namespace {

// Comment and blank lines carry no record.
bool Skip(std::string_view t) {
  return t.empty() || t[0] == '#';
}

// Decodes `hex` as `signal` into a record keyed by the lower-case hex and emits it, unless
// ImportOptions::signal filters it out (checked after decoding: a malformed line refuses the file
// whatever its type).
Status HexRecord(BufferedInput& in, RecordEmitter& out, std::string_view hex, SignalType signal) {
  EntryRecord r;
  r.signal = signal;
  Status s = DecodeCode(hex, signal, &r.code);
  if (!s.ok()) return Status::InvalidArgument(Where(in.name(), in.line_number()) + s.message());
  if (out.Filtered(signal)) return Status::Ok();
  r.key = LowerHex(hex);
  r.source_ref = SourceRef(out, in.name(), in.line_number());
  return out.Emit(std::move(r));
}

}  // namespace

Status ParsePlain(BufferedInput& in, RecordEmitter& out) {
  ImportSummary& sum = out.summary();
  const std::optional<SignalType> given = out.options().signal;
  std::string_view line;
  for (;;) {
    auto got = in.NextLine(&line);
    if (!got.ok()) return got.status();
    if (!*got) break;
    const std::string_view t = Trim(line);
    if (Skip(t)) continue;
    ++sum.source_records;
    std::optional<SignalType> signal = given ? given : SignalFromHexLength(t.size());
    if (!signal) {
      return Status::InvalidArgument(Where(in.name(), in.line_number()) +
                                     AmbiguousLengthReason(t.size()));
    }
    Status s = HexRecord(in, out, t, *signal);
    if (!s.ok()) return s;
  }
  sum.lines = in.line_number();
  return Status::Ok();
}

Status ParsePytx(BufferedInput& in, RecordEmitter& out) {
  ImportSummary& sum = out.summary();
  std::string_view line;
  for (;;) {
    auto got = in.NextLine(&line);
    if (!got.ok()) return got.status();
    if (!*got) break;
    const std::string_view t = Trim(line);
    if (Skip(t)) continue;
    ++sum.source_records;
    size_t sp = 0;
    while (sp < t.size() && !IsSpace(t[sp])) ++sp;
    const std::string_view type = t.substr(0, sp);
    const std::string_view value = Trim(t.substr(sp));
    if (value.empty()) {
      return Status::InvalidArgument(Where(in.name(), in.line_number()) +
                                     "expected '<signal type> <value>'");
    }
    // python-threatexchange also exchanges url, raw_text, trend_query...: not hashes we can
    // match, so they are counted and skipped rather than refusing the whole file.
    const std::optional<SignalType> signal = SignalFromListName(type);
    if (!signal) {
      ++sum.unsupported;
      continue;
    }
    Status s = HexRecord(in, out, value, *signal);
    if (!s.ok()) return s;
  }
  sum.lines = in.line_number();
  return Status::Ok();
}

}  // namespace hashmatch::importers

// libFuzzer target: csv and tsv with a header mapping, and the exporter's round trip: whatever the
// importer accepts must export and read back as the same records. The first byte picks the
// delimiter, mapping, signal option; the second the limits.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string_view>

#include "fuzz_checks.h"

namespace {

bool Same(const hashmatch::EntryRecord& a, const hashmatch::EntryRecord& b) {
  return a.key == b.key && a.signal == b.signal && a.code == b.code && a.deleted == b.deleted &&
         a.matchable == b.matchable && a.classification == b.classification && a.tags == b.tags &&
         a.source_time == b.source_time;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hashmatch;
  if (size < 2) return 0;
  const uint8_t mode = data[0], knob = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  ImportOptions opt;
  opt.format = (mode & 1) ? ListFormat::kTsv : ListFormat::kCsv;
  opt.limits = fuzz::SmallLimits(knob);
  if (mode & 2) opt.signal = SignalType::kMd5;
  if (mode & 4) {
    opt.csv.key = "k";
    opt.csv.tags = "t";
    opt.csv.tag_separator = '|';
  }
  fuzz::CheckedSink sink;
  sink.max_chunk = opt.limits.chunk_records;
  auto result = ImportBytes(bytes, "f.csv", opt, sink.Sink());
  if (!result.ok()) {
    if (result.status().message().empty()) __builtin_trap();
    return 0;
  }
  fuzz::CheckSummary(*result, sink.records, /*page=*/false);

  // Round trip of the live records, as CSV whatever the input's delimiter, with the input's tag
  // separator (SmallLimits keeps keys under the exporter's 1024-byte key limit).
  std::vector<EntryRecord> live;
  for (EntryRecord& r : sink.records)
    if (!r.deleted) live.push_back(std::move(r));
  std::ostringstream out;
  CsvExportOptions eopt;
  if (opt.csv.tag_separator != 0) eopt.tag_separator = opt.csv.tag_separator;
  CsvExporter ex(out, eopt);
  for (const EntryRecord& r : live)
    if (!ex.Write(r).ok()) __builtin_trap();  // accepted on import: must be exportable
  if (!ex.Finish().ok()) __builtin_trap();
  ImportOptions back_opt;
  back_opt.format = ListFormat::kCsv;
  back_opt.csv.tag_separator = opt.csv.tag_separator;
  fuzz::CheckedSink back;
  back.max_chunk = back_opt.limits.chunk_records;
  auto again = ImportBytes(out.str(), "export.csv", back_opt, back.Sink());
  if (!again.ok() || back.records.size() != live.size()) __builtin_trap();
  for (size_t i = 0; i < live.size(); ++i)
    if (!Same(live[i], back.records[i])) __builtin_trap();
  return 0;
}

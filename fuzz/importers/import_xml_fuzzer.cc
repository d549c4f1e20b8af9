// libFuzzer target: NCMEC hash-sharing XML pages through expat, with small limits (depth, page
// size, entries, text). Checks the page invariants (fuzz_checks.h): chunk bounds, code sizes,
// summary counts, a checkpoint, and one record per key after de-duplication.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hashmatch;
  if (size < 2) return 0;
  const uint8_t mode = data[0], knob = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  ImportOptions opt;
  opt.format = ListFormat::kNcmecXml;
  opt.limits = fuzz::SmallLimits(knob);
  opt.limits.max_depth += 4;  // a page needs 5 levels
  if (mode & 1) opt.signal = SignalType::kPdq;
  opt.source_refs = (mode & 2) != 0;
  fuzz::CheckedSink sink;
  sink.max_chunk = opt.limits.chunk_records;
  auto result = ImportBytes(bytes, "page.xml", opt, sink.Sink());
  if (!result.ok()) {
    if (result.status().message().empty()) __builtin_trap();
    return 0;
  }
  fuzz::CheckSummary(*result, sink.records, /*page=*/true);
  return 0;
}

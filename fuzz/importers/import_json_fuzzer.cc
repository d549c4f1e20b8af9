// libFuzzer target: StopNCII FetchHashes JSON pages through nlohmann::json's SAX parser, with
// small limits (depth, page size, records, string length). Checks the page invariants
// (fuzz_checks.h): chunk bounds, code sizes, summary counts, a checkpoint, one record per key.
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
  opt.format = ListFormat::kStopNciiJson;
  opt.limits = fuzz::SmallLimits(knob);
  if (mode & 1) opt.signal = SignalType::kPdq;
  opt.source_refs = (mode & 2) != 0;
  fuzz::CheckedSink sink;
  sink.max_chunk = opt.limits.chunk_records;
  auto result = ImportBytes(bytes, "page.json", opt, sink.Sink());
  if (!result.ok()) {
    if (result.status().message().empty()) __builtin_trap();
    return 0;
  }
  fuzz::CheckSummary(*result, sink.records, /*page=*/true);
  return 0;
}

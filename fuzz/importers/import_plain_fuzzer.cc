// libFuzzer target: the line formats (plain, pytx, te-csv) and format detection. The first byte
// picks the format, the signal option and the limits; the rest is the file. Any crash, sanitizer
// report, leak or broken invariant (fuzz_checks.h) is a finding; refusing the input is not.
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
  opt.limits = fuzz::SmallLimits(knob);
  opt.source_refs = (mode & 0x80) != 0;
  static constexpr const char* kNames[] = {"list.txt", "x.PDQ.te", "x.te", "list"};
  const char* name = kNames[(mode >> 2) & 3];
  switch (mode & 3) {
    case 0:
      opt.format = ListFormat::kPlain;
      break;
    case 1:
      opt.format = ListFormat::kPytx;
      break;
    case 2:
      opt.format = ListFormat::kTeCsv;
      break;
    default:
      break;  // detection
  }
  if (mode & 0x10) opt.signal = SignalType::kPdq;
  if (mode & 0x20) opt.signal = SignalType::kMd5;

  fuzz::CheckedSink sink;
  sink.max_chunk = opt.limits.chunk_records;
  auto result = ImportBytes(bytes, name, opt, sink.Sink());
  if (!result.ok()) {
    if (result.status().message().empty()) __builtin_trap();
    return 0;
  }
  fuzz::CheckSummary(*result, sink.records, /*page=*/false);
  return 0;
}

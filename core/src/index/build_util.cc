#include "index/build_util.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace hashmatch::index_internal {

Result<OwnedRows> SortRowsById(CodeView codes, std::span<const uint64_t> ids) {
  if (codes.code_bytes == 0 || codes.code_bytes % 8 != 0 || codes.code_bytes > kMaxCodeBytes) {
    return Status::InvalidArgument("index codes must be a positive multiple of 8 bytes up to " +
                                   std::to_string(kMaxCodeBytes) + ", got " +
                                   std::to_string(codes.code_bytes));
  }
  if (codes.count != ids.size()) {
    return Status::InvalidArgument(std::to_string(codes.count) + " codes but " +
                                   std::to_string(ids.size()) + " ids");
  }
  if (codes.count > kMaxRows) return Status::OutOfRange("more than 2^32-1 codes in one index");
  if (codes.count > 0 && codes.data == nullptr) return Status::InvalidArgument("codes missing");
  const size_t n = codes.count, cb = codes.code_bytes;
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  const bool already_sorted = std::is_sorted(ids.begin(), ids.end());
  if (!already_sorted) {
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  }
  OwnedRows out;
  out.ids.Allocate(n);
  out.codes.Allocate(n * cb);
  for (size_t r = 0; r < n; ++r) {
    out.ids[r] = ids[order[r]];
    if (r > 0 && out.ids[r] == out.ids[r - 1]) {
      return Status::InvalidArgument("duplicate id " + std::to_string(out.ids[r]));
    }
  }
  if (already_sorted) {
    if (n > 0) std::memcpy(out.codes.data(), codes.data, n * cb);
  } else {
    for (size_t r = 0; r < n; ++r) std::memcpy(&out.codes[r * cb], codes.code(order[r]), cb);
  }
  return out;
}

}  // namespace hashmatch::index_internal

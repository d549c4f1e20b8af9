// Helpers shared by the index builders and the index file loader.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "hashmatch/core/static_index.h"
#include "index/huge_array.h"

namespace hashmatch {

// The flat index over arrays owned by `keeper` (rows sorted by id).
std::shared_ptr<const StaticIndex> MakeFlatIndex(std::shared_ptr<const void> keeper,
                                                 size_t code_bytes, size_t n, const uint8_t* codes,
                                                 const uint64_t* ids);

namespace index_internal {

inline constexpr size_t kMaxRows = size_t(UINT32_MAX);  // rows are 32-bit inside the tables

struct OwnedRows {
  HugeArray<uint8_t> codes;
  HugeArray<uint64_t> ids;
};

// Validates the code size, the row count and the ids' uniqueness, and returns copies of the
// codes and ids with rows in ascending id order.
Result<OwnedRows> SortRowsById(CodeView codes, std::span<const uint64_t> ids);

}  // namespace index_internal
}  // namespace hashmatch

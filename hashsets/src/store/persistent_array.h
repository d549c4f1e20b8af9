// PersistentArray<T>: an array that versions share, copy-on-write by node.
//
// Why: readers hold immutable versions of a set's entries while the writer builds the next one; a
// sync page touching 1,000 entries of a 10M-entry set must not copy 10M entries. The array is a
// three-level radix tree (a top vector of 256 x 256 blocks); copying an array copies the top vector
// only, and changing an element copies the two nodes on its path unless this array already owns
// them alone (use_count() == 1: every other holder is another version, and a version never gains
// holders after the writer hands it out, so "alone" cannot become "shared" under our feet).
//
// Thread safety: const methods from any thread on a version no one mutates; mutation by the
// single writer on its private copy.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace hashmatch::store {

template <class T>
class PersistentArray {
 public:
  static constexpr uint64_t kLeafBits = 8;
  static constexpr uint64_t kLeafSize = uint64_t(1) << kLeafBits;
  static constexpr uint64_t kMidSize = kLeafSize * kLeafSize;

  // The element at i, or a default T when i was never set.
  const T& Get(uint64_t i) const {
    static const T kDefault{};
    const uint64_t m = i / kMidSize;
    if (m >= top_.size() || !top_[m]) return kDefault;
    const auto& leaf = (*top_[m])[(i / kLeafSize) % kLeafSize];
    if (!leaf) return kDefault;
    return (*leaf)[i % kLeafSize];
  }

  // A reference to element i that this array owns alone (nodes on the path are copied first when
  // shared). Valid until the array is next copied or mutated.
  T& Mutable(uint64_t i) {
    const uint64_t m = i / kMidSize;
    if (m >= top_.size()) top_.resize(m + 1);
    auto& mid = top_[m];
    if (!mid) {
      mid = std::make_shared<Mid>();
    } else if (mid.use_count() > 1) {
      mid = std::make_shared<Mid>(*mid);
    }
    auto& leaf = (*mid)[(i / kLeafSize) % kLeafSize];
    if (!leaf) {
      leaf = std::make_shared<Leaf>();
    } else if (leaf.use_count() > 1) {
      leaf = std::make_shared<Leaf>(*leaf);
    }
    return (*leaf)[i % kLeafSize];
  }

  void Set(uint64_t i, T v) { Mutable(i) = std::move(v); }

  // Drops every element.
  void Clear() { top_.clear(); }

 private:
  using Leaf = std::array<T, kLeafSize>;
  using Mid = std::array<std::shared_ptr<Leaf>, kLeafSize>;
  std::vector<std::shared_ptr<Mid>> top_;
};

}  // namespace hashmatch::store

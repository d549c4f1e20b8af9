// HashMultimap: a versioned map from a 64-bit hash to 32-bit ordinals (several per hash allowed).
//
// Two uses: a set's key index (hash of the entry key -> its ordinal) and the exact-digest table
// (hash of the digest -> ordinals of the matched entries carrying it). Neither stores the keys or
// codes: a lookup returns candidate ordinals and the caller compares the real key or code, so a
// hash collision costs a comparison, never a wrong answer.
//
// Layout: 65,536 buckets chosen by the hash's top 16 bits, each a small vector of (next 32 bits,
// ordinal), held in a PersistentArray so versions share untouched buckets and a commit copies only
// the buckets it changes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "persistent_array.h"

namespace hashmatch::store {

class HashMultimap {
 public:
  // Appends to *out every ordinal stored under `hash` (unordered).
  void Find(uint64_t hash, std::vector<uint32_t>* out) const {
    const auto& b = buckets_.Get(hash >> 48);
    if (!b) return;
    const uint32_t lo = uint32_t(hash >> 16);
    for (const Slot& s : *b) {
      if (s.lo == lo) out->push_back(s.ordinal);
    }
  }
  void Insert(uint64_t hash, uint32_t ordinal) {
    Bucket(hash).push_back(Slot{uint32_t(hash >> 16), ordinal});
    ++size_;
  }
  // Removes one (hash, ordinal) pair; false when absent.
  bool Erase(uint64_t hash, uint32_t ordinal) {
    if (!buckets_.Get(hash >> 48)) return false;
    auto& b = Bucket(hash);
    const uint32_t lo = uint32_t(hash >> 16);
    for (size_t i = 0; i < b.size(); ++i) {
      if (b[i].lo == lo && b[i].ordinal == ordinal) {
        b[i] = b.back();
        b.pop_back();
        --size_;
        return true;
      }
    }
    return false;
  }
  uint64_t size() const { return size_; }

  // Bulk build from (hash, ordinal) pairs: one pass to size the buckets, one to fill them.
  static HashMultimap Build(const std::vector<std::pair<uint64_t, uint32_t>>& pairs) {
    HashMultimap m;
    std::vector<uint32_t> counts(kBuckets, 0);
    for (const auto& p : pairs) ++counts[p.first >> 48];
    for (size_t b = 0; b < kBuckets; ++b) {
      if (counts[b]) m.buckets_.Mutable(b) = std::make_shared<std::vector<Slot>>();
      if (counts[b]) m.buckets_.Mutable(b)->reserve(counts[b]);
    }
    for (const auto& p : pairs) m.Insert(p.first, p.second);
    return m;
  }

 private:
  static constexpr size_t kBuckets = size_t(1) << 16;
  struct Slot {
    uint32_t lo;
    uint32_t ordinal;
  };
  std::vector<Slot>& Bucket(uint64_t hash) {
    auto& b = buckets_.Mutable(hash >> 48);
    if (!b) {
      b = std::make_shared<std::vector<Slot>>();
    } else if (b.use_count() > 1) {
      b = std::make_shared<std::vector<Slot>>(*b);
    }
    return *b;
  }

  PersistentArray<std::shared_ptr<std::vector<Slot>>> buckets_;
  uint64_t size_ = 0;
};

// 64-bit hashes for the two maps: FNV-1a over the bytes, then a murmur3 finaliser so that every
// bit depends on every input byte (keys like "42:img1", "42:img2" differ in one byte).
inline uint64_t HashBytes(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace hashmatch::store

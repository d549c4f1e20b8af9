// HashMultimap: a versioned map from a 64-bit hash to 32-bit ordinals (several per hash allowed).
//
// Two uses: a set's key index (hash of the entry key -> its ordinal) and the exact-digest table
// (hash of the digest -> ordinals of the matched entries carrying it). Neither stores the keys or
// codes: a lookup returns candidate ordinals and the caller compares the real key or code, so a
// hash collision costs a comparison, never a wrong answer.
//
// Layout: 65,536 buckets chosen by the hash's top 16 bits, each one reference-counted block
// holding its (next 32 bits of the hash, ordinal) slots inline, so a lookup costs one cache miss
// for the bucket. Copying the map copies the bucket pointers (512 KiB) and shares the buckets; a
// change copies only the bucket it touches, unless this map already owns it alone (reference
// count 1: every other holder is an older version, and versions never gain holders once the
// writer has handed them out).
//
// Thread safety: const methods from any thread on a version no one mutates; mutation by the
// single writer on its private copy.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace hashmatch::store {

class HashMultimap {
 public:
  HashMultimap() = default;
  HashMultimap(const HashMultimap& o) : buckets_(o.buckets_), size_(o.size_) {
    for (Bucket* b : buckets_) Ref(b);
  }
  HashMultimap& operator=(const HashMultimap& o) {
    if (this != &o) {
      HashMultimap copy(o);
      swap(copy);
    }
    return *this;
  }
  HashMultimap(HashMultimap&& o) noexcept { swap(o); }
  HashMultimap& operator=(HashMultimap&& o) noexcept {
    swap(o);
    return *this;
  }
  ~HashMultimap() {
    for (Bucket* b : buckets_) Unref(b);
  }
  void swap(HashMultimap& o) noexcept {
    buckets_.swap(o.buckets_);
    std::swap(size_, o.size_);
  }

  // Appends to *out every ordinal stored under `hash` (unordered).
  void Find(uint64_t hash, std::vector<uint32_t>* out) const {
    if (buckets_.empty()) return;
    const Bucket* b = buckets_[hash >> 48];
    if (!b) return;
    const uint32_t lo = uint32_t(hash >> 16);
    for (uint32_t i = 0; i < b->size; ++i) {
      if (b->slots[i].lo == lo) out->push_back(b->slots[i].ordinal);
    }
  }
  // Calls fn(ordinal) for each candidate until it returns true; returns whether one did.
  template <class Fn>
  bool FindIf(uint64_t hash, Fn&& fn) const {
    if (buckets_.empty()) return false;
    const Bucket* b = buckets_[hash >> 48];
    if (!b) return false;
    const uint32_t lo = uint32_t(hash >> 16);
    for (uint32_t i = 0; i < b->size; ++i) {
      if (b->slots[i].lo == lo && fn(b->slots[i].ordinal)) return true;
    }
    return false;
  }
  void Insert(uint64_t hash, uint32_t ordinal) {
    Bucket*& b = Owned(hash >> 48, 1);
    b->slots[b->size++] = Slot{uint32_t(hash >> 16), ordinal};
    ++size_;
  }
  // Removes one (hash, ordinal) pair; false when absent.
  bool Erase(uint64_t hash, uint32_t ordinal) {
    if (buckets_.empty() || !buckets_[hash >> 48]) return false;
    Bucket*& b = Owned(hash >> 48, 0);
    const uint32_t lo = uint32_t(hash >> 16);
    for (uint32_t i = 0; i < b->size; ++i) {
      if (b->slots[i].lo == lo && b->slots[i].ordinal == ordinal) {
        b->slots[i] = b->slots[--b->size];
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
    m.buckets_.assign(kBuckets, nullptr);
    std::vector<uint32_t> counts(kBuckets, 0);
    for (const auto& p : pairs) ++counts[p.first >> 48];
    for (size_t i = 0; i < kBuckets; ++i) {
      if (counts[i]) m.buckets_[i] = Allocate(counts[i]);
    }
    for (const auto& p : pairs) {
      Bucket* b = m.buckets_[p.first >> 48];
      b->slots[b->size++] = Slot{uint32_t(p.first >> 16), p.second};
    }
    m.size_ = pairs.size();
    return m;
  }

 private:
  static constexpr size_t kBuckets = size_t(1) << 16;
  struct Slot {
    uint32_t lo;
    uint32_t ordinal;
  };
  struct Bucket {
    std::atomic<uint32_t> refs;
    uint32_t size;
    uint32_t capacity;
    uint32_t pad;
    Slot slots[1];  // `capacity` of them
  };

  static Bucket* Allocate(uint32_t capacity) {
    void* p = std::malloc(offsetof(Bucket, slots) + sizeof(Slot) * capacity);
    if (!p) throw std::bad_alloc();
    Bucket* b = static_cast<Bucket*>(p);
    new (&b->refs) std::atomic<uint32_t>(1);
    b->size = 0;
    b->capacity = capacity;
    return b;
  }
  static void Ref(Bucket* b) {
    if (b) b->refs.fetch_add(1, std::memory_order_relaxed);
  }
  static void Unref(Bucket* b) {
    if (b && b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) std::free(b);
  }

  // The bucket at i, owned by this map alone, with room for `extra` more slots.
  Bucket*& Owned(size_t i, uint32_t extra) {
    if (buckets_.empty()) buckets_.assign(kBuckets, nullptr);
    Bucket*& b = buckets_[i];
    const uint32_t size = b ? b->size : 0;
    const bool alone = b && b->refs.load(std::memory_order_acquire) == 1;
    if (alone && size + extra <= b->capacity) return b;
    const uint32_t old_cap = b ? b->capacity : 0;
    const uint32_t cap =
        std::max<uint32_t>(4, size + extra > old_cap ? 2 * (size + extra) : old_cap);
    Bucket* nb = Allocate(cap);
    if (size) std::memcpy(nb->slots, b->slots, sizeof(Slot) * size);
    nb->size = size;
    Unref(b);
    b = nb;
    return b;
  }

  std::vector<Bucket*> buckets_;  // empty, or kBuckets entries (null: empty bucket)
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

// HugeArray<T>: a fixed-size array in anonymous memory advised for transparent huge pages.
//
// Index probes are random reads spread over arrays of hundreds of megabytes; with 4 KiB pages
// nearly every read also misses the TLB. Linux (THP in "madvise" mode, Debian's default) backs
// MADV_HUGEPAGE regions with 2 MiB pages. Small arrays use the heap as usual.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace hashmatch::index_internal {

template <class T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  HugeArray() = default;
  explicit HugeArray(size_t n) { Allocate(n); }
  ~HugeArray() { Free(); }
  HugeArray(HugeArray&& o) noexcept { *this = std::move(o); }
  HugeArray& operator=(HugeArray&& o) noexcept {
    if (this != &o) {
      Free();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      mapped_ = std::exchange(o.mapped_, 0);
    }
    return *this;
  }
  HugeArray(const HugeArray&) = delete;
  HugeArray& operator=(const HugeArray&) = delete;

  // Zero-filled.
  void Allocate(size_t n) {
    Free();
    size_ = n;
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugeThreshold) {
      // Huge pages back only 2 MiB-aligned 2 MiB ranges, and mmap aligns to 4 KiB: map one
      // huge page more and unmap the unaligned head and tail.
      mapped_ = (bytes + kHugePage - 1) & ~(kHugePage - 1);
      void* p = ::mmap(nullptr, mapped_ + kHugePage, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      const uintptr_t raw = reinterpret_cast<uintptr_t>(p);
      const uintptr_t aligned = (raw + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
      if (aligned > raw) ::munmap(p, aligned - raw);
      if (const size_t tail = kHugePage - (aligned - raw); tail > 0) {
        ::munmap(reinterpret_cast<void*>(aligned + mapped_), tail);
      }
      ::madvise(reinterpret_cast<void*>(aligned), mapped_, MADV_HUGEPAGE);  // ignored if THP is off
      data_ = reinterpret_cast<T*>(aligned);
    } else if (n > 0) {
      data_ = static_cast<T*>(std::calloc(n, sizeof(T)));
      if (!data_) throw std::bad_alloc();
    }
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }

 private:
  static constexpr size_t kHugePage = size_t(2) << 20;
  static constexpr size_t kHugeThreshold = size_t(1) << 20;

  void Free() {
    if (mapped_) {
      ::munmap(data_, mapped_);
    } else {
      std::free(data_);
    }
    data_ = nullptr;
    size_ = 0;
    mapped_ = 0;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
};

}  // namespace hashmatch::index_internal

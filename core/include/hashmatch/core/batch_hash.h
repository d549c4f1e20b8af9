// Batch hashing: many images (files or in-memory buffers) decoded and hashed in parallel, with one
// result per input in input order.
//
// Each item is read (files), digested (MD5/SHA, on the raw bytes), decoded once and hashed with
// every requested perceptual signal; an item's failure (missing file, not an image, corrupt data,
// pixel limit) is recorded in its own result and never affects the others. Work is spread over a
// oneTBB pool with one PdqHasher per worker thread; max_threads = 1 runs everything on the calling
// thread without touching TBB (and a batch of one item never starts a pool).
//
// Memory: items are decoded concurrently, so the peak is about threads x (one decoded image plus
// PDQ's float buffers, ~11 bytes per pixel for RGB). DecodeOptions::max_pixels bounds each item.
//
// Adding an algorithm: a new SignalType (signal_type.h) gets a field in BatchHashResult, a case in
// BatchHashResult::Code and one step in batch_hash.cc's HashItem. Without touching the library,
// BatchHashOptions::on_image runs caller code on every decoded image, on the worker threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <span>
#include <variant>
#include <vector>

#include "hashmatch/core/hash.h"
#include "hashmatch/core/image.h"
#include "hashmatch/core/imagehash.h"
#include "hashmatch/core/pdq.h"
#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"

namespace hashmatch {

// One input: a file to read, or bytes already in memory. Bytes are not copied: they must stay
// valid until HashBatch returns.
using BatchInput = std::variant<std::filesystem::path, std::span<const uint8_t>>;

// A set of SignalTypes to compute.
class SignalSet {
 public:
  constexpr SignalSet() = default;
  constexpr SignalSet(std::initializer_list<SignalType> types) {
    for (SignalType t : types) bits_ |= Bit(t);
  }
  constexpr bool contains(SignalType t) const { return (bits_ & Bit(t)) != 0; }
  constexpr SignalSet& insert(SignalType t) {
    bits_ |= Bit(t);
    return *this;
  }
  constexpr bool empty() const { return bits_ == 0; }
  // Any of the types that need decoded pixels (PDQ and the 64-bit image hashes).
  constexpr bool any_perceptual() const { return contains(SignalType::kPdq) || any_imagehash(); }
  constexpr bool any_imagehash() const {
    return contains(SignalType::kAHash64) || contains(SignalType::kDHash64) ||
           contains(SignalType::kPHash64) || contains(SignalType::kWHash64);
  }

 private:
  static constexpr uint32_t Bit(SignalType t) { return uint32_t(1) << unsigned(t); }
  uint32_t bits_ = 0;
};

struct BatchHashOptions {
  SignalSet signals = {SignalType::kPdq};
  bool dihedral = false;  // PDQ: all eight orientations (one DCT), in Dihedral order
  DecodeOptions decode;   // as for DecodeImage; the image hashes add Pillow's 16-bit grey clamp
  // PDQ options. With pdq.fast, PDQ goes through PdqHasher::HashBytes / HashDihedralBytes (the
  // JPEG fast path, not bit-exact; see pdq.h) and any other signal or on_image decodes apart.
  PdqOptions pdq;
  uint64_t max_file_bytes = uint64_t(1) << 31;  // files above this fail with out_of_range

  // 0 (or negative): oneTBB's default concurrency (all cores, or the enclosing task_arena's limit).
  // 1: everything on the calling thread, in input order; no TBB threads are started.
  // n > 1: at most n threads (the calling thread included), in a task_arena of n; values at or
  //        above the default concurrency mean the default.
  int max_threads = 0;

  // Progress, called once after each item finishes (failed items included), with done = 1, 2,
  // ..., total. Thread contract: it runs on whichever thread finished the item, a TBB worker or
  // the calling thread; calls never overlap (they are serialized under a lock, in increasing
  // `done` order), so the callback needs no locking for its own state, but it must not assume it
  // runs on the caller's thread. Keep it short: other workers wait for the lock meanwhile. It
  // must not throw and must not call HashBatch. Return false to cancel: items not yet started
  // then fail with "unavailable: cancelled", items already running finish, and the callback is
  // not called again.
  std::function<bool(size_t done, size_t total)> progress;

  // Extension hook, called on the worker thread for every decoded item after the built-in hashes,
  // with the item's index, its PDQ-convention decoded image and its raw bytes (both valid only
  // during the call). Calls for different items run concurrently: write only to per-index storage
  // or synchronize. A non-OK return fails that item with that status. When set, every item is
  // decoded even if `signals` has no perceptual type.
  std::function<Status(size_t index, const Image& image, std::span<const uint8_t> bytes)> on_image;
};

struct BatchHashResult {
  // OK, or why this item failed. Digests are filled whenever the bytes could be read, even when
  // decoding then failed (a digest list matches any file, image or not); the perceptual fields
  // are filled only when `status` is OK.
  Status status;

  // The decoded image, as PDQ saw it (after EXIF orientation when that was asked for).
  int width = 0, height = 0;
  bool truncated = false;  // the data ended early; the decoder filled the rest (still hashed)

  std::array<PdqHash, kNumDihedral> pdq{};  // [0] = as decoded; all eight when dihedral
  bool pdq_fast = false;              // PDQ came from the fast (not bit-exact) JPEG path (pdq.fast)
  Hash64 ahash, dhash, phash, whash;  // imagehash conventions (imagehash.h)
  Md5Digest md5;
  Sha1Digest sha1;
  Sha256Digest sha256;

  bool ok() const { return status.ok(); }
  // The code of one signal type as bytes (PDQ: the original orientation), for generic matching
  // through DistanceKernels or a hash index; only meaningful for the types that were requested.
  std::span<const uint8_t> Code(SignalType type) const;
};

// Hashes every input; results[i] belongs to inputs[i].
std::vector<BatchHashResult> HashBatch(std::span<const BatchInput> inputs,
                                       const BatchHashOptions& options = {});

}  // namespace hashmatch

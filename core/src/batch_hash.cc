// HashBatch: per-item work (read, digest, decode, hash) spread over oneTBB, one PdqHasher per
// worker thread. See batch_hash.h for the contract.
#include "hashmatch/core/batch_hash.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "batch_parallel.h"
#include "hashmatch/core/digest.h"
#include "image_internal.h"

namespace hashmatch {

std::span<const uint8_t> BatchHashResult::Code(SignalType type) const {
  switch (type) {
    case SignalType::kPdq:
      return pdq[0].hash.bytes();
    case SignalType::kAHash64:
      return ahash.bytes();
    case SignalType::kDHash64:
      return dhash.bytes();
    case SignalType::kPHash64:
      return phash.bytes();
    case SignalType::kWHash64:
      return whash.bytes();
    case SignalType::kMd5:
      return md5.bytes();
    case SignalType::kSha1:
      return sha1.bytes();
    case SignalType::kSha256:
      return sha256.bytes();
  }
  return {};
}

namespace {

// Pillow reads a 16-bit grey PNG differently from the PDQ reference (image.h, clamp_grey16), so
// only for those does an item that wants both PDQ and the image hashes need a second decode. The
// IHDR chunk is always first; its bit depth and colour type sit at fixed offsets.
bool IsGrey16Png(std::span<const uint8_t> b) {
  return SniffImageFormat(b) == ImageFormat::kPng && b.size() >= 26 &&
         std::equal(b.begin() + 12, b.begin() + 16, "IHDR") && b[24] == 16 && b[25] == 0;
}

template <class Digest>
Status Fill(Result<Digest> d, Digest* out) {
  if (!d.ok()) return d.status();
  *out = *d;
  return Status::Ok();
}

Status WithPath(const BatchInput& input, const Status& s) {
  if (s.ok() || !std::holds_alternative<std::filesystem::path>(input)) return s;
  const std::string path = std::get<std::filesystem::path>(input).string();
  // ReadFileBytes already names the file; decode errors do not.
  if (s.message().rfind(path, 0) == 0) return s;
  return Status(s.code(), path + ": " + s.message());
}

// Everything for one item; returns the item's status (the caller stores it).
Status HashItem(const BatchInput& input, size_t index, const BatchHashOptions& o,
                batch_internal::WorkerState& state, BatchHashResult* r) {
  PdqHasher& hasher = state.pdq;
  std::vector<uint8_t> owned;
  std::span<const uint8_t> bytes;
  if (const auto* path = std::get_if<std::filesystem::path>(&input)) {
    auto read = ReadFileBytes(*path, o.max_file_bytes);
    if (!read.ok()) return read.status();
    owned = *std::move(read);
    bytes = owned;
  } else {
    bytes = std::get<std::span<const uint8_t>>(input);
  }

  const SignalSet& s = o.signals;
  if (s.contains(SignalType::kMd5)) {
    if (Status st = Fill(Md5(bytes), &r->md5); !st.ok()) return st;
  }
  if (s.contains(SignalType::kSha1)) {
    if (Status st = Fill(Sha1(bytes), &r->sha1); !st.ok()) return st;
  }
  if (s.contains(SignalType::kSha256)) {
    if (Status st = Fill(Sha256(bytes), &r->sha256); !st.ok()) return st;
  }
  const bool pdq = s.contains(SignalType::kPdq);
  // PdqOptions::fast lives in PdqHasher::HashBytes (a JPEG decoded in the DCT domain, luma only,
  // never as a full image); it takes the exact path itself for anything else.
  const bool fast_pdq = pdq && o.pdq.fast;
  if (fast_pdq) {
    auto h = o.dihedral ? hasher.HashDihedralBytes(bytes, o.decode, o.pdq)
                        : hasher.HashBytes(bytes, o.decode, o.pdq);
    if (!h.ok()) return h.status();
    r->pdq = h->pdq;
    r->pdq_fast = h->fast;
    r->width = h->width;
    r->height = h->height;
    r->truncated = h->truncated;
  }
  const bool need_image = (pdq && !fast_pdq) || bool(o.on_image);
  if (!need_image && !s.any_imagehash()) return Status::Ok();

  // One decode with the PDQ conventions serves PDQ, the hook and (except for 16-bit grey PNGs)
  // the image hashes; when only the image hashes want pixels it decodes as Pillow does.
  const bool pillow_only = !need_image;
  const DecodeOptions decode = pillow_only ? ImageHashDecodeOptions(o.decode) : o.decode;
  const Image* image = &state.image;
  std::optional<Image> decoded_apart;
  if (!decode.apply_exif_orientation && SniffImageFormat(bytes) == ImageFormat::kJpeg) {
    // JPEG (the common case) into the worker's reused image; the same decode as DecodeImage.
    if (Status st = image_internal::DecodeJpegReusing(bytes, decode, &state.image); !st.ok()) {
      return st;
    }
  } else {
    auto decoded = DecodeImage(bytes, decode);
    if (!decoded.ok()) return decoded.status();
    decoded_apart = std::move(*decoded);
    image = &*decoded_apart;
  }
  if (!fast_pdq) {
    r->width = image->width;
    r->height = image->height;
    r->truncated = image->truncated;
  }
  if (pdq && !fast_pdq) {
    if (o.dihedral) {
      r->pdq = hasher.HashDihedral(*image, o.pdq);
    } else {
      r->pdq[0] = hasher.Hash(*image, o.pdq);
    }
  }
  if (s.any_imagehash()) {
    ImageHash64Set h;
    if (!pillow_only && IsGrey16Png(bytes)) {
      auto pillow = DecodeImage(bytes, ImageHashDecodeOptions(o.decode));
      if (!pillow.ok()) return pillow.status();
      h = ComputeImageHashes(*pillow);
    } else {
      h = ComputeImageHashes(*image);
    }
    r->ahash = h.ahash, r->dhash = h.dhash, r->phash = h.phash, r->whash = h.whash;
  }
  if (o.on_image) return o.on_image(index, *image, bytes);
  return Status::Ok();
}

// Progress reporting and cancellation shared by the workers.
class Progress {
 public:
  Progress(const BatchHashOptions& o, size_t total) : fn_(o.progress), total_(total) {}
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  void ItemDone() {
    if (!fn_) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled()) return;
    if (!fn_(++done_, total_)) cancelled_.store(true, std::memory_order_relaxed);
  }

 private:
  const std::function<bool(size_t, size_t)>& fn_;
  const size_t total_;
  std::mutex mu_;
  size_t done_ = 0;  // under mu_
  std::atomic<bool> cancelled_{false};
};

void RunItem(std::span<const BatchInput> inputs, size_t i, const BatchHashOptions& o,
             batch_internal::WorkerState& state, Progress& progress,
             std::vector<BatchHashResult>& results) {
  BatchHashResult& r = results[i];
  if (progress.cancelled()) {
    r.status = Status(StatusCode::kUnavailable, "cancelled");
    return;
  }
  r.status = WithPath(inputs[i], HashItem(inputs[i], i, o, state, &r));
  if (!r.status.ok()) {
    // A failed item keeps only what is documented as valid without a decode: its digests.
    r.width = r.height = 0;
    r.truncated = r.pdq_fast = false;
    r.pdq = {};
    r.ahash = r.dhash = r.phash = r.whash = Hash64();
  }
  progress.ItemDone();
}

}  // namespace

std::vector<BatchHashResult> HashBatch(std::span<const BatchInput> inputs,
                                       const BatchHashOptions& options) {
  std::vector<BatchHashResult> results(inputs.size());
  Progress progress(options, inputs.size());
  // Sequential on the calling thread: asked for, or nothing to share out.
  if (options.max_threads == 1 || inputs.size() <= 1) {
    batch_internal::WorkerState state;
    for (size_t i = 0; i < inputs.size(); ++i) {
      RunItem(inputs, i, options, state, progress, results);
    }
    return results;
  }
  batch_internal::ParallelForItems(inputs.size(), options.max_threads,
                                   [&](size_t i, batch_internal::WorkerState& state) {
                                     RunItem(inputs, i, options, state, progress, results);
                                   });
  return results;
}

}  // namespace hashmatch

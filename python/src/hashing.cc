// hash_batch: PDQ (optionally all eight orientations), the 64-bit image hashes and the exact
// digests of many images at once, one result row per input, through core's HashBatch (files and
// encoded bytes, on the TBB pool) and the hashers directly (decoded numpy pixels).
//
// Inputs, per item:
//   bytes, bytearray, memoryview, 1-D uint8 array   encoded image bytes (JPEG, PNG, WebP)
//   str or os.PathLike                              a file, read by the library
//   uint8 array (H, W) or (H, W, C), C in 1, 3, 4    decoded pixels: grey, RGB, RGBA (alpha
//                                                    dropped, as the decoders do)
// Digests (md5, sha1, sha256) need the encoded bytes: asking for one with a pixel array in the
// batch is refused before anything is hashed.
//
// An item that fails (missing file, not an image, pixel limit) gets its error in the result and
// never affects the others; only misuse of the call itself raises.
#include <pybind11/stl.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "common.h"
#include "hashmatch/core/batch_hash.h"
#include "hashmatch/core/imagehash.h"
#include "hashmatch/core/pdq.h"

namespace hashmatch::py {
namespace {

struct HashArgs {
  std::vector<std::string> signals = {"pdq"};
  bool dihedral = false;
  bool fast = false;
  bool compat_512 = false;
  uint64_t max_pixels = 100'000'000;
  bool exif_orientation = false;
  uint64_t max_file_bytes = uint64_t(1) << 31;
  int threads = 0;
};

// Where item i went: core's batch (files, bytes) or the pixel list.
struct Slot {
  bool pixels;
  size_t pos;
};

bool IsPathLike(pyb::handle obj) {
  return pyb::isinstance<pyb::str>(obj) || pyb::hasattr(obj, "__fspath__");
}

// Decoded pixels from a uint8 array (H, W) or (H, W, C): validated and copied.
Image PixelsFromArray(const pyb::array& a, size_t index) {
  const std::string where = "item " + std::to_string(index) + ": ";
  if (!a.dtype().is(pyb::dtype::of<uint8_t>())) {
    ThrowInvalid(where + "pixel arrays must have dtype uint8, got " +
                 std::string(pyb::str(a.dtype())));
  }
  const int channels_in = a.ndim() == 2 ? 1 : int(a.shape(2));
  if (a.ndim() == 3 && channels_in != 1 && channels_in != 3 && channels_in != 4) {
    ThrowInvalid(where + "expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got " +
                 std::to_string(channels_in) + " channels");
  }
  if (a.shape(0) <= 0 || a.shape(1) <= 0 || a.shape(0) > (1 << 20) || a.shape(1) > (1 << 20)) {
    ThrowInvalid(where + "image sides must be 1..1048576 pixels");
  }
  auto c = pyb::array_t<uint8_t, pyb::array::c_style>::ensure(a);
  Image im;
  im.height = int(a.shape(0));
  im.width = int(a.shape(1));
  im.channels = channels_in == 1 ? 1 : 3;
  const size_t n = size_t(im.width) * size_t(im.height);
  im.pixels.resize(n * size_t(im.channels));
  if (channels_in == im.channels) {
    std::memcpy(im.pixels.data(), c.data(), im.pixels.size());
  } else {  // RGBA: alpha dropped
    const uint8_t* src = c.data();
    for (size_t i = 0; i < n; ++i) std::memcpy(&im.pixels[3 * i], src + 4 * i, 3);
  }
  return im;
}

// The hashes of decoded pixels, in core's result type.
BatchHashResult HashPixels(const Image& image, const BatchHashOptions& o, PdqHasher& hasher) {
  BatchHashResult r;
  r.width = image.width;
  r.height = image.height;
  if (o.signals.contains(SignalType::kPdq)) {
    if (o.dihedral) {
      r.pdq = hasher.HashDihedral(image, o.pdq);
    } else {
      r.pdq[0] = hasher.Hash(image, o.pdq);
    }
  }
  if (o.signals.any_imagehash()) {
    const ImageHash64Set h = ComputeImageHashes(image);
    r.ahash = h.ahash;
    r.dhash = h.dhash;
    r.phash = h.phash;
    r.whash = h.whash;
  }
  return r;
}

void HashAllPixels(const std::vector<Image>& images, const BatchHashOptions& o,
                   std::vector<BatchHashResult>* out) {
  out->resize(images.size());
  if (o.max_threads == 1 || images.size() <= 1) {
    PdqHasher hasher;
    for (size_t i = 0; i < images.size(); ++i) (*out)[i] = HashPixels(images[i], o, hasher);
    return;
  }
  tbb::enumerable_thread_specific<PdqHasher> hashers;
  auto body = [&] {
    tbb::parallel_for(size_t(0), images.size(),
                      [&](size_t i) { (*out)[i] = HashPixels(images[i], o, hashers.local()); });
  };
  if (o.max_threads > 1) {
    tbb::task_arena arena(o.max_threads);
    arena.execute(body);
  } else {
    body();
  }
}

pyb::dict HashBatchPy(pyb::sequence inputs, const HashArgs& args) {
  BatchHashOptions o;
  o.signals = SignalSet{};
  bool digests = false;
  for (const std::string& name : args.signals) {
    const SignalType t = ParseSignal(name);
    o.signals.insert(t);
    digests |= !GetSignalInfo(t).perceptual;
  }
  if (o.signals.empty()) ThrowInvalid("signals: at least one signal type");
  o.dihedral = args.dihedral;
  o.pdq.fast = args.fast;
  o.pdq.compat_512 = args.compat_512;
  o.decode.max_pixels = args.max_pixels;
  o.decode.apply_exif_orientation = args.exif_orientation;
  o.max_file_bytes = args.max_file_bytes;
  o.max_threads = args.threads;

  // Classify and pin the inputs (GIL held).
  const size_t n = pyb::len(inputs);
  std::vector<Slot> slots(n);
  std::vector<BatchInput> batch;
  std::vector<pyb::object> pinned;           // bytes objects and arrays whose memory we borrow
  std::vector<std::vector<uint8_t>> copies;  // mutable buffers, copied
  std::vector<Image> images;
  copies.reserve(n);
  pyb::module_ os = pyb::module_::import("os");
  pyb::module_ np = pyb::module_::import("numpy");
  for (size_t i = 0; i < n; ++i) {
    pyb::object item = inputs[i];
    if (pyb::isinstance(item, np.attr("ndarray"))) {
      pyb::array a = item;
      if (a.ndim() == 1) {  // encoded bytes in an array
        if (!a.dtype().is(pyb::dtype::of<uint8_t>())) {
          ThrowInvalid("item " + std::to_string(i) +
                       ": a 1-D array of encoded bytes must be uint8");
        }
        auto c = pyb::array_t<uint8_t, pyb::array::c_style>::ensure(a);
        batch.emplace_back(std::span<const uint8_t>(c.data(), size_t(c.shape(0))));
        pinned.push_back(c);
        slots[i] = {false, batch.size() - 1};
      } else if (a.ndim() == 2 || a.ndim() == 3) {
        if (digests) {
          ThrowInvalid("item " + std::to_string(i) +
                       ": digests need encoded bytes or a file, not decoded pixels");
        }
        images.push_back(PixelsFromArray(a, i));
        slots[i] = {true, images.size() - 1};
      } else {
        ThrowInvalid("item " + std::to_string(i) + ": expected a 1-D (encoded), 2-D or 3-D array");
      }
    } else if (pyb::isinstance<pyb::bytes>(item)) {
      char* data = nullptr;
      Py_ssize_t len = 0;
      if (PyBytes_AsStringAndSize(item.ptr(), &data, &len) != 0) throw pyb::error_already_set();
      batch.emplace_back(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), size_t(len)));
      pinned.push_back(item);
      slots[i] = {false, batch.size() - 1};
    } else if (IsPathLike(item)) {
      // os.fsencode: the file system's bytes, so names that are not UTF-8 (decoded by Python
      // with surrogate escapes) name the same file.
      pyb::object p = os.attr("fsencode")(item);
      batch.emplace_back(std::filesystem::path(pyb::cast<std::string>(p)));
      slots[i] = {false, batch.size() - 1};
    } else if (PyObject_CheckBuffer(item.ptr())) {  // bytearray, memoryview, ...: copied
      pyb::buffer_info info = pyb::reinterpret_borrow<pyb::buffer>(item).request();
      if (info.itemsize != 1 || info.ndim != 1) {
        ThrowInvalid("item " + std::to_string(i) + ": a buffer of encoded bytes must be 1-D bytes");
      }
      const auto* p = static_cast<const uint8_t*>(info.ptr);
      copies.emplace_back(p, p + info.size);
      batch.emplace_back(std::span<const uint8_t>(copies.back()));
      slots[i] = {false, batch.size() - 1};
    } else {
      ThrowInvalid("item " + std::to_string(i) + ": expected bytes, a path or a numpy array, got " +
                   std::string(pyb::str(pyb::type::handle_of(item).attr("__name__"))));
    }
  }

  std::vector<BatchHashResult> from_batch, from_pixels;
  {
    pyb::gil_scoped_release release;
    if (!batch.empty()) from_batch = HashBatch(batch, o);
    HashAllPixels(images, o, &from_pixels);
  }

  // Results in input order.
  const size_t nd = o.dihedral ? kNumDihedral : 1;
  pyb::array_t<bool> ok({pyb::ssize_t(n)}), truncated({pyb::ssize_t(n)}), fast({pyb::ssize_t(n)});
  pyb::array_t<int32_t> width({pyb::ssize_t(n)}), height({pyb::ssize_t(n)});
  pyb::list errors, codes;
  pyb::dict out;
  // (A default-constructed array_t is a real, empty array: `want_pdq` says whether these are used.)
  const bool want_pdq = o.signals.contains(SignalType::kPdq);
  pyb::array_t<uint8_t> pdq;
  pyb::array_t<int32_t> quality;
  if (want_pdq) {
    if (o.dihedral) {
      pdq = pyb::array_t<uint8_t>({pyb::ssize_t(n), pyb::ssize_t(nd), pyb::ssize_t(32)});
      quality = pyb::array_t<int32_t>({pyb::ssize_t(n), pyb::ssize_t(nd)});
    } else {
      pdq = NewBytes2D(n, 32);
      quality = pyb::array_t<int32_t>({pyb::ssize_t(n)});
    }
    std::memset(pdq.mutable_data(), 0, size_t(pdq.size()));
  }
  std::vector<std::pair<SignalType, pyb::array_t<uint8_t>>> others;
  for (const SignalInfo& info : AllSignalTypes()) {
    if (info.type == SignalType::kPdq || !o.signals.contains(info.type)) continue;
    others.emplace_back(info.type, NewBytes2D(n, info.code_bytes));
    std::memset(others.back().second.mutable_data(), 0, n * info.code_bytes);
  }
  for (size_t i = 0; i < n; ++i) {
    const BatchHashResult& r =
        slots[i].pixels ? from_pixels[slots[i].pos] : from_batch[slots[i].pos];
    ok.mutable_at(i) = r.ok();
    truncated.mutable_at(i) = r.truncated;
    fast.mutable_at(i) = r.pdq_fast;
    width.mutable_at(i) = r.width;
    height.mutable_at(i) = r.height;
    if (r.ok()) {
      errors.append(pyb::none());
      codes.append(pyb::none());
    } else {
      errors.append(r.status.message());
      codes.append(std::string(StatusCodeName(r.status.code())));
    }
    if (want_pdq) {
      for (size_t d = 0; d < nd; ++d) {
        uint8_t* dst = pdq.mutable_data() + (i * nd + d) * 32;
        if (r.ok()) std::memcpy(dst, r.pdq[d].hash.data(), 32);
        quality.mutable_data()[i * nd + d] = r.ok() ? r.pdq[d].quality : 0;
      }
    }
    for (auto& [type, arr] : others) {
      // Digests are filled whenever the bytes could be read (even if decoding failed), as in
      // core; everything not computed is zero.
      const std::span<const uint8_t> code = r.Code(type);
      std::memcpy(arr.mutable_data(i, 0), code.data(), code.size());
    }
  }
  out["ok"] = ok;
  out["error"] = errors;
  out["error_code"] = codes;
  out["width"] = width;
  out["height"] = height;
  out["truncated"] = truncated;
  if (want_pdq) {
    out["pdq"] = pdq;
    out["quality"] = quality;
    out["pdq_fast"] = fast;
  }
  for (auto& [type, arr] : others) out[pyb::str(std::string(GetSignalInfo(type).name))] = arr;
  return out;
}

}  // namespace

void DefineHashing(pyb::module_& m) {
  m.def(
      "hash_batch",
      [](pyb::sequence inputs, std::vector<std::string> signals, bool dihedral, bool fast,
         bool compat_512, uint64_t max_pixels, bool exif_orientation, uint64_t max_file_bytes,
         int threads) {
        HashArgs a;
        a.signals = std::move(signals);
        a.dihedral = dihedral;
        a.fast = fast;
        a.compat_512 = compat_512;
        a.max_pixels = max_pixels;
        a.exif_orientation = exif_orientation;
        a.max_file_bytes = max_file_bytes;
        a.threads = threads;
        return HashBatchPy(inputs, a);
      },
      pyb::arg("inputs"), pyb::kw_only(), pyb::arg("signals") = std::vector<std::string>{"pdq"},
      pyb::arg("dihedral") = false, pyb::arg("fast") = false, pyb::arg("compat_512") = false,
      pyb::arg("max_pixels") = uint64_t(100'000'000), pyb::arg("exif_orientation") = false,
      pyb::arg("max_file_bytes") = uint64_t(1) << 31, pyb::arg("threads") = 0,
      "Hashes every input; returns a dict of per-item columns (see hashmatch.hash_batch).");
}

}  // namespace hashmatch::py

// HashBatch against the one-at-a-time API (DecodeImage + PdqHasher, the imagehash functions, the
// digests) on the bundled sample images and images built here, with every threading mode; failed
// items in the middle of a batch; progress, cancellation and the on_image hook.
#include "hashmatch/core/batch_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "../image_builders.h"
#include "../test_util.h"
#include "hashmatch/core/digest.h"
#include "hashmatch/core/image.h"
#include "hashmatch/core/imagehash.h"

namespace hashmatch {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;

const SignalSet kAll = {SignalType::kPdq,     SignalType::kAHash64, SignalType::kDHash64,
                        SignalType::kPHash64, SignalType::kWHash64, SignalType::kMd5,
                        SignalType::kSha1,    SignalType::kSha256};

std::vector<fs::path> SampleImages() {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(HASHMATCH_SOURCE_DIR) / "samples"))
    if (e.is_regular_file() && e.path().extension() == ".png") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Generated inputs: JPEG and PNG, grey and RGB, several sizes, one 16-bit grey PNG whose samples
// exceed 255 (where Pillow's clamp and PDQ's high byte differ), one with EXIF orientation.
std::vector<Bytes> GeneratedImages() {
  std::vector<Bytes> out;
  for (uint32_t seed = 0; seed < 4; ++seed) {
    out.push_back(testing::EncodeJpeg(
        testing::PatternImage(64 + 40 * seed, 48 + 16 * seed, seed % 2 ? 1 : 3, seed), {}, 90));
    out.push_back(testing::EncodePng(testing::PatternImage(70, 30 + 20 * seed, 3, seed + 10)));
  }
  const Image g = testing::PatternImage(40, 40, 1, 99);
  Bytes samples16;
  for (uint8_t v : g.pixels) samples16.insert(samples16.end(), {uint8_t(v / 3), uint8_t(v)});
  out.push_back(testing::EncodePngSamples(40, 40, 16, 0, samples16));
  return out;
}

// The expected result for one item, by the one-at-a-time API.
BatchHashResult Sequential(std::span<const uint8_t> bytes, const BatchHashOptions& o) {
  BatchHashResult r;
  r.md5 = *Md5(bytes), r.sha1 = *Sha1(bytes), r.sha256 = *Sha256(bytes);
  auto image = DecodeImage(bytes, o.decode);
  if (!image.ok()) {
    r.status = image.status();
    return r;
  }
  PdqHasher hasher;
  r.width = image->width, r.height = image->height, r.truncated = image->truncated;
  if (o.dihedral) {
    r.pdq = hasher.HashDihedral(*image, o.pdq);
  } else {
    r.pdq[0] = hasher.Hash(*image, o.pdq);
  }
  auto pillow = DecodeImage(bytes, ImageHashDecodeOptions(o.decode));
  const ImageHash64Set h = ComputeImageHashes(*pillow);
  r.ahash = h.ahash, r.dhash = h.dhash, r.phash = h.phash, r.whash = h.whash;
  return r;
}

void ExpectSame(const BatchHashResult& got, const BatchHashResult& want, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(got.status.code(), want.status.code()) << got.status.ToString();
  EXPECT_EQ(got.width, want.width);
  EXPECT_EQ(got.height, want.height);
  EXPECT_EQ(got.truncated, want.truncated);
  EXPECT_EQ(got.pdq, want.pdq);
  EXPECT_FALSE(got.pdq_fast);
  EXPECT_EQ(got.ahash, want.ahash);
  EXPECT_EQ(got.dhash, want.dhash);
  EXPECT_EQ(got.phash, want.phash);
  EXPECT_EQ(got.whash, want.whash);
  EXPECT_EQ(got.md5, want.md5);
  EXPECT_EQ(got.sha1, want.sha1);
  EXPECT_EQ(got.sha256, want.sha256);
}

TEST(BatchHash, MatchesSequentialOnSamplesAndGeneratedImages) {
  const auto files = SampleImages();
  ASSERT_GE(files.size(), 10u);
  const auto generated = GeneratedImages();
  std::vector<BatchInput> inputs;
  std::vector<Bytes> contents;
  for (const auto& f : files) {
    inputs.emplace_back(f);
    contents.push_back(*ReadFileBytes(f));
  }
  for (const auto& g : generated) {
    inputs.emplace_back(std::span<const uint8_t>(g));
    contents.push_back(g);
  }
  for (bool dihedral : {false, true}) {
    BatchHashOptions o;
    o.signals = kAll;
    o.dihedral = dihedral;
    std::vector<BatchHashResult> want;
    for (const auto& c : contents) want.push_back(Sequential(c, o));
    for (int threads : {0, 1, 3}) {
      o.max_threads = threads;
      const auto got = HashBatch(inputs, o);
      ASSERT_EQ(got.size(), inputs.size());
      for (size_t i = 0; i < got.size(); ++i) {
        ExpectSame(got[i], want[i],
                   "item " + std::to_string(i) + " threads " + std::to_string(threads) +
                       (dihedral ? " dihedral" : ""));
        EXPECT_TRUE(got[i].ok()) << got[i].status.ToString();
      }
    }
  }
  // The 16-bit grey PNG really is read two ways (so the second decode above was needed).
  const auto& g16 = generated.back();
  auto pdq_view = DecodeImage(g16), pillow_view = DecodeImage(g16, ImageHashDecodeOptions());
  EXPECT_NE(pdq_view->pixels, pillow_view->pixels);
}

TEST(BatchHash, FailedItemsDoNotAffectTheOthers) {
  const auto files = SampleImages();
  const Bytes text = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  Bytes cut = testing::EncodePng(testing::PatternImage(32, 32, 3, 5));
  cut.resize(cut.size() - 30);
  const Bytes big = testing::EncodePng(testing::PatternImage(400, 400, 1, 6));
  const fs::path missing = fs::path(HASHMATCH_SOURCE_DIR) / "samples" / "no-such-file.png";
  std::vector<BatchInput> inputs = {files[0],
                                    std::span<const uint8_t>(text),
                                    files[1],
                                    missing,
                                    std::span<const uint8_t>(cut),
                                    files[2],
                                    std::span<const uint8_t>(big),
                                    std::span<const uint8_t>(),
                                    files[3]};
  BatchHashOptions o;
  o.signals = {SignalType::kPdq, SignalType::kMd5};
  o.decode.max_pixels = 100'000;  // the samples are 320x240 at most
  for (int threads : {1, 0}) {
    o.max_threads = threads;
    const auto r = HashBatch(inputs, o);
    ASSERT_EQ(r.size(), inputs.size());
    EXPECT_EQ(r[1].status.code(), StatusCode::kInvalidArgument) << r[1].status.ToString();
    EXPECT_EQ(r[3].status.code(), StatusCode::kIoError) << r[3].status.ToString();
    EXPECT_NE(r[3].status.message().find("no-such-file.png: cannot open: No such file"),
              std::string::npos)
        << r[3].status.message();
    EXPECT_EQ(r[4].status.code(), StatusCode::kCorruption) << r[4].status.ToString();
    EXPECT_EQ(r[6].status.code(), StatusCode::kOutOfRange) << r[6].status.ToString();
    EXPECT_EQ(r[7].status.code(), StatusCode::kInvalidArgument) << r[7].status.ToString();
    // Digests of readable bytes survive a failed decode; perceptual fields stay empty.
    EXPECT_EQ(r[1].md5, *Md5(text));
    EXPECT_EQ(r[1].pdq[0], PdqHash{});
    EXPECT_EQ(r[1].width, 0);
    // The good items, in their places.
    PdqHasher hasher;
    for (size_t i : {0, 2, 5, 8}) {
      const fs::path& f = std::get<fs::path>(inputs[i]);
      ASSERT_TRUE(r[i].ok()) << i << ": " << r[i].status.ToString();
      EXPECT_EQ(r[i].pdq[0], hasher.Hash(*DecodeImageFile(f))) << f;
      EXPECT_EQ(r[i].md5, *Md5File(f));
    }
  }
}

TEST(BatchHash, UnreadablePathsSayWhy) {
  const fs::path dir = fs::temp_directory_path();
  auto d = DecodeImageFile(dir);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kIoError);
  EXPECT_NE(d.status().message().find("is a directory"), std::string::npos) << d.status().message();
  auto m = DecodeImageFile(dir / "hm-batch-hash-no-such-file.png");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kIoError);
  EXPECT_NE(m.status().message().find("cannot open: No such file or directory"), std::string::npos)
      << m.status().message();
}

TEST(BatchHash, DigestsOnlyNeverDecode) {
  const Bytes text = {'p', 'l', 'a', 'i', 'n'};
  const std::vector<BatchInput> inputs = {std::span<const uint8_t>(text)};
  BatchHashOptions o;
  o.signals = {SignalType::kSha256, SignalType::kSha1};
  const auto r = HashBatch(inputs, o);
  ASSERT_TRUE(r[0].ok()) << r[0].status.ToString();
  EXPECT_EQ(r[0].sha256, *Sha256(text));
  EXPECT_EQ(r[0].sha1, *Sha1(text));
  EXPECT_EQ(r[0].Code(SignalType::kSha256).size(), 32u);
  EXPECT_TRUE(std::equal(r[0].Code(SignalType::kSha1).begin(), r[0].Code(SignalType::kSha1).end(),
                         r[0].sha1.data()));
}

TEST(BatchHash, EmptyBatchAndOptionsPassThrough) {
  EXPECT_TRUE(HashBatch({}).empty());
  // EXIF orientation and the 512 path reach the decoder and the hasher.
  const Image stored = testing::PatternImage(600, 40, 3, 3);
  const Bytes exif6 = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12,
                       1,   3,   0,   1,   0, 0, 0,   6,   0,  0, 0, 0, 0, 0, 0, 0, 0};
  const Bytes jpeg = testing::EncodeJpeg(stored, exif6, 90);
  const std::vector<BatchInput> inputs = {std::span<const uint8_t>(jpeg)};
  BatchHashOptions o;
  o.decode.apply_exif_orientation = true;
  o.pdq.compat_512 = true;
  const auto r = HashBatch(inputs, o);
  ASSERT_TRUE(r[0].ok());
  EXPECT_EQ(r[0].width, 40);
  EXPECT_EQ(r[0].height, 600);
  PdqHasher hasher;
  EXPECT_EQ(r[0].pdq[0], hasher.Hash(*DecodeImage(jpeg, o.decode), o.pdq));
}

TEST(BatchHash, FastPdqPathIsPdqHashersOwn) {
  const Bytes jpeg = testing::EncodeJpeg(testing::PatternImage(700, 500, 3, 8), {}, 85);
  const Bytes png = testing::EncodePng(testing::PatternImage(90, 70, 3, 9));
  const std::vector<BatchInput> inputs = {std::span<const uint8_t>(jpeg),
                                          std::span<const uint8_t>(png)};
  BatchHashOptions o;
  o.signals = {SignalType::kPdq, SignalType::kAHash64};
  o.pdq.fast = true;
  PdqHasher hasher;
  for (bool dihedral : {false, true}) {
    o.dihedral = dihedral;
    const auto r = HashBatch(inputs, o);
    for (size_t i = 0; i < 2; ++i) {
      const auto bytes = std::get<std::span<const uint8_t>>(inputs[i]);
      auto want = dihedral ? hasher.HashDihedralBytes(bytes, o.decode, o.pdq)
                           : hasher.HashBytes(bytes, o.decode, o.pdq);
      ASSERT_TRUE(r[i].ok() && want.ok());
      EXPECT_EQ(r[i].pdq, want->pdq) << i;
      EXPECT_EQ(r[i].pdq_fast, i == 0);  // JPEG only; the PNG takes the exact path
      EXPECT_EQ(r[i].width, want->width);
      // The image hashes still come from a full decode.
      EXPECT_EQ(r[i].ahash, AverageHash(*DecodeImage(bytes, ImageHashDecodeOptions())));
    }
  }
}

TEST(BatchHash, ProgressCountsEveryItemInOrder) {
  const auto files = SampleImages();
  std::vector<BatchInput> inputs(files.begin(), files.end());
  for (int threads : {1, 0, 4}) {
    std::vector<size_t> seen;
    BatchHashOptions o;
    o.max_threads = threads;
    o.progress = [&](size_t done, size_t total) {
      EXPECT_EQ(total, inputs.size());
      seen.push_back(done);  // no lock: calls are serialized by HashBatch
      return true;
    };
    HashBatch(inputs, o);
    ASSERT_EQ(seen.size(), inputs.size());
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  }
}

TEST(BatchHash, CancelFromProgress) {
  const auto files = SampleImages();
  std::vector<BatchInput> inputs(files.begin(), files.end());
  BatchHashOptions o;
  o.max_threads = 1;
  size_t calls = 0;
  o.progress = [&](size_t done, size_t) {
    ++calls;
    return done < 2;
  };
  auto r = HashBatch(inputs, o);
  EXPECT_EQ(calls, 2u);
  EXPECT_TRUE(r[0].ok() && r[1].ok());
  for (size_t i = 2; i < r.size(); ++i) {
    EXPECT_EQ(r[i].status.code(), StatusCode::kUnavailable) << i;
  }
  // In parallel the items already running finish; the rest are cancelled, and every item is one
  // or the other.
  o.max_threads = 2;
  calls = 0;
  r = HashBatch(inputs, o);
  EXPECT_EQ(calls, 2u);
  size_t cancelled = 0;
  for (const auto& x : r) {
    EXPECT_TRUE(x.ok() || x.status.code() == StatusCode::kUnavailable) << x.status.ToString();
    cancelled += !x.ok();
  }
  EXPECT_GE(cancelled, 1u);
}

TEST(BatchHash, OnImageHookAndSingleThreadMode) {
  const auto files = SampleImages();
  std::vector<BatchInput> inputs(files.begin(), files.end());
  const Bytes text = {'x', 'y', 'z'};
  inputs.insert(inputs.begin() + 1, std::span<const uint8_t>(text));
  const auto caller = std::this_thread::get_id();
  std::vector<int> widths(inputs.size(), -1);
  bool other_thread = false;
  BatchHashOptions o;
  o.signals = {};  // the hook alone still decodes every item
  o.max_threads = 1;
  o.on_image = [&](size_t i, const Image& image, std::span<const uint8_t> bytes) {
    if (std::this_thread::get_id() != caller) other_thread = true;
    widths[i] = image.width;
    EXPECT_FALSE(bytes.empty());
    return i == 3 ? Status::Internal("hook refused item 3") : Status::Ok();
  };
  const auto r = HashBatch(inputs, o);
  EXPECT_FALSE(other_thread);  // max_threads = 1: the calling thread did everything
  EXPECT_EQ(widths[1], -1);    // not an image: no hook call
  EXPECT_EQ(r[1].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r[3].status.code(), StatusCode::kInternal);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i == 1) continue;
    EXPECT_EQ(widths[i], DecodeImageFile(std::get<fs::path>(inputs[i]))->width) << i;
  }
  // A single item never starts a pool, whatever max_threads says.
  o.max_threads = 0;
  o.on_image = [&](size_t, const Image&, std::span<const uint8_t>) {
    if (std::this_thread::get_id() != caller) other_thread = true;
    return Status::Ok();
  };
  HashBatch(std::span(inputs).first(1), o);
  EXPECT_FALSE(other_thread);
}

}  // namespace
}  // namespace hashmatch

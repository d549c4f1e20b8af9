// HashBatch under concurrency (run under TSan by scripts/test.sh): several threads run batches at
// once on the shared oneTBB pool, each with its own progress callback and on_image hook that use
// no locks of their own (the header promises serialized progress calls and per-index hook calls),
// and every result must equal the one-at-a-time hash.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "../image_builders.h"
#include "hashmatch/core/batch_hash.h"

namespace hashmatch {
namespace {

TEST(BatchHashConcurrency, ParallelBatchesAgreeWithSequentialHashes) {
  // In-memory inputs shared read-only by every batch: JPEGs and PNGs, grey and RGB.
  std::vector<testing::Bytes> images;
  for (uint32_t seed = 0; seed < 12; ++seed) {
    const Image im = testing::PatternImage(48 + 8 * int(seed), 40, seed % 3 ? 3 : 1, seed);
    images.push_back(seed % 2 ? testing::EncodePng(im) : testing::EncodeJpeg(im, {}, 85));
  }
  std::vector<BatchInput> inputs;
  for (const auto& b : images) inputs.emplace_back(std::span<const uint8_t>(b));
  const testing::Bytes junk = {1, 2, 3};
  inputs.insert(inputs.begin() + 5, std::span<const uint8_t>(junk));

  // Caller 1 takes the fast JPEG path (the hasher's scratch is used differently there).
  std::vector<PdqHash> want(inputs.size()), want_fast(inputs.size());
  PdqHasher hasher;
  PdqOptions fast;
  fast.fast = true;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto bytes = std::get<std::span<const uint8_t>>(inputs[i]);
    auto im = DecodeImage(bytes);
    if (im.ok()) want[i] = hasher.Hash(*im);
    if (auto h = hasher.HashBytes(bytes, {}, fast); h.ok()) want_fast[i] = h->pdq[0];
  }

  constexpr int kCallers = 4;
  std::vector<std::thread> callers;
  std::vector<std::vector<BatchHashResult>> got(kCallers);
  std::vector<size_t> progress_calls(kCallers, 0), last_done(kCallers, 0);
  std::vector<std::vector<int>> hook_width(kCallers, std::vector<int>(inputs.size(), -1));
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      BatchHashOptions o;
      o.signals = {SignalType::kPdq, SignalType::kDHash64, SignalType::kMd5};
      o.max_threads = c == 0 ? 0 : c + 1;  // the default pool and arenas of 2, 3, 4
      o.pdq.fast = c == 1;
      o.progress = [&, c](size_t done, size_t) {
        ++progress_calls[c];  // plain writes: TSan checks the serialization
        last_done[c] = done;
        return true;
      };
      o.on_image = [&, c](size_t i, const Image& image, std::span<const uint8_t>) {
        hook_width[c][i] = image.width;  // one element per item: no race
        return Status::Ok();
      };
      for (int round = 0; round < 3; ++round) got[c] = HashBatch(inputs, o);
    });
  }
  for (auto& t : callers) t.join();

  for (int c = 0; c < kCallers; ++c) {
    ASSERT_EQ(got[c].size(), inputs.size());
    EXPECT_EQ(progress_calls[c], 3 * inputs.size());
    EXPECT_EQ(last_done[c], inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (i == 5) {
        EXPECT_FALSE(got[c][i].ok());
        EXPECT_EQ(hook_width[c][i], -1);
        continue;
      }
      ASSERT_TRUE(got[c][i].ok()) << got[c][i].status.ToString();
      EXPECT_EQ(got[c][i].pdq[0], c == 1 ? want_fast[i] : want[i])
          << "caller " << c << " item " << i;
      EXPECT_EQ(hook_width[c][i], got[c][i].width);
    }
  }
}

}  // namespace
}  // namespace hashmatch

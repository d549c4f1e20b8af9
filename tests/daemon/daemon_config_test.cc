// hashmatchd's configuration parser (daemon/include/hashmatch/daemon/config.h): the [index]
// section (GPU mirror mode and minimum batch) and its errors, which must name file and line.
#include <gtest/gtest.h>

#include <string>

#include "hashmatch/daemon/config.h"

namespace hashmatch::daemon {
namespace {

constexpr char kBase[] = "[server]\nstore = /tmp/hm-config-test-store\n";

Result<DaemonConfig> Parse(const std::string& extra) {
  return ParseConfig(std::string(kBase) + extra, "test.conf", "/tmp");
}

void ExpectError(const std::string& extra, const std::string& want) {
  auto c = Parse(extra);
  ASSERT_FALSE(c.ok()) << extra;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(want), std::string::npos)
      << "got: " << c.status().message() << "\nwanted: " << want;
}

TEST(DaemonConfigIndex, DefaultsAreCpuOnly) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->index.gpu, LiveIndexGpuOptions::Mode::kOff);
  EXPECT_EQ(c->index.gpu_min_batch, 256u);
}

TEST(DaemonConfigIndex, ParsesGpuModeAndMinBatch) {
  for (const auto& [text, mode] : {std::pair{"off", LiveIndexGpuOptions::Mode::kOff},
                                   std::pair{"auto", LiveIndexGpuOptions::Mode::kAuto},
                                   std::pair{"on", LiveIndexGpuOptions::Mode::kOn}}) {
    auto c = Parse(std::string("[index]\ngpu = ") + text + "  # comment\ngpu_min_batch = 1_000\n");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->index.gpu, mode) << text;
    EXPECT_EQ(c->index.gpu_min_batch, 1000u);
  }
}

TEST(DaemonConfigIndex, BadValuesAreErrorsWithTheirLine) {
  ExpectError("[index]\ngpu = yes\n", "test.conf:4: gpu expects off, auto or on, got 'yes'");
  ExpectError("[index]\ngpu = ON\n", "gpu expects off, auto or on, got 'ON'");
  ExpectError("[index]\ngpu =\n", "gpu expects off, auto or on, got ''");
  ExpectError("[index]\ngpu_min_batch = 0\n", "test.conf:4: gpu_min_batch must be at least 1");
  ExpectError("[index]\ngpu_min_batch = -3\n", "'gpu_min_batch' expects a number, got '-3'");
  ExpectError("[index]\ngpu_min_batch = 99999999999\n", "'gpu_min_batch' expects a number");
  ExpectError("[index]\ngpus = on\n", "unknown key 'gpus' in [index]");
  ExpectError("[index]\ngpu = on\ngpu = off\n", "'gpu' repeated in [index]");
  ExpectError("[server]\ngpu = on\n", "unknown key 'gpu' in [server]");
}

}  // namespace
}  // namespace hashmatch::daemon

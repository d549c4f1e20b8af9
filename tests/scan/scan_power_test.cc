// Power loss: RunScanJob writes its outputs and checkpoint through a fault-injecting Env
// (tests/store/fault_injection_env.h) that cuts the power at the n-th fsync / rename / directory
// sync and then throws away everything not yet durable, for every n until the scan completes.
// Each time, a resume from what survived must write exactly the bytes of an uninterrupted scan.
// SIGKILL (scan_kill_test) keeps unsynced writes; this drops them.
#include <gtest/gtest.h>

#include "fault_injection_env.h"
#include "hashmatch/scan/scan_job.h"
#include "scan_fixture.h"

namespace hashmatch {
namespace {

using namespace hashmatch::testing;

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(ScanPowerTest, PowerLossAtEveryBoundaryThenResumeWritesTheSameBytes) {
  TempDir tmp("hm-scan-power");
  const fs::path root = tmp.path();
  std::vector<Bytes> images;
  for (int i = 0; i < 8; ++i) images.push_back(FixtureImage(i));
  for (int i = 0; i < 5; ++i)
    WriteFile(root / "data" / ("img" + std::to_string(i) + ".jpg"), images[i]);
  WriteFile(root / "data" / "broken.jpg", CorruptJpeg(9));
  WriteTar(root / "data" / "s.tar",
           {{"5.jpg", images[5]}, {"6.png", images[6]}, {"7.jpg", images[7]}});
  auto store = MakeStore(root / "store", {Record("p1", SignalType::kPdq, PdqOf(images[1]))},
                         {Record("m6", SignalType::kMd5, Md5Of(images[6]))}, {});
  ASSERT_NE(store, nullptr);
  const auto snap = store->GetSnapshot();
  const std::vector<ScanInput> inputs = {{root / "data"}};
  auto files = [](const fs::path& dir) {
    return ScanJobFiles{dir / "out.jsonl", dir / "keep.txt", dir / "drop.txt", dir / "ckpt"};
  };
  ScanJobOptions jo;
  jo.write_all_items = true;
  jo.checkpoint_interval_s = 0;  // a checkpoint after every item: many boundaries
  jo.resume = true;

  fs::create_directories(root / "ref");
  ASSERT_TRUE(RunScanJob(*snap, inputs, jo, files(root / "ref")).ok());
  const std::string want_out = ReadAll(root / "ref/out.jsonl");
  const std::string want_keep = ReadAll(root / "ref/keep.txt");
  const std::string want_drop = ReadAll(root / "ref/drop.txt");
  ASSERT_EQ(std::count(want_out.begin(), want_out.end(), '\n'), 9);

  uint64_t n = 1;
  for (;; ++n) {
    ASSERT_LT(n, 2000u) << "the scan never completed";
    const fs::path dir = root / ("job" + std::to_string(n));
    fs::create_directories(dir);
    bool crashed = false;
    {
      FaultInjectionEnv env(dir);
      env.CrashAt(n);
      ScanJobOptions cut = jo;
      cut.env = &env;
      auto r = RunScanJob(*snap, inputs, cut, files(dir));
      crashed = env.crashed();
      if (crashed) {
        EXPECT_FALSE(r.ok()) << "boundary " << n;
        env.RestoreDurableState();
      } else {
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    }
    if (crashed) {  // resume from what survived, on a sound disk
      auto r = RunScanJob(*snap, inputs, jo, files(dir));
      ASSERT_TRUE(r.ok()) << "boundary " << n << ": " << r.status().ToString();
    }
    EXPECT_EQ(ReadAll(dir / "out.jsonl"), want_out) << "boundary " << n;
    EXPECT_EQ(ReadAll(dir / "keep.txt"), want_keep) << "boundary " << n;
    EXPECT_EQ(ReadAll(dir / "drop.txt"), want_drop) << "boundary " << n;
    fs::remove_all(dir);
    if (!crashed) break;
  }
  std::cout << "power cut at each of " << n - 1 << " boundaries\n";
  EXPECT_GT(n, 9u * 3);  // at least the per-item syncs of the three files
}

}  // namespace
}  // namespace hashmatch

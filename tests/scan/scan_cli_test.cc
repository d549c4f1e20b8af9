// `hashmatch scan` as a user runs it (the real binary, fork + exec): streaming to stdout, the
// summary file, exit statuses, usage errors, the progress bar, and the checkpoint's refusals
// (an existing checkpoint without --resume, a store changed since the checkpoint).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scan_fixture.h"

namespace hashmatch {
namespace {

using namespace hashmatch::testing;

std::string ReadAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

struct CliResult {
  int exit = -1;
  std::string out, err;
};

class ScanCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<TempDir>("hm-scan-cli");
    for (int i = 0; i < 6; ++i) images_.push_back(FixtureImage(i));
    WriteFile(dir() / "a.jpg", images_[0]);
    WriteFile(dir() / "b.png", images_[1]);
    WriteFile(dir() / "c.jpg", images_[2]);
    WriteTar(root() / "s.tar", {{"x/3.jpg", images_[3]}, {"x/4.png", images_[4]}});
    MakeStore(store(), {Record("p0", SignalType::kPdq, PdqOf(images_[0]))},
              {Record("m4", SignalType::kMd5, Md5Of(images_[4]))}, {})
        .reset();
  }
  fs::path root() const { return tmp_->path(); }
  fs::path dir() const { return root() / "dir"; }
  fs::path store() const { return root() / "store"; }

  // stdout goes to a file, truncated first unless `append` (as `>>` in a shell).
  CliResult Run(std::vector<std::string> args, bool append = false) {
    const fs::path out = root() / "stdout", err = root() / "stderr";
    std::vector<char*> argv = {const_cast<char*>(HASHMATCH_CLI)};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644), 1);
      ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
      ::execv(HASHMATCH_CLI, argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CliResult r;
    r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(out);
    r.err = ReadAll(err);
    return r;
  }

  std::unique_ptr<TempDir> tmp_;
  std::vector<Bytes> images_;
};

size_t Lines(const std::string& s) {
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

TEST_F(ScanCliTest, StreamsToStdoutWithASummary) {
  const fs::path summary = root() / "summary.json";
  auto r = Run({"scan", "--store", store().string(), "--summary", summary.string(), "--quiet",
                dir().string(), (root() / "s.tar").string()});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.err, "");  // --quiet
  // Only the flagged items: a.jpg (PDQ) and x/4.png (MD5).
  ASSERT_EQ(Lines(r.out), 2u) << r.out;
  EXPECT_NE(r.out.find("\"path\":\"" + (dir() / "a.jpg").string() + "\""), std::string::npos);
  EXPECT_NE(r.out.find("\"member\":\"x/4.png\",\"result\":\"match\""), std::string::npos);
  EXPECT_NE(r.out.find("\"set\":\"bad_md5\""), std::string::npos);
  const std::string s = ReadAll(summary);
  EXPECT_EQ(s.rfind("{\"items\":5,\"scanned\":5,\"matched\":2,", 0), 0u) << s;
  // Appending to what stdout already holds (`>>`): kept, not truncated.
  WriteText(root() / "stdout", "earlier line\n");
  r = Run({"scan", "--store", store().string(), "--quiet", dir().string()}, /*append=*/true);
  EXPECT_EQ(r.exit, 0);
  EXPECT_EQ(r.out.rfind("earlier line\n{\"index\":0,", 0), 0u) << r.out;
  // --all-items: every item, in order.
  r = Run({"scan", "--store", store().string(), "--all-items", "--no-progress", dir().string()});
  EXPECT_EQ(r.exit, 0);
  EXPECT_EQ(Lines(r.out), 3u);
  EXPECT_LT(r.out.find("a.jpg"), r.out.find("b.png"));
  EXPECT_NE(r.err.find("scanned 3 items: 1 matched"), std::string::npos) << r.err;
}

TEST_F(ScanCliTest, FailedItemsGiveExitStatusOneAndAreReported) {
  WriteFile(dir() / "d.jpg", CorruptJpeg(5));
  auto r = Run({"scan", "--store", store().string(), "--no-progress", dir().string(),
                (root() / "missing.tar").string()});
  EXPECT_EQ(r.exit, 1);
  EXPECT_NE(r.err.find("d.jpg"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.tar"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("\"result\":\"error\""), std::string::npos);
  EXPECT_NE(r.err.find("failed (not_found): 1"), std::string::npos) << r.err;
}

TEST_F(ScanCliTest, UsageErrors) {
  EXPECT_EQ(Run({"scan", dir().string()}).exit, 2);               // no --store
  EXPECT_EQ(Run({"scan", "--store", store().string()}).exit, 2);  // no inputs
  EXPECT_EQ(Run({"scan", "--store", store().string(), "--resume", dir().string()}).exit, 2);
  EXPECT_EQ(Run({"scan", "--store", store().string(), "--bogus", dir().string()}).exit, 2);
  EXPECT_EQ(Run({"scan", "--store", store().string(), "--min-quality", "101", dir().string()}).exit,
            2);
  auto r = Run({"scan", "--store", store().string(), "--set", "nope", dir().string()});
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.err.find("nope"), std::string::npos);
  EXPECT_EQ(Run({"scan", "--store", (root() / "no-store").string(), dir().string()}).exit, 2);
}

TEST_F(ScanCliTest, ProgressBarOnRequest) {
  auto r = Run({"scan", "--store", store().string(), "--progress", "--out",
                (root() / "o.jsonl").string(), dir().string()});
  EXPECT_EQ(r.exit, 0);
  EXPECT_NE(r.err.find("scanning"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3/3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find('\r'), std::string::npos);
  EXPECT_EQ(r.out, "");
}

TEST_F(ScanCliTest, CheckpointRefusals) {
  const std::string out = (root() / "o.jsonl").string();
  auto r = Run({"scan", "--store", store().string(), "--out", out, "--quiet", dir().string()});
  ASSERT_EQ(r.exit, 0) << r.err;
  const std::string first = ReadAll(out);
  EXPECT_TRUE(fs::exists(out + ".checkpoint"));
  // Again without --resume: refused, nothing changed.
  r = Run({"scan", "--store", store().string(), "--out", out, dir().string()});
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  EXPECT_EQ(ReadAll(out), first);
  // With --resume: already complete, same output.
  r = Run({"scan", "--store", store().string(), "--out", out, "--resume", dir().string()});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(ReadAll(out), first);
  // Other options: refused.
  r = Run({"scan", "--store", store().string(), "--out", out, "--resume", "--dihedral",
           dir().string()});
  EXPECT_EQ(r.exit, 2);
  // The store changed: refused (the results would mix set versions).
  {
    auto s = HashSetStore::Open(store(), {}).value();
    ASSERT_TRUE(s->SetEntryEnabled("bad_pdq", "p0", false).ok());
  }
  r = Run({"scan", "--store", store().string(), "--out", out, "--resume", dir().string()});
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.err.find("store changed"), std::string::npos) << r.err;
  EXPECT_EQ(ReadAll(out), first);
  // --no-checkpoint: a fresh scan that writes none; the disabled entry no longer matches.
  fs::remove(out + ".checkpoint");
  r = Run({"scan", "--store", store().string(), "--out", out, "--no-checkpoint", "--quiet",
           dir().string()});
  EXPECT_EQ(r.exit, 0);
  EXPECT_EQ(ReadAll(out), "");
  EXPECT_FALSE(fs::exists(out + ".checkpoint"));
}

}  // namespace
}  // namespace hashmatch

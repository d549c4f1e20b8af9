// hashmatch hash [--algo ALGO] [--dihedral] [--compat-512] [--fast] [--exif-orientation]
//                [--format text|jsonl] [--max-pixels N] [--threads N]
//                [--progress|--no-progress|--quiet] FILE|DIR...
//
// ALGO is pdq (default), ahash64, dhash64, phash64, whash64 (Python imagehash's 64-bit hashes, in
// its hex form) or md5, sha1, sha256 (of the raw file bytes, never decoded).
// Text output for PDQ is the reference tool's `hash,quality,path`; with --dihedral one line per
// orientation with its name appended. Every other algorithm prints `hash,path`. JSON lines carry
// "algo"; a failed file is a line {"path","algo","error","code"}.
//
// Files go through HashBatch (oneTBB, --threads N, default all cores, 1 = sequential) in chunks of
// a few hundred, streamed as they come from the directory walk (image_inputs.h: arguments in order,
// directories recursively in sorted order): output starts after the first chunk and memory stays
// bounded however many files there are, and the lines come in input order whatever the threads.
// Every failure is reported on stderr as `hashmatch: PATH: MESSAGE` and the others go on; the exit
// status is 1 when any file failed. A progress bar (progress.h) goes to stderr on a terminal.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>
#include <utility>

#include "commands.h"
#include "hashmatch/core/batch_hash.h"
#include "hashmatch/core/digest.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/core/imagehash.h"
#include "image_inputs.h"
#include "progress.h"

namespace hashmatch::cli {

namespace {

constexpr std::pair<const char*, SignalType> kAlgos[] = {
    {"pdq", SignalType::kPdq},         {"ahash64", SignalType::kAHash64},
    {"dhash64", SignalType::kDHash64}, {"phash64", SignalType::kPHash64},
    {"whash64", SignalType::kWHash64}, {"md5", SignalType::kMd5},
    {"sha1", SignalType::kSha1},       {"sha256", SignalType::kSha256},
};

bool IsDigest(SignalType t) {
  return t == SignalType::kMd5 || t == SignalType::kSha1 || t == SignalType::kSha256;
}

// Digests read each file whole in HashBatch; larger files are streamed on the calling thread
// instead, so memory stays at threads x this.
constexpr uint64_t kDigestInMemoryBytes = uint64_t(64) << 20;

template <class D>
Status StreamDigest(Result<D> r, D* out) {
  if (!r.ok()) return r.status();
  *out = *r;
  return Status::Ok();
}

Status StreamDigestFile(SignalType algo, const std::filesystem::path& path, BatchHashResult* r) {
  switch (algo) {
    case SignalType::kMd5:
      return StreamDigest(Md5File(path), &r->md5);
    case SignalType::kSha1:
      return StreamDigest(Sha1File(path), &r->sha1);
    default:
      return StreamDigest(Sha256File(path), &r->sha256);
  }
}

std::string CodeHex(SignalType algo, const BatchHashResult& r) {
  switch (algo) {
    case SignalType::kAHash64:
      return ImageHashToHex(r.ahash);
    case SignalType::kDHash64:
      return ImageHashToHex(r.dhash);
    case SignalType::kPHash64:
      return ImageHashToHex(r.phash);
    case SignalType::kWHash64:
      return ImageHashToHex(r.whash);
    default:
      return EncodeHex(r.Code(algo));
  }
}

struct HashCommand {
  SignalType algo = SignalType::kPdq;
  std::string algo_name = "pdq";
  bool jsonl = false;
  bool dihedral = false;

  // One failure: stderr always, and a JSON line on stdout in jsonl mode.
  void ReportFailure(const std::filesystem::path& path, const Status& s) const {
    std::fflush(stdout);  // in order with the lines before it, also when both go to one pipe
    std::fprintf(stderr, "hashmatch: %s\n", s.message().c_str());
    if (!jsonl) return;
    // The message starts with the path (HashBatch and the walk put it there); "error" has the rest.
    std::string message = s.message();
    const std::string prefix = path.string() + ": ";
    if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
    std::printf("{\"path\":\"%s\",\"algo\":\"%s\",\"error\":\"%s\",\"code\":\"%s\"}\n",
                JsonEscape(path.string()).c_str(), algo_name.c_str(), JsonEscape(message).c_str(),
                std::string(StatusCodeName(s.code())).c_str());
  }

  void Print(const std::filesystem::path& path, const BatchHashResult& r) const {
    if (algo != SignalType::kPdq) {
      const std::string hex = CodeHex(algo, r);
      if (jsonl) {
        std::printf("{\"path\":\"%s\",\"algo\":\"%s\",\"hash\":\"%s\"%s}\n",
                    JsonEscape(path.string()).c_str(), algo_name.c_str(), hex.c_str(),
                    r.truncated ? ",\"truncated\":true" : "");
      } else {
        std::printf("%s,%s\n", hex.c_str(), path.string().c_str());
      }
    } else if (jsonl) {
      std::printf(
          "{\"path\":\"%s\",\"algo\":\"pdq\",\"pdq\":\"%s\","
          "\"quality\":%d,\"truncated\":%s",
          JsonEscape(path.string()).c_str(), ToHex(r.pdq[0].hash).c_str(), r.pdq[0].quality,
          r.truncated ? "true" : "false");
      if (dihedral) {
        std::printf(",\"dihedral\":{");
        for (size_t d = 0; d < kNumDihedral; ++d) {
          std::printf("%s\"%s\":\"%s\"", d ? "," : "", DihedralName(Dihedral(d)),
                      ToHex(r.pdq[d].hash).c_str());
        }
        std::printf("}");
      }
      std::printf("}\n");
    } else {
      const size_t n = dihedral ? kNumDihedral : 1;
      for (size_t d = 0; d < n; ++d) {
        std::printf("%s,%d,%s%s%s\n", ToHex(r.pdq[d].hash).c_str(), r.pdq[d].quality,
                    path.string().c_str(), dihedral ? "," : "",
                    dihedral ? DihedralName(Dihedral(d)) : "");
      }
    }
    if (r.truncated) {
      std::fflush(stdout);
      std::fprintf(stderr, "hashmatch: %s: truncated (hashed)\n", path.string().c_str());
    }
  }
};

}  // namespace

int RunHash(int argc, char** argv) {
  HashCommand cmd;
  BatchHashOptions options;
  ProgressMode progress_mode = ProgressMode::kAuto;
  bool quiet = false;
  std::vector<std::string> inputs;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dihedral") {
      cmd.dihedral = options.dihedral = true;
    } else if (a == "--exif-orientation") {
      options.decode.apply_exif_orientation = true;
    } else if (a == "--compat-512") {
      options.pdq.compat_512 = true;
    } else if (a == "--fast") {  // PDQ fast path for JPEGs (not bit-exact; not for lists)
      options.pdq.fast = true;
    } else if (a == "--algo") {
      cmd.algo_name = i + 1 < argc ? argv[++i] : "";
      auto it = std::find_if(std::begin(kAlgos), std::end(kAlgos),
                             [&](const auto& p) { return cmd.algo_name == p.first; });
      if (it == std::end(kAlgos)) {
        return Usage(
            "hash: --algo is one of pdq, ahash64, dhash64, phash64, whash64, md5, "
            "sha1, sha256");
      }
      cmd.algo = it->second;
    } else if (a == "--format") {
      const std::string v = i + 1 < argc ? argv[++i] : "";
      if (v != "text" && v != "jsonl") return Usage("--format is text or jsonl");
      cmd.jsonl = v == "jsonl";
    } else if (a == "--max-pixels") {
      uint32_t mp = 0;
      if (i + 1 >= argc || !ParseUint(argv[++i], &mp) || mp == 0) {
        return Usage("--max-pixels needs a positive number");
      }
      options.decode.max_pixels = mp;
    } else if (a == "--threads") {
      uint32_t n = 0;
      if (i + 1 >= argc || !ParseUint(argv[++i], &n)) {
        return Usage("--threads needs a number (0: all cores)");
      }
      options.max_threads = int(n);
    } else if (a == "--progress") {
      progress_mode = ProgressMode::kAlways;
    } else if (a == "--no-progress") {
      progress_mode = ProgressMode::kNever;
    } else if (a == "--quiet") {
      quiet = true;
    } else if (a.rfind("--", 0) == 0) {
      return Usage("unknown option " + a);
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty()) return Usage("hash needs files or directories");
  if (cmd.algo != SignalType::kPdq && (cmd.dihedral || options.pdq.compat_512)) {
    return Usage(std::string(cmd.dihedral ? "--dihedral" : "--compat-512") +
                 " is only valid with --algo pdq");
  }
  if (quiet) progress_mode = ProgressMode::kNever;
  options.signals = {cmd.algo};
  if (IsDigest(cmd.algo)) options.max_file_bytes = kDigestInMemoryBytes;

  ProgressBar bar(ProgressEnabled(progress_mode), "hashing");
  if (bar.enabled()) bar.set_total(CountInputs(inputs));  // a walk without hashing: cheap
  const bool stdout_tty = isatty(fileno(stdout)) == 1;

  // Chunks: enough items to keep every thread busy, few enough that output streams.
  const size_t threads = options.max_threads > 0
                             ? size_t(options.max_threads)
                             : std::max(1u, std::thread::hardware_concurrency());
  const size_t chunk_size = std::max<size_t>(256, 16 * threads);
  InputWalker walker(std::move(inputs));
  std::vector<InputWalker::Entry> chunk;
  std::vector<BatchInput> batch;
  size_t done = 0, failed = 0;
  for (bool more = true; more;) {
    chunk.clear();
    batch.clear();
    InputWalker::Entry entry;
    while (chunk.size() < chunk_size && (more = walker.Next(&entry))) {
      chunk.push_back(std::move(entry));
    }
    if (chunk.empty()) break;
    size_t walk_failures = 0;
    for (const auto& e : chunk) {
      if (e.status.ok()) {
        batch.emplace_back(e.path);
      } else {
        ++walk_failures;
      }
    }
    if (bar.enabled()) {
      const size_t base = done + walk_failures, base_failed = failed + walk_failures;
      options.progress = [&bar, base, base_failed](size_t d, size_t) {
        bar.Update(base + d, base_failed);
        return true;
      };
    }
    std::vector<BatchHashResult> results = HashBatch(batch, options);

    // In input order: a line per file on stdout, failures and notes on stderr.
    bool clear = stdout_tty || walk_failures > 0;
    for (const auto& r : results) clear = clear || !r.ok() || r.truncated;
    if (clear) bar.Clear();
    size_t next = 0;
    for (const auto& e : chunk) {
      Status s = e.status;
      if (s.ok()) {
        BatchHashResult& r = results[next++];
        if (!r.ok() && IsDigest(cmd.algo) && r.status.code() == StatusCode::kOutOfRange) {
          r.status = StreamDigestFile(cmd.algo, e.path, &r);  // too big to read whole
        }
        s = r.status;
        if (s.ok()) cmd.Print(e.path, r);
      }
      if (!s.ok()) {
        cmd.ReportFailure(e.path, s);
        ++failed;
      }
    }
    std::fflush(stdout);
    done += chunk.size();
    bar.Update(done, failed);
  }
  bar.Finish();
  if (failed > 0) {
    if (!quiet) std::fprintf(stderr, "hashmatch: %zu of %zu files failed\n", failed, done);
    return 1;
  }
  return 0;
}

}  // namespace hashmatch::cli

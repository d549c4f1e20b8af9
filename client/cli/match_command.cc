// hashmatch match: hashes and images against a list file, through the flat distance kernels.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "hash_list.h"
#include "hashmatch/core/batch_hash.h"
#include "hashmatch/core/distance.h"
#include "hashmatch/core/hex.h"
#include "image_inputs.h"
#include "progress.h"

namespace hashmatch::cli {
namespace {

struct MatchOptions {
  std::string list;
  SignalType type = SignalType::kPdq;
  uint32_t threshold = 31;
  bool threshold_set = false;
  bool jsonl = false;
  bool dihedral = false;
  uint32_t min_quality = 50;  // PDQ convention: below 50 is featureless, not matched
  DecodeOptions decode;       // --exif-orientation
  PdqOptions pdq;             // --fast
  int threads = 0;            // --threads: HashBatch's max_threads (0: all cores)
  ProgressMode progress = ProgressMode::kAuto;  // --progress, --no-progress
  std::vector<std::string> inputs;
};

// Queries gathered from every input; returns false when any input failed (already reported).
// Paths are walked lazily (InputWalker) in chunks; each chunk's images are hashed in one HashBatch
// (--threads), so queries keep input order.
bool GatherQueries(const MatchOptions& o, HashFile* queries) {
  const size_t cb = GetSignalInfo(o.type).code_bytes;
  bool ok = true;
  ProgressBar bar(ProgressEnabled(o.progress), "hashing");
  auto report = [&](const std::string& message) {
    bar.Clear();
    std::cerr << "hashmatch: " << message << "\n";
    ok = false;
  };
  std::error_code ec;
  if (bar.enabled()) {
    std::vector<std::string> paths;
    for (const std::string& in : o.inputs) {
      if (std::filesystem::exists(in, ec)) paths.push_back(in);
    }
    bar.set_total(CountInputs(paths));
  }
  BatchHashOptions batch_options;
  batch_options.signals = {SignalType::kPdq};
  batch_options.dihedral = o.dihedral;
  batch_options.decode = o.decode;
  batch_options.pdq = o.pdq;
  batch_options.max_threads = o.threads;
  const size_t threads =
      o.threads > 0 ? size_t(o.threads) : std::max(1u, std::thread::hardware_concurrency());
  const size_t chunk_size = std::max<size_t>(256, 16 * threads);
  size_t done = 0, failed = 0;
  for (const std::string& in : o.inputs) {
    if (!std::filesystem::exists(in, ec)) {  // not a path: an inline hash
      std::vector<uint8_t> code(cb);
      if (Status s = ParseOneCode(in, o.type, code.data()); !s.ok()) {
        report("query '" + in + "': " + s.message());
        continue;
      }
      queries->codes.insert(queries->codes.end(), code.begin(), code.end());
      queries->labels.push_back("arg");
      continue;
    }
    InputWalker walker({in});
    std::vector<InputWalker::Entry> chunk;
    std::vector<BatchInput> batch;
    std::vector<char> is_image;
    for (bool more = true; more;) {
      chunk.clear();
      batch.clear();
      is_image.clear();
      InputWalker::Entry entry;
      while (chunk.size() < chunk_size && (more = walker.Next(&entry))) {
        is_image.push_back(entry.status.ok() && LooksLikeImage(entry.path));
        if (is_image.back() && o.type == SignalType::kPdq) batch.emplace_back(entry.path);
        chunk.push_back(std::move(entry));
      }
      if (bar.enabled()) {
        const size_t base = done, base_failed = failed;
        batch_options.progress = [&bar, base, base_failed](size_t d, size_t) {
          bar.Update(base + d, base_failed);
          return true;
        };
      }
      const std::vector<BatchHashResult> results = HashBatch(batch, batch_options);
      size_t next = 0;
      for (size_t i = 0; i < chunk.size(); ++i) {
        const std::filesystem::path& path = chunk[i].path;
        if (!chunk[i].status.ok()) {
          report(chunk[i].status.message());
          ++failed;
        } else if (!is_image[i]) {
          HashFile f;
          if (Status s = ReadHashFile(path, o.type, &f); !s.ok()) {
            report(s.message());
            ++failed;
            continue;
          }
          queries->codes.insert(queries->codes.end(), f.codes.begin(), f.codes.end());
          queries->labels.insert(queries->labels.end(), f.labels.begin(), f.labels.end());
        } else if (o.type != SignalType::kPdq) {
          report(path.string() + ": images are hashed with PDQ only");
          ++failed;
        } else if (const BatchHashResult& h = results[next++]; !h.ok()) {
          report(h.status.message());
          ++failed;
        } else if (h.pdq[0].quality < int(o.min_quality)) {
          bar.Clear();
          std::cerr << "hashmatch: " << path.string() << ": quality " << h.pdq[0].quality
                    << " is below " << o.min_quality << "; not matched\n";
        } else {
          const size_t n = o.dihedral ? kNumDihedral : 1;
          for (size_t d = 0; d < n; ++d) {
            const uint8_t* c = h.pdq[d].hash.data();
            queries->codes.insert(queries->codes.end(), c, c + cb);
            queries->labels.push_back(o.dihedral ? path.string() + "#" + DihedralName(Dihedral(d))
                                                 : path.string());
          }
        }
      }
      done += chunk.size();
      bar.Update(done, failed);
    }
  }
  bar.Finish();
  return ok;
}

}  // namespace

int RunMatch(int argc, char** argv) {
  MatchOptions o;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--list") {
      if (!value(&o.list)) return Usage("--list needs a file");
    } else if (a == "--type") {
      if (!value(&v)) return Usage("--type needs a value");
      auto t = SignalTypeFromName(v);
      if (!t || !GetSignalInfo(*t).perceptual)
        return Usage("--type must be a perceptual hash type");
      o.type = *t;
    } else if (a == "--threshold") {
      if (!value(&v) || !ParseUint(v, &o.threshold)) return Usage("--threshold needs a number");
      o.threshold_set = true;
    } else if (a == "--min-quality") {
      if (!value(&v) || !ParseUint(v, &o.min_quality)) return Usage("--min-quality needs a number");
    } else if (a == "--dihedral") {
      o.dihedral = true;
    } else if (a == "--exif-orientation") {
      o.decode.apply_exif_orientation = true;
    } else if (a == "--fast") {
      o.pdq.fast = true;
    } else if (a == "--threads") {
      uint32_t n = 0;
      if (!value(&v) || !ParseUint(v, &n)) return Usage("--threads needs a number (0: all cores)");
      o.threads = int(n);
    } else if (a == "--progress") {
      o.progress = ProgressMode::kAlways;
    } else if (a == "--no-progress") {
      o.progress = ProgressMode::kNever;
    } else if (a == "--format") {
      if (!value(&v) || (v != "text" && v != "jsonl")) return Usage("--format is text or jsonl");
      o.jsonl = v == "jsonl";
    } else if (a.rfind("--", 0) == 0) {
      return Usage("unknown option " + a);
    } else {
      o.inputs.push_back(a);
    }
  }
  if (o.list.empty()) return Usage("match needs --list FILE");
  if (o.inputs.empty()) return Usage("match needs hashes, hash files or images");
  const SignalInfo& info = GetSignalInfo(o.type);
  if (!o.threshold_set) o.threshold = o.type == SignalType::kPdq ? 31 : 8;
  if (o.threshold > info.max_distance) {
    return Usage("--threshold " + std::to_string(o.threshold) + " exceeds the " +
                 std::to_string(info.max_distance) + " bits of " + std::string(info.name));
  }

  HashFile list;
  if (Status s = ReadHashFile(o.list, o.type, &list); !s.ok()) {
    std::cerr << "hashmatch: list refused: " << s.message() << "\n";
    return 2;
  }
  HashFile queries;
  queries.type = o.type;
  const bool all_ok = GatherQueries(o, &queries);

  const DistanceKernels& k = DistanceKernels::Default();
  const size_t cb = info.code_bytes;
  std::vector<RangeHit> hits;
  Status s = k.RangeSearch({queries.codes.data(), queries.size(), cb},
                           {list.codes.data(), list.size(), cb}, o.threshold, &hits);
  if (!s.ok()) {
    std::cerr << "hashmatch: " << s.ToString() << "\n";
    return 2;
  }
  std::sort(hits.begin(), hits.end(), [](const RangeHit& a, const RangeHit& b) {
    if (a.query != b.query) return a.query < b.query;
    return a.distance != b.distance ? a.distance < b.distance : a.row < b.row;
  });
  auto hex = [&](const HashFile& f, size_t i) {
    return EncodeHex(std::span<const uint8_t>(f.codes.data() + i * cb, cb));
  };
  for (const RangeHit& h : hits) {
    if (o.jsonl) {
      std::printf(
          "{\"query\":\"%s\",\"query_source\":\"%s\",\"match\":\"%s\",\"list_entry\":\"%s\","
          "\"distance\":%u,\"type\":\"%s\"}\n",
          hex(queries, h.query).c_str(), JsonEscape(queries.labels[h.query]).c_str(),
          hex(list, h.row).c_str(), JsonEscape(list.labels[h.row]).c_str(), h.distance,
          std::string(info.name).c_str());
    } else {
      std::printf("%s,%s,%u,%s,%s\n", hex(queries, h.query).c_str(), hex(list, h.row).c_str(),
                  h.distance, list.labels[h.row].c_str(), queries.labels[h.query].c_str());
    }
  }
  std::fflush(stdout);  // the summary follows the matches, also through pipes
  std::fprintf(stderr,
               "hashmatch: %zu queries, %zu list entries, %zu matches at distance <= %u (%s "
               "kernels)\n",
               queries.size(), list.size(), hits.size(), o.threshold,
               std::string(KernelPathName(k.path())).c_str());
  return all_ok ? 0 : 1;
}

}  // namespace hashmatch::cli

// hashmatch match: hashes and images against a list file, through the flat distance kernels.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "hash_list.h"
#include "hashmatch/core/distance.h"
#include "hashmatch/core/hex.h"
#include "image_inputs.h"

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
  std::vector<std::string> inputs;
};

// Queries gathered from every input; returns false when any input failed (already reported).
bool GatherQueries(const MatchOptions& o, HashFile* queries) {
  const size_t cb = GetSignalInfo(o.type).code_bytes;
  bool ok = true;
  PdqHasher hasher;
  for (const std::string& in : o.inputs) {
    std::error_code ec;
    if (!std::filesystem::exists(in, ec)) {  // not a path: an inline hash
      std::vector<uint8_t> code(cb);
      if (Status s = ParseOneCode(in, o.type, code.data()); !s.ok()) {
        std::cerr << "hashmatch: query '" << in << "': " << s.message() << "\n";
        ok = false;
        continue;
      }
      queries->codes.insert(queries->codes.end(), code.begin(), code.end());
      queries->labels.push_back("arg");
      continue;
    }
    std::vector<std::filesystem::path> files;
    if (Status s = ExpandPaths({in}, &files); !s.ok()) {
      std::cerr << "hashmatch: " << s.message() << "\n";
      ok = false;
      continue;
    }
    for (const auto& path : files) {
      if (!LooksLikeImage(path)) {
        HashFile f;
        if (Status s = ReadHashFile(path, o.type, &f); !s.ok()) {
          std::cerr << "hashmatch: " << s.message() << "\n";
          ok = false;
          continue;
        }
        queries->codes.insert(queries->codes.end(), f.codes.begin(), f.codes.end());
        queries->labels.insert(queries->labels.end(), f.labels.begin(), f.labels.end());
        continue;
      }
      if (o.type != SignalType::kPdq) {
        std::cerr << "hashmatch: " << path.string() << ": images are hashed with PDQ only\n";
        ok = false;
        continue;
      }
      auto h = HashImageFile(path, hasher, o.decode, o.pdq, o.dihedral);
      if (!h.ok()) {
        std::cerr << "hashmatch: " << h.status().ToString() << "\n";
        ok = false;
        continue;
      }
      if (h->pdq[0].quality < int(o.min_quality)) {
        std::cerr << "hashmatch: " << path.string() << ": quality " << h->pdq[0].quality
                  << " is below " << o.min_quality << "; not matched\n";
        continue;
      }
      const size_t n = o.dihedral ? kNumDihedral : 1;
      for (size_t d = 0; d < n; ++d) {
        const uint8_t* c = h->pdq[d].hash.data();
        queries->codes.insert(queries->codes.end(), c, c + cb);
        queries->labels.push_back(o.dihedral ? path.string() + "#" + DihedralName(Dihedral(d))
                                             : path.string());
      }
    }
  }
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

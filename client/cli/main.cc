// hashmatch: the command-line tool.
//
//   hashmatch match --list FILE [--type pdq] [--threshold N] [--format text|jsonl] HASH|FILE...
//       Matches hashes (given inline, or in files of one hash per line) against a list file by
//       Hamming distance (<= threshold). Prints one line per match. Exit status: 0 all queries
//       processed, 1 some query was malformed (each reported on stderr), 2 usage or list error.
//   hashmatch kernels
//       Prints the kernel paths this CPU supports and the one in use.
//
// Later issues add hash, sets, import, sync, scan and --server.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "hash_list.h"
#include "hashmatch/core/distance.h"
#include "hashmatch/core/hex.h"

namespace hashmatch::cli {
namespace {

constexpr char kUsage[] =
    "usage: hashmatch match --list FILE [--type TYPE] [--threshold N] [--format text|jsonl] "
    "HASH|FILE...\n"
    "       hashmatch kernels\n";

int Usage(const std::string& why) {
  std::cerr << "hashmatch: " << why << "\n" << kUsage;
  return 2;
}

struct MatchOptions {
  std::string list;
  SignalType type = SignalType::kPdq;
  uint32_t threshold = 31;
  bool threshold_set = false;
  bool jsonl = false;
  std::vector<std::string> inputs;
};

bool ParseUint(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
  *out = uint32_t(std::stoul(s));
  return true;
}

int RunMatch(int argc, char** argv) {
  MatchOptions o;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
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
  if (o.inputs.empty()) return Usage("match needs hashes or files of hashes");
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

  // Queries: an argument is a file when it exists, else a hash.
  HashFile queries;
  queries.type = o.type;
  bool any_error = false;
  for (const std::string& in : o.inputs) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(in, ec)) {
      HashFile f;
      if (Status s = ReadHashFile(in, o.type, &f); !s.ok()) {
        std::cerr << "hashmatch: " << s.message() << "\n";
        any_error = true;
        continue;
      }
      queries.codes.insert(queries.codes.end(), f.codes.begin(), f.codes.end());
      queries.labels.insert(queries.labels.end(), f.labels.begin(), f.labels.end());
    } else {
      std::vector<uint8_t> code(info.code_bytes);
      if (Status s = ParseOneCode(in, o.type, code.data()); !s.ok()) {
        std::cerr << "hashmatch: query '" << in << "': " << s.message() << "\n";
        any_error = true;
        continue;
      }
      queries.codes.insert(queries.codes.end(), code.begin(), code.end());
      queries.labels.push_back("arg");
    }
  }

  const DistanceKernels& k = DistanceKernels::Default();
  std::vector<RangeHit> hits;
  const size_t cb = info.code_bytes;
  Status s = k.RangeSearch({queries.codes.data(), queries.size(), cb},
                           {list.codes.data(), list.size(), cb}, o.threshold, &hits);
  if (!s.ok()) {
    std::cerr << "hashmatch: " << s.ToString() << "\n";
    return 2;
  }
  std::sort(hits.begin(), hits.end(), [](const RangeHit& a, const RangeHit& b) {
    return a.query != b.query         ? a.query < b.query
           : a.distance != b.distance ? a.distance < b.distance
                                      : a.row < b.row;
  });
  auto hex = [&](const HashFile& f, size_t i) {
    return EncodeHex(std::span<const uint8_t>(f.codes.data() + i * cb, cb));
  };
  for (const RangeHit& h : hits) {
    if (o.jsonl) {
      std::printf(
          "{\"query\":\"%s\",\"query_source\":\"%s\",\"match\":\"%s\",\"list_entry\":\"%s\","
          "\"distance\":%u,\"type\":\"%s\"}\n",
          hex(queries, h.query).c_str(), queries.labels[h.query].c_str(), hex(list, h.row).c_str(),
          list.labels[h.row].c_str(), h.distance, std::string(info.name).c_str());
    } else {
      std::printf("%s,%s,%u,%s\n", hex(queries, h.query).c_str(), hex(list, h.row).c_str(),
                  h.distance, list.labels[h.row].c_str());
    }
  }
  std::fprintf(
      stderr,
      "hashmatch: %zu queries, %zu list entries, %zu matches at distance <= %u (%s kernels)\n",
      queries.size(), list.size(), hits.size(), o.threshold,
      std::string(KernelPathName(k.path())).c_str());
  return any_error ? 1 : 0;
}

int RunKernels() {
  for (KernelPath p : kAllKernelPaths) {
    std::printf("%-7s %s\n", std::string(KernelPathName(p)).c_str(),
                KernelPathSupported(p) ? "supported" : "not supported");
  }
  std::printf("in use: %s\n",
              std::string(KernelPathName(DistanceKernels::Default().path())).c_str());
  return 0;
}

}  // namespace
}  // namespace hashmatch::cli

int main(int argc, char** argv) {
  if (argc < 2) return hashmatch::cli::Usage("no command");
  const std::string cmd = argv[1];
  if (cmd == "match") return hashmatch::cli::RunMatch(argc - 2, argv + 2);
  if (cmd == "kernels") return hashmatch::cli::RunKernels();
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << hashmatch::cli::kUsage;
    return 0;
  }
  return hashmatch::cli::Usage("unknown command '" + cmd + "'");
}

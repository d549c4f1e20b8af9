// hashmatch: the command-line tool.
//
//   hashmatch hash [--dihedral] [--compat-512] [--format text|jsonl] FILE|DIR...
//       PDQ hashes of images (JPEG, PNG, WebP), as `hash,quality,path`.
//   hashmatch match --list FILE [--type pdq] [--threshold N] [--dihedral] [--min-quality N]
//                   [--format text|jsonl] HASH|FILE|DIR...
//       Matches hashes (inline, or files of one hash per line) and images (hashed locally) against
//       a list file by Hamming distance (<= threshold); one line per match.
//   hashmatch kernels
//       Prints the kernel paths this CPU supports and the one in use.
//
// Exit status: 0 all inputs processed, 1 some input failed (each reported on stderr), 2 usage or
// list error. Later issues add sets, import, sync, scan and --server.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "commands.h"
#ifdef HASHMATCH_WITH_STORE
#include "scan_command.h"
#include "store_commands.h"
#endif
#ifdef HASHMATCH_WITH_CLIENT
#include "remote.h"
#endif
#include "hashmatch/core/distance.h"

namespace hashmatch::cli {

namespace {
constexpr char kUsage[] =
    "usage: hashmatch hash [--algo ALGO] [--dihedral] [--compat-512] [--format text|jsonl] "
    "[--max-pixels N] [--exif-orientation] [--fast] [--threads N] "
    "[--progress|--no-progress|--quiet] FILE|DIR...\n"
    "       hashmatch match --list FILE [--type TYPE] [--threshold N] [--dihedral] "
    "[--min-quality N] [--format text|jsonl] [--exif-orientation] [--fast] [--threads N] "
    "[--progress|--no-progress] HASH|FILE|DIR...\n"
    "       hashmatch kernels\n";
}  // namespace

int Usage(const std::string& why) {
  std::cerr << "hashmatch: " << why << "\n" << kUsage;
  return 2;
}

bool ParseUint(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
  *out = uint32_t(std::stoul(s));
  return true;
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

}  // namespace hashmatch::cli

int main(int argc, char** argv) {
  using namespace hashmatch::cli;
  if (argc < 2) return Usage("no command");
  const std::string cmd = argv[1];
  if (cmd == "hash") return RunHash(argc - 2, argv + 2);
#ifdef HASHMATCH_WITH_STORE  // on a local store (store_commands.h): sets, import, export, sync, match
  if (IsStoreCommand(cmd, argc - 2, argv + 2)) return RunStoreCommand(cmd, argc - 2, argv + 2);
  if (cmd == "scan") return RunScan(argc - 2, argv + 2);
#endif
#ifdef HASHMATCH_WITH_CLIENT  // through hashmatchd (remote.h)
  if (cmd == "match" && HasServerFlag(argc - 2, argv + 2)) {
    return RunRemoteMatch(argc - 2, argv + 2);
  }
  if (cmd == "sets") return RunSets(argc - 2, argv + 2);
  if (cmd == "sync") return RunSync(argc - 2, argv + 2);
#endif
  if (cmd == "match") return RunMatch(argc - 2, argv + 2);
  if (cmd == "kernels") return RunKernels();
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << kUsage;
#ifdef HASHMATCH_WITH_STORE
    std::cout << kStoreUsage << kScanUsage;
#endif
#ifdef HASHMATCH_WITH_CLIENT
    std::cout << kRemoteUsage;
#endif
    return 0;
  }
  return Usage("unknown command '" + cmd + "'");
}

// hashmatch hash [--dihedral] [--compat-512] [--format text|jsonl] [--max-pixels N] FILE|DIR...
//
// Text output is the reference tool's `hash,quality,path`; with --dihedral one line per
// orientation with its name appended. Every failure is reported on stderr and the others go on;
// the exit status is 1 when any file failed.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "hashmatch/core/hex.h"
#include "image_inputs.h"

namespace hashmatch::cli {

int RunHash(int argc, char** argv) {
  bool dihedral = false, jsonl = false;
  PdqOptions pdq;
  DecodeOptions decode;
  std::vector<std::string> inputs;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dihedral") {
      dihedral = true;
    } else if (a == "--exif-orientation") {
      decode.apply_exif_orientation = true;
    } else if (a == "--compat-512") {
      pdq.compat_512 = true;
    } else if (a == "--algo") {
      if (i + 1 >= argc || std::string(argv[++i]) != "pdq") {
        return Usage("hash: --algo supports pdq in this version");
      }
    } else if (a == "--format") {
      const std::string v = i + 1 < argc ? argv[++i] : "";
      if (v != "text" && v != "jsonl") return Usage("--format is text or jsonl");
      jsonl = v == "jsonl";
    } else if (a == "--max-pixels") {
      uint32_t mp = 0;
      if (i + 1 >= argc || !ParseUint(argv[++i], &mp) || mp == 0) {
        return Usage("--max-pixels needs a positive number");
      }
      decode.max_pixels = mp;
    } else if (a.rfind("--", 0) == 0) {
      return Usage("unknown option " + a);
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty()) return Usage("hash needs files or directories");
  std::vector<std::filesystem::path> files;
  if (Status s = ExpandPaths(inputs, &files); !s.ok()) {
    std::cerr << "hashmatch: " << s.message() << "\n";
    return 2;
  }
  PdqHasher hasher;
  size_t failed = 0;
  for (const auto& path : files) {
    auto h = HashImageFile(path, hasher, decode, pdq, dihedral);
    if (!h.ok()) {
      std::cerr << "hashmatch: " << h.status().ToString() << "\n";
      ++failed;
      continue;
    }
    const size_t n = dihedral ? kNumDihedral : 1;
    if (jsonl) {
      std::printf("{\"path\":\"%s\",\"pdq\":\"%s\",\"quality\":%d,\"truncated\":%s",
                  JsonEscape(path.string()).c_str(), ToHex(h->pdq[0].hash).c_str(),
                  h->pdq[0].quality, h->truncated ? "true" : "false");
      if (dihedral) {
        std::printf(",\"dihedral\":{");
        for (size_t d = 0; d < n; ++d) {
          std::printf("%s\"%s\":\"%s\"", d ? "," : "", DihedralName(Dihedral(d)),
                      ToHex(h->pdq[d].hash).c_str());
        }
        std::printf("}");
      }
      std::printf("}\n");
    } else {
      for (size_t d = 0; d < n; ++d) {
        std::printf("%s,%d,%s%s%s\n", ToHex(h->pdq[d].hash).c_str(), h->pdq[d].quality,
                    path.string().c_str(), dihedral ? "," : "",
                    dihedral ? DihedralName(Dihedral(d)) : "");
      }
    }
    if (h->truncated) std::cerr << "hashmatch: " << path.string() << ": truncated (hashed)\n";
  }
  if (failed > 0) {
    std::cerr << "hashmatch: " << failed << " of " << files.size() << " files failed\n";
    return 1;
  }
  return 0;
}

}  // namespace hashmatch::cli

// hashmatch hash [--algo ALGO] [--dihedral] [--compat-512] [--format text|jsonl] [--max-pixels N]
//                FILE|DIR...
//
// ALGO is pdq (default), ahash64, dhash64, phash64, whash64 (Python imagehash's 64-bit hashes, in
// its hex form) or md5, sha1, sha256 (of the raw file bytes, never decoded).
// Text output for PDQ is the reference tool's `hash,quality,path`; with --dihedral one line per
// orientation with its name appended. Every other algorithm prints `hash,path`. JSON lines carry
// "algo". Every failure is reported on stderr and the others go on;
// the exit status is 1 when any file failed.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <utility>

#include "commands.h"
#include "hashmatch/core/digest.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/core/imagehash.h"
#include "image_inputs.h"

namespace hashmatch::cli {

namespace {

// --algo: PDQ keeps its own loop below (quality, dihedral); every other algorithm is one hex value
// per file, computed by HashOne.
enum class Algo { kPdq, kAhash64, kDhash64, kPhash64, kWhash64, kMd5, kSha1, kSha256 };
constexpr std::pair<const char*, Algo> kAlgos[] = {
    {"pdq", Algo::kPdq},         {"ahash64", Algo::kAhash64}, {"dhash64", Algo::kDhash64},
    {"phash64", Algo::kPhash64}, {"whash64", Algo::kWhash64}, {"md5", Algo::kMd5},
    {"sha1", Algo::kSha1},       {"sha256", Algo::kSha256},
};

struct OneHash {
  std::string hex;
  bool truncated = false;
};

template <class R>
Result<OneHash> DigestHex(const R& r) {
  if (!r.ok()) return r.status();
  return OneHash{ToHex(*r)};
}

Result<OneHash> HashOne(Algo algo, const std::filesystem::path& path, const DecodeOptions& decode) {
  switch (algo) {
    case Algo::kMd5:
      return DigestHex(Md5File(path));
    case Algo::kSha1:
      return DigestHex(Sha1File(path));
    case Algo::kSha256:
      return DigestHex(Sha256File(path));
    default:
      break;
  }
  // imagehash decodes through Pillow: a 16-bit grey PNG is clamped, not cut to its high byte.
  auto image = DecodeImageFile(path, ImageHashDecodeOptions(decode));
  if (!image.ok()) return image.status();
  Hash64 h;
  if (algo == Algo::kAhash64) h = AverageHash(*image);
  if (algo == Algo::kDhash64) h = DifferenceHash(*image);
  if (algo == Algo::kPhash64) h = PerceptualHash(*image);
  if (algo == Algo::kWhash64) h = WaveletHash(*image);
  return OneHash{ImageHashToHex(h), image->truncated};
}

}  // namespace

int RunHash(int argc, char** argv) {
  bool dihedral = false, jsonl = false;
  std::string algo_name = "pdq";
  Algo algo = Algo::kPdq;
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
    } else if (a == "--fast") {  // PDQ fast path for JPEGs (not bit-exact; not for lists)
      pdq.fast = true;
    } else if (a == "--algo") {
      algo_name = i + 1 < argc ? argv[++i] : "";
      auto it = std::find_if(std::begin(kAlgos), std::end(kAlgos),
                             [&](const auto& p) { return algo_name == p.first; });
      if (it == std::end(kAlgos)) {
        return Usage(
            "hash: --algo is one of pdq, ahash64, dhash64, phash64, whash64, md5, "
            "sha1, sha256");
      }
      algo = it->second;
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
  if (algo != Algo::kPdq && (dihedral || pdq.compat_512)) {
    return Usage(std::string(dihedral ? "--dihedral" : "--compat-512") +
                 " is only valid with --algo pdq");
  }
  std::vector<std::filesystem::path> files;
  if (Status s = ExpandPaths(inputs, &files); !s.ok()) {
    std::cerr << "hashmatch: " << s.message() << "\n";
    return 2;
  }
  PdqHasher hasher;
  size_t failed = 0;
  for (const auto& path : files) {
    if (algo != Algo::kPdq) {
      auto h = HashOne(algo, path, decode);
      if (!h.ok()) {
        std::cerr << "hashmatch: " << h.status().ToString() << "\n";
        ++failed;
        continue;
      }
      if (jsonl) {
        std::printf("{\"path\":\"%s\",\"algo\":\"%s\",\"hash\":\"%s\"%s}\n",
                    JsonEscape(path.string()).c_str(), algo_name.c_str(), h->hex.c_str(),
                    h->truncated ? ",\"truncated\":true" : "");
      } else {
        std::printf("%s,%s\n", h->hex.c_str(), path.string().c_str());
      }
      if (h->truncated) std::cerr << "hashmatch: " << path.string() << ": truncated (hashed)\n";
      continue;
    }
    auto h = HashImageFile(path, hasher, decode, pdq, dihedral);
    if (!h.ok()) {
      std::cerr << "hashmatch: " << h.status().ToString() << "\n";
      ++failed;
      continue;
    }
    const size_t n = dihedral ? kNumDihedral : 1;
    if (jsonl) {
      std::printf(
          "{\"path\":\"%s\",\"algo\":\"pdq\",\"pdq\":\"%s\","
          "\"quality\":%d,\"truncated\":%s",
          JsonEscape(path.string()).c_str(), ToHex(h->pdq[0].hash).c_str(), h->pdq[0].quality,
          h->truncated ? "true" : "false");
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

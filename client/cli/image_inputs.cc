#include "image_inputs.h"

#include <algorithm>
#include <fstream>

namespace hashmatch::cli {

namespace fs = std::filesystem;

Status ExpandPaths(const std::vector<std::string>& inputs, std::vector<fs::path>* out) {
  for (const std::string& in : inputs) {
    std::error_code ec;
    const fs::file_status st = fs::status(in, ec);
    if (ec || !fs::exists(st)) return Status::NotFound(in + ": no such file or directory");
    if (fs::is_directory(st)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(in, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
      }
      if (ec) return Status::IoError(in + ": " + ec.message());
      std::sort(files.begin(), files.end());
      out->insert(out->end(), files.begin(), files.end());
    } else {
      out->push_back(in);
    }
  }
  return Status::Ok();
}

bool LooksLikeImage(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  uint8_t head[16] = {};
  f.read(reinterpret_cast<char*>(head), sizeof head);
  return SniffImageFormat(std::span<const uint8_t>(head, size_t(f.gcount()))) !=
         ImageFormat::kUnknown;
}

Result<HashedImage> HashImageFile(const fs::path& path, PdqHasher& hasher,
                                  const DecodeOptions& decode, const PdqOptions& pdq,
                                  bool dihedral) {
  if (pdq.fast) {  // encoded bytes to hash: JPEGs take the reduced, luma-only decode
    auto bytes = ReadFileBytes(path);
    if (!bytes.ok()) return bytes.status();
    auto r = dihedral ? hasher.HashDihedralBytes(*bytes, decode, pdq)
                      : hasher.HashBytes(*bytes, decode, pdq);
    if (!r.ok()) return Status(r.status().code(), path.string() + ": " + r.status().message());
    return HashedImage{r->pdq, r->truncated};
  }
  auto image = DecodeImageFile(path, decode);
  if (!image.ok()) return image.status();
  HashedImage h;
  h.truncated = image->truncated;
  if (dihedral) {
    h.pdq = hasher.HashDihedral(*image, pdq);
  } else {
    h.pdq[0] = hasher.Hash(*image, pdq);
  }
  return h;
}

}  // namespace hashmatch::cli

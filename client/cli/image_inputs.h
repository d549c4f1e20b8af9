// Image inputs for the CLI: expanding files and directories, and hashing images to PDQ.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"
#include "hashmatch/core/status.h"

namespace hashmatch::cli {

// Files named on the command line, with directories expanded recursively; each directory's files
// come in sorted path order. A missing path is an error.
Status ExpandPaths(const std::vector<std::string>& inputs, std::vector<std::filesystem::path>* out);

// True when the file starts with a JPEG, PNG or WebP signature.
bool LooksLikeImage(const std::filesystem::path& path);

struct HashedImage {
  std::array<PdqHash, kNumDihedral> pdq;  // [0] only, unless dihedral
  bool truncated = false;
};

Result<HashedImage> HashImageFile(const std::filesystem::path& path, PdqHasher& hasher,
                                  const DecodeOptions& decode, const PdqOptions& pdq,
                                  bool dihedral);

}  // namespace hashmatch::cli

// Image inputs for the CLI: expanding files and directories, and hashing images to PDQ.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"
#include "hashmatch/core/status.h"

namespace hashmatch::cli {

// Walks FILE|DIR arguments lazily, one file at a time: each argument in command-line order, a
// directory recursively with every directory's entries in sorted name order (the order of sorting
// all its file paths with std::filesystem::path's operator<). Regular files and symlinks to them
// are yielded; symlinks to directories are not followed, and other kinds of files are skipped. A
// non-directory argument is yielded as given. Memory is bounded by the sorted listings of the
// directories on the current path, not by the size of the tree.
class InputWalker {
 public:
  explicit InputWalker(std::vector<std::string> inputs);

  // The next file; false at the end. A missing argument or a directory that cannot be listed comes
  // as an entry with a non-OK `status` (its message starts with the path) and the walk goes on.
  struct Entry {
    std::filesystem::path path;
    Status status;
  };
  bool Next(Entry* entry);

 private:
  struct Dir {
    std::filesystem::path path;
    std::vector<std::pair<std::string, bool>> entries;  // sorted names; true for a directory
    size_t next = 0;
  };
  // Lists `path` onto the stack; false (with *error set) when it cannot be listed.
  bool Push(const std::filesystem::path& path, Status* error);

  std::vector<std::string> inputs_;
  size_t next_input_ = 0;
  std::vector<Dir> stack_;
};

// The number of entries an InputWalker over `inputs` yields (errors included): a full walk.
size_t CountInputs(const std::vector<std::string>& inputs);

// Every file of the inputs at once, in InputWalker order; the first error stops it.
Status ExpandPaths(const std::vector<std::string>& inputs, std::vector<std::filesystem::path>* out);

// True when the file starts with a JPEG, PNG or WebP signature.
bool LooksLikeImage(const std::filesystem::path& path);

struct HashedImage {
  std::array<PdqHash, kNumDihedral> pdq;  // [0] only, unless dihedral
  bool truncated = false;
};

// One image, on the calling thread (the commands hash many through HashBatch).
Result<HashedImage> HashImageFile(const std::filesystem::path& path, PdqHasher& hasher,
                                  const DecodeOptions& decode, const PdqOptions& pdq,
                                  bool dihedral);

}  // namespace hashmatch::cli

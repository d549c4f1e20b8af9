// Internal: expands scan inputs (files, directories, manifests, tar shards) into the numbered item
// stream that scan.h describes, one item at a time, with bounded memory: the sorted listings of the
// directories on the current path, one manifest line, one open archive and the current member.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hashmatch/core/status.h"
#include "hashmatch/scan/scan.h"

namespace hashmatch::scan_internal {

class TarReader;

struct SourceItem {
  uint64_t index = 0;
  std::string path;    // the file, or the shard
  std::string member;  // tar member name, or empty
  Status status;       // a listing/open/read error found while listing (the item failed)
  bool is_tar_member = false;
  std::vector<uint8_t> data;  // a tar member's bytes, when read (files are read later)
  uint64_t skipped_before = 0;
};

// True for names ending in .jpg, .jpeg, .png or .webp (any case).
bool HasImageName(std::string_view name);
// True for names ending in .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz or .tar.zst (any case).
bool HasTarName(std::string_view name);

class ItemSource {
 public:
  ItemSource(std::span<const ScanInput> inputs, const ScanOptions& options);
  ~ItemSource();
  ItemSource(const ItemSource&) = delete;
  ItemSource& operator=(const ItemSource&) = delete;

  // The next item; false at the end. With read_data false a tar member's bytes are skipped over,
  // not read (the item is only numbered).
  bool Next(SourceItem* item, bool read_data);
  // Non-image files passed over after the last item (valid once Next returned false).
  uint64_t trailing_skipped() const { return skipped_; }

 private:
  struct Dir {
    std::filesystem::path path;
    std::vector<std::pair<std::string, bool>> entries;  // sorted names; true for a directory
    size_t next = 0;
  };
  // Starts expanding one path; may produce an item at once (a file, or an error).
  bool Expand(const std::filesystem::path& path, ScanInputKind kind, SourceItem* item);
  bool PushDir(const std::filesystem::path& path, Status* error);
  bool NextFromTar(SourceItem* item, bool read_data);
  bool Emit(SourceItem* item, std::string path, std::string member, Status status);

  std::vector<ScanInput> inputs_;
  size_t next_input_ = 0;
  bool all_files_;
  uint64_t max_item_bytes_;
  std::unique_ptr<std::ifstream> manifest_;
  std::filesystem::path manifest_path_, manifest_dir_;
  uint64_t manifest_line_ = 0;
  std::vector<Dir> stack_;
  std::unique_ptr<TarReader> tar_;
  std::string tar_path_;  // the open shard
  uint64_t next_index_ = 0;
  uint64_t skipped_ = 0;  // non-items since the last item
};

}  // namespace hashmatch::scan_internal

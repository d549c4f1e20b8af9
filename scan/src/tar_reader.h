// Internal: sequential reading of a tar shard's members with libarchive (ustar, pax and GNU tar,
// optionally compressed), in memory: nothing is extracted to disk. libarchive stays out of every
// other file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hashmatch/core/status.h"

struct archive;

namespace hashmatch::scan_internal {

class TarReader {
 public:
  // Opens the shard; not_found / io_error / invalid_argument (not a tar) name the path.
  static Result<std::unique_ptr<TarReader>> Open(const std::string& path);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  enum class Step { kMember, kEnd, kError };
  // Advances to the next regular-file member (directories, links and other entries are passed
  // over). kError: the archive is damaged from here on (*error says where); the reader is done.
  Step Next(std::string* name, uint64_t* size, Status* error);
  // The current member's bytes. A member over max_bytes fails with out_of_range (its data is
  // skipped); a read error (truncated or damaged data) fails with its message. Either way the
  // caller goes on with Next, which reports the damage if the archive cannot go on: reading and
  // skipping a member (Skip) must lead to the same sequence of Next results, since a resumed scan
  // skips the members a first run read.
  Status Read(uint64_t max_bytes, std::vector<uint8_t>* out);
  // Passes over the current member's data (seeking where the file allows it).
  Status Skip();

 private:
  TarReader(struct archive* a, std::string path) : a_(a), path_(std::move(path)) {}
  Status Error(const std::string& what) const;

  struct archive* a_;
  std::string path_;
  std::string member_;  // the current member's name, for messages
  uint64_t size_ = 0;
  bool done_ = false;
  bool damaged_ = false;  // a member's data failed: Next reports the shard as damaged
};

}  // namespace hashmatch::scan_internal

#include "image_inputs.h"

#include <algorithm>
#include <fstream>
#include <utility>

namespace hashmatch::cli {

namespace fs = std::filesystem;

InputWalker::InputWalker(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}

bool InputWalker::Push(const fs::path& path, Status* error) {
  Dir dir;
  dir.path = path;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code ignored;
    bool is_dir = false;
    if (it->is_symlink(ignored)) {
      // Followed to files only; a dangling link is yielded, so that reading it is reported.
      const fs::file_status target = fs::status(it->path(), ignored);
      if (fs::exists(target) && !fs::is_regular_file(target)) continue;
    } else if (it->is_directory(ignored)) {
      is_dir = true;
    } else if (!it->is_regular_file(ignored)) {
      continue;
    }
    dir.entries.emplace_back(it->path().filename().string(), is_dir);
  }
  if (ec) {
    *error = Status::IoError(path.string() + ": " + ec.message());
    return false;
  }
  std::sort(dir.entries.begin(), dir.entries.end());
  stack_.push_back(std::move(dir));
  return true;
}

bool InputWalker::Next(Entry* entry) {
  for (;;) {
    if (!stack_.empty()) {
      Dir& top = stack_.back();
      if (top.next == top.entries.size()) {
        stack_.pop_back();
        continue;
      }
      const bool is_dir = top.entries[top.next].second;
      fs::path path = top.path / top.entries[top.next].first;
      ++top.next;
      if (is_dir) {  // `top` is invalid after Push
        if (Status error; !Push(path, &error)) {
          *entry = {std::move(path), std::move(error)};
          return true;
        }
        continue;
      }
      *entry = {std::move(path), Status::Ok()};
      return true;
    }
    if (next_input_ == inputs_.size()) return false;
    const std::string& in = inputs_[next_input_++];
    std::error_code ec;
    const fs::file_status st = fs::status(in, ec);
    if (!fs::exists(st)) {
      *entry = {in, ec && ec != std::errc::no_such_file_or_directory
                        ? Status::IoError(in + ": " + ec.message())
                        : Status::NotFound(in + ": no such file or directory")};
      return true;
    }
    if (fs::is_directory(st)) {
      if (Status error; !Push(in, &error)) {
        *entry = {in, std::move(error)};
        return true;
      }
      continue;
    }
    *entry = {in, Status::Ok()};
    return true;
  }
}

size_t CountInputs(const std::vector<std::string>& inputs) {
  InputWalker walker(inputs);
  InputWalker::Entry entry;
  size_t n = 0;
  while (walker.Next(&entry)) ++n;
  return n;
}

Status ExpandPaths(const std::vector<std::string>& inputs, std::vector<fs::path>* out) {
  InputWalker walker(inputs);
  InputWalker::Entry entry;
  while (walker.Next(&entry)) {
    if (!entry.status.ok()) return entry.status;
    out->push_back(std::move(entry.path));
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

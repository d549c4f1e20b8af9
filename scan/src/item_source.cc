#include "item_source.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "tar_reader.h"

namespace hashmatch::scan_internal {

namespace fs = std::filesystem;

namespace {

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool HasImageName(std::string_view name) {
  for (std::string_view ext : {".jpg", ".jpeg", ".png", ".webp"}) {
    if (EndsWithNoCase(name, ext)) return true;
  }
  return false;
}

bool HasTarName(std::string_view name) {
  for (std::string_view ext : {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar.zst"}) {
    if (EndsWithNoCase(name, ext)) return true;
  }
  return false;
}

ItemSource::ItemSource(std::span<const ScanInput> inputs, const ScanOptions& options)
    : inputs_(inputs.begin(), inputs.end()),
      all_files_(options.all_files),
      max_item_bytes_(options.max_item_bytes) {}

ItemSource::~ItemSource() = default;

bool ItemSource::Emit(SourceItem* item, std::string path, std::string member, Status status) {
  item->index = next_index_++;
  item->path = std::move(path);
  item->member = std::move(member);
  item->status = std::move(status);
  item->is_tar_member = false;
  item->data.clear();
  item->skipped_before = skipped_;
  skipped_ = 0;
  return true;
}

bool ItemSource::PushDir(const fs::path& path, Status* error) {
  Dir dir;
  dir.path = path;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code ignored;
    bool is_dir = false;
    if (it->is_symlink(ignored)) {
      // Followed to files only; a dangling link is listed, so that reading it is reported.
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
    *error = Status::IoError(path.string() + ": cannot list: " + ec.message());
    return false;
  }
  std::sort(dir.entries.begin(), dir.entries.end());
  stack_.push_back(std::move(dir));
  return true;
}

bool ItemSource::Expand(const fs::path& path, ScanInputKind kind, SourceItem* item) {
  if (kind == ScanInputKind::kAuto) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) {
      return Emit(item, path.string(), "",
                  ec && ec != std::errc::no_such_file_or_directory
                      ? Status::IoError(path.string() + ": " + ec.message())
                      : Status::NotFound(path.string() + ": no such file or directory"));
    }
    kind = fs::is_directory(st)                   ? ScanInputKind::kDirectory
           : HasTarName(path.filename().string()) ? ScanInputKind::kTar
                                                  : ScanInputKind::kFile;
  }
  switch (kind) {
    case ScanInputKind::kDirectory: {
      Status error;
      if (!PushDir(path, &error)) return Emit(item, path.string(), "", std::move(error));
      return false;
    }
    case ScanInputKind::kTar: {
      auto t = TarReader::Open(path.string());
      if (!t.ok()) return Emit(item, path.string(), "", t.status());
      tar_ = std::move(t).value();
      tar_path_ = path.string();
      return false;
    }
    case ScanInputKind::kManifest: {
      auto f = std::make_unique<std::ifstream>(path, std::ios::binary);
      if (!*f) {
        std::error_code ec;
        return Emit(item, path.string(), "",
                    fs::exists(path, ec) ? Status::IoError(path.string() + ": cannot read manifest")
                                         : Status::NotFound(path.string() + ": no such manifest"));
      }
      manifest_ = std::move(f);
      manifest_path_ = path;
      manifest_dir_ = path.parent_path();
      manifest_line_ = 0;
      return false;
    }
    case ScanInputKind::kFile:
    case ScanInputKind::kAuto:
      break;
  }
  return Emit(item, path.string(), "", Status::Ok());
}

bool ItemSource::NextFromTar(SourceItem* item, bool read_data) {
  for (;;) {
    std::string name;
    uint64_t size = 0;
    Status error;
    switch (tar_->Next(&name, &size, &error)) {
      case TarReader::Step::kEnd:
        tar_.reset();
        return false;
      case TarReader::Step::kError:
        tar_.reset();
        return Emit(item, tar_path_, "", std::move(error));
      case TarReader::Step::kMember:
        break;
    }
    if (!all_files_ && !HasImageName(name)) {
      ++skipped_;
      continue;  // libarchive skips the unread data at the next header
    }
    Emit(item, tar_path_, name, Status::Ok());
    item->is_tar_member = true;
    // A damaged member fails alone; whether the shard can go on is Next's to say, in the same way
    // whether this member was read or skipped (a resumed scan skips what a first run read).
    if (read_data) {
      item->status = tar_->Read(max_item_bytes_, &item->data);
    } else {
      (void)tar_->Skip();
    }
    return true;
  }
}

bool ItemSource::Next(SourceItem* item, bool read_data) {
  for (;;) {
    if (tar_) {
      if (NextFromTar(item, read_data)) return true;
      continue;
    }
    if (!stack_.empty()) {
      Dir& top = stack_.back();
      if (top.next == top.entries.size()) {
        stack_.pop_back();
        continue;
      }
      const auto& [name, is_dir] = top.entries[top.next++];
      fs::path path = top.path / name;
      if (is_dir) {  // `top` is invalid after a push
        Status error;
        if (!PushDir(path, &error)) return Emit(item, path.string(), "", std::move(error));
        continue;
      }
      if (HasTarName(name)) {
        if (Expand(path, ScanInputKind::kTar, item)) return true;
        continue;
      }
      if (!all_files_ && !HasImageName(name)) {
        ++skipped_;
        continue;
      }
      return Emit(item, path.string(), "", Status::Ok());
    }
    if (manifest_) {
      std::string line;
      if (!std::getline(*manifest_, line)) {
        const bool bad = manifest_->bad();
        manifest_.reset();
        if (bad) {
          return Emit(item, manifest_path_.string(), "",
                      Status::IoError(manifest_path_.string() + ": read error after line " +
                                      std::to_string(manifest_line_)));
        }
        continue;
      }
      ++manifest_line_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      fs::path p(line);
      if (p.is_relative()) p = manifest_dir_ / p;
      if (Expand(p, ScanInputKind::kAuto, item)) return true;
      continue;
    }
    if (next_input_ == inputs_.size()) return false;
    const ScanInput& in = inputs_[next_input_++];
    if (Expand(in.path, in.kind, item)) return true;
  }
}

}  // namespace hashmatch::scan_internal

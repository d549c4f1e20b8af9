#include "manifest.h"

#include <charconv>
#include <cstdio>

#include "coding.h"
#include "hashmatch/core/crc32c.h"

namespace hashmatch::store {
namespace {

constexpr std::string_view kMagic = "HMMANIF1";

std::string Numbered(uint64_t n, std::string_view suffix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(n));
  return std::string(buf) + std::string(suffix);
}

bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string LogFileName(uint64_t n) {
  return Numbered(n, ".log");
}
std::string SnapshotFileName(uint64_t n) {
  return Numbered(n, ".snap");
}
std::string IndexFileName(uint64_t snap, uint32_t set_id) {
  std::string suffix = "-";  // (not "-" + ...: GCC 12 warns falsely on that form)
  suffix += std::to_string(set_id);
  suffix += ".idx";
  return Numbered(snap, suffix);
}
std::string StageFileName(uint64_t n) {
  return Numbered(n, ".stage");
}
std::string ManifestFileName(uint64_t n) {
  return "MANIFEST-" + Numbered(n, "");
}

FileType ParseFileName(std::string_view name, uint64_t* number, uint32_t* set_id) {
  if (name == kCurrentFileName) return FileType::kCurrent;
  if (name == kLockFileName) return FileType::kLock;
  if (EndsWith(name, ".tmp") || name.find(".tmp.") != std::string_view::npos) {
    return FileType::kTemp;
  }
  if (name.substr(0, 9) == "MANIFEST-") {
    return ParseNumber(name.substr(9), number) ? FileType::kManifest : FileType::kOther;
  }
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return FileType::kOther;
  const std::string_view stem = name.substr(0, dot), ext = name.substr(dot + 1);
  if (ext == "idx") {
    const size_t dash = stem.find('-');
    uint64_t sid = 0;
    if (dash == std::string_view::npos || !ParseNumber(stem.substr(0, dash), number) ||
        !ParseNumber(stem.substr(dash + 1), &sid) || sid > UINT32_MAX) {
      return FileType::kOther;
    }
    *set_id = uint32_t(sid);
    return FileType::kIndex;
  }
  if (!ParseNumber(stem, number)) return FileType::kOther;
  if (ext == "log") return FileType::kLog;
  if (ext == "snap") return FileType::kSnapshot;
  if (ext == "stage") return FileType::kStage;
  return FileType::kOther;
}

std::string EncodeManifest(const Manifest& m) {
  std::string p;
  PutVarint64(&p, m.next_file_number);
  PutVarint64(&p, m.snapshot_number);
  PutVarint64(&p, m.snapshot_sequence);
  PutVarint64(&p, m.logs.size());
  for (uint64_t l : m.logs) PutVarint64(&p, l);
  std::string out(kMagic);
  PutFixed32(&out, Crc32c(p.data(), p.size()));
  out += p;
  return out;
}

Result<Manifest> DecodeManifest(std::string_view data, const std::string& file_name) {
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("manifest " + file_name + ": " + why);
  };
  if (data.size() < kMagic.size() + 4 || data.substr(0, kMagic.size()) != kMagic) {
    return corrupt("bad magic");
  }
  const std::string_view p = data.substr(kMagic.size() + 4);
  if (LoadFixed32(data.data() + kMagic.size()) != Crc32c(p.data(), p.size())) {
    return corrupt("checksum mismatch");
  }
  Decoder d(p);
  Manifest m;
  m.next_file_number = d.Varint64();
  m.snapshot_number = d.Varint64();
  m.snapshot_sequence = d.Varint64();
  const uint64_t n = d.Varint64();
  if (!d.ok() || n > p.size()) return corrupt("malformed");
  for (uint64_t i = 0; i < n; ++i) m.logs.push_back(d.Varint64());
  if (!d.ok() || !d.done() || m.logs.empty()) return corrupt("malformed");
  return m;
}

Status InstallManifest(Env* env, const std::filesystem::path& dir, const Manifest& m,
                       uint64_t number) {
  const std::string name = ManifestFileName(number);
  std::unique_ptr<WritableFile> f;
  if (Status s = env->NewWritableFile(dir / name, &f); !s.ok()) return s;
  Status s = f->Append(EncodeManifest(m));
  if (s.ok()) s = f->Sync();
  if (Status c = f->Close(); s.ok()) s = c;
  if (!s.ok()) return s;
  // CURRENT's rename and directory fsync also make the new manifest's directory entry durable.
  return WriteFileAtomically(env, dir / std::string(kCurrentFileName), name + "\n");
}

Result<Manifest> ReadCurrentManifest(Env* env, const std::filesystem::path& dir, uint64_t* number) {
  std::string current;
  if (Status s = env->ReadFileToString(dir / std::string(kCurrentFileName), &current); !s.ok()) {
    return s;
  }
  if (current.empty() || current.back() != '\n') {
    return Status::Corruption("CURRENT in " + dir.string() + " is not a manifest name");
  }
  current.pop_back();
  uint32_t unused = 0;
  if (ParseFileName(current, number, &unused) != FileType::kManifest) {
    return Status::Corruption("CURRENT in " + dir.string() + " names '" + current + "'");
  }
  std::string data;
  if (Status s = env->ReadFileToString(dir / current, &data); !s.ok()) return s;
  return DecodeManifest(data, current);
}

}  // namespace hashmatch::store

// The index file: one StaticIndex (codes, ids and the method's tables), memory-mapped on load.
//
//   offset 0   Header (64 bytes, little-endian): magic "HMINDEX1", format version, kind,
//              code_bytes, num_rows, num_sections, file_bytes, CRC-32C of the bytes before it.
//   offset 64  num_sections x SectionEntry {tag, crc32c of the data, offset, bytes}, then the
//              CRC-32C of the entries.
//   then       each section's data at a 64-byte aligned offset (so mapped arrays are aligned).
//
// Tags: 1 codes (num_rows x code_bytes), 2 ids (num_rows x u64, ascending); MIH adds its geometry
// and per-table bucket blocks, rows and overflow residuals (mih_index.h). Save writes a temporary
// file beside the target, fsyncs it, renames it over the target and fsyncs the directory, so a
// crash leaves either the old file or the new one.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "hashmatch/core/crc32c.h"
#include "hashmatch/core/static_index.h"
#include "index/build_util.h"
#include "index/mih_index.h"

namespace hashmatch {
namespace {

constexpr char kMagic[8] = {'H', 'M', 'I', 'N', 'D', 'E', 'X', '1'};
// 2: MIH tables as bucket blocks + overflow residuals (1 had offsets + a residual per row).
constexpr uint32_t kFormatVersion = 2;
constexpr uint32_t kTagCodes = 1;
constexpr uint32_t kTagIds = 2;
constexpr uint32_t kMaxSections = 4096;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t kind;
  uint64_t code_bytes;
  uint64_t num_rows;
  uint32_t num_sections;
  uint32_t reserved0;
  uint64_t file_bytes;
  uint32_t reserved1[3];
  uint32_t crc;  // of the 60 bytes before it
};
static_assert(sizeof(Header) == 64);

struct SectionEntry {
  uint32_t tag;
  uint32_t crc;
  uint64_t offset;
  uint64_t bytes;
};
static_assert(sizeof(SectionEntry) == 24);

uint64_t Align64(uint64_t x) {
  return (x + 63) & ~uint64_t(63);
}

std::string Errno(const std::string& what, const std::filesystem::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

Status WriteAll(int fd, const void* data, size_t n, const std::filesystem::path& p) {
  const auto* c = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, std::min<size_t>(n, size_t(1) << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno("cannot write", p));
    }
    c += w;
    n -= size_t(w);
  }
  return Status::Ok();
}

struct Mapping {
  void* addr = MAP_FAILED;
  size_t bytes = 0;
  ~Mapping() {
    if (addr != MAP_FAILED) ::munmap(addr, bytes);
  }
};

}  // namespace

Status StaticIndex::Save(const std::filesystem::path& path) const {
  std::vector<Section> sections = {{kTagCodes, codes_, num_rows_ * code_bytes_},
                                   {kTagIds, ids_, num_rows_ * sizeof(uint64_t)}};
  for (const Section& s : ExtraSections()) sections.push_back(s);

  std::vector<SectionEntry> entries(sections.size());
  uint64_t off = Align64(sizeof(Header) + entries.size() * sizeof(SectionEntry) + 4);
  for (size_t i = 0; i < sections.size(); ++i) {
    entries[i] = {sections[i].tag, Crc32c(sections[i].data, sections[i].bytes), off,
                  sections[i].bytes};
    off = Align64(off + sections[i].bytes);
  }
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kFormatVersion;
  h.kind = uint32_t(kind());
  h.code_bytes = code_bytes_;
  h.num_rows = num_rows_;
  h.num_sections = uint32_t(entries.size());
  h.file_bytes = off;
  h.crc = Crc32c(&h, offsetof(Header, crc));
  const uint32_t table_crc = Crc32c(entries.data(), entries.size() * sizeof(SectionEntry));

  const std::filesystem::path dir =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / (path.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Status::IoError(Errno("cannot create a temporary file for", path));
  const std::filesystem::path tmp = tmpl;
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  static const char kZeros[64] = {};
  uint64_t pos = 0;
  auto put = [&](const void* d, size_t n) -> Status {
    pos += n;
    return WriteAll(fd, d, n, tmp);
  };
  auto pad = [&]() -> Status { return put(kZeros, Align64(pos) - pos); };
  if (Status s = put(&h, sizeof h); !s.ok()) return fail(s);
  if (Status s = put(entries.data(), entries.size() * sizeof(SectionEntry)); !s.ok())
    return fail(s);
  if (Status s = put(&table_crc, 4); !s.ok()) return fail(s);
  for (const Section& sec : sections) {
    if (Status s = pad(); !s.ok()) return fail(s);
    if (Status s = put(sec.data, sec.bytes); !s.ok()) return fail(s);
  }
  if (Status s = pad(); !s.ok()) return fail(s);
  if (::fsync(fd) != 0) return fail(Status::IoError(Errno("cannot fsync", tmp)));
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::IoError(Errno("cannot close", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::IoError(Errno("cannot rename the new index over", path));
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    const int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) return Status::IoError(Errno("cannot fsync directory", dir));
  }
  return Status::Ok();
}

Result<std::shared_ptr<const StaticIndex>> LoadStaticIndex(const std::filesystem::path& path,
                                                           const LoadOptions& options) {
  const std::string name = path.string();
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("index file " + name + ": " + why);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no index file " + name);
    return Status::IoError(Errno("cannot open", path));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Status::IoError(Errno("cannot stat", path));
  }
  const uint64_t size = uint64_t(st.st_size);
  if (size < sizeof(Header)) {
    ::close(fd);
    return corrupt("too short (" + std::to_string(size) + " bytes) for a header");
  }
  auto map = std::make_shared<Mapping>();
  map->bytes = size;
  map->addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map->addr == MAP_FAILED) return Status::IoError(Errno("cannot map", path));
  const auto* base = static_cast<const uint8_t*>(map->addr);

  Header h;
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) return corrupt("not an index file (bad magic)");
  if (h.crc != Crc32c(&h, offsetof(Header, crc))) return corrupt("header checksum mismatch");
  if (h.version != kFormatVersion) {
    return Status::Unsupported("index file " + name + " has format version " +
                               std::to_string(h.version) + "; this build reads " +
                               std::to_string(kFormatVersion));
  }
  if (h.file_bytes != size) {
    return corrupt("header says " + std::to_string(h.file_bytes) + " bytes, file has " +
                   std::to_string(size) + " (truncated?)");
  }
  if (h.code_bytes == 0 || h.code_bytes % 8 || h.code_bytes > kMaxCodeBytes) {
    return corrupt("bad code size " + std::to_string(h.code_bytes));
  }
  if (h.num_rows > index_internal::kMaxRows) return corrupt("too many rows");
  if (h.num_sections < 2 || h.num_sections > kMaxSections) return corrupt("bad section count");
  const uint64_t table_end = sizeof(Header) + uint64_t(h.num_sections) * sizeof(SectionEntry);
  if (table_end + 4 > size) return corrupt("section table past the end of the file");
  std::vector<SectionEntry> entries(h.num_sections);
  std::memcpy(entries.data(), base + sizeof(Header), entries.size() * sizeof(SectionEntry));
  uint32_t table_crc;
  std::memcpy(&table_crc, base + table_end, 4);
  if (table_crc != Crc32c(entries.data(), entries.size() * sizeof(SectionEntry))) {
    return corrupt("section table checksum mismatch");
  }
  std::map<uint32_t, SectionEntry> by_tag;
  for (const SectionEntry& e : entries) {
    if (e.offset % 64 || e.offset < table_end || e.offset > size || e.bytes > size - e.offset) {
      return corrupt("section " + std::to_string(e.tag) + " out of bounds");
    }
    if (!by_tag.emplace(e.tag, e).second)
      return corrupt("section " + std::to_string(e.tag) + " repeated");
    if (options.verify_checksums && Crc32c(base + e.offset, e.bytes) != e.crc) {
      return corrupt("checksum mismatch in section " + std::to_string(e.tag) + " at offset " +
                     std::to_string(e.offset));
    }
  }
  auto section = [&](uint32_t tag, uint64_t bytes) -> const uint8_t* {
    auto it = by_tag.find(tag);
    if (it == by_tag.end() || it->second.bytes != bytes) return nullptr;
    return base + it->second.offset;
  };
  const uint64_t n = h.num_rows, cb = h.code_bytes;
  const uint8_t* codes = section(kTagCodes, n * cb);
  const auto* ids = reinterpret_cast<const uint64_t*>(section(kTagIds, n * 8));
  if (!codes || !ids) return corrupt("codes or ids section missing or of the wrong size");
  for (uint64_t r = 1; r < n; ++r) {
    if (ids[r] <= ids[r - 1])
      return corrupt("ids not strictly ascending at row " + std::to_string(r));
  }

  if (h.kind == uint32_t(StaticIndex::Kind::kFlat)) {
    return MakeFlatIndex(map, cb, n, codes, ids);
  }
  if (h.kind != uint32_t(StaticIndex::Kind::kMih)) {
    return corrupt("unknown index kind " + std::to_string(h.kind));
  }
  auto git = by_tag.find(MihIndex::kTagGeometry);
  if (git == by_tag.end() || git->second.bytes % sizeof(mih::TableGeom) || git->second.bytes == 0 ||
      git->second.bytes / sizeof(mih::TableGeom) > std::min<uint64_t>(cb * 8, mih::kMaxTables)) {
    return corrupt("MIH geometry missing or malformed");
  }
  std::vector<mih::TableGeom> geom(git->second.bytes / sizeof(mih::TableGeom));
  std::memcpy(geom.data(), base + git->second.offset, git->second.bytes);
  std::vector<MihIndex::TableArrays> tables(geom.size());
  uint32_t next_start = 0;
  for (size_t i = 0; i < geom.size(); ++i) {
    const mih::TableGeom& g = geom[i];
    if (g.start != next_start || g.bits == 0 || g.bits > mih::kMaxSubstringBits ||
        g.top_bits > mih::kMaxTopBits || g.resid_bits > mih::kMaxResidBits ||
        g.top_bits + g.resid_bits + g.low_bits != g.bits) {
      return corrupt("MIH table " + std::to_string(i) + " has an impossible shape");
    }
    next_start += g.bits;
    const uint32_t t = uint32_t(i);
    const uint64_t buckets = uint64_t(1) << g.top_bits;
    using Block = MihIndex::BucketBlock;
    tables[i].blocks = reinterpret_cast<const Block*>(
        section(MihIndex::kTagBlocks + t, (buckets + 1) * sizeof(Block)));
    tables[i].rows = reinterpret_cast<const uint32_t*>(section(MihIndex::kTagRows + t, n * 4));
    auto oit = by_tag.find(MihIndex::kTagOverflow + t);
    if (!tables[i].blocks || !tables[i].rows || oit == by_tag.end() || oit->second.bytes > n) {
      return corrupt("MIH table " + std::to_string(i) + " arrays missing or of the wrong size");
    }
    tables[i].overflow = base + oit->second.offset;
    tables[i].overflow_bytes = oit->second.bytes;
    // Cheap structural checks so that a damaged file cannot send a search out of bounds.
    const Block* blk = tables[i].blocks;
    if (blk[0].lo != 0 || blk[buckets].lo != n)
      return corrupt("MIH table " + std::to_string(i) + " bucket starts");
    for (uint64_t b = 0; b < buckets; ++b) {
      if (blk[b + 1].lo < blk[b].lo)
        return corrupt("MIH table " + std::to_string(i) + " bucket starts decrease");
      const uint64_t count = blk[b + 1].lo - blk[b].lo;
      if (g.resid_bits && count > Block::kInline &&
          uint64_t(blk[b].overflow_index()) + count - Block::kInlineLong >
              tables[i].overflow_bytes) {
        return corrupt("MIH table " + std::to_string(i) + " overflow residuals out of range");
      }
    }
    for (uint64_t e = 0; e < n; ++e) {
      if (tables[i].rows[e] >= n)
        return corrupt("MIH table " + std::to_string(i) + " row out of range");
    }
  }
  if (next_start != cb * 8) return corrupt("MIH tables do not cover the code");
  return std::shared_ptr<const StaticIndex>(
      std::make_shared<MihIndex>(map, cb, n, codes, ids, std::move(geom), std::move(tables)));
}

}  // namespace hashmatch

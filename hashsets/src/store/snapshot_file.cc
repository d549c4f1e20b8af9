#include "snapshot_file.h"

#include <cstring>

#include "coding.h"
#include "hashmatch/core/crc32c.h"
#include "txn_codec.h"

namespace hashmatch::store {
namespace {

constexpr char kMagic[8] = {'H', 'M', 'S', 'N', 'A', 'P', '0', '1'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kFooterBytes = 64;

enum Tag : uint32_t {
  kCatalog = 1,
  kCodes = 2,
  kFlags = 3,
  kSourceTime = 4,
  kFirstSeen = 5,
  kLastUpdated = 6,
  kMetaOffsets = 7,
  kMeta = 8,
};

struct DirEntry {
  uint32_t set_id;
  uint32_t tag;
  uint64_t offset;
  uint64_t bytes;
  uint32_t crc;
  uint32_t reserved;
};
static_assert(sizeof(DirEntry) == 32);

struct Footer {
  char magic[8];
  uint32_t version;
  uint32_t dir_count;
  uint64_t dir_offset;
  uint64_t sequence;
  uint32_t dir_crc;
  uint32_t reserved[6];
  uint32_t crc;  // of the 60 bytes before it
};
static_assert(sizeof(Footer) == kFooterBytes);

// Appends sections to the file, each 64-byte aligned, keeping their CRCs.
class SectionWriter {
 public:
  explicit SectionWriter(WritableFile* f) : f_(f) {}

  Status Begin(uint32_t set_id, uint32_t tag) {
    static const char kZeros[64] = {};
    const uint64_t pad = (64 - f_->Size() % 64) % 64;
    if (Status s = f_->Append(std::string_view(kZeros, pad)); !s.ok()) return s;
    cur_ = DirEntry{set_id, tag, f_->Size(), 0, 0, 0};
    return Status::Ok();
  }
  Status Append(std::string_view data) {
    cur_.crc = Crc32c(data.data(), data.size(), cur_.crc);
    cur_.bytes += data.size();
    return f_->Append(data);
  }
  void End() { dir_.push_back(cur_); }
  const std::vector<DirEntry>& dir() const { return dir_; }

 private:
  WritableFile* f_;
  DirEntry cur_{};
  std::vector<DirEntry> dir_;
};

// Writes one column of a set by walking its entries, buffered.
template <class Fn, class Tail = void (*)(std::string*)>
Status WriteColumn(
    SectionWriter* w, const SetState& s, uint32_t tag, Fn&& append_one,
    Tail&& tail = [](std::string*) {}) {
  if (Status st = w->Begin(s.id, tag); !st.ok()) return st;
  std::string buf;
  const uint64_t rows = s.entries.rows();
  for (uint64_t o = 0; o < rows; ++o) {
    append_one(s.entries.Get(o), &buf);
    if (buf.size() >= (1u << 20)) {
      if (Status st = w->Append(buf); !st.ok()) return st;
      buf.clear();
    }
  }
  tail(&buf);
  if (Status st = w->Append(buf); !st.ok()) return st;
  w->End();
  return Status::Ok();
}

void EncodeSetHeader(const SetState& s, std::string* out) {
  EncodeConfig(s.config, out);
  PutVarint64(out, s.id);
  PutVarint64(out, s.version);
  PutVarsint64(out, s.created_time);
  PutVarsint64(out, s.last_sync_time);
  out->push_back(char(s.checkpoint ? 1 : 0));
  if (s.checkpoint) PutBytes(out, s.checkpoint->value);
  PutVarint64(out, s.entries.rows());
  const SetCounts& c = s.counts;
  for (uint64_t v : {c.live, c.tombstones, c.indexed, c.quarantined, c.disabled, c.unmatchable}) {
    PutVarint64(out, v);
  }
}

}  // namespace

Status WriteSnapshotFile(Env* env, const std::filesystem::path& path, const StoreState& state) {
  std::unique_ptr<WritableFile> f;
  if (Status s = env->NewWritableFile(path, &f); !s.ok()) return s;
  SectionWriter w(f.get());
  auto write = [&]() -> Status {
    std::string cat;
    PutVarint64(&cat, state.sequence);
    PutVarint64(&cat, state.next_set_id);
    PutVarint64(&cat, state.sets.size());
    for (const auto& [name, s] : state.sets) EncodeSetHeader(*s, &cat);
    if (Status s = w.Begin(0, kCatalog); !s.ok()) return s;
    if (Status s = w.Append(cat); !s.ok()) return s;
    w.End();
    for (const auto& [name, sp] : state.sets) {
      const SetState& s = *sp;
      const size_t cb = s.code_bytes();
      Status st = WriteColumn(&w, s, kCodes, [cb](const EntryView& v, std::string* b) {
        b->append(reinterpret_cast<const char*>(v.code), cb);
      });
      if (st.ok()) {
        st = WriteColumn(&w, s, kFlags,
                         [](const EntryView& v, std::string* b) { b->push_back(char(v.flags)); });
      }
      if (st.ok()) {
        st = WriteColumn(&w, s, kSourceTime, [](const EntryView& v, std::string* b) {
          PutFixed64(b, uint64_t(v.source_time));
        });
      }
      if (st.ok()) {
        st = WriteColumn(&w, s, kFirstSeen, [](const EntryView& v, std::string* b) {
          PutFixed64(b, uint64_t(v.first_seen));
        });
      }
      if (st.ok()) {
        st = WriteColumn(&w, s, kLastUpdated, [](const EntryView& v, std::string* b) {
          PutFixed64(b, uint64_t(v.last_updated));
        });
      }
      if (st.ok()) {
        // rows + 1 offsets: the closing one is appended to the same section before it ends.
        uint64_t off = 0;
        st = WriteColumn(
            &w, s, kMetaOffsets,
            [&off](const EntryView& v, std::string* b) {
              PutFixed64(b, off);
              off += v.meta.size();
            },
            [&off](std::string* b) { PutFixed64(b, off); });
      }
      if (st.ok()) {
        st = WriteColumn(&w, s, kMeta,
                         [](const EntryView& v, std::string* b) { b->append(v.meta); });
      }
      if (!st.ok()) return st;
    }
    // Directory and footer.
    static const char kZeros[64] = {};
    const uint64_t pad = (64 - f->Size() % 64) % 64;
    if (Status s = f->Append(std::string_view(kZeros, pad)); !s.ok()) return s;
    Footer ft{};
    std::memcpy(ft.magic, kMagic, 8);
    ft.version = kFormatVersion;
    ft.dir_offset = f->Size();
    ft.dir_count = uint32_t(w.dir().size());
    ft.sequence = state.sequence;
    const std::string_view dir(reinterpret_cast<const char*>(w.dir().data()),
                               w.dir().size() * sizeof(DirEntry));
    ft.dir_crc = Crc32c(dir.data(), dir.size());
    ft.crc = Crc32c(&ft, offsetof(Footer, crc));
    if (Status s = f->Append(dir); !s.ok()) return s;
    if (Status s = f->Append(std::string_view(reinterpret_cast<const char*>(&ft), sizeof ft));
        !s.ok()) {
      return s;
    }
    return f->Sync();
  };
  Status s = write();
  if (Status c = f->Close(); s.ok()) s = c;
  return s;
}

Result<StoreState> LoadSnapshotFile(Env* env, const std::filesystem::path& path,
                                    bool verify_checksums, bool build_maps) {
  const std::string name = path.filename().string();
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption("snapshot " + name + ": " + why);
  };
  std::shared_ptr<const MappedFile> file;
  if (Status s = env->MapFile(path, &file); !s.ok()) return s;
  const uint8_t* base = file->data();
  const uint64_t size = file->size();
  if (size < kFooterBytes) return corrupt("too short for a footer");
  Footer ft;
  std::memcpy(&ft, base + size - kFooterBytes, kFooterBytes);
  if (std::memcmp(ft.magic, kMagic, 8) != 0) return corrupt("bad magic (not a snapshot?)");
  if (ft.crc != Crc32c(&ft, offsetof(Footer, crc))) return corrupt("footer checksum mismatch");
  if (ft.version != kFormatVersion) {
    return Status::Unsupported("snapshot " + name + " has format version " +
                               std::to_string(ft.version) + "; this build reads " +
                               std::to_string(kFormatVersion));
  }
  const uint64_t dir_bytes = uint64_t(ft.dir_count) * sizeof(DirEntry);
  if (ft.dir_offset > size - kFooterBytes || dir_bytes != size - kFooterBytes - ft.dir_offset) {
    return corrupt("directory out of bounds");
  }
  std::vector<DirEntry> dir(ft.dir_count);
  std::memcpy(dir.data(), base + ft.dir_offset, dir_bytes);
  if (ft.dir_crc != Crc32c(dir.data(), dir_bytes)) return corrupt("directory checksum mismatch");
  std::map<std::pair<uint32_t, uint32_t>, std::string_view> sections;
  for (const DirEntry& e : dir) {
    if (e.offset > ft.dir_offset || e.bytes > ft.dir_offset - e.offset) {
      return corrupt("section " + std::to_string(e.tag) + " of set " + std::to_string(e.set_id) +
                     " out of bounds");
    }
    const std::string_view data(reinterpret_cast<const char*>(base + e.offset), e.bytes);
    if ((verify_checksums || e.tag == kCatalog) && Crc32c(data.data(), data.size()) != e.crc) {
      return corrupt("checksum mismatch in section " + std::to_string(e.tag) + " of set " +
                     std::to_string(e.set_id) + " at offset " + std::to_string(e.offset));
    }
    sections[{e.set_id, e.tag}] = data;
  }
  auto section = [&](uint32_t set, uint32_t tag) -> std::optional<std::string_view> {
    auto it = sections.find({set, tag});
    if (it == sections.end()) return std::nullopt;
    return it->second;
  };
  const auto cat = section(0, kCatalog);
  if (!cat) return corrupt("no catalog");
  Decoder d(*cat);
  StoreState st;
  st.sequence = d.Varint64();
  st.next_set_id = d.Varint32();
  const uint64_t nsets = d.Varint64();
  if (st.sequence != ft.sequence) return corrupt("catalog and footer disagree on the sequence");
  for (uint64_t i = 0; i < nsets && d.ok(); ++i) {
    auto s = std::make_shared<SetState>();
    if (!DecodeConfig(&d, &s->config)) return corrupt("malformed set header");
    s->id = d.Varint32();
    s->version = d.Varint64();
    s->created_time = d.Varsint64();
    s->last_sync_time = d.Varsint64();
    if (d.Byte()) s->checkpoint = Checkpoint{d.String()};
    const uint64_t rows = d.Varint64();
    SetCounts& c = s->counts;
    for (uint64_t* v :
         {&c.live, &c.tombstones, &c.indexed, &c.quarantined, &c.disabled, &c.unmatchable}) {
      *v = d.Varint64();
    }
    if (!d.ok()) return corrupt("malformed set header");
    const size_t cb = s->code_bytes();
    auto cols = std::make_shared<BaseColumns>();
    cols->file = file;
    cols->rows = rows;
    cols->code_bytes = cb;
    const std::string set_name = "set '" + s->config.name + "'";
    auto column = [&](uint32_t tag, uint64_t bytes) -> Result<const char*> {
      const auto sec = section(s->id, tag);
      if (!sec) return corrupt(set_name + ": missing column " + std::to_string(tag));
      if (sec->size() != bytes) {
        return corrupt(set_name + ": column " + std::to_string(tag) + " has " +
                       std::to_string(sec->size()) + " bytes, expected " + std::to_string(bytes));
      }
      return sec->data();
    };
    auto codes = column(kCodes, rows * cb);
    auto flags = column(kFlags, rows);
    auto src = column(kSourceTime, rows * 8);
    auto first = column(kFirstSeen, rows * 8);
    auto last = column(kLastUpdated, rows * 8);
    auto offs = column(kMetaOffsets, (rows + 1) * 8);
    for (const auto* r : {&codes, &flags, &src, &first, &last, &offs}) {
      if (!r->ok()) return r->status();
    }
    const auto meta = section(s->id, kMeta);
    if (!meta) return corrupt(set_name + ": missing meta column");
    // Sections start 64-byte aligned in a page-aligned mapping, so the arrays are aligned.
    cols->codes = reinterpret_cast<const uint8_t*>(*codes);
    cols->flags = reinterpret_cast<const uint8_t*>(*flags);
    cols->source_time = reinterpret_cast<const int64_t*>(*src);
    cols->first_seen = reinterpret_cast<const int64_t*>(*first);
    cols->last_updated = reinterpret_cast<const int64_t*>(*last);
    cols->meta_offsets = reinterpret_cast<const uint64_t*>(*offs);
    cols->meta = meta->data();
    // Offsets must rise within the meta column: reads are then always in bounds.
    if (cols->meta_offsets[0] != 0 || cols->meta_offsets[rows] != meta->size()) {
      return corrupt(set_name + ": meta offsets do not span the meta column");
    }
    for (uint64_t o = 0; o < rows; ++o) {
      if (cols->meta_offsets[o + 1] < cols->meta_offsets[o]) {
        return corrupt(set_name + ": meta offsets decrease at row " + std::to_string(o));
      }
    }
    s->entries = EntryTable(cb, cols);
    if (!build_maps) {
      st.sets[s->config.name] = std::move(s);
      continue;
    }
    // The key index is built on first use; the digest table now (matching needs it).
    s->keys = KeyIndex::Lazy(s->entries);
    if (!s->perceptual()) {
      std::vector<std::pair<uint64_t, uint32_t>> digests;
      for (uint64_t o = 0; o < rows; ++o) {
        if (Indexed(cols->flags[o])) {
          digests.emplace_back(HashBytes(cols->codes + o * cb, cb), uint32_t(o));
        }
      }
      s->digests = HashMultimap::Build(digests);
    }
    st.sets[s->config.name] = std::move(s);
  }
  if (!d.ok() || !d.done()) return corrupt("malformed catalog");
  return st;
}

}  // namespace hashmatch::store

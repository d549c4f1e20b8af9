// Opening a store: create or recover (snapshot, index files, log replay), then clean up.
#include <algorithm>
#include <cstring>

#include "hashmatch/core/static_index.h"
#include "log_reader.h"
#include "snapshot_file.h"
#include "store_impl.h"

namespace hashmatch::store {
namespace {

namespace fs = std::filesystem;

Result<std::shared_ptr<const StaticIndex>> BuildBaseIndex(const LiveIndexOptions& o, CodeView codes,
                                                          std::span<const uint64_t> ids) {
  bool mih = o.method == LiveIndexOptions::Method::kMih;
  if (o.method == LiveIndexOptions::Method::kAuto && codes.count >= 4096) {
    const MihPlan plan = PlanMih(codes.count, codes.code_bytes, o.mih.expected_radius);
    mih = plan.est_query_ns < plan.est_flat_ns;
  }
  if (mih) return BuildMihIndex(codes, ids, o.mih);
  return BuildFlatIndex(codes, ids);
}

// True when `index` holds exactly the indexed entries of `s` (ids = ordinals, same codes).
bool IndexMatches(const StaticIndex& index, const SetState& s) {
  const size_t cb = s.code_bytes();
  if (index.code_bytes() != cb || index.size() != s.counts.indexed) return false;
  const auto ids = index.ids();
  const CodeView codes = index.codes();
  size_t k = 0;
  for (uint64_t o = 0; o < s.entries.rows(); ++o) {
    const EntryView v = s.entries.Get(o);
    if (!Indexed(v.flags)) continue;
    if (k >= ids.size() || ids[k] != o || std::memcmp(codes.code(k), v.code, cb) != 0) {
      return false;
    }
    ++k;
  }
  return k == ids.size();
}

}  // namespace

HashSetStoreImpl::HashSetStoreImpl(fs::path dir, const StoreOptions& options)
    : dir_(std::move(dir)), options_(options), env_(options.env ? options.env : Env::Default()) {}

HashSetStoreImpl::~HashSetStoreImpl() {
  (void)WaitForSnapshot();
  std::lock_guard<std::mutex> lock(write_mu_);
  if (log_) (void)log_->Close();
}

Status HashSetStoreImpl::Open() {
  if (!options_.read_only) {
    if (options_.create_if_missing) {
      if (Status s = env_->CreateDir(dir_); !s.ok()) return s;
    }
    if (!env_->FileExists(dir_)) return Status::NotFound("no store directory " + dir_.string());
    if (Status s = env_->LockFile(dir_ / std::string(kLockFileName), &lock_); !s.ok()) return s;
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!env_->FileExists(dir_ / std::string(kCurrentFileName))) {
    if (options_.read_only || !options_.create_if_missing) {
      return Status::NotFound("no hash-set store in " + dir_.string() + " (no CURRENT file)");
    }
    return CreateNew();
  }
  if (options_.error_if_exists) {
    return Status(StatusCode::kAlreadyExists, "a hash-set store exists in " + dir_.string());
  }
  auto m = ReadCurrentManifest(env_, dir_, &manifest_number_);
  if (!m.ok()) return m.status();
  manifest_ = std::move(m).value();
  StoreState st;
  if (manifest_.snapshot_number != 0) {
    auto loaded = LoadSnapshotFile(env_, dir_ / SnapshotFileName(manifest_.snapshot_number),
                                   options_.verify_checksums);
    if (!loaded.ok()) return loaded.status();
    st = std::move(loaded).value();
    if (st.sequence != manifest_.snapshot_sequence) {
      return Status::Corruption("snapshot " + SnapshotFileName(manifest_.snapshot_number) +
                                " is at sequence " + std::to_string(st.sequence) +
                                ", the manifest says " +
                                std::to_string(manifest_.snapshot_sequence));
    }
  }
  recovery_.snapshot_sequence = st.sequence;
  if (Status s = LoadIndexes(&st); !s.ok()) return s;
  Publish(std::make_shared<const StoreState>(std::move(st)));

  // Never reuse a number that a file in the directory already has.
  next_file_number_ = manifest_.next_file_number;
  std::vector<std::string> names;
  if (Status s = env_->GetChildren(dir_, &names); !s.ok()) return s;
  for (const std::string& n : names) {
    uint64_t num = 0;
    uint32_t sid = 0;
    if (ParseFileName(n, &num, &sid) != FileType::kOther) {
      next_file_number_ = std::max(next_file_number_, num + 1);
    }
  }
  for (size_t i = 0; i < manifest_.logs.size(); ++i) {
    const bool last = i + 1 == manifest_.logs.size();
    if (Status s = ReplayLog(manifest_.logs[i], last, recovery_.snapshot_sequence); !s.ok()) {
      return s;
    }
  }
  recovery_.sequence = Current()->sequence;
  if (options_.read_only) return Status::Ok();
  log_number_ = manifest_.logs.back();
  std::unique_ptr<WritableFile> f;
  if (Status s = env_->NewAppendableFile(dir_ / LogFileName(log_number_), &f); !s.ok()) return s;
  log_ = std::make_unique<LogWriter>(std::move(f));
  if (log_->Size() == 0) {  // the header itself was torn: write it again
    Status s = log_->WriteFileHeader(FileKind::kLog, log_number_);
    if (s.ok()) s = log_->Sync();
    if (!s.ok()) return s;
  }
  return RemoveObsoleteFiles(&recovery_.notes);
}

Status HashSetStoreImpl::CreateNew() {
  log_number_ = 1;
  manifest_number_ = 2;
  next_file_number_ = 3;
  std::unique_ptr<WritableFile> f;
  if (Status s = env_->NewWritableFile(dir_ / LogFileName(log_number_), &f); !s.ok()) return s;
  log_ = std::make_unique<LogWriter>(std::move(f));
  Status s = log_->WriteFileHeader(FileKind::kLog, log_number_);
  if (s.ok()) s = log_->Sync();
  if (!s.ok()) return s;
  manifest_ = Manifest{next_file_number_, 0, 0, {log_number_}};
  return InstallManifest(env_, dir_, manifest_, manifest_number_);
}

Status HashSetStoreImpl::LoadIndexes(StoreState* st) {
  for (auto& [name, sp] : st->sets) {
    if (!sp->perceptual()) continue;
    auto s = std::make_shared<SetState>(*sp);
    std::shared_ptr<const StaticIndex> base;
    std::string why = "no index file";
    if (manifest_.snapshot_number != 0 && options_.persist_index_files) {
      const fs::path p = dir_ / IndexFileName(manifest_.snapshot_number, s->id);
      if (env_->FileExists(p)) {
        auto loaded = LoadStaticIndex(p, LoadOptions{options_.verify_checksums});
        if (!loaded.ok()) {
          why = loaded.status().message();
        } else if (!IndexMatches(*loaded.value(), *s)) {
          why = "index file " + p.filename().string() + " disagrees with the snapshot";
        } else {
          base = std::move(loaded).value();
          index_files_[s->id] = {manifest_.snapshot_number, s->version};
        }
      }
    }
    if (!base) {
      std::vector<uint8_t> codes;
      std::vector<uint64_t> ids;
      const size_t cb = s->code_bytes();
      for (uint64_t o = 0; o < s->entries.rows(); ++o) {
        const EntryView v = s->entries.Get(o);
        if (!Indexed(v.flags)) continue;
        codes.insert(codes.end(), v.code, v.code + cb);
        ids.push_back(o);
      }
      auto built = BuildBaseIndex(options_.index, CodeView{codes.data(), ids.size(), cb}, ids);
      if (!built.ok()) return built.status();
      base = std::move(built).value();
      if (manifest_.snapshot_number != 0 && options_.persist_index_files) {
        recovery_.notes.push_back("rebuilt the index of set '" + name + "' (" + why + ")");
      }
    }
    auto li = LiveIndex::FromBase(std::move(base), options_.index);
    if (!li.ok()) return li.status();
    s->index = li.value()->GetSnapshot();
    indexes_[s->id] = std::move(li).value();
    sp = std::move(s);
  }
  return Status::Ok();
}

Status HashSetStoreImpl::ReplayLog(uint64_t number, bool last, uint64_t snapshot_sequence) {
  const std::string name = LogFileName(number);
  const fs::path path = dir_ / name;
  std::shared_ptr<const MappedFile> file;
  if (Status s = env_->MapFile(path, &file); !s.ok()) {
    return Status::Corruption("log " + name +
                              " named by the manifest cannot be read: " + s.message());
  }
  LogReader reader(file->view(), name);
  RecordType type;
  std::string_view payload;
  bool header = false;
  for (;;) {
    const LogReader::Next n = reader.Read(&type, &payload);
    if (n == LogReader::Next::kError) return reader.status();
    if (n == LogReader::Next::kEnd) break;
    const std::string where =
        "file " + name + " at offset " + std::to_string(reader.record_offset());
    if (!header) {
      if (type != RecordType::kFileHeader) {
        return Status::Corruption(where + ": the first record is not a file header");
      }
      if (Status s = CheckFileHeader(payload, FileKind::kLog, number, name); !s.ok()) return s;
      header = true;
      continue;
    }
    if (type != RecordType::kTxn) {
      return Status::Corruption(where + ": unexpected record type " + std::to_string(int(type)));
    }
    auto t = DecodeTxn(payload, where);
    if (!t.ok()) return t.status();
    const std::shared_ptr<const StoreState> cur_state = Current();
    const StoreState& cur = *cur_state;
    if (t->sequence <= snapshot_sequence) continue;  // already in the snapshot
    if (t->sequence != cur.sequence + 1) {
      return Status::Corruption(where + ": transaction " + std::to_string(t->sequence) +
                                " follows " + std::to_string(cur.sequence));
    }
    auto p = PrepareTxn(cur, *t);
    if (!p.ok()) {
      return Status::Corruption(where + ": transaction " + std::to_string(t->sequence) +
                                " does not apply: " + p.status().message());
    }
    if (Status s = InstallAndPublish(*t, &p.value()); !s.ok()) return s;
    if (t->staged) {
      live_stages_.emplace_back(t->staged->file_number, t->sequence);
      staged_bytes_ += t->staged->file_bytes;
    }
    ++recovery_.replayed;
  }
  if (reader.torn_tail()) {
    if (!last) {
      return Status::Corruption("file " + name + ": damaged record at offset " +
                                std::to_string(reader.valid_end()) +
                                " in a log that is not the last one");
    }
    recovery_.torn_tail = true;
    recovery_.torn_tail_file = name;
    recovery_.torn_tail_offset = reader.valid_end();
    recovery_.torn_tail_bytes = file->size() - reader.valid_end();
    if (!options_.read_only) {
      // Cut the tail so that new records follow the last good one.
      if (Status s = env_->TruncateFile(path, reader.valid_end()); !s.ok()) return s;
      std::unique_ptr<WritableFile> f;
      if (Status s = env_->NewAppendableFile(path, &f); !s.ok()) return s;
      Status s = f->Sync();
      if (Status c = f->Close(); s.ok()) s = c;
      if (!s.ok()) return s;
    }
  } else if (!header && !last) {
    return Status::Corruption("file " + name + ": empty log that is not the last one");
  }
  return Status::Ok();
}

Status HashSetStoreImpl::RemoveObsoleteFiles(std::vector<std::string>* notes) {
  std::vector<std::string> names;
  if (Status s = env_->GetChildren(dir_, &names); !s.ok()) return s;
  for (const std::string& n : names) {
    uint64_t num = 0;
    uint32_t sid = 0;
    bool keep = true;
    switch (ParseFileName(n, &num, &sid)) {
      case FileType::kLog:
        keep = std::find(manifest_.logs.begin(), manifest_.logs.end(), num) != manifest_.logs.end();
        break;
      case FileType::kSnapshot:
      case FileType::kIndex:
        keep = num == manifest_.snapshot_number;
        break;
      case FileType::kStage:
        keep = std::any_of(live_stages_.begin(), live_stages_.end(),
                           [num](const auto& p) { return p.first == num; }) ||
               (staged_open_ && num == open_stage_number_);
        break;
      case FileType::kManifest:
        keep = num == manifest_number_;
        break;
      case FileType::kTemp:
        keep = false;
        break;
      default:
        break;
    }
    if (!keep) {
      if (Status s = env_->RemoveFile(dir_ / n); s.ok() && notes) {
        notes->push_back("removed obsolete file " + n);
      }
    }
  }
  return Status::Ok();
}

}  // namespace hashmatch::store

namespace hashmatch {

Result<std::unique_ptr<HashSetStore>> HashSetStore::Open(const std::filesystem::path& dir,
                                                         const StoreOptions& options) {
  Env* env = options.env ? options.env : Env::Default();
  const std::filesystem::path current = dir / std::string(store::kCurrentFileName);
  for (int attempt = 0;; ++attempt) {
    std::string before;
    if (options.read_only) (void)env->ReadFileToString(current, &before);
    auto store = std::make_unique<store::HashSetStoreImpl>(dir, options);
    Status s = store->Open();
    if (s.ok()) return std::unique_ptr<HashSetStore>(std::move(store));
    // A writer in another process may have installed a snapshot (and removed the files the old
    // manifest named) while a read-only open was reading them: try again on the new manifest.
    std::string after;
    if (!options.read_only || attempt == 4 || !env->ReadFileToString(current, &after).ok() ||
        after == before) {
      return s;
    }
  }
}

Result<std::unique_ptr<HashSetStore>> HashSetStore::Create(const std::filesystem::path& dir,
                                                           StoreOptions options) {
  options.create_if_missing = true;
  options.error_if_exists = true;
  return Open(dir, options);
}

}  // namespace hashmatch

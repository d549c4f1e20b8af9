// Staged imports: a large file's records are checked and written chunk by chunk to a staging file
// (NNNNNN.stage, framed like the log), then committed by one log record that names the file.
//
// Order at commit: staging file fsynced and closed, directory fsynced (the file's entry must be
// durable before a commit record can name it), then the commit record is logged and fsynced. A
// crash before that leaves an orphan staging file, removed on the next open: nothing applied.
// The staging file stays until a snapshot covers its transaction (replay needs it before that).
#include "log_reader.h"
#include "store_impl.h"

namespace hashmatch::store {
namespace {

namespace fs = std::filesystem;

// Records per staging chunk: bounds the memory of staging and of replay.
constexpr size_t kChunkRecords = 16384;

class ImportTransactionImpl final : public ImportTransaction {
 public:
  ImportTransactionImpl(HashSetStoreImpl* store, uint32_t set_id, const SetConfig& config,
                        const ApplyOptions& options, uint64_t number,
                        std::unique_ptr<LogWriter> writer)
      : store_(store),
        set_id_(set_id),
        config_(config),
        options_(options),
        number_(number),
        writer_(std::move(writer)) {}
  ~ImportTransactionImpl() override { Abort(); }

  Status Add(std::span<const EntryRecord> records) override {
    if (!writer_) return Status::InvalidArgument("the import is no longer open");
    for (size_t i = 0; i < records.size(); ++i) {
      std::optional<std::string> reason;
      auto c = CheckRecord(config_, records[i], records_ + i, options_,
                           store_->options().degenerate, &reason);
      if (!c.ok()) {
        Abort();
        return c.status();
      }
    }
    for (size_t i = 0; i < records.size(); i += kChunkRecords) {
      const auto part = records.subspan(i, std::min(kChunkRecords, records.size() - i));
      std::string payload;
      EncodeRecords(part, &payload);
      if (Status s = writer_->AddRecord(RecordType::kStageChunk, payload); !s.ok()) {
        Abort();
        return s;
      }
      ++chunks_;
    }
    records_ += records.size();
    return Status::Ok();
  }

  Result<CommitStats> Commit(const std::optional<Checkpoint>& checkpoint) override {
    if (!writer_) return Status::InvalidArgument("the import is no longer open");
    Status s = writer_->Sync();
    StagedRef ref{number_, writer_->Size(), chunks_, records_};
    if (Status c = writer_->Close(); s.ok()) s = c;
    writer_.reset();
    if (s.ok()) s = store_->env()->SyncDir(store_->dir());
    if (!s.ok()) {
      Finish(false);
      return s;
    }
    auto r = store_->CommitStaged(set_id_, options_, checkpoint, ref);
    Finish(r.ok());
    return r;
  }

  void Abort() override {
    if (!store_) return;
    if (writer_) (void)writer_->Close();
    writer_.reset();
    Finish(false);
  }

  uint64_t staged_records() const override { return records_; }

 private:
  void Finish(bool committed) {
    if (!store_) return;
    store_->EndStaged(number_, committed);
    store_ = nullptr;
  }

  HashSetStoreImpl* store_;
  uint32_t set_id_;
  SetConfig config_;
  ApplyOptions options_;
  uint64_t number_;
  std::unique_ptr<LogWriter> writer_;
  uint64_t records_ = 0;
  uint64_t chunks_ = 0;
};

}  // namespace

Status FeedStagingFile(Env* env, const fs::path& path, const StagedRef& ref,
                       ImportApplier* applier) {
  const std::string name = path.filename().string();
  std::shared_ptr<const MappedFile> file;
  if (Status s = env->MapFile(path, &file); !s.ok()) {
    return Status::Corruption("staging file " + name + " of a committed import: " + s.message());
  }
  if (file->size() != ref.file_bytes) {
    return Status::Corruption("staging file " + name + " has " + std::to_string(file->size()) +
                              " bytes; its commit record says " + std::to_string(ref.file_bytes));
  }
  LogReader reader(file->view(), name);
  RecordType type;
  std::string_view payload;
  bool header = false;
  uint64_t chunks = 0, records = 0;
  std::vector<EntryRecord> batch;
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
      if (Status s = CheckFileHeader(payload, FileKind::kStage, ref.file_number, name); !s.ok()) {
        return s;
      }
      header = true;
      continue;
    }
    if (type != RecordType::kStageChunk) {
      return Status::Corruption(where + ": unexpected record type " + std::to_string(int(type)));
    }
    batch.clear();
    if (Status s = DecodeRecords(payload, where, &batch); !s.ok()) return s;
    ++chunks;
    records += batch.size();
    if (Status s = applier->Feed(batch); !s.ok()) return s;
  }
  // The file was fsynced before its commit was logged: it must be whole.
  if (reader.torn_tail() || !header || chunks != ref.chunks || records != ref.records) {
    return Status::Corruption("staging file " + name + " is incomplete (" + std::to_string(chunks) +
                              " chunks, " + std::to_string(records) +
                              " records; the commit record says " + std::to_string(ref.chunks) +
                              " and " + std::to_string(ref.records) + ")");
  }
  return Status::Ok();
}

Result<std::unique_ptr<ImportTransaction>> HashSetStoreImpl::BeginImport(
    std::string_view set_name, const ApplyOptions& options) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (Status s = CheckWritable(); !s.ok()) return s;
  if (staged_open_) {
    return Status(StatusCode::kUnavailable, "another staged import is open on this store");
  }
  auto set = FindSet(*Current(), set_name);
  if (!set.ok()) return set.status();
  const uint64_t number = next_file_number_++;
  std::unique_ptr<WritableFile> f;
  if (Status s = env_->NewWritableFile(dir_ / StageFileName(number), &f); !s.ok()) return s;
  auto writer = std::make_unique<LogWriter>(std::move(f));
  if (Status s = writer->WriteFileHeader(FileKind::kStage, number); !s.ok()) {
    (void)writer->Close();
    (void)env_->RemoveFile(dir_ / StageFileName(number));
    return s;
  }
  staged_open_ = true;
  open_stage_number_ = number;
  return std::unique_ptr<ImportTransaction>(std::make_unique<ImportTransactionImpl>(
      this, set.value()->id, set.value()->config, options, number, std::move(writer)));
}

Result<CommitStats> HashSetStoreImpl::CommitStaged(uint32_t set_id, const ApplyOptions& options,
                                                   const std::optional<Checkpoint>& checkpoint,
                                                   const StagedRef& ref) {
  Result<CommitStats> r = [&]() -> Result<CommitStats> {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (Status s = CheckWritable(); !s.ok()) return s;
    const auto cur = Current();
    Txn t;
    t.kind = TxnKind::kImport;
    t.time = env_->NowSeconds();
    t.set_id = set_id;
    t.import = options;
    t.checkpoint = checkpoint;
    t.staged = ref;
    auto p = PrepareTxn(*cur, t);  // reads the staging file back, as replay will
    if (!p.ok()) return p.status();
    auto c = CommitLocked(std::move(t), std::move(p).value());
    if (c.ok()) {
      live_stages_.emplace_back(ref.file_number, c->sequence);
      staged_bytes_ += ref.file_bytes;
      staged_open_ = false;  // now a committed file: a snapshot below may cover and remove it
    }
    return c;
  }();
  MaybeSnapshot();
  return r;
}

void HashSetStoreImpl::EndStaged(uint64_t file_number, bool committed) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (open_stage_number_ == file_number) staged_open_ = false;  // (not a later import's)
  // After a failed log write the commit record may still be on disk and name the file: keep it
  // then (the next open removes it if no commit names it).
  if (!committed && error_.ok()) (void)env_->RemoveFile(dir_ / StageFileName(file_number));
}

}  // namespace hashmatch::store

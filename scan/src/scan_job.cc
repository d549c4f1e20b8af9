// RunScanJob: the scan's output files and its checkpoint. See scan_job.h for the protocol; the
// checkpoint's text format is in checkpoint.h.
#include "hashmatch/scan/scan_job.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "checkpoint.h"
#include "hashmatch/hashsets/env.h"
#include "hashmatch/scan/scan_json.h"

namespace hashmatch {

using scan_internal::ScanCheckpoint;

namespace {

struct Output {
  std::filesystem::path path;
  std::unique_ptr<WritableFile> file;
};

// Resuming: the file must hold at least what the checkpoint vouches for.
Status CheckOutput(Env* env, const std::filesystem::path& path, uint64_t size) {
  uint64_t have = 0;
  if (Status s = env->GetFileSize(path, &have); !s.ok()) return s;
  if (have < size) {
    return Status::InvalidArgument(path.string() + " holds " + std::to_string(have) +
                                   " bytes, fewer than the checkpoint's " + std::to_string(size) +
                                   ": not this scan's output");
  }
  return Status::Ok();
}

// Opens `path` fresh, or (resuming) cut back to `size` bytes and positioned at its end.
Status OpenOutput(Env* env, const std::filesystem::path& path, bool resume, uint64_t size,
                  Output* out) {
  out->path = path;
  if (!resume) return env->NewWritableFile(path, &out->file);
  if (Status s = env->TruncateFile(path, size); !s.ok()) return s;
  return env->NewAppendableFile(path, &out->file);
}

// "-": the process's standard output, written through fd 1 as it is (reopening /dev/stdout would
// truncate a file the shell opened for appending). Not resumable: nothing to truncate back.
class StdoutFile : public WritableFile {
 public:
  Status Append(std::string_view data) override {
    buf_.append(data);
    size_ += data.size();
    return buf_.size() >= (1 << 16) ? Flush() : Status::Ok();
  }
  Status Flush() override {
    size_t done = 0;
    while (done < buf_.size()) {
      const ssize_t n = ::write(1, buf_.data() + done, buf_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::IoError(std::string("standard output: ") + std::strerror(errno));
      done += size_t(n);
    }
    buf_.clear();
    return Status::Ok();
  }
  Status Sync() override { return Flush(); }
  Status Close() override { return Flush(); }
  uint64_t Size() const override { return size_; }

 private:
  std::string buf_;
  uint64_t size_ = 0;
};

std::string ListLine(const ScanItemResult& item) {
  return item.member.empty() ? item.path + "\n" : item.path + "\t" + item.member + "\n";
}

}  // namespace

Result<ScanSummary> RunScanJob(const StoreSnapshot& store, std::span<const ScanInput> inputs,
                               const ScanJobOptions& options, const ScanJobFiles& files) {
  if (files.out.empty()) return Status::InvalidArgument("the scan needs an output file");
  Env* env = options.env ? options.env : Env::Default();
  const uint64_t fingerprint = scan_internal::Fingerprint(inputs, options, files);

  ScanCheckpoint cp;
  bool resume = false;
  if (!files.checkpoint.empty() && env->FileExists(files.checkpoint)) {
    if (!options.resume) {
      return Status(StatusCode::kAlreadyExists,
                    files.checkpoint.string() +
                        " exists (an interrupted scan): resume it, or remove it to start over");
    }
    std::string text;
    if (Status s = env->ReadFileToString(files.checkpoint, &text); !s.ok()) return s;
    auto parsed = scan_internal::ParseCheckpoint(text);
    if (!parsed.ok()) {
      return Status(parsed.status().code(),
                    files.checkpoint.string() + ": " + parsed.status().message());
    }
    cp = *std::move(parsed);
    if (cp.fingerprint != fingerprint) {
      return Status::InvalidArgument(files.checkpoint.string() +
                                     " belongs to a scan of other inputs, options or output "
                                     "files; remove it to start over");
    }
    if (cp.store_sequence != store.sequence()) {
      return Status::InvalidArgument(
          "the store changed since " + files.checkpoint.string() + " was written (sequence " +
          std::to_string(cp.store_sequence) + ", now " + std::to_string(store.sequence()) +
          "): a resumed scan would mix set versions; remove the checkpoint to start over");
    }
    resume = true;
  }

  if (files.out == "-" && !files.checkpoint.empty()) {
    return Status::InvalidArgument("a scan to standard output cannot be resumed (no checkpoint)");
  }
  if (resume) {
    if (Status s = CheckOutput(env, files.out, cp.out_bytes); !s.ok()) return s;
    if (!files.keep.empty()) {
      if (Status s = CheckOutput(env, files.keep, cp.keep_bytes); !s.ok()) return s;
    }
    if (!files.drop.empty()) {
      if (Status s = CheckOutput(env, files.drop, cp.drop_bytes); !s.ok()) return s;
    }
  }
  // The files are opened (created, or cut back to the checkpoint) only once the scan has reached
  // the resume point and delivers its first item: a refused resume (bad options, a changed
  // dataset) leaves them as they were.
  Output out, keep, drop;
  bool opened = false;
  auto open_outputs = [&]() -> Status {
    opened = true;
    if (files.out == "-") {
      out.path = files.out;
      out.file = std::make_unique<StdoutFile>();
    } else if (Status s = OpenOutput(env, files.out, resume, cp.out_bytes, &out); !s.ok()) {
      return s;
    }
    if (!files.keep.empty()) {
      if (Status s = OpenOutput(env, files.keep, resume, cp.keep_bytes, &keep); !s.ok()) return s;
    }
    if (!files.drop.empty()) {
      if (Status s = OpenOutput(env, files.drop, resume, cp.drop_bytes, &drop); !s.ok()) return s;
    }
    return Status::Ok();
  };
  ScanSummary total = cp.counts;  // cumulative over runs
  total.resumed_items = cp.counts.items;
  total.store_sequence = store.sequence();
  if (resume && cp.complete) return total;  // nothing left to do
  cp.fingerprint = fingerprint;
  cp.store_sequence = store.sequence();

  // Makes everything written so far durable, then records it.
  bool dirs_synced = false;
  auto checkpoint = [&](bool complete) -> Status {
    for (Output* o : {&out, &keep, &drop}) {
      if (!o->file) continue;
      Status s = files.checkpoint.empty() ? o->file->Flush() : o->file->Sync();
      if (!s.ok()) return s;
    }
    if (files.checkpoint.empty()) return Status::Ok();
    // Files created by this run: their directory entries must be durable before a checkpoint
    // names their lengths (the checkpoint's own rename syncs only its directory).
    if (!dirs_synced) {
      for (Output* o : {&out, &keep, &drop}) {
        if (!o->file) continue;
        const std::filesystem::path dir = o->path.has_parent_path() ? o->path.parent_path() : ".";
        if (Status s = env->SyncDir(dir); !s.ok()) return s;
      }
      dirs_synced = true;
    }
    cp.out_bytes = out.file->Size();
    cp.keep_bytes = keep.file ? keep.file->Size() : 0;
    cp.drop_bytes = drop.file ? drop.file->Size() : 0;
    cp.counts = total;
    cp.complete = complete;
    return WriteFileAtomically(env, files.checkpoint, scan_internal::FormatCheckpoint(cp));
  };

  ScanOptions so = options.scan;
  so.skip_items = cp.counts.items;
  // The dataset must still hold, at the resume point, the item the checkpoint ended with.
  if (so.skip_items > 0) so.resume_after = std::make_pair(cp.last_path, cp.last_member);
  SignalSet signals = so.signals;
  signals.insert(SignalType::kPdq).insert(SignalType::kMd5);
  using Clock = std::chrono::steady_clock;
  auto last = Clock::now();
  uint64_t attached = 0;  // skipped files counted through this run's items
  auto result = Scan(store, inputs, so, [&](ScanItemResult& item) -> Status {
    if (!opened) {
      if (Status s = open_outputs(); !s.ok()) return s;
    }
    total.Count(item);
    attached += item.skipped_before;
    cp.last_path = item.path;
    cp.last_member = item.member;
    const bool flagged = !item.ok() || item.matched() || !item.suppressed.empty();
    if (options.write_all_items || flagged) {
      if (Status s = out.file->Append(ScanItemJson(item, signals)); !s.ok()) return s;
    }
    if (item.matched()) {
      if (drop.file) {
        if (Status s = drop.file->Append(ListLine(item)); !s.ok()) return s;
      }
    } else if (item.ok() && keep.file) {
      if (Status s = keep.file->Append(ListLine(item)); !s.ok()) return s;
    }
    if (options.progress) options.progress(item, total);
    // The checkpoint is taken between items: `total` and the files hold exactly items < next.
    if (!files.checkpoint.empty() && std::chrono::duration<double>(Clock::now() - last).count() >=
                                         options.checkpoint_interval_s) {
      if (Status s = checkpoint(false); !s.ok()) return s;
      last = Clock::now();
    }
    return Status::Ok();
  });
  if (!result.ok()) return result.status();
  if (!opened) {  // no item after the resume point (or none at all)
    if (Status s = open_outputs(); !s.ok()) return s;
  }
  // `total` counted the skipped files attached to items; add those after the last item.
  total.skipped_files += result->skipped_files - attached;
  total.seconds = result->seconds;
  total.searched = result->searched;
  if (Status s = checkpoint(true); !s.ok()) return s;
  for (Output* o : {&out, &keep, &drop}) {
    if (o->file) {
      if (Status s = o->file->Close(); !s.ok()) return s;
    }
  }
  return total;
}

}  // namespace hashmatch

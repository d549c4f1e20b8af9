#include "emitter.h"

#include <algorithm>
#include <functional>

namespace hashmatch::importers {

RecordEmitter::RecordEmitter(const ImportOptions& options, const RecordSink& sink,
                             ImportSummary* summary)
    : options_(options),
      sink_(sink),
      summary_(summary),
      chunk_size_(std::max<size_t>(1, options.limits.chunk_records)) {}

bool RecordEmitter::Filtered(SignalType signal) {
  if (!options_.signal || *options_.signal == signal) return false;
  ++summary_->filtered;
  return true;
}

Status RecordEmitter::Emit(EntryRecord&& r) {
  ++summary_->emitted;
  if (r.deleted) {
    ++summary_->tombstones;
  } else {
    ++summary_->per_signal[size_t(r.signal)];
    if (!r.matchable) ++summary_->not_matchable;
  }
  chunk_.push_back(std::move(r));
  if (chunk_.size() >= chunk_size_) return Flush();
  return Status::Ok();
}

Status RecordEmitter::Flush() {
  if (chunk_.empty()) return Status::Ok();
  Status s = sink_ ? sink_(chunk_) : Status::Ok();
  chunk_.clear();
  return s;
}

Status RecordEmitter::Finish() {
  return Flush();
}

void PageBuffer::Grow() {
  std::vector<IndexEntry> old(std::max<size_t>(1024, index_.size() * 2));
  old.swap(index_);
  const size_t mask = index_.size() - 1;
  for (const IndexEntry& e : old) {
    if (e.slot_plus_1 == 0) continue;
    size_t i = e.hash & mask;
    while (index_[i].slot_plus_1 != 0) i = (i + 1) & mask;
    index_[i] = e;
  }
}

void PageBuffer::Add(EntryRecord&& r, int64_t time_us, ImportSummary* summary) {
  if ((slots_.size() + 1) * 2 > index_.size()) Grow();
  const uint64_t h = std::hash<std::string_view>{}(r.key);
  const size_t mask = index_.size() - 1;
  size_t i = h & mask;
  for (; index_[i].slot_plus_1 != 0; i = (i + 1) & mask) {
    if (index_[i].hash != h) continue;
    Slot& held = slots_[index_[i].slot_plus_1 - 1];
    if (held.record.key != r.key) continue;
    ++summary->duplicates;
    // The later timestamp wins whatever the order in the page; a tie goes to the later record.
    if (time_us >= held.time_us) held = Slot{std::move(r), time_us};
    return;
  }
  slots_.push_back(Slot{std::move(r), time_us});
  index_[i] = IndexEntry{h, uint32_t(slots_.size())};
}

Status PageBuffer::EmitTo(RecordEmitter& out) {
  for (Slot& s : slots_) {
    Status st = out.Emit(std::move(s.record));
    if (!st.ok()) return st;
  }
  slots_.clear();
  index_.clear();
  return Status::Ok();
}

}  // namespace hashmatch::importers

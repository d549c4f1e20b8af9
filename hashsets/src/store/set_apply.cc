#include "set_apply.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "hashmatch/core/hex.h"

namespace hashmatch::store {
namespace {

bool Stale(int64_t stored, int64_t incoming) {
  return stored != 0 && incoming != 0 && incoming < stored;
}

std::shared_ptr<EntryData> CopyOf(const EntryView& v, size_t code_bytes) {
  auto d = std::make_shared<EntryData>();
  std::memcpy(d->code.data(), v.code, code_bytes);
  d->flags = v.flags;
  d->source_time = v.source_time;
  d->first_seen = v.first_seen;
  d->last_updated = v.last_updated;
  d->meta = std::string(v.meta);
  return d;
}

// Same stored content, ignoring first-seen and last-updated (which a change always moves).
bool SameContent(const EntryView& a, const EntryView& b, size_t code_bytes) {
  return a.flags == b.flags && a.source_time == b.source_time && a.meta == b.meta &&
         std::memcmp(a.code, b.code, code_bytes) == 0;
}

void Count(SetCounts* c, const EntryView& v, int64_t sign) {
  if (!v.exists) return;
  auto add = [sign](uint64_t* x) { *x = uint64_t(int64_t(*x) + sign); };
  if (v.flags & kFlagDeleted) {
    add(&c->tombstones);
    return;
  }
  add(&c->live);
  if (Indexed(v.flags)) add(&c->indexed);
  if (v.flags & kFlagQuarantined) add(&c->quarantined);
  if (!(v.flags & kFlagEnabled)) add(&c->disabled);
  if (!(v.flags & kFlagMatchable)) add(&c->unmatchable);
}

// Updates counts, the digest table and the index diff for one ordinal that changed from `old`
// to `now`.
void Account(SetState* next, IndexDiff* diff, uint32_t ord, const EntryView& old,
             const EntryView& now) {
  const size_t cb = next->code_bytes();
  Count(&next->counts, old, -1);
  Count(&next->counts, now, +1);
  const bool was = old.exists && Indexed(old.flags);
  const bool is = Indexed(now.flags);
  const bool code_changed = was && std::memcmp(old.code, now.code, cb) != 0;
  if (next->perceptual()) {
    if (was && (!is || code_changed)) diff->removes.push_back(ord);
    if (is && (!was || code_changed)) {
      diff->add_ids.push_back(ord);
      diff->add_codes.insert(diff->add_codes.end(), now.code, now.code + cb);
    }
  } else {
    if (was && (!is || code_changed)) next->digests.Erase(HashBytes(old.code, cb), ord);
    if (is && (!was || code_changed)) next->digests.Insert(HashBytes(now.code, cb), ord);
  }
}

}  // namespace

bool ValidSetName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

Status ValidateConfig(const SetConfig& c) {
  if (!ValidSetName(c.name)) {
    return Status::InvalidArgument("invalid set name '" + c.name +
                                   "': use 1..64 of A-Z a-z 0-9 _ - . (not starting with '.')");
  }
  if (uint8_t(c.signal) > uint8_t(SignalType::kSha256)) {
    return Status::InvalidArgument("unknown signal type " + std::to_string(int(c.signal)));
  }
  const SignalInfo& info = GetSignalInfo(c.signal);
  if (info.perceptual && c.threshold > info.max_distance) {
    return Status::InvalidArgument("threshold " + std::to_string(c.threshold) + " exceeds " +
                                   std::string(info.name) + "'s " +
                                   std::to_string(info.max_distance) + " bits");
  }
  if (!info.perceptual && c.threshold != 0) {
    return Status::InvalidArgument(std::string(info.name) +
                                   " digests match by equality: the threshold must be 0");
  }
  return Status::Ok();
}

ImportApplier::ImportApplier(std::shared_ptr<const SetState> cur, int64_t time,
                             const ApplyOptions& options, const DegenerateOptions& degenerate)
    : cur_(std::move(cur)),
      next_(std::make_shared<SetState>(*cur_)),
      keys_(cur_->keys->map()),
      time_(time),
      options_(options),
      degenerate_(degenerate) {}

void ImportApplier::See(uint32_t ordinal) {
  if (!options_.full_list) return;
  if (ordinal / 64 >= seen_.size()) seen_.resize(ordinal / 64 + 1, 0);
  seen_[ordinal / 64] |= uint64_t(1) << (ordinal % 64);
}

std::string RecordName(const EntryRecord& r, uint64_t position) {
  return r.source_ref.empty() ? "record " + std::to_string(position + 1) : r.source_ref;
}

Result<bool> CheckRecord(const SetConfig& c, const EntryRecord& r, uint64_t position,
                         const ApplyOptions& options, const DegenerateOptions& degenerate,
                         std::optional<std::string>* reason) {
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument(RecordName(r, position) + ": " + why);
  };
  if (r.key.empty()) return invalid("empty key");
  if (r.key.size() > kMaxKeyBytes) return invalid("key longer than 1024 bytes");
  if (r.deleted) return true;
  const SignalInfo& info = GetSignalInfo(c.signal);
  if (r.signal != c.signal) {
    if (options.skip_other_signals) return false;
    return invalid("a " + std::string(GetSignalInfo(r.signal).name) + " record for set '" + c.name +
                   "' of " + std::string(info.name));
  }
  if (r.code.size() != info.code_bytes) {
    return invalid(std::string(info.name) + " code of " + std::to_string(r.code.size()) +
                   " bytes (expected " + std::to_string(info.code_bytes) + ")");
  }
  if (r.classification.size() > kMaxClassificationBytes) {
    return invalid("classification longer than 1024 bytes");
  }
  if (r.tags.size() > kMaxTags) return invalid("more than 64 tags");
  for (const std::string& t : r.tags) {
    if (t.size() > kMaxTagBytes) return invalid("a tag longer than 256 bytes");
  }
  *reason = DegenerateReason(r.signal, r.code, degenerate);
  if (*reason && c.degenerate == DegeneratePolicy::kRefuse) {
    return invalid("degenerate " + std::string(info.name) + " code " + EncodeHex(r.code) + ": " +
                   **reason);
  }
  return true;
}

Status ImportApplier::Feed(std::span<const EntryRecord> records) {
  SetState& s = *next_;
  const size_t cb = s.code_bytes();
  for (const EntryRecord& r : records) {
    const uint64_t pos = position_++;
    ++stats_.records;
    std::optional<std::string> reason;
    auto check = CheckRecord(s.config, r, pos, options_, degenerate_, &reason);
    if (!check.ok()) return check.status();
    const std::optional<uint32_t> found = FindKey(keys_, s.entries, r.key);
    if (found) See(*found);
    if (r.deleted) {
      if (!found) {
        ++stats_.unchanged;  // deleting what was never stored: nothing to do
        continue;
      }
      const EntryView v = s.entries.Get(*found);
      if (v.flags & kFlagDeleted) {
        ++stats_.unchanged;
      } else if (Stale(v.source_time, r.source_time)) {
        ++stats_.stale;
      } else {
        auto d = CopyOf(v, cb);
        d->flags |= kFlagDeleted;
        if (r.source_time != 0) d->source_time = r.source_time;
        d->last_updated = time_;
        s.entries.Put(*found, std::move(d));
        Touch(*found);
      }
      continue;
    }
    if (!check.value()) {
      ++stats_.skipped;
      continue;
    }
    auto d = std::make_shared<EntryData>();
    std::memcpy(d->code.data(), r.code.data(), cb);
    d->flags = uint8_t((r.matchable ? kFlagMatchable : 0) | (reason ? kFlagQuarantined : 0));
    d->source_time = r.source_time;
    d->meta = EncodeMeta(r.key, r.classification, r.tags, reason.value_or(""));
    uint32_t ord;
    if (found) {
      ord = *found;
      const EntryView v = s.entries.Get(ord);
      if (Stale(v.source_time, r.source_time)) {
        ++stats_.stale;
        continue;
      }
      d->flags |= v.flags & kFlagEnabled;  // the operator's choice survives updates
      d->first_seen = v.first_seen;
      EntryView nv;
      nv.code = d->code.data();
      nv.flags = d->flags;
      nv.source_time = d->source_time;
      nv.meta = d->meta;
      if (SameContent(v, nv, cb)) {
        ++stats_.unchanged;
        continue;
      }
    } else {
      if (s.entries.rows() >= UINT32_MAX) {
        return Status::OutOfRange(RecordName(r, pos) + ": the set is full (2^32-1 entries)");
      }
      ord = uint32_t(s.entries.rows());
      keys_.Insert(HashBytes(r.key.data(), r.key.size()), ord);
      d->flags |= kFlagEnabled;
      d->first_seen = time_;
      See(ord);
    }
    if (reason) {
      ++stats_.quarantined;
      if (stats_.notes.size() < 20) {
        stats_.notes.push_back(RecordName(r, pos) + ": quarantined " + EncodeHex(r.code) + ": " +
                               *reason);
      }
    }
    d->last_updated = time_;
    s.entries.Put(ord, std::move(d));
    Touch(ord);
  }
  return Status::Ok();
}

Prepared ImportApplier::Finish(const std::optional<Checkpoint>& checkpoint) {
  SetState& s = *next_;
  const size_t cb = s.code_bytes();
  if (options_.full_list) {
    for (uint64_t o = 0; o < s.entries.rows(); ++o) {
      if (Seen(uint32_t(o))) continue;
      const EntryView v = s.entries.Get(o);
      if (v.flags & kFlagDeleted) continue;
      auto d = CopyOf(v, cb);
      d->flags |= kFlagDeleted;
      d->last_updated = time_;
      s.entries.Put(o, std::move(d));
      Touch(uint32_t(o));
    }
  }
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  Prepared p;
  p.kind = TxnKind::kImport;
  p.set_id = s.id;
  bool changed = false;
  for (uint32_t o : touched_) {
    const EntryView old = cur_->entries.Get(o);
    const EntryView now = s.entries.Get(o);
    if (old.exists && SameContent(old, now, cb)) {
      // Changed and changed back within the transaction: keep the stored entry as it was.
      s.entries.Put(o, CopyOf(old, cb));
      continue;
    }
    changed = true;
    const bool was_live = old.exists && !(old.flags & kFlagDeleted);
    const bool is_live = !(now.flags & kFlagDeleted);
    if (!was_live && is_live) ++stats_.added;
    if (was_live && !is_live) ++stats_.deleted;
    if (was_live && is_live) ++stats_.updated;
    Account(&s, &p.diff, o, old, now);
  }
  if (changed) ++s.version;
  if (keys_.size() != cur_->keys->map().size()) s.keys = KeyIndex::Ready(std::move(keys_));
  s.last_sync_time = time_;
  if (checkpoint) s.checkpoint = checkpoint;
  stats_.changed = changed;
  stats_.set_version = s.version;
  p.stats = std::move(stats_);
  p.next = std::move(next_);
  p.changed = true;  // an import is always logged: it records its checkpoint and sync time
  return p;
}

Result<Prepared> PrepareCreate(const Txn& t) {
  if (Status s = ValidateConfig(t.config); !s.ok()) return s;
  auto next = std::make_shared<SetState>();
  next->config = t.config;
  next->id = t.set_id;
  next->version = 1;
  next->created_time = t.time;
  next->entries = EntryTable(GetSignalInfo(t.config.signal).code_bytes, nullptr);
  Prepared p;
  p.kind = TxnKind::kCreateSet;
  p.set_id = t.set_id;
  p.next = std::move(next);
  p.changed = true;
  return p;
}

Result<Prepared> PrepareUpdate(std::shared_ptr<const SetState> cur, const Txn& t) {
  SetConfig c = cur->config;
  const SetUpdate& u = t.update;
  if (u.threshold) c.threshold = *u.threshold;
  if (u.kind) c.kind = *u.kind;
  if (u.enabled) c.enabled = *u.enabled;
  if (u.degenerate) c.degenerate = *u.degenerate;
  if (Status s = ValidateConfig(c); !s.ok()) return s;
  Prepared p;
  p.kind = TxnKind::kUpdateSet;
  p.set_id = cur->id;
  p.next = std::make_shared<SetState>(*cur);
  const SetConfig& o = cur->config;
  p.changed = c.threshold != o.threshold || c.kind != o.kind || c.enabled != o.enabled ||
              c.degenerate != o.degenerate;
  if (p.changed) {
    p.next->config = c;
    ++p.next->version;
  }
  p.stats.changed = p.changed;
  p.stats.set_version = p.next->version;
  return p;
}

Result<Prepared> PrepareEntryEnabled(std::shared_ptr<const SetState> cur, const Txn& t) {
  const auto ord = cur->FindKey(t.key);
  const EntryView v = ord ? cur->entries.Get(*ord) : EntryView{};
  if (!ord || (v.flags & kFlagDeleted)) {
    return Status::NotFound("no live entry '" + t.key + "' in set '" + cur->config.name + "'");
  }
  Prepared p;
  p.kind = TxnKind::kEntryEnabled;
  p.set_id = cur->id;
  p.next = std::make_shared<SetState>(*cur);
  const bool enabled = v.flags & kFlagEnabled;
  p.changed = enabled != t.enabled;
  if (p.changed) {
    auto d = CopyOf(v, cur->code_bytes());
    d->flags = uint8_t(t.enabled ? (d->flags | kFlagEnabled) : (d->flags & ~kFlagEnabled));
    d->last_updated = t.time;
    p.next->entries.Put(*ord, std::move(d));
    Account(p.next.get(), &p.diff, *ord, v, p.next->entries.Get(*ord));
    ++p.next->version;
  }
  p.stats.changed = p.changed;
  p.stats.set_version = p.next->version;
  return p;
}

Status Install(Prepared* p, LiveIndex* index) {
  if (!p->next || !p->next->perceptual()) return Status::Ok();
  if (index == nullptr) return Status::Internal("no index for set " + std::to_string(p->set_id));
  if (!p->diff.removes.empty()) {
    if (Status s = index->Remove(p->diff.removes); !s.ok()) {
      return Status::Internal("index diff does not apply: " + s.message());
    }
  }
  if (!p->diff.add_ids.empty()) {
    const CodeView codes{p->diff.add_codes.data(), p->diff.add_ids.size(), index->code_bytes()};
    if (Status s = index->Add(codes, p->diff.add_ids); !s.ok()) {
      return Status::Internal("index diff does not apply: " + s.message());
    }
  }
  p->next->index = index->GetSnapshot();
  return Status::Ok();
}

}  // namespace hashmatch::store

#include "txn_codec.h"

#include "coding.h"

namespace hashmatch::store {
namespace {

constexpr uint8_t kRecDeleted = 1;
constexpr uint8_t kRecMatchable = 2;

// Optional fields of SetUpdate: a presence bit each.
constexpr uint8_t kHasThreshold = 1, kHasKind = 2, kHasEnabled = 4, kHasDegenerate = 8;

}  // namespace

void EncodeConfig(const SetConfig& c, std::string* out) {
  PutBytes(out, c.name);
  out->push_back(char(c.signal));
  PutVarint64(out, c.threshold);
  out->push_back(char(c.kind));
  out->push_back(char(c.enabled));
  out->push_back(char(c.degenerate));
}

bool DecodeConfig(Decoder* d, SetConfig* c) {
  c->name = d->String();
  c->signal = SignalType(d->Byte());
  c->threshold = d->Varint32();
  c->kind = SetKind(d->Byte());
  c->enabled = d->Byte() != 0;
  c->degenerate = DegeneratePolicy(d->Byte());
  return d->ok() && uint8_t(c->signal) <= uint8_t(SignalType::kSha256) && uint8_t(c->kind) <= 1 &&
         uint8_t(c->degenerate) <= 1;
}

namespace {

void EncodeRecord(const EntryRecord& r, std::string* out) {
  PutBytes(out, r.key);
  out->push_back(char(r.signal));
  out->push_back(char((r.deleted ? kRecDeleted : 0) | (r.matchable ? kRecMatchable : 0)));
  PutBytes(out, std::string_view(reinterpret_cast<const char*>(r.code.data()), r.code.size()));
  PutBytes(out, r.classification);
  PutVarint64(out, r.tags.size());
  for (const std::string& t : r.tags) PutBytes(out, t);
  PutVarsint64(out, r.source_time);
}

bool DecodeRecord(Decoder* d, EntryRecord* r) {
  r->key = d->String();
  r->signal = SignalType(d->Byte());
  const uint8_t f = d->Byte();
  r->deleted = f & kRecDeleted;
  r->matchable = f & kRecMatchable;
  const std::string_view code = d->Bytes();
  r->code.assign(code.begin(), code.end());
  r->classification = d->String();
  const uint64_t n = d->Varint64();
  if (n > d->remaining()) return false;
  r->tags.resize(size_t(n));
  for (auto& t : r->tags) t = d->String();
  r->source_time = d->Varsint64();
  return d->ok() && uint8_t(r->signal) <= uint8_t(SignalType::kSha256);
}

}  // namespace

void EncodeRecords(std::span<const EntryRecord> records, std::string* out) {
  PutVarint64(out, records.size());
  for (const EntryRecord& r : records) EncodeRecord(r, out);
}

Status DecodeRecords(std::string_view payload, const std::string& where,
                     std::vector<EntryRecord>* out) {
  Decoder d(payload);
  const uint64_t n = d.Varint64();
  if (!d.ok() || n > payload.size()) return Status::Corruption(where + ": bad record count");
  const size_t first = out->size();
  out->resize(first + size_t(n));
  for (uint64_t i = 0; i < n; ++i) {
    if (!DecodeRecord(&d, &(*out)[first + i])) {
      return Status::Corruption(where + ": malformed entry record " + std::to_string(i));
    }
  }
  if (!d.done()) return Status::Corruption(where + ": trailing bytes after the entry records");
  return Status::Ok();
}

std::string EncodeTxn(const Txn& t, std::span<const EntryRecord> records) {
  std::string out;
  PutVarint64(&out, t.sequence);
  PutVarsint64(&out, t.time);
  out.push_back(char(t.kind));
  PutVarint64(&out, t.set_id);
  switch (t.kind) {
    case TxnKind::kCreateSet:
      EncodeConfig(t.config, &out);
      break;
    case TxnKind::kUpdateSet: {
      const SetUpdate& u = t.update;
      out.push_back(char((u.threshold ? kHasThreshold : 0) | (u.kind ? kHasKind : 0) |
                         (u.enabled ? kHasEnabled : 0) | (u.degenerate ? kHasDegenerate : 0)));
      PutVarint64(&out, u.threshold.value_or(0));
      out.push_back(char(u.kind.value_or(SetKind::kMatch)));
      out.push_back(char(u.enabled.value_or(false)));
      out.push_back(char(u.degenerate.value_or(DegeneratePolicy::kQuarantine)));
      break;
    }
    case TxnKind::kDropSet:
      break;
    case TxnKind::kEntryEnabled:
      PutBytes(&out, t.key);
      out.push_back(char(t.enabled));
      break;
    case TxnKind::kImport:
      out.push_back(char((t.import.full_list ? 1 : 0) | (t.import.skip_other_signals ? 2 : 0) |
                         (t.checkpoint ? 4 : 0) | (t.staged ? 8 : 0)));
      if (t.checkpoint) PutBytes(&out, t.checkpoint->value);
      if (t.staged) {
        PutVarint64(&out, t.staged->file_number);
        PutVarint64(&out, t.staged->file_bytes);
        PutVarint64(&out, t.staged->chunks);
        PutVarint64(&out, t.staged->records);
      } else {
        EncodeRecords(records, &out);
      }
      break;
  }
  return out;
}

Result<Txn> DecodeTxn(std::string_view payload, const std::string& where) {
  Decoder d(payload);
  Txn t;
  t.sequence = d.Varint64();
  t.time = d.Varsint64();
  const uint8_t kind = d.Byte();
  t.set_id = d.Varint32();
  if (!d.ok() || kind < 1 || kind > 5) {
    return Status::Corruption(where + ": malformed transaction header");
  }
  t.kind = TxnKind(kind);
  bool ok = true;
  switch (t.kind) {
    case TxnKind::kCreateSet:
      ok = DecodeConfig(&d, &t.config);
      break;
    case TxnKind::kUpdateSet: {
      const uint8_t has = d.Byte();
      const uint32_t threshold = d.Varint32();
      const uint8_t k = d.Byte();
      const uint8_t e = d.Byte();
      const uint8_t g = d.Byte();
      if (has & kHasThreshold) t.update.threshold = threshold;
      if (has & kHasKind) t.update.kind = SetKind(k);
      if (has & kHasEnabled) t.update.enabled = e != 0;
      if (has & kHasDegenerate) t.update.degenerate = DegeneratePolicy(g);
      ok = d.ok() && k <= 1 && g <= 1;
      break;
    }
    case TxnKind::kDropSet:
      break;
    case TxnKind::kEntryEnabled:
      t.key = d.String();
      t.enabled = d.Byte() != 0;
      break;
    case TxnKind::kImport: {
      const uint8_t f = d.Byte();
      t.import.full_list = f & 1;
      t.import.skip_other_signals = f & 2;
      if (f & 4) t.checkpoint = Checkpoint{d.String()};
      if (f & 8) {
        StagedRef s;
        s.file_number = d.Varint64();
        s.file_bytes = d.Varint64();
        s.chunks = d.Varint64();
        s.records = d.Varint64();
        t.staged = s;
      } else if (d.ok()) {
        // The rest of the payload is the record list.
        const std::string_view rest = payload.substr(payload.size() - d.remaining());
        if (Status s = DecodeRecords(rest, where, &t.records); !s.ok()) return s;
        d = Decoder({});
      }
      break;
    }
  }
  if (!ok || !d.ok() || !d.done()) {
    return Status::Corruption(where + ": malformed transaction of kind " + std::to_string(kind));
  }
  return t;
}

}  // namespace hashmatch::store

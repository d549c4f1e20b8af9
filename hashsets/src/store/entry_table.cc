#include "entry_table.h"

#include "coding.h"

namespace hashmatch::store {

std::string EncodeMeta(std::string_view key, std::string_view classification,
                       const std::vector<std::string>& tags, std::string_view reason) {
  std::string m;
  m.reserve(key.size() + classification.size() + reason.size() + 8 + tags.size() * 8);
  PutBytes(&m, key);
  PutBytes(&m, classification);
  PutVarint64(&m, tags.size());
  for (const std::string& t : tags) PutBytes(&m, t);
  PutBytes(&m, reason);
  return m;
}

bool DecodeMeta(std::string_view packed, MetaView* out) {
  Decoder d(packed);
  out->key = d.Bytes();
  out->classification = d.Bytes();
  const uint64_t n = d.Varint64();
  out->tags.clear();
  for (uint64_t i = 0; i < n && d.ok(); ++i) out->tags.push_back(d.Bytes());
  out->reason = d.Bytes();
  return d.ok() && d.done();
}

std::string_view MetaKey(std::string_view packed) {
  Decoder d(packed);
  return d.Bytes();
}

Entry EntryTable::Materialize(const EntryView& v) const {
  Entry e;
  MetaView m;
  (void)DecodeMeta(v.meta, &m);  // validated when the snapshot was loaded or the entry built
  e.key = std::string(m.key);
  e.code.assign(v.code, v.code + code_bytes_);
  e.classification = std::string(m.classification);
  for (std::string_view t : m.tags) e.tags.emplace_back(t);
  e.quarantine_reason = std::string(m.reason);
  e.source_time = v.source_time;
  e.first_seen = v.first_seen;
  e.last_updated = v.last_updated;
  e.deleted = v.flags & kFlagDeleted;
  e.matchable = v.flags & kFlagMatchable;
  e.enabled = v.flags & kFlagEnabled;
  return e;
}

}  // namespace hashmatch::store

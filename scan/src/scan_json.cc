#include "hashmatch/scan/scan_json.h"

#include <cstdio>

#include "hashmatch/core/hex.h"
#include "hashmatch/core/json_string.h"

namespace hashmatch {

const char* ScanItemResultName(const ScanItemResult& item) {
  if (item.matched()) return "match";
  if (!item.ok()) return "error";
  if (item.is_suppressed()) return "suppressed";
  return "clean";
}

namespace {

void Str(std::string& o, const char* key, const std::string& v) {
  o += ",\"";
  o += key;
  o += "\":\"";
  o += JsonEscape(v);
  o += '"';
}

void Num(std::string& o, const char* key, uint64_t v) {
  o += ",\"";
  o += key;
  o += "\":";
  o += std::to_string(v);
}

void Hits(std::string& o, const char* key, const std::vector<ScanHit>& hits) {
  if (hits.empty()) return;
  o += ",\"";
  o += key;
  o += "\":[";
  for (size_t i = 0; i < hits.size(); ++i) {
    const ScanHit& h = hits[i];
    o += i ? ",{" : "{";
    o += "\"signal\":\"";
    o += GetSignalInfo(h.signal).name;
    o += '"';
    Str(o, "set", h.set);
    Num(o, "set_version", h.set_version);
    Str(o, "key", h.entry.key);
    Num(o, "distance", h.distance);
    if (h.orientation) Str(o, "orientation", DihedralName(*h.orientation));
    Str(o, "listed_hash", EncodeHex(h.entry.code));
    Str(o, "classification", h.entry.classification);
    o += ",\"tags\":[";
    for (size_t t = 0; t < h.entry.tags.size(); ++t) {
      o += t ? ",\"" : "\"";
      o += JsonEscape(h.entry.tags[t]);
      o += '"';
    }
    o += "]}";
  }
  o += ']';
}

}  // namespace

std::string ScanItemJson(const ScanItemResult& item, const SignalSet& signals_in) {
  SignalSet signals = signals_in;  // Scan always computes these two
  signals.insert(SignalType::kPdq).insert(SignalType::kMd5);
  std::string o = "{\"index\":" + std::to_string(item.index);
  Str(o, "path", item.path);
  if (!item.member.empty()) Str(o, "member", item.member);
  Str(o, "result", ScanItemResultName(item));
  Num(o, "bytes", item.bytes);
  if (!item.ok()) {
    o += ",\"error\":{\"code\":\"";
    o += StatusCodeName(item.status.code());
    o += '"';
    Str(o, "message", item.status.message());
    o += '}';
  }
  const BatchHashResult& h = item.hashes;
  if (item.ok() && signals.contains(SignalType::kPdq)) {
    Str(o, "pdq", EncodeHex(h.pdq[0].hash.bytes()));
    Num(o, "quality", uint64_t(h.pdq[0].quality));
    if (h.pdq_fast) o += ",\"pdq_fast\":true";  // the JPEG fast path made it (not bit-exact)
  }
  for (SignalType t : {SignalType::kMd5, SignalType::kSha1, SignalType::kSha256}) {
    if (item.bytes_read && signals.contains(t)) {
      Str(o, std::string(GetSignalInfo(t).name).c_str(), EncodeHex(h.Code(t)));
    }
  }
  for (SignalType t :
       {SignalType::kAHash64, SignalType::kDHash64, SignalType::kPHash64, SignalType::kWHash64}) {
    if (item.ok() && signals.contains(t)) {
      Str(o, std::string(GetSignalInfo(t).name).c_str(), EncodeHex(h.Code(t)));
    }
  }
  if (item.low_quality) o += ",\"low_quality\":true";
  Hits(o, "matches", item.matches);
  Hits(o, "suppressed", item.suppressed);
  Hits(o, "suppressors", item.suppressors);
  if (item.truncated) o += ",\"truncated\":true";
  o += "}\n";
  return o;
}

std::string ScanSummaryJson(const ScanSummary& s) {
  std::string o = "{\"items\":" + std::to_string(s.items);
  Num(o, "scanned", s.scanned);
  Num(o, "matched", s.matched);
  Num(o, "suppressed", s.suppressed);
  Num(o, "failed", s.failed);
  o += ",\"failed_by_reason\":{";
  bool first = true;
  for (const auto& [reason, n] : s.failed_by_reason) {
    o += first ? "\"" : ",\"";
    first = false;
    o += JsonEscape(reason) + "\":" + std::to_string(n);
  }
  o += '}';
  Num(o, "low_quality", s.low_quality);
  Num(o, "skipped_files", s.skipped_files);
  Num(o, "bytes", s.bytes);
  char buf[64];
  std::snprintf(buf, sizeof buf, ",\"seconds\":%.3f,\"images_per_second\":%.1f", s.seconds,
                s.items_per_second());
  o += buf;
  Num(o, "resumed_items", s.resumed_items);
  Num(o, "store_sequence", s.store_sequence);
  o += ",\"sets\":[";
  for (size_t i = 0; i < s.searched.size(); ++i) {
    o += i ? ",{" : "{";
    o += "\"set\":\"" + JsonEscape(s.searched[i].set) + "\"";
    Num(o, "version", s.searched[i].version);
    o += s.searched[i].kind == SetKind::kSuppress ? ",\"kind\":\"suppress\"}"
                                                  : ",\"kind\":\"match\"}";
  }
  o += "]}\n";
  return o;
}

}  // namespace hashmatch

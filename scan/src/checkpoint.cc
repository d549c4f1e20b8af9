#include "checkpoint.h"

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <sstream>

namespace hashmatch::scan_internal {

namespace {

// Paths may hold spaces or newlines: hex keeps the line format trivial. "-" is the empty string.
std::string Hex(const std::string& s) {
  if (s.empty()) return "-";
  static const char kDigits[] = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) o += kDigits[c >> 4], o += kDigits[c & 15];
  return o;
}

bool Unhex(const std::string& h, std::string* out) {
  out->clear();
  if (h == "-") return true;
  if (h.empty() || h.size() % 2) return false;
  auto nibble = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < h.size(); i += 2) {
    const int a = nibble(h[i]), b = nibble(h[i + 1]);
    if (a < 0 || b < 0) return false;
    *out += char(a * 16 + b);
  }
  return true;
}

}  // namespace

std::string FormatCheckpoint(const ScanCheckpoint& cp) {
  const ScanSummary& c = cp.counts;
  char fp[32];
  std::snprintf(fp, sizeof fp, "%016" PRIx64, cp.fingerprint);
  std::string o = "hashmatch-scan-checkpoint 1\n";
  o += "fingerprint " + std::string(fp) + "\n";
  o += "store_sequence " + std::to_string(cp.store_sequence) + "\n";
  o += "items " + std::to_string(c.items) + "\n";
  o += "out_bytes " + std::to_string(cp.out_bytes) + "\n";
  o += "keep_bytes " + std::to_string(cp.keep_bytes) + "\n";
  o += "drop_bytes " + std::to_string(cp.drop_bytes) + "\n";
  o += "last_item " + Hex(cp.last_path) + " " + Hex(cp.last_member) + "\n";
  o += std::string("complete ") + (cp.complete ? "1" : "0") + "\n";
  o += "counts";
  for (uint64_t v :
       {c.scanned, c.matched, c.suppressed, c.failed, c.low_quality, c.skipped_files, c.bytes}) {
    o += ' ';
    o += std::to_string(v);
  }
  o += "\n";
  for (const auto& [reason, n] : c.failed_by_reason) {
    o += "reason " + reason + " " + std::to_string(n) + "\n";
  }
  o += "end\n";
  return o;
}

Result<ScanCheckpoint> ParseCheckpoint(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != "hashmatch-scan-checkpoint 1") {
    return Status::Corruption("not a scan checkpoint (version 1)");
  }
  ScanCheckpoint cp;
  ScanSummary& c = cp.counts;
  bool ended = false;
  int seen = 0;
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream f(line);
    std::string key;
    f >> key;
    bool ok = true;
    if (key == "end") {
      ended = true;
      break;
    } else if (key == "fingerprint") {
      std::string hex;
      ok = bool(f >> hex) && hex.size() == 16 &&
           std::from_chars(hex.data(), hex.data() + 16, cp.fingerprint, 16).ptr == hex.data() + 16;
      ++seen;
    } else if (key == "store_sequence") {
      ok = bool(f >> cp.store_sequence);
      ++seen;
    } else if (key == "items") {
      ok = bool(f >> c.items);
      ++seen;
    } else if (key == "out_bytes") {
      ok = bool(f >> cp.out_bytes);
    } else if (key == "keep_bytes") {
      ok = bool(f >> cp.keep_bytes);
    } else if (key == "drop_bytes") {
      ok = bool(f >> cp.drop_bytes);
    } else if (key == "last_item") {
      std::string p, m;
      ok = bool(f >> p >> m) && Unhex(p, &cp.last_path) && Unhex(m, &cp.last_member);
    } else if (key == "complete") {
      int v = 0;
      ok = bool(f >> v) && (v == 0 || v == 1);
      cp.complete = v == 1;
    } else if (key == "counts") {
      ok = bool(f >> c.scanned >> c.matched >> c.suppressed >> c.failed >> c.low_quality >>
                c.skipped_files >> c.bytes);
      ++seen;
    } else if (key == "reason") {
      std::string name;
      uint64_t n = 0;
      ok = bool(f >> name >> n);
      if (ok) c.failed_by_reason[name] = n;
    } else {
      ok = false;
    }
    if (!ok) return Status::Corruption("bad checkpoint line " + std::to_string(line_no));
  }
  if (!ended || seen != 4) return Status::Corruption("incomplete checkpoint");
  return cp;
}

namespace {

// FNV-1a, 64 bits: a fingerprint against mistakes, not against an adversary.
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ull;
  Fnv& Add(std::string_view s) {
    for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;  // a separator, so that ("ab","c") != ("a","bc")
    return *this;
  }
  Fnv& Add(uint64_t v) { return Add(std::to_string(v)); }
};

}  // namespace

uint64_t Fingerprint(std::span<const ScanInput> inputs, const ScanJobOptions& options,
                     const ScanJobFiles& files) {
  Fnv f;
  f.Add("scan-1").Add(inputs.size());
  for (const ScanInput& in : inputs) f.Add(in.path.string()).Add(uint64_t(in.kind));
  const ScanOptions& o = options.scan;
  for (const SignalInfo& s : AllSignalTypes()) f.Add(o.signals.contains(s.type) ? 1 : 0);
  f.Add(o.dihedral).Add(o.decode.max_pixels).Add(uint64_t(o.decode.max_jpeg_scans));
  f.Add(o.decode.clamp_grey16).Add(o.decode.apply_exif_orientation);
  f.Add(o.pdq.compat_512).Add(o.pdq.fast).Add(uint64_t(o.pdq.fast_min_side));
  f.Add(uint64_t(o.min_quality)).Add(o.sets.size());
  for (const std::string& s : o.sets) f.Add(s);
  f.Add(o.threshold ? uint64_t(*o.threshold) + 1 : 0).Add(o.max_hits_per_item);
  f.Add(o.all_files).Add(o.max_item_bytes).Add(options.write_all_items);
  f.Add(files.out.string()).Add(files.keep.string()).Add(files.drop.string());
  return f.h;
}

}  // namespace hashmatch::scan_internal

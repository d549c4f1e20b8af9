// Helpers for the store tests: temporary directories, deterministic records, and a full dump of a
// store's logical state (two stores holding the same transactions dump the same text).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hashmatch/core/hex.h"
#include "hashmatch/hashsets/hash_set_store.h"

namespace hashmatch::testing {

// Concatenates strings and numbers. (GCC 12 warns falsely on `"literal" + std::to_string(n)`.)
inline void AppendTo(std::string* s, std::string_view v) {
  s->append(v);
}
template <class T>
requires std::is_arithmetic_v<T>
inline void AppendTo(std::string* s, T v) {
  s->append(std::to_string(v));
}
template <class... A>
std::string Str(const A&... a) {
  std::string s;
  (AppendTo(&s, a), ...);
  return s;
}

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "store") {
    static int counter = 0;
    path_ =
        std::filesystem::temp_directory_path() / Str("hm-", tag, "-", ::getpid(), "-", counter++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A code of `bytes` random bytes from (seed, i): random PDQ codes have ~128 bits set and are never
// degenerate.
inline std::vector<uint8_t> RandomCode(size_t bytes, uint64_t seed, uint64_t i) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull + 1);
  std::vector<uint8_t> c(bytes);
  for (size_t k = 0; k < bytes; k += 8) {
    const uint64_t w = rng();
    for (size_t b = 0; b < 8 && k + b < bytes; ++b) c[k + b] = uint8_t(w >> (8 * b));
  }
  return c;
}

inline EntryRecord Rec(std::string key, std::vector<uint8_t> code,
                       SignalType signal = SignalType::kPdq, std::string classification = "",
                       std::vector<std::string> tags = {}, int64_t source_time = 0) {
  EntryRecord r;
  r.key = std::move(key);
  r.signal = signal;
  r.code = std::move(code);
  r.classification = std::move(classification);
  r.tags = std::move(tags);
  r.source_time = source_time;
  return r;
}

inline EntryRecord Tombstone(std::string key, int64_t source_time = 0) {
  EntryRecord r;
  r.key = std::move(key);
  r.deleted = true;
  r.source_time = source_time;
  return r;
}

// Every set's header and every entry, as text. Without the sequence and the sync times it compares
// the content of stores that saw different numbers of transactions, or a clock that ticked.
inline std::string Dump(const StoreSnapshot& snap, bool with_sequence = true) {
  std::ostringstream o;
  if (with_sequence) o << "sequence " << snap.sequence() << "\n";
  for (const SetInfo& s : snap.ListSets()) {
    const SetConfig& c = s.config;
    o << "set " << c.name << " id=" << s.id << " signal=" << GetSignalInfo(c.signal).name
      << " threshold=" << c.threshold << " kind=" << int(c.kind) << " enabled=" << c.enabled
      << " degenerate=" << int(c.degenerate) << " version=" << s.version
      << " created=" << s.created_time
      << " sync=" << (with_sequence ? std::to_string(s.last_sync_time) : std::string("-"))
      << " checkpoint=" << (s.checkpoint ? "'" + s.checkpoint->value + "'" : "none")
      << " live=" << s.counts.live << " tomb=" << s.counts.tombstones
      << " indexed=" << s.counts.indexed << " quar=" << s.counts.quarantined
      << " dis=" << s.counts.disabled << " unm=" << s.counts.unmatchable << "\n";
    (void)snap.ForEachEntry(c.name, [&](const Entry& e) {
      o << "  " << e.key << " " << EncodeHex(e.code) << " cls=" << e.classification << " tags=";
      for (const auto& t : e.tags) o << t << ";";
      o << " t=" << e.source_time << "/" << e.first_seen << "/" << e.last_updated
        << " del=" << e.deleted << " m=" << e.matchable << " en=" << e.enabled
        << " q=" << e.quarantine_reason << "\n";
      return true;
    });
  }
  return o.str();
}

}  // namespace hashmatch::testing

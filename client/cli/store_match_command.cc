// hashmatch match --store DIR: hashes (inline, or files of one hash per line) and images (JPEG,
// PNG, WebP: hashed here with PDQ, --dihedral for all eight orientations; quality below 50 is not
// matched) against a local store's sets, through the store's indexes. Output, one line per hit:
//   text   query_hash,listed_hash,distance,SET/KEY,input
//   jsonl  {"input":...,"query":...,"set":...,"set_version":N,"key":...,"listed_hash":...,
//           "distance":N,"classification":...,"tags":[...]}
// Hits a suppress set cancelled are not printed as matches: text prints them on stderr, jsonl as
// lines with "suppressed":true. A query with more hits than --max-hits says so on stderr.
#include <filesystem>
#include <iostream>
#include <map>

#include "commands.h"
#include "hash_list.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/core/pdq.h"
#include "image_inputs.h"
#include "store_cli.h"

namespace hashmatch::cli {
namespace {

void PrintHit(const std::string& input, const std::string& query, const MatchHit& h,
              uint64_t version, bool jsonl, bool suppressed) {
  const std::string listed = EncodeHex(h.entry.code);
  if (!jsonl) {
    (suppressed ? std::cerr : std::cout)
        << (suppressed ? "suppressed: " : "") << query << "," << listed << "," << h.distance << ","
        << h.set << "/" << h.entry.key << "," << input << "\n";
    return;
  }
  std::cout << "{\"input\":\"" << JsonEscape(input) << "\",\"query\":\"" << query << "\",\"set\":\""
            << JsonEscape(h.set) << "\",\"set_version\":" << version << ",\"key\":\""
            << JsonEscape(h.entry.key) << "\",\"listed_hash\":\"" << listed
            << "\",\"distance\":" << h.distance << ",\"classification\":\""
            << JsonEscape(h.entry.classification) << "\",\"tags\":[";
  for (size_t i = 0; i < h.entry.tags.size(); ++i) {
    std::cout << (i ? "," : "") << "\"" << JsonEscape(h.entry.tags[i]) << "\"";
  }
  std::cout << "]" << (suppressed ? ",\"suppressed\":true" : "") << "}\n";
}

}  // namespace

int RunStoreMatch(StoreArgs& a) {
  const SignalType type = a.type.value_or(SignalType::kPdq);
  const size_t cb = GetSignalInfo(type).code_bytes;
  HashFile queries;
  queries.type = type;
  bool ok = true;
  for (const std::string& in : a.positional) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(in, ec) && LooksLikeImage(in)) {
      if (type != SignalType::kPdq) {
        std::cerr << "hashmatch: " << in << ": images are matched with --type pdq\n";
        ok = false;
        continue;
      }
      PdqHasher hasher;
      auto h = HashImageFile(in, hasher, DecodeOptions{}, PdqOptions{}, a.dihedral);
      if (!h.ok()) {
        std::cerr << "hashmatch: " << in << ": " << h.status().message() << "\n";
        ok = false;
        continue;
      }
      if (h->pdq[0].quality < 50) {
        std::cerr << "hashmatch: " << in << ": PDQ quality " << h->pdq[0].quality
                  << " (below 50: a flat image, not matched)\n";
        continue;
      }
      const size_t n = a.dihedral ? kNumDihedral : 1;
      for (size_t d = 0; d < n; ++d) {
        const auto bytes = h->pdq[d].hash.bytes();
        queries.codes.insert(queries.codes.end(), bytes.begin(), bytes.end());
        queries.labels.push_back(a.dihedral ? in + "#" + DihedralName(Dihedral(d)) : in);
      }
      continue;
    }
    if (std::filesystem::is_regular_file(in, ec)) {
      HashFile f;
      if (Status s = ReadHashFile(in, type, &f); !s.ok()) {
        std::cerr << "hashmatch: " << s.message() << "\n";
        ok = false;
        continue;
      }
      queries.codes.insert(queries.codes.end(), f.codes.begin(), f.codes.end());
      queries.labels.insert(queries.labels.end(), f.labels.begin(), f.labels.end());
      continue;
    }
    std::vector<uint8_t> code(cb);
    if (Status s = ParseOneCode(in, type, code.data()); !s.ok()) {
      std::cerr << "hashmatch: " << in << ": not a file or a " << GetSignalInfo(type).name
                << " hash (" << s.message() << ")\n";
      ok = false;
      continue;
    }
    queries.codes.insert(queries.codes.end(), code.begin(), code.end());
    queries.labels.push_back(in);
  }
  if (a.positional.empty()) return Usage("match --store: expected hashes or hash files");
  auto store = OpenStore(a, /*create=*/false, /*read_only=*/true);
  if (!store) return 2;
  MatchOptions mo;
  mo.sets = a.sets;
  mo.threshold = a.threshold;
  mo.max_hits_per_query = a.max_hits;
  auto r = store->Match(type, CodeView{queries.codes.data(), queries.size(), cb}, mo);
  if (!r.ok()) return Check(r.status());
  std::map<std::string, uint64_t> versions;
  for (const SearchedSet& s : r->searched) versions[s.set] = s.version;
  for (size_t q = 0; q < queries.size(); ++q) {
    const std::string query = EncodeHex({queries.codes.data() + q * cb, cb});
    const QueryMatches& m = r->queries[q];
    for (const MatchHit& h : m.hits) {
      PrintHit(queries.labels[q], query, h, versions[h.set], a.jsonl, false);
    }
    for (const MatchHit& h : m.suppressed) {
      PrintHit(queries.labels[q], query, h, versions[h.set], a.jsonl, true);
    }
    if (m.truncated) {
      std::cerr << "hashmatch: " << queries.labels[q] << ": more than " << a.max_hits
                << " hits; the nearest shown (--max-hits)\n";
    }
  }
  return ok ? 0 : 1;
}

}  // namespace hashmatch::cli

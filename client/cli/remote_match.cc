// hashmatch match --server: hashes (inline or in files) and images hashed here, matched by the
// daemon. Images never leave the host: only their PDQ hashes are sent.
//
// Output, one line per hit:
//   text:  query_hash,set,key,distance,source       (source: "file:line", "arg",
//   "path#orientation") jsonl: {"query":..., "query_source":..., "set":..., "set_version":...,
//   "key":...,
//           "distance":..., "classification":..., "tags":[...]}
// query_hash is the hash that matched (for --dihedral, the orientation's). A hit a suppress set
// cancelled is not printed; a truncated hit list is reported on stderr.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "commands.h"
#include "hash_list.h"
#include "hashmatch/core/hex.h"
#include "image_inputs.h"
#include "remote.h"

namespace hashmatch::cli {
namespace {

struct RemoteMatchOptions {
  ServerArgs server;
  std::vector<std::string> sets;
  SignalType type = SignalType::kPdq;
  int threshold = -1;
  bool jsonl = false;
  bool dihedral = false;
  uint32_t min_quality = 50;
  DecodeOptions decode;
  PdqOptions pdq;
  uint32_t batch = 500;  // queries per call
  std::vector<std::string> inputs;
};

struct PendingQuery {
  client::Query query;
  std::vector<std::string> hexes;  // per hash, for printing
  std::string source;
};

// Builds queries from every input; false when an input failed (reported).
bool Gather(const RemoteMatchOptions& o, std::vector<PendingQuery>* out) {
  const std::string type(GetSignalInfo(o.type).name);
  const size_t cb = GetSignalInfo(o.type).code_bytes;
  bool ok = true;
  auto fail = [&](const std::string& m) {
    std::cerr << "hashmatch: " << m << "\n";
    ok = false;
  };
  auto add = [&](std::vector<std::string> hexes, std::string source) {
    PendingQuery q;
    for (const std::string& h : hexes) q.query.hashes.push_back(client::Hash{type, h, {}});
    q.hexes = std::move(hexes);
    q.source = std::move(source);
    out->push_back(std::move(q));
  };
  PdqHasher hasher;
  std::error_code ec;
  for (const std::string& in : o.inputs) {
    if (!std::filesystem::exists(in, ec)) {  // an inline hash
      std::vector<uint8_t> code(cb);
      if (Status s = ParseOneCode(in, o.type, code.data()); !s.ok()) {
        fail("query '" + in + "': " + s.message());
      } else {
        add({EncodeHex(code)}, "arg");
      }
      continue;
    }
    std::vector<std::filesystem::path> paths;
    if (Status s = ExpandPaths({in}, &paths); !s.ok()) {
      fail(s.message());
      continue;
    }
    for (const auto& path : paths) {
      if (!LooksLikeImage(path)) {
        HashFile f;
        if (Status s = ReadHashFile(path, o.type, &f); !s.ok()) {
          fail(s.message());
          continue;
        }
        for (size_t i = 0; i < f.size(); ++i) {
          add({EncodeHex(std::span<const uint8_t>(f.codes.data() + i * cb, cb))}, f.labels[i]);
        }
        continue;
      }
      if (o.type != SignalType::kPdq) {
        fail(path.string() + ": images are hashed with PDQ only");
        continue;
      }
      auto h = HashImageFile(path, hasher, o.decode, o.pdq, o.dihedral);
      if (!h.ok()) {
        fail(h.status().message());
        continue;
      }
      if (h->pdq[0].quality < int(o.min_quality)) {
        std::cerr << "hashmatch: " << path.string() << ": quality " << h->pdq[0].quality
                  << " is below " << o.min_quality << "; not matched\n";
        continue;
      }
      std::vector<std::string> hexes;
      for (size_t d = 0; d < (o.dihedral ? kNumDihedral : 1); ++d) {
        hexes.push_back(ToHex(h->pdq[d].hash));
      }
      add(std::move(hexes), path.string());
    }
  }
  return ok;
}

void Print(const RemoteMatchOptions& o, const PendingQuery& q, const client::Hit& hit,
           const std::map<std::string, uint64_t>& versions) {
  const std::string& hex = q.hexes[hit.hash_index < q.hexes.size() ? hit.hash_index : 0];
  std::string source = q.source;
  if (o.dihedral) source += std::string("#") + DihedralName(Dihedral(hit.hash_index % 8));
  if (!o.jsonl) {
    std::printf("%s,%s,%u,%s,%s\n", hex.c_str(), hit.key.c_str(), hit.distance, hit.set.c_str(),
                source.c_str());
    return;
  }
  std::string tags;
  for (const std::string& t : hit.tags)
    tags += (tags.empty() ? "\"" : ",\"") + JsonEscape(t) + "\"";
  auto v = versions.find(hit.set);
  std::printf(
      "{\"input\":\"%s\",\"query\":\"%s\",\"set\":\"%s\",\"set_version\":%llu,"
      "\"key\":\"%s\",\"distance\":%u,\"classification\":\"%s\",\"tags\":[%s]}\n",
      JsonEscape(source).c_str(), hex.c_str(), JsonEscape(hit.set).c_str(),
      static_cast<unsigned long long>(v == versions.end() ? 0 : v->second),
      JsonEscape(hit.key).c_str(), hit.distance, JsonEscape(hit.classification).c_str(),
      tags.c_str());
}

}  // namespace

int RunRemoteMatch(int argc, char** argv) {
  RemoteMatchOptions o;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    std::string v;
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (int r = ParseServerOption(argc, argv, &i, &o.server); r != 0) {
      if (r != 1) return r;
    } else if (a == "--set") {
      if (!value(&v)) return Usage("--set needs a set name");
      o.sets.push_back(v);
    } else if (a == "--type") {
      if (!value(&v)) return Usage("--type needs a value");
      auto t = SignalTypeFromName(v);
      if (!t) return Usage("unknown --type " + v);
      o.type = *t;
    } else if (a == "--threshold") {
      uint32_t t = 0;
      if (!value(&v) || !ParseUint(v, &t)) return Usage("--threshold needs a number");
      o.threshold = int(t);
    } else if (a == "--min-quality") {
      if (!value(&v) || !ParseUint(v, &o.min_quality)) return Usage("--min-quality needs a number");
    } else if (a == "--batch") {
      if (!value(&v) || !ParseUint(v, &o.batch) || o.batch == 0)
        return Usage("--batch needs N > 0");
    } else if (a == "--dihedral") {
      o.dihedral = true;
    } else if (a == "--exif-orientation") {
      o.decode.apply_exif_orientation = true;
    } else if (a == "--fast") {
      o.pdq.fast = true;
    } else if (a == "--format") {
      if (!value(&v) || (v != "text" && v != "jsonl")) return Usage("--format is text or jsonl");
      o.jsonl = v == "jsonl";
    } else if (a.rfind("--", 0) == 0) {
      return Usage("unknown option " + a + " (with --server)");
    } else {
      o.inputs.push_back(a);
    }
  }
  if (o.inputs.empty()) return Usage("match needs hashes, hash files or images");

  std::vector<PendingQuery> queries;
  const bool all_ok = Gather(o, &queries);
  auto c = ConnectToServer(o.server);
  if (!c) return 2;
  client::MatchOptions mo;
  mo.sets = o.sets;
  mo.threshold = o.threshold;
  size_t hits = 0, truncated = 0, suppressed = 0, quarantined = 0;
  std::map<std::string, uint64_t> versions;
  for (size_t start = 0; start < queries.size(); start += o.batch) {
    const size_t end = std::min(queries.size(), start + o.batch);
    std::vector<client::Query> batch;
    for (size_t i = start; i < end; ++i) batch.push_back(queries[i].query);
    auto r = c->Match(batch, mo);
    if (!r.ok()) {
      std::cerr << "hashmatch: match failed: " << r.error().ToString() << "\n";
      return 2;
    }
    for (const client::SearchedSet& s : r->searched) versions[s.name] = s.version;
    for (size_t i = start; i < end; ++i) {
      const client::QueryResult& qr = r->results[i - start];
      if (!qr.error.ok()) {
        std::cerr << "hashmatch: " << queries[i].source << ": " << qr.error.ToString() << "\n";
        continue;
      }
      for (const client::Hit& h : qr.hits) Print(o, queries[i], h, versions);
      hits += qr.hits.size();
      suppressed += qr.suppressed.size();
      for (const client::Hit& h : qr.quarantined) {
        ++quarantined;
        std::cerr << "hashmatch: " << queries[i].source << ": " << h.set << "/" << h.key
                  << " at distance " << h.distance
                  << " is quarantined (a surge of matches); not reported as a match\n";
      }
      if (qr.truncated) {
        ++truncated;
        std::cerr << "hashmatch: " << queries[i].source << ": more hits than the server's cap; "
                  << "the nearest are shown\n";
      }
    }
  }
  std::fflush(stdout);
  std::string searched;
  for (const auto& [name, version] : versions) {
    searched += (searched.empty() ? "" : ", ") + name + " v" + std::to_string(version);
  }
  std::fprintf(stderr,
               "hashmatch: %zu queries, %zu matches (%zu suppressed, %zu quarantined) via %s; "
               "searched: %s\n",
               queries.size(), hits, suppressed, quarantined, o.server.server.c_str(),
               searched.empty() ? "no sets" : searched.c_str());
  return all_ok && truncated == 0 ? 0 : 1;
}

}  // namespace hashmatch::cli

// Store: a hash-set store opened read-only, and matching batches of codes against its sets.
//
// A read-only open takes no lock and writes nothing, so any number of processes (Dask workers, a
// daemon writing the same directory) can open one store directory at once; each sees the
// transactions committed when it opened (hash_set_store.h). Indexes are memory-mapped from the
// snapshot's index files when the store has them, so every process on a machine shares one copy in
// the page cache.
//
// MatchResult: the store sequence seen, the sets searched with their versions, per-query
// truncation flags, and the hits (and suppressed hits) as Hit objects carrying the query index,
// set, set version, entry key, distance, orientation and the entry's metadata.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/core/pdq.h"
#include "hashmatch/hashsets/hash_set_store.h"

namespace hashmatch::py {
namespace {

struct Hit {
  uint32_t query = 0;
  std::string set;
  uint64_t set_version = 0;
  std::string key;
  uint32_t distance = 0;
  int orientation = 0;  // Dihedral value of the query orientation that matched (0 without)
  std::string classification;
  std::vector<std::string> tags;
  std::vector<uint8_t> code;  // the listed code
  int64_t source_time = 0;
  bool suppressed = false;  // a match-set hit a suppress set cancelled
};

struct PyMatchResult {
  uint64_t sequence = 0;
  std::vector<SearchedSet> searched;
  size_t num_queries = 0;
  std::vector<uint8_t> truncated;
  std::vector<Hit> hits, suppressed, suppressors;
};

const char* KindName(SetKind k) {
  return k == SetKind::kSuppress ? "suppress" : "match";
}

pyb::dict SetInfoDict(const SetInfo& s) {
  pyb::dict d;
  d["name"] = s.config.name;
  d["signal"] = std::string(GetSignalInfo(s.config.signal).name);
  d["threshold"] = s.config.threshold;
  d["kind"] = KindName(s.config.kind);
  d["enabled"] = s.config.enabled;
  d["id"] = s.id;
  d["version"] = s.version;
  d["created_time"] = s.created_time;
  d["last_sync_time"] = s.last_sync_time;
  d["checkpoint"] = s.checkpoint ? pyb::object(pyb::str(s.checkpoint->value)) : pyb::none();
  pyb::dict c;
  c["live"] = s.counts.live;
  c["tombstones"] = s.counts.tombstones;
  c["indexed"] = s.counts.indexed;
  c["quarantined"] = s.counts.quarantined;
  c["disabled"] = s.counts.disabled;
  c["unmatchable"] = s.counts.unmatchable;
  d["counts"] = c;
  return d;
}

pyb::dict EntryDict(const Entry& e) {
  pyb::dict d;
  d["key"] = e.key;
  d["code"] = pyb::bytes(reinterpret_cast<const char*>(e.code.data()), e.code.size());
  d["classification"] = e.classification;
  d["tags"] = e.tags;
  d["source_time"] = e.source_time;
  d["first_seen"] = e.first_seen;
  d["last_updated"] = e.last_updated;
  d["deleted"] = e.deleted;
  d["matchable"] = e.matchable;
  d["enabled"] = e.enabled;
  d["quarantine_reason"] = e.quarantine_reason;
  return d;
}

Hit MakeHit(uint32_t q, const MatchHit& h, const std::map<std::string, uint64_t>& versions,
            int orientation, bool suppressed) {
  Hit o;
  o.query = q;
  o.set = h.set;
  auto v = versions.find(h.set);
  o.set_version = v == versions.end() ? 0 : v->second;
  o.key = h.entry.key;
  o.distance = h.distance;
  o.orientation = orientation;
  o.classification = h.entry.classification;
  o.tags = h.entry.tags;
  o.code = h.entry.code;
  o.source_time = h.entry.source_time;
  o.suppressed = suppressed;
  return o;
}

// One image's hits over its orientations: each (set, key) once, at its nearest orientation (ties
// to the lower Dihedral value), sorted by (distance, set, key) as the store sorts one query's.
void MergeOrientations(std::vector<Hit>* hits) {
  std::sort(hits->begin(), hits->end(), [](const Hit& a, const Hit& b) {
    return std::tie(a.set, a.key, a.distance, a.orientation) <
           std::tie(b.set, b.key, b.distance, b.orientation);
  });
  hits->erase(
      std::unique(hits->begin(), hits->end(),
                  [](const Hit& a, const Hit& b) { return a.set == b.set && a.key == b.key; }),
      hits->end());
  std::sort(hits->begin(), hits->end(), [](const Hit& a, const Hit& b) {
    return std::tie(a.distance, a.set, a.key) < std::tie(b.distance, b.set, b.key);
  });
}

class PyStore {
 public:
  PyStore(const std::filesystem::path& dir, bool verify_checksums) : dir_(dir) {
    StoreOptions o;
    o.read_only = true;
    o.verify_checksums = verify_checksums;
    o.background_snapshots = false;
    Result<std::unique_ptr<HashSetStore>> r = [&] {
      pyb::gil_scoped_release release;  // loading a large store maps and checks its files
      return HashSetStore::Open(dir, o);
    }();
    store_ = Take(std::move(r));
  }

  // A reference for one call: close() from another thread then only drops ours.
  std::shared_ptr<const HashSetStore> store() const {
    if (!store_) Throw(Status(StatusCode::kUnavailable, "the store is closed"));
    return store_;
  }
  void Close() {
    std::shared_ptr<HashSetStore> last = std::move(store_);  // under the GIL
    pyb::gil_scoped_release release;                         // closing waits for file work
    last.reset();
  }

  std::string path() const { return dir_.string(); }
  uint64_t sequence() const { return store()->GetSnapshot()->sequence(); }
  pyb::list Sets() const {
    pyb::list out;
    for (const SetInfo& s : store()->ListSets()) out.append(SetInfoDict(s));
    return out;
  }
  pyb::dict Set(const std::string& name) const { return SetInfoDict(Take(store()->GetSet(name))); }
  pyb::dict GetEntry(const std::string& set, const std::string& key) const {
    return EntryDict(Take(store()->GetSnapshot()->GetEntry(set, key)));
  }

  // codes: (n, code_bytes), or (n, 8, 32) PDQ orientations with dihedral = true.
  PyMatchResult Match(pyb::handle codes, const std::string& signal_name,
                      std::optional<std::vector<std::string>> sets,
                      std::optional<uint32_t> threshold, size_t max_hits, int threads,
                      bool dihedral) const {
    const SignalType signal = ParseSignal(signal_name);
    const size_t cb = GetSignalInfo(signal).code_bytes;
    pyb::object flat = pyb::reinterpret_borrow<pyb::object>(codes);
    size_t images = 0;
    if (dihedral) {
      if (signal != SignalType::kPdq) ThrowInvalid("dihedral matching needs PDQ codes");
      pyb::array a = pyb::array::ensure(codes);
      if (!a || a.ndim() != 3 || a.shape(1) != pyb::ssize_t(kNumDihedral) || a.shape(2) != 32) {
        ThrowInvalid("codes: dihedral matching expects shape (n, 8, 32)");
      }
      images = size_t(a.shape(0));
      flat = a.attr("reshape")(pyb::make_tuple(-1, 32));
    }
    CodeBatch q = ReadCodes(flat, cb, "codes");
    MatchOptions mo;
    if (sets) mo.sets = *sets;
    mo.threshold = threshold;
    mo.max_hits_per_query = max_hits;
    mo.max_threads = threads;
    std::shared_ptr<const HashSetStore> store_ref = store();
    std::shared_ptr<const StoreSnapshot> snap = store_ref->GetSnapshot();
    Result<MatchResult> r = [&] {
      pyb::gil_scoped_release release;
      return snap->Match(signal, q.view, mo);
    }();
    MatchResult m = Take(std::move(r));

    PyMatchResult out;
    out.sequence = m.sequence;
    out.searched = m.searched;
    std::map<std::string, uint64_t> versions;
    for (const SearchedSet& s : m.searched) versions[s.set] = s.version;
    if (!dihedral) {
      out.num_queries = m.queries.size();
      for (size_t i = 0; i < m.queries.size(); ++i) {
        const QueryMatches& qm = m.queries[i];
        out.truncated.push_back(qm.truncated);
        for (const MatchHit& h : qm.hits)
          out.hits.push_back(MakeHit(uint32_t(i), h, versions, 0, false));
        for (const MatchHit& h : qm.suppressed)
          out.suppressed.push_back(MakeHit(uint32_t(i), h, versions, 0, true));
        for (const MatchHit& h : qm.suppressors)
          out.suppressors.push_back(MakeHit(uint32_t(i), h, versions, 0, false));
      }
      return out;
    }
    // Per image: the union over its orientations. A suppress-set hit in any orientation cancels
    // the image's match-set hits in every orientation: the allow-list recognised the picture.
    out.num_queries = images;
    for (size_t i = 0; i < images; ++i) {
      std::vector<Hit> hits, suppressed, suppressors;
      bool trunc = false;
      for (size_t d = 0; d < kNumDihedral; ++d) {
        const QueryMatches& qm = m.queries[i * kNumDihedral + d];
        trunc |= qm.truncated;
        for (const MatchHit& h : qm.hits)
          hits.push_back(MakeHit(uint32_t(i), h, versions, int(d), false));
        for (const MatchHit& h : qm.suppressed)
          suppressed.push_back(MakeHit(uint32_t(i), h, versions, int(d), true));
        for (const MatchHit& h : qm.suppressors)
          suppressors.push_back(MakeHit(uint32_t(i), h, versions, int(d), false));
      }
      if (!suppressors.empty()) {
        for (Hit& h : hits) h.suppressed = true;
        suppressed.insert(suppressed.end(), hits.begin(), hits.end());
        hits.clear();
      }
      MergeOrientations(&hits);
      MergeOrientations(&suppressed);
      MergeOrientations(&suppressors);
      if (max_hits != 0 && hits.size() > max_hits) {
        hits.resize(max_hits);
        trunc = true;
      }
      out.truncated.push_back(trunc);
      for (auto* v : {&hits, &suppressed, &suppressors}) {
        auto& dst = v == &hits ? out.hits : v == &suppressed ? out.suppressed : out.suppressors;
        dst.insert(dst.end(), v->begin(), v->end());
      }
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<HashSetStore> store_;
};

pyb::dict HitDict(const Hit& h) {
  pyb::dict d;
  d["query"] = h.query;
  d["set"] = h.set;
  d["set_version"] = h.set_version;
  d["key"] = h.key;
  d["distance"] = h.distance;
  d["orientation"] = DihedralName(Dihedral(h.orientation));
  d["classification"] = h.classification;
  d["tags"] = h.tags;
  d["listed_hash"] = EncodeHex(h.code);
  d["source_time"] = h.source_time;
  d["suppressed"] = h.suppressed;
  return d;
}

}  // namespace

std::shared_ptr<const HashSetStore> StoreOf(pyb::handle store) {
  if (!pyb::isinstance<PyStore>(store)) ThrowInvalid("store: expected a hashmatch.Store");
  return pyb::cast<const PyStore&>(store).store();
}

void DefineStore(pyb::module_& m) {
  pyb::class_<Hit>(m, "Hit", "One hit of a query on a set entry.")
      .def_readonly("query", &Hit::query, "index of the query (image) in the batch")
      .def_readonly("set", &Hit::set)
      .def_readonly("set_version", &Hit::set_version, "the set's version the match saw")
      .def_readonly("key", &Hit::key, "the entry's key in its set")
      .def_readonly("distance", &Hit::distance)
      .def_property_readonly(
          "orientation",
          [](const Hit& h) { return std::string(DihedralName(Dihedral(h.orientation))); },
          "the query orientation that matched (\"original\" without dihedral)")
      .def_readonly("classification", &Hit::classification)
      .def_readonly("tags", &Hit::tags)
      .def_property_readonly("listed_hash", [](const Hit& h) { return EncodeHex(h.code); })
      .def_readonly("source_time", &Hit::source_time)
      .def_readonly("suppressed", &Hit::suppressed)
      .def("as_dict", &HitDict)
      .def("__eq__",
           [](const Hit& a, const Hit& b) {
             return std::tie(a.query, a.set, a.set_version, a.key, a.distance, a.orientation,
                             a.classification, a.tags, a.code, a.source_time, a.suppressed) ==
                    std::tie(b.query, b.set, b.set_version, b.key, b.distance, b.orientation,
                             b.classification, b.tags, b.code, b.source_time, b.suppressed);
           })
      .def("__repr__", [](const Hit& h) {
        return "Hit(query=" + std::to_string(h.query) + ", set='" + h.set + "', key='" + h.key +
               "', distance=" + std::to_string(h.distance) +
               ", set_version=" + std::to_string(h.set_version) + ")";
      });

  pyb::class_<PyMatchResult>(m, "MatchResult", "What Store.match found.")
      .def_readonly("sequence", &PyMatchResult::sequence, "the store's sequence number it saw")
      .def_readonly("num_queries", &PyMatchResult::num_queries)
      .def_property_readonly(
          "searched",
          [](const PyMatchResult& r) {
            pyb::list l;
            for (const SearchedSet& s : r.searched) {
              pyb::dict d;
              d["set"] = s.set;
              d["id"] = s.id;
              d["version"] = s.version;
              d["kind"] = KindName(s.kind);
              d["threshold"] = s.threshold;
              l.append(d);
            }
            return l;
          },
          "the sets searched, with their versions")
      .def_property_readonly(
          "truncated",
          [](const PyMatchResult& r) {
            pyb::array_t<bool> a({pyb::ssize_t(r.truncated.size())});
            for (size_t i = 0; i < r.truncated.size(); ++i) a.mutable_at(i) = r.truncated[i] != 0;
            return a;
          },
          "per query: more hits existed than max_hits (the nearest kept)")
      .def_readonly("hits", &PyMatchResult::hits, "matches, by query, then (distance, set, key)")
      .def_readonly("suppressed", &PyMatchResult::suppressed,
                    "match-set hits a suppress set cancelled")
      .def_readonly("suppressors", &PyMatchResult::suppressors,
                    "the suppress-set hits that cancelled them")
      .def(
          "records",
          [](const PyMatchResult& r) {
            pyb::list l;
            for (const Hit& h : r.hits) l.append(HitDict(h));
            return l;
          },
          "the hits as a list of dicts (for JSON or pandas.DataFrame)");

  pyb::class_<PyStore>(m, "Store",
                       "A hash-set store opened read-only (no lock, writes nothing; any number of "
                       "processes may open one directory).")
      .def(pyb::init<const std::filesystem::path&, bool>(), pyb::arg("path"), pyb::kw_only(),
           pyb::arg("verify_checksums") = true)
      .def_property_readonly("path", &PyStore::path)
      .def_property_readonly("sequence", &PyStore::sequence)
      .def("sets", &PyStore::Sets, "every set, by name, as dicts")
      .def("set", &PyStore::Set, pyb::arg("name"))
      .def("entry", &PyStore::GetEntry, pyb::arg("set"), pyb::arg("key"))
      .def("match", &PyStore::Match, pyb::arg("codes"), pyb::kw_only(), pyb::arg("signal") = "pdq",
           pyb::arg("sets") = pyb::none(), pyb::arg("threshold") = pyb::none(),
           pyb::arg("max_hits") = size_t(1000), pyb::arg("threads") = 0,
           pyb::arg("dihedral") = false,
           "Matches codes (uint8 (n, code_bytes); with dihedral=True PDQ (n, 8, 32) from "
           "hash_batch(..., dihedral=True)) against every enabled set of the signal type, or the "
           "named sets. threshold narrows each set's own; it cannot widen it.")
      .def("close", &PyStore::Close)
      .def(
          "__enter__", [](PyStore& s) -> PyStore& { return s; },
          pyb::return_value_policy::reference)
      .def("__exit__", [](PyStore& s, pyb::args) { s.Close(); });
}

}  // namespace hashmatch::py

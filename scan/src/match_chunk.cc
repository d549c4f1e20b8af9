#include "match_chunk.h"

#include <algorithm>
#include <tuple>

#include "hashmatch/core/batch_hash.h"
#include "hashmatch/core/image.h"

namespace hashmatch::scan_internal {

Result<MatchPlan> PlanMatching(const StoreSnapshot& store, const ScanOptions& options) {
  const std::vector<SetInfo> all = store.ListSets();
  std::map<std::string, const SetInfo*> by_name;
  for (const SetInfo& s : all) by_name[s.config.name] = &s;
  std::vector<const SetInfo*> chosen;
  if (options.sets.empty()) {
    for (const SetInfo& s : all) {
      if (s.config.enabled && options.signals.contains(s.config.signal)) chosen.push_back(&s);
    }
  } else {
    for (const std::string& name : options.sets) {
      auto it = by_name.find(name);
      if (it == by_name.end()) return Status::NotFound("no set '" + name + "' in the store");
      const SetInfo& s = *it->second;
      if (!options.signals.contains(s.config.signal)) {
        return Status::InvalidArgument("set '" + name + "' holds " +
                                       std::string(GetSignalInfo(s.config.signal).name) +
                                       " codes, which this scan does not compute");
      }
      if (s.config.enabled) chosen.push_back(&s);  // a disabled set matches nothing
    }
    // A vetted allow-list applies whatever sets were named.
    for (const SetInfo& s : all) {
      if (s.config.enabled && s.config.kind == SetKind::kSuppress &&
          options.signals.contains(s.config.signal)) {
        chosen.push_back(&s);
      }
    }
  }
  MatchPlan plan;
  for (const SetInfo* s : chosen) {
    if (plan.by_name.count(s->config.name)) continue;
    SearchedSet ss{s->config.name, s->id, s->version, s->config.kind, s->config.threshold};
    plan.by_name[s->config.name] = ss;
  }
  for (const auto& [name, ss] : plan.by_name) plan.searched.push_back(ss);
  for (const SignalInfo& info : AllSignalTypes()) {
    MatchPlan::Signal sig{info.type, {}};
    for (const auto& [name, ss] : plan.by_name) {
      if (by_name[name]->config.signal == info.type) sig.sets.push_back(name);
    }
    if (!sig.sets.empty()) plan.signals.push_back(std::move(sig));
  }
  return plan;
}

namespace {

Status Named(const std::string& path, const std::string& member, const Status& s) {
  if (s.ok()) return s;
  // Readers and listers already name the path; decoders do not.
  if (s.message().rfind(path, 0) == 0) return s;
  return Status(s.code(), path + (member.empty() ? "" : ": " + member) + ": " + s.message());
}

// Orders hits and keeps each set entry once (the smallest distance; on a tie the first
// orientation), so that a dihedral item hit in several orientations reports the entry once.
void Tidy(std::vector<ScanHit>& hits) {
  auto ident = [](const ScanHit& h) { return std::tie(h.signal, h.set, h.entry.key); };
  std::stable_sort(hits.begin(), hits.end(), [&](const ScanHit& a, const ScanHit& b) {
    if (ident(a) != ident(b)) return ident(a) < ident(b);
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.orientation < b.orientation;
  });
  hits.erase(std::unique(hits.begin(), hits.end(),
                         [&](const ScanHit& a, const ScanHit& b) { return ident(a) == ident(b); }),
             hits.end());
  std::sort(hits.begin(), hits.end(), [](const ScanHit& a, const ScanHit& b) {
    return std::tie(a.signal, a.distance, a.set, a.entry.key) <
           std::tie(b.signal, b.distance, b.set, b.entry.key);
  });
}

}  // namespace

std::vector<ScanItemResult> HashAndMatch(const StoreSnapshot& store, const MatchPlan& plan,
                                         const ScanOptions& options,
                                         std::vector<SourceItem>& items) {
  const size_t n = items.size();
  std::vector<ScanItemResult> out(n);
  std::vector<std::vector<uint8_t>> owned(n);  // files read here
  std::vector<BatchInput> inputs;
  std::vector<size_t> input_item;  // inputs[k] belongs to items[input_item[k]]
  for (size_t i = 0; i < n; ++i) {
    SourceItem& src = items[i];
    ScanItemResult& r = out[i];
    r.index = src.index;
    r.path = std::move(src.path);
    r.member = std::move(src.member);
    r.skipped_before = src.skipped_before;
    r.status = src.status;
    if (!r.status.ok()) continue;
    std::span<const uint8_t> bytes;
    if (src.is_tar_member) {
      bytes = src.data;
    } else {
      auto read = ReadFileBytes(r.path, options.max_item_bytes);
      if (!read.ok()) {
        r.status = read.status();
        continue;
      }
      owned[i] = *std::move(read);
      bytes = owned[i];
    }
    r.bytes_read = true;
    r.bytes = bytes.size();
    inputs.push_back(bytes);
    input_item.push_back(i);
  }

  BatchHashOptions bo;
  bo.signals = options.signals;
  bo.dihedral = options.dihedral;
  bo.decode = options.decode;
  bo.pdq = options.pdq;
  bo.max_threads = 1;  // this chunk is one pipeline task: the pipeline spreads the chunks
  std::vector<BatchHashResult> hashed = HashBatch(inputs, bo);
  for (size_t k = 0; k < hashed.size(); ++k) {
    ScanItemResult& r = out[input_item[k]];
    r.hashes = std::move(hashed[k]);
    r.status = r.hashes.status;
    r.low_quality = r.status.ok() && r.hashes.pdq[0].quality < options.min_quality;
  }
  for (ScanItemResult& r : out) {  // every error names the path (and member)
    r.status = Named(r.path, r.member, r.status);
    r.hashes.status = r.status;
  }

  // One Match call per signal for the whole chunk.
  const size_t orientations = options.dihedral ? kNumDihedral : 1;
  for (const MatchPlan::Signal& sig : plan.signals) {
    const SignalInfo& info = GetSignalInfo(sig.signal);
    std::vector<uint8_t> codes;
    std::vector<std::pair<size_t, int>> owner;  // (item, orientation or -1)
    for (size_t i = 0; i < n; ++i) {
      const ScanItemResult& r = out[i];
      if (info.perceptual ? !r.ok() : !r.bytes_read) continue;
      if (sig.signal == SignalType::kPdq) {
        if (r.low_quality) continue;
        for (size_t d = 0; d < orientations; ++d) {
          const auto b = r.hashes.pdq[d].hash.bytes();
          codes.insert(codes.end(), b.begin(), b.end());
          owner.emplace_back(i, options.dihedral ? int(d) : -1);
        }
        continue;
      }
      const auto b = r.hashes.Code(sig.signal);
      codes.insert(codes.end(), b.begin(), b.end());
      owner.emplace_back(i, -1);
    }
    if (owner.empty()) continue;
    MatchOptions mo;
    mo.sets = sig.sets;
    mo.threshold = options.threshold;
    mo.max_hits_per_query = options.max_hits_per_item;
    mo.max_threads = 1;
    auto m = store.Match(sig.signal, CodeView{codes.data(), owner.size(), info.code_bytes}, mo);
    if (!m.ok()) {  // the plan was checked: this is not expected; fail the items, not the scan
      for (const auto& [i, d] : owner) {
        if (out[i].status.ok()) out[i].status = Status(m.status().code(), m.status().message());
      }
      continue;
    }
    for (size_t q = 0; q < owner.size(); ++q) {
      // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
      const size_t i = owner[q].first;
      const int d = owner[q].second;
      ScanItemResult& r = out[i];
      const QueryMatches& qm = m->queries[q];
      r.truncated = r.truncated || qm.truncated;
      auto add = [&](const std::vector<MatchHit>& from, std::vector<ScanHit>* to) {
        for (const MatchHit& h : from) {
          const SearchedSet& ss = plan.by_name.at(h.set);
          ScanHit hit;
          hit.signal = sig.signal;
          hit.set = h.set;
          hit.set_version = ss.version;
          hit.kind = ss.kind;
          hit.distance = h.distance;
          if (d >= 0) hit.orientation = Dihedral(d);
          hit.entry = h.entry;
          to->push_back(std::move(hit));
        }
      };
      add(qm.hits, &r.matches);
      add(qm.suppressed, &r.suppressed);
      add(qm.suppressors, &r.suppressors);
    }
  }
  for (ScanItemResult& r : out) {
    // Suppression is per item: an allow-listed item is allowed whichever code matched it.
    if (!r.suppressors.empty() && !r.matches.empty()) {
      r.suppressed.insert(r.suppressed.end(), std::make_move_iterator(r.matches.begin()),
                          std::make_move_iterator(r.matches.end()));
      r.matches.clear();
    }
    Tidy(r.matches);
    Tidy(r.suppressed);
    Tidy(r.suppressors);
  }
  return out;
}

}  // namespace hashmatch::scan_internal

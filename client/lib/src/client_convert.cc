#include "client_convert.h"

#include <capnp/schema.h>

namespace hashmatch::client::internal {

namespace {

std::string Str(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

Error ErrorFrom(wire::Error::Reader e) {
  return Error{Str(e.getCode()), Str(e.getMessage())};
}

Hit ToHit(wire::Hit::Reader in) {
  Hit h;
  h.set = Str(in.getSet());
  h.key = Str(in.getKey());
  h.distance = in.getDistance();
  h.hash_index = in.getHashIndex();
  h.classification = Str(in.getClassification());
  for (auto t : in.getTags()) h.tags.push_back(Str(t));
  h.source_time = in.getSourceTime();
  return h;
}

std::vector<Hit> ToHits(capnp::List<wire::Hit>::Reader in) {
  std::vector<Hit> out;
  out.reserve(in.size());
  for (auto h : in) out.push_back(ToHit(h));
  return out;
}

// The code names the daemon puts first in an error's description (daemon/src/service_state.h).
constexpr const char* kCodes[] = {
    "permission_denied",  "unavailable",      "out_of_range", "deadline_exceeded",
    "resource_exhausted", "invalid_argument", "not_found",    "already_exists",
    "unsupported",        "corruption",       "io_error",     "internal",
};

}  // namespace

bool SignalToWire(const std::string& name, wire::SignalType* out) {
  KJ_IF_MAYBE (e, capnp::Schema::from<wire::SignalType>().findEnumerantByName(name)) {
    *out = static_cast<wire::SignalType>(e->getOrdinal());
    return true;
  }
  return false;
}

std::string SignalName(wire::SignalType s) {
  auto enumerants = capnp::Schema::from<wire::SignalType>().getEnumerants();
  const auto i = static_cast<uint16_t>(s);
  if (i < enumerants.size()) return Str(enumerants[i].getProto().getName());
  return "signal#" + std::to_string(i);
}

Error FillHash(wire::Hash::Builder out, const Hash& in, const std::string& where) {
  wire::SignalType s;
  if (!SignalToWire(in.signal, &s)) {
    return Error{"invalid_argument", where + ": unknown signal type '" + in.signal + "'"};
  }
  out.setSignal(s);
  if (!in.hex.empty()) {
    out.setHex(in.hex);
  } else {
    out.setBytes(capnp::Data::Reader(in.bytes.data(), in.bytes.size()));
  }
  return {};
}

Error FillQueries(capnp::List<wire::Query>::Builder out, const std::vector<Query>& in) {
  for (size_t q = 0; q < in.size(); ++q) {
    auto hashes = out[q].initHashes(in[q].hashes.size());
    for (size_t h = 0; h < in[q].hashes.size(); ++h) {
      Error e = FillHash(hashes[h], in[q].hashes[h],
                         "query " + std::to_string(q) + " hash " + std::to_string(h));
      if (!e.ok()) return e;
    }
    out[q].setThreshold(in[q].threshold);
  }
  return {};
}

void FillMatchOptions(wire::MatchOptions::Builder out, const MatchOptions& in) {
  auto sets = out.initSets(in.sets.size());
  for (size_t i = 0; i < in.sets.size(); ++i) sets.set(i, in.sets[i]);
  out.setThreshold(in.threshold);
  out.setMaxHitsPerQuery(in.max_hits_per_query);
}

Error FillSetConfig(wire::SetConfig::Builder out, const SetConfig& in) {
  wire::SignalType s;
  if (!SignalToWire(in.signal, &s)) {
    return Error{"invalid_argument", "unknown signal type '" + in.signal + "'"};
  }
  out.setName(in.name);
  out.setSignal(s);
  out.setThreshold(in.threshold);
  out.setKind(in.suppress ? wire::SetKind::SUPPRESS : wire::SetKind::MATCH);
  out.setEnabled(in.enabled);
  out.setRefuseDegenerate(in.refuse_degenerate);
  return {};
}

void FillSetUpdate(wire::SetUpdate::Builder out, const SetUpdate& in) {
  if (in.threshold) {
    out.setHasThreshold(true);
    out.setThreshold(*in.threshold);
  }
  if (in.suppress) {
    out.setHasKind(true);
    out.setKind(*in.suppress ? wire::SetKind::SUPPRESS : wire::SetKind::MATCH);
  }
  if (in.enabled) {
    out.setHasEnabled(true);
    out.setEnabled(*in.enabled);
  }
}

Error FillPage(wire::Page::Builder out, const Page& in) {
  auto records = out.initRecords(in.records.size());
  for (size_t i = 0; i < in.records.size(); ++i) {
    const Record& r = in.records[i];
    auto b = records[i];
    b.setKey(r.key);
    if (!r.deleted || !r.hash.hex.empty() || !r.hash.bytes.empty()) {
      Error e = FillHash(b.initHash(), r.hash, "record " + std::to_string(i + 1));
      if (!e.ok()) return e;
    }
    b.setDeleted(r.deleted);
    b.setMatchable(r.matchable);
    b.setClassification(r.classification);
    auto tags = b.initTags(r.tags.size());
    for (size_t t = 0; t < r.tags.size(); ++t) tags.set(t, r.tags[t]);
    b.setSourceTime(r.source_time);
  }
  out.setHasCheckpoint(in.checkpoint.has_value());
  if (in.checkpoint) out.setCheckpoint(*in.checkpoint);
  out.setFullList(in.full_list);
  out.setSkipOtherSignals(in.skip_other_signals);
  return {};
}

Hash ToHash(wire::Hash::Reader in) {
  Hash h;
  h.signal = SignalName(in.getSignal());
  if (in.isHex()) {
    h.hex = Str(in.getHex());
  } else {
    auto b = in.getBytes();
    h.bytes.assign(b.begin(), b.end());
  }
  return h;
}

MatchResponse ToMatchResponse(wire::MatchResult::Reader in) {
  MatchResponse r;
  r.sequence = in.getSequence();
  for (auto s : in.getSearched()) {
    r.searched.push_back(SearchedSet{Str(s.getName()), SignalName(s.getSignal()), s.getVersion(),
                                     s.getThreshold(), s.getSuppress()});
  }
  r.results.reserve(in.getResults().size());
  for (auto q : in.getResults()) {
    QueryResult out;
    if (q.isError()) out.error = ErrorFrom(q.getError());
    out.hits = ToHits(q.getHits());
    out.suppressed = ToHits(q.getSuppressed());
    out.suppressors = ToHits(q.getSuppressors());
    out.quarantined = ToHits(q.getQuarantined());
    out.truncated = q.getTruncated();
    r.results.push_back(std::move(out));
  }
  return r;
}

ImageResult ToImageResult(wire::ImageResult::Reader in) {
  ImageResult r;
  if (in.isError()) r.error = ErrorFrom(in.getError());
  r.width = in.getWidth();
  r.height = in.getHeight();
  r.quality = in.getQuality();
  for (auto h : in.getHashes()) r.hashes.push_back(ToHash(h));
  return r;
}

SetInfo ToSetInfo(wire::SetInfo::Reader in) {
  SetInfo s;
  auto c = in.getConfig();
  s.config.name = Str(c.getName());
  s.config.signal = SignalName(c.getSignal());
  s.config.threshold = c.getThreshold();
  s.config.suppress = c.getKind() == wire::SetKind::SUPPRESS;
  s.config.enabled = c.getEnabled();
  s.config.refuse_degenerate = c.getRefuseDegenerate();
  s.version = in.getVersion();
  s.created_time = in.getCreatedTime();
  s.last_sync_time = in.getLastSyncTime();
  if (in.getHasCheckpoint()) s.checkpoint = Str(in.getCheckpoint());
  s.live = in.getLive();
  s.indexed = in.getIndexed();
  s.tombstones = in.getTombstones();
  s.quarantined = in.getQuarantined();
  s.disabled = in.getDisabled();
  s.unmatchable = in.getUnmatchable();
  return s;
}

CommitStats ToCommitStats(wire::CommitStats::Reader in) {
  CommitStats s;
  s.sequence = in.getSequence();
  s.set_version = in.getSetVersion();
  s.changed = in.getChanged();
  s.records = in.getRecords();
  s.added = in.getAdded();
  s.updated = in.getUpdated();
  s.deleted = in.getDeleted();
  s.unchanged = in.getUnchanged();
  s.stale = in.getStale();
  s.skipped = in.getSkipped();
  s.quarantined = in.getQuarantined();
  for (auto n : in.getNotes()) s.notes.push_back(Str(n));
  return s;
}

ServerStats ToStats(wire::Stats::Reader in) {
  ServerStats s;
  s.uptime_seconds = in.getUptimeSeconds();
  s.ready = in.getReady();
  s.connections = in.getConnections();
  s.connections_total = in.getConnectionsTotal();
  s.connections_refused = in.getConnectionsRefused();
  s.auth_failures = in.getAuthFailures();
  s.queries_matched = in.getQueriesMatched();
  s.hits = in.getHits();
  s.worker_queue = in.getWorkerQueue();
  s.store_sequence = in.getStoreSequence();
  for (auto m : in.getMethods()) {
    s.methods.push_back(ServerStats::Method{Str(m.getMethod()), m.getCalls(), m.getErrors()});
  }
  return s;
}

Error ToError(const kj::Exception& e) {
  std::string d(e.getDescription().cStr());
  for (const char* prefix : {"remote exception: ", "(remote) "}) {
    const std::string p(prefix);
    if (d.rfind(p, 0) == 0) d = d.substr(p.size());
  }
  for (const char* code : kCodes) {
    const std::string c = std::string(code) + ": ";
    if (d.rfind(c, 0) == 0) return Error{code, d.substr(c.size())};
  }
  switch (e.getType()) {
    case kj::Exception::Type::DISCONNECTED:
      return Error{"unavailable", "disconnected: " + d};
    case kj::Exception::Type::OVERLOADED:
      return Error{"unavailable", d};
    case kj::Exception::Type::UNIMPLEMENTED:
      return Error{"unsupported", d};
    default:
      return Error{"internal", d};
  }
}

}  // namespace hashmatch::client::internal

#include "wire_convert.h"

#include "hashmatch/core/hex.h"

namespace hashmatch::daemon {

namespace {

std::string_view View(capnp::Text::Reader t) {
  return std::string_view(t.cStr(), t.size());
}

std::string Str(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

void FillHit(wire::Hit::Builder out, const EngineHit& h) {
  out.setSet(h.hit.set);
  out.setKey(h.hit.entry.key);
  out.setDistance(h.hit.distance);
  out.setHashIndex(h.hash_index);
  out.setClassification(h.hit.entry.classification);
  auto tags = out.initTags(h.hit.entry.tags.size());
  for (size_t i = 0; i < h.hit.entry.tags.size(); ++i) tags.set(i, h.hit.entry.tags[i]);
  out.setSourceTime(h.hit.entry.source_time);
}

void FillHits(capnp::List<wire::Hit>::Builder out, const std::vector<EngineHit>& hits) {
  for (size_t i = 0; i < hits.size(); ++i) FillHit(out[i], hits[i]);
}

}  // namespace

std::optional<SignalType> SignalFromWire(wire::SignalType s) {
  const auto v = static_cast<uint16_t>(s);
  if (v >= AllSignalTypes().size()) return std::nullopt;
  return SignalType(v);
}

wire::SignalType SignalToWire(SignalType s) {
  return static_cast<wire::SignalType>(s);
}

Result<QueryHash> ParseHash(wire::Hash::Reader hash) {
  auto signal = SignalFromWire(hash.getSignal());
  if (!signal) {
    return Status::InvalidArgument("unknown signal type " +
                                   std::to_string(static_cast<uint16_t>(hash.getSignal())));
  }
  const SignalInfo& info = GetSignalInfo(*signal);
  QueryHash out;
  out.signal = *signal;
  out.code.resize(info.code_bytes);
  if (hash.isBytes()) {
    auto b = hash.getBytes();
    if (b.size() != info.code_bytes) {
      return Status::InvalidArgument(std::string(info.name) + ": expected " +
                                     std::to_string(info.code_bytes) + " bytes, got " +
                                     std::to_string(b.size()));
    }
    std::copy(b.begin(), b.end(), out.code.begin());
    return out;
  }
  Status st = DecodeHex(View(hash.getHex()), out.code);
  if (!st.ok()) return Status::InvalidArgument(std::string(info.name) + ": " + st.message());
  return out;
}

void FillHash(wire::Hash::Builder out, SignalType signal, std::span<const uint8_t> code) {
  out.setSignal(SignalToWire(signal));
  out.setBytes(capnp::Data::Reader(code.data(), code.size()));
}

std::vector<EngineQuery> QueriesFromWire(capnp::List<wire::Query>::Reader queries) {
  std::vector<EngineQuery> out(queries.size());
  for (uint32_t q = 0; q < queries.size(); ++q) {
    wire::Query::Reader in = queries[q];
    EngineQuery& eq = out[q];
    if (in.getThreshold() >= 0) eq.threshold = uint32_t(in.getThreshold());
    auto hashes = in.getHashes();
    eq.hashes.reserve(hashes.size());
    for (uint32_t h = 0; h < hashes.size(); ++h) {
      auto parsed = ParseHash(hashes[h]);
      if (!parsed.ok()) {
        eq.error = Status::InvalidArgument("query " + std::to_string(q) + " hash " +
                                           std::to_string(h) + ": " + parsed.status().message());
        eq.hashes.clear();
        break;
      }
      eq.hashes.push_back(std::move(parsed.value()));
    }
  }
  return out;
}

EngineOptions OptionsFromWire(wire::MatchOptions::Reader options, uint32_t server_max_hits,
                              int max_threads) {
  EngineOptions o;
  for (auto s : options.getSets()) o.sets.push_back(Str(s));
  if (options.getThreshold() >= 0) o.threshold = uint32_t(options.getThreshold());
  const uint32_t asked = options.getMaxHitsPerQuery();
  o.max_hits = asked == 0 || asked > server_max_hits ? server_max_hits : asked;
  o.max_threads = max_threads;
  return o;
}

void FillMatchResult(wire::MatchResult::Builder out, const EngineResult& r) {
  out.setSequence(r.sequence);
  auto searched = out.initSearched(r.searched.size());
  for (size_t i = 0; i < r.searched.size(); ++i) {
    const EngineSearched& s = r.searched[i];
    searched[i].setName(s.set.set);
    searched[i].setSignal(SignalToWire(s.signal));
    searched[i].setVersion(s.set.version);
    searched[i].setThreshold(s.set.threshold);
    searched[i].setSuppress(s.set.kind == SetKind::kSuppress);
  }
  auto results = out.initResults(r.queries.size());
  for (size_t i = 0; i < r.queries.size(); ++i) {
    const EngineQueryResult& q = r.queries[i];
    wire::QueryResult::Builder b = results[i];
    if (!q.error.ok()) {
      auto e = b.initError();
      e.setCode(std::string(StatusCodeName(q.error.code())));
      e.setMessage(q.error.message());
      continue;
    }
    b.setOk();
    FillHits(b.initHits(q.hits.size()), q.hits);
    FillHits(b.initSuppressed(q.suppressed.size()), q.suppressed);
    FillHits(b.initSuppressors(q.suppressors.size()), q.suppressors);
    FillHits(b.initQuarantined(q.quarantined.size()), q.quarantined);
    b.setTruncated(q.truncated);
  }
}

Result<SetConfig> SetConfigFromWire(wire::SetConfig::Reader in) {
  SetConfig c;
  c.name = Str(in.getName());
  auto signal = SignalFromWire(in.getSignal());
  if (!signal) return Status::InvalidArgument("unknown signal type");
  c.signal = *signal;
  c.threshold = in.getThreshold();
  c.kind = in.getKind() == wire::SetKind::SUPPRESS ? SetKind::kSuppress : SetKind::kMatch;
  c.enabled = in.getEnabled();
  c.degenerate =
      in.getRefuseDegenerate() ? DegeneratePolicy::kRefuse : DegeneratePolicy::kQuarantine;
  return c;
}

SetUpdate SetUpdateFromWire(wire::SetUpdate::Reader in) {
  SetUpdate u;
  if (in.getHasThreshold()) u.threshold = in.getThreshold();
  if (in.getHasKind()) {
    u.kind = in.getKind() == wire::SetKind::SUPPRESS ? SetKind::kSuppress : SetKind::kMatch;
  }
  if (in.getHasEnabled()) u.enabled = in.getEnabled();
  return u;
}

void FillSetInfo(wire::SetInfo::Builder out, const SetInfo& info) {
  auto c = out.initConfig();
  c.setName(info.config.name);
  c.setSignal(SignalToWire(info.config.signal));
  c.setThreshold(info.config.threshold);
  c.setKind(info.config.kind == SetKind::kSuppress ? wire::SetKind::SUPPRESS
                                                   : wire::SetKind::MATCH);
  c.setEnabled(info.config.enabled);
  c.setRefuseDegenerate(info.config.degenerate == DegeneratePolicy::kRefuse);
  out.setVersion(info.version);
  out.setCreatedTime(info.created_time);
  out.setLastSyncTime(info.last_sync_time);
  out.setHasCheckpoint(info.checkpoint.has_value());
  if (info.checkpoint) out.setCheckpoint(info.checkpoint->value);
  out.setLive(info.counts.live);
  out.setIndexed(info.counts.indexed);
  out.setTombstones(info.counts.tombstones);
  out.setQuarantined(info.counts.quarantined);
  out.setDisabled(info.counts.disabled);
  out.setUnmatchable(info.counts.unmatchable);
}

void FillCommitStats(wire::CommitStats::Builder out, const CommitStats& s) {
  out.setSequence(s.sequence);
  out.setSetVersion(s.set_version);
  out.setChanged(s.changed);
  out.setRecords(s.records);
  out.setAdded(s.added);
  out.setUpdated(s.updated);
  out.setDeleted(s.deleted);
  out.setUnchanged(s.unchanged);
  out.setStale(s.stale);
  out.setSkipped(s.skipped);
  out.setQuarantined(s.quarantined);
  auto notes = out.initNotes(s.notes.size());
  for (size_t i = 0; i < s.notes.size(); ++i) notes.set(i, s.notes[i]);
}

Result<ImportPage> PageFromWire(wire::Page::Reader in, SignalType signal) {
  ImportPage page;
  page.full_list = in.getFullList();
  if (in.getHasCheckpoint()) page.checkpoint = Checkpoint{Str(in.getCheckpoint())};
  auto records = in.getRecords();
  page.records.reserve(records.size());
  for (uint32_t i = 0; i < records.size(); ++i) {
    wire::Record::Reader r = records[i];
    EntryRecord e;
    e.key = Str(r.getKey());
    e.deleted = r.getDeleted();
    e.matchable = r.getMatchable();
    e.classification = Str(r.getClassification());
    for (auto t : r.getTags()) e.tags.push_back(Str(t));
    e.source_time = r.getSourceTime();
    e.source_ref = "record " + std::to_string(i + 1);
    const wire::Hash::Reader h = r.getHash();
    const bool no_hash = h.isHex() ? h.getHex().size() == 0 : h.getBytes().size() == 0;
    if (e.deleted && no_hash) {
      e.signal = signal;
    } else {
      auto parsed = ParseHash(h);
      if (!parsed.ok()) {
        return Status::InvalidArgument("record " + std::to_string(i + 1) + " (" + e.key +
                                       "): " + parsed.status().message());
      }
      e.signal = parsed->signal;
      e.code = std::move(parsed->code);
    }
    page.records.push_back(std::move(e));
  }
  return page;
}

}  // namespace hashmatch::daemon

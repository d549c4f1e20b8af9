// Conversions between the wire schema (schema/hashmatch.capnp) and the store's model
// (hashsets/). Nothing here decides policy; parse errors name the item ("query 12 hash 0: ...").
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/schema/hashmatch.capnp.h"
#include "match_engine.h"

namespace hashmatch::daemon {

std::optional<SignalType> SignalFromWire(wire::SignalType s);
wire::SignalType SignalToWire(SignalType s);

// One hash (hex or bytes) checked against its signal's code size.
Result<QueryHash> ParseHash(wire::Hash::Reader hash);
void FillHash(wire::Hash::Builder out, SignalType signal, std::span<const uint8_t> code);

// The queries of a match call; a malformed one carries its error (it does not fail the batch).
std::vector<EngineQuery> QueriesFromWire(capnp::List<wire::Query>::Reader queries);
// Per-request options (sets, threshold, cap clamped to the server's).
EngineOptions OptionsFromWire(wire::MatchOptions::Reader options, uint32_t server_max_hits,
                              int max_threads);

void FillMatchResult(wire::MatchResult::Builder out, const EngineResult& result);

Result<SetConfig> SetConfigFromWire(wire::SetConfig::Reader config);
SetUpdate SetUpdateFromWire(wire::SetUpdate::Reader update);
void FillSetInfo(wire::SetInfo::Builder out, const SetInfo& info);
void FillCommitStats(wire::CommitStats::Builder out, const CommitStats& stats);

// A sync page for a set of `signal`; a malformed record refuses the page, naming the record.
Result<ImportPage> PageFromWire(wire::Page::Reader page, SignalType signal);

}  // namespace hashmatch::daemon

// Between hashmatch::client's plain structs and the wire schema (schema/hashmatch.capnp).
#pragma once

#include <kj/exception.h>

#include "hashmatch/client/client.h"
#include "hashmatch/schema/hashmatch.capnp.h"

namespace hashmatch::client::internal {

// "pdq" -> wire::SignalType::PDQ (by the schema's enumerant names); false when unknown.
bool SignalToWire(const std::string& name, wire::SignalType* out);
std::string SignalName(wire::SignalType s);

// Fails (an Error naming the item) on an unknown signal name.
Error FillHash(wire::Hash::Builder out, const Hash& in, const std::string& where);
Error FillQueries(capnp::List<wire::Query>::Builder out, const std::vector<Query>& in);
void FillMatchOptions(wire::MatchOptions::Builder out, const MatchOptions& in);
Error FillSetConfig(wire::SetConfig::Builder out, const SetConfig& in);
void FillSetUpdate(wire::SetUpdate::Builder out, const SetUpdate& in);
Error FillPage(wire::Page::Builder out, const Page& in);

Hash ToHash(wire::Hash::Reader in);
MatchResponse ToMatchResponse(wire::MatchResult::Reader in);
ImageResult ToImageResult(wire::ImageResult::Reader in);
SetInfo ToSetInfo(wire::SetInfo::Reader in);
CommitStats ToCommitStats(wire::CommitStats::Reader in);
ServerStats ToStats(wire::Stats::Reader in);

// A daemon's error ("remote exception: permission_denied: ...") as code + message.
Error ToError(const kj::Exception& e);

}  // namespace hashmatch::client::internal

// One entry point per format, called by the dispatcher (importers.cc) with the input positioned at
// the start and an emitter that owns the sink and summary. Each returns OK only when the whole
// input was valid; ImportSummary::lines is filled in by each. Private to the importers.
#pragma once

#include "emitter.h"
#include "input.h"

namespace hashmatch::importers {

Status ParsePlain(BufferedInput& in, RecordEmitter& out);
Status ParsePytx(BufferedInput& in, RecordEmitter& out);
Status ParseCsv(BufferedInput& in, RecordEmitter& out, char delimiter);
Status ParseTeCsv(BufferedInput& in, RecordEmitter& out);
Status ParseNcmecXml(BufferedInput& in, RecordEmitter& out);
Status ParseStopNciiJson(BufferedInput& in, RecordEmitter& out);

// "<name>:<line>" for EntryRecord::source_ref, or empty when the options turn them off.
std::string SourceRef(const RecordEmitter& out, std::string_view name, uint64_t line);

}  // namespace hashmatch::importers

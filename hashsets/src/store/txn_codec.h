// Transactions as log records (payload of a kTxn record), and entry records as staged chunks
// (payload of a kStageChunk record). docs/store.md lists the fields.
//
// The log is a redo log of *inputs*: an import transaction carries the records as the source gave
// them (minus source_ref), its options, checkpoint and commit time. Applying a transaction is a
// deterministic function of the state before it and the record, so replay reproduces exactly the
// state the live commit produced: same ordinals, same versions, same times.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coding.h"
#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/records.h"
#include "hashmatch/hashsets/set_model.h"

namespace hashmatch::store {

enum class TxnKind : uint8_t {
  kCreateSet = 1,
  kUpdateSet = 2,
  kDropSet = 3,
  kImport = 4,
  kEntryEnabled = 5,
};

// An import whose records are in a staging file.
struct StagedRef {
  uint64_t file_number = 0;
  uint64_t file_bytes = 0;  // the staging file's size when committed
  uint64_t chunks = 0;
  uint64_t records = 0;
};

struct Txn {
  uint64_t sequence = 0;
  int64_t time = 0;  // commit time (unix seconds)
  TxnKind kind = TxnKind::kImport;
  uint32_t set_id = 0;  // every kind; kCreateSet: the new set's id
  SetConfig config;     // kCreateSet
  SetUpdate update;     // kUpdateSet
  std::string key;      // kEntryEnabled
  bool enabled = false;
  ApplyOptions import;  // kImport
  std::optional<Checkpoint> checkpoint;
  std::vector<EntryRecord> records;  // kImport, inline
  std::optional<StagedRef> staged;   // kImport, staged
};

// An inline import's records are passed separately (`records`; t.records is ignored), so a large
// page is encoded without being copied.
std::string EncodeTxn(const Txn& t, std::span<const EntryRecord> records);
// `where` names the record in messages ("file 000012.log at offset 4096").
Result<Txn> DecodeTxn(std::string_view payload, const std::string& where);

// A set's configuration (log and snapshot catalog).
void EncodeConfig(const SetConfig& c, std::string* out);
bool DecodeConfig(Decoder* d, SetConfig* c);

void EncodeRecords(std::span<const EntryRecord> records, std::string* out);
Status DecodeRecords(std::string_view payload, const std::string& where,
                     std::vector<EntryRecord>* out);

}  // namespace hashmatch::store

// Shared plumbing of the local-store commands (store_commands.h): arguments, opening the store,
// reporting a Status.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/hashsets/importers.h"

namespace hashmatch::cli {

struct StoreArgs {
  std::string store;                    // --store DIR (required)
  std::vector<std::string> positional;  // everything that is not a flag
  std::optional<SignalType> type;       // --type
  std::optional<uint32_t> threshold;    // --threshold
  std::optional<SetKind> kind;          // --kind
  std::optional<ListFormat> format;     // --format for import/sync (a list format)
  bool jsonl = false;                   // --format jsonl (sets, match)
  bool enable = false, disable = false, refuse_degenerate = false, entries = false,
       full_list = false, dihedral = false;
  std::string out, from;          // --out, --from
  std::vector<std::string> sets;  // --set (match)
  size_t max_hits = 1000;         // --max-hits (match)
};

// Parses the arguments after the command; returns 0, or the exit status of a usage error.
int ParseStoreArgs(const std::string& cmd, int argc, char** argv, StoreArgs* out);
// Opens the store named by --store (creating it when `create`; without the writer's lock and
// writing nothing when `read_only`); null after reporting an error.
std::unique_ptr<HashSetStore> OpenStore(const StoreArgs& a, bool create, bool read_only = false);
// 0 for OK; otherwise prints "hashmatch: <message>" and returns 2.
int Check(const Status& s);

int RunStoreMatch(StoreArgs& a);

}  // namespace hashmatch::cli

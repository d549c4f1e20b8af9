// The CLI's commands on a local hash-set store (no daemon): every one takes --store DIR.
//
//   hashmatch sets create NAME --type TYPE [--threshold N] [--kind match|suppress] [--disabled]
//                  [--refuse-degenerate] --store DIR
//   hashmatch sets update NAME [--threshold N] [--kind K] [--enable|--disable] --store DIR
//   hashmatch sets list|show NAME [--entries] [--format text|jsonl] --store DIR
//   hashmatch sets drop NAME --store DIR
//   hashmatch import SET FILE [--format FMT] [--full-list] --store DIR
//   hashmatch export SET [--out FILE] --store DIR          (CSV that `import --format csv` reads)
//   hashmatch sync SET --from DIR --store DIR              (pages in name order, resuming after
//                                                           the page whose checkpoint is stored)
//   hashmatch match --store DIR [--type TYPE] [--set NAME]... [--threshold N] [--max-hits N]
//                   [--dihedral] [--format text|jsonl] HASH|FILE|IMAGE...
//
// Exit status: 0 done, 1 some input failed (each reported on stderr), 2 usage or store error.
#pragma once

#include <string>

namespace hashmatch::cli {

// True when `cmd` with these arguments is a local-store command (import and export always; sets,
// sync and match when --store is given).
bool IsStoreCommand(const std::string& cmd, int argc, char** argv);
int RunStoreCommand(const std::string& cmd, int argc, char** argv);

extern const char kStoreUsage[];

}  // namespace hashmatch::cli

// hashmatch scan (scan_command.cc): bulk scanning against a local store, without a daemon.
//
//   hashmatch scan --store DIR [--out FILE] [--resume] [--keep FILE] [--drop FILE]
//                  [--manifest FILE]... [options] PATH|DIR|SHARD.tar...
//
// Exit status: 0 every item scanned, 1 some items failed (each reported on stderr and in the
// output), 2 usage, store, checkpoint or output error.
#pragma once

namespace hashmatch::cli {

int RunScan(int argc, char** argv);

extern const char kScanUsage[];

}  // namespace hashmatch::cli

// hashmatchd as a library call: serve `config` until SIGTERM or SIGINT, then drain and return the
// process exit status. docs/daemon.md describes the behaviour; daemon/src/main.cc is the binary.
#pragma once

#include "hashmatch/daemon/config.h"

namespace hashmatch::daemon {

// Binds the listeners first (so a client can connect at once and be told "not ready"), writes
// the port file, opens the store on a loader thread, and serves. SIGHUP reloads the [tokens] of
// the config file. SIGTERM/SIGINT: stop accepting, let calls in flight finish (up to 10 s), close
// the store, return 0. Returns 1 when binding or opening the store fails.
int RunDaemon(const DaemonConfig& config);

}  // namespace hashmatch::daemon

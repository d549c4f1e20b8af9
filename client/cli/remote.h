// The CLI's commands that go through hashmatchd (hashmatch::client): match --server, sets, sync.
// Every one takes --server ADDR (HOST:PORT or unix:PATH) and --token-file FILE (the token on its
// first line; never on the command line, where other users could read it in the process list).
#pragma once

#include <memory>
#include <string>

#include "hashmatch/client/client.h"

namespace hashmatch::cli {

// Usage lines of the remote commands, appended to the CLI's usage.
extern const char kRemoteUsage[];

// True when the arguments hold --server (match then goes through the daemon).
bool HasServerFlag(int argc, char** argv);

int RunRemoteMatch(int argc, char** argv);
int RunSets(int argc, char** argv);
int RunSync(int argc, char** argv);

// Where the daemon is and how to reach it: --server ADDR, --token-file FILE, and for a TLS port
// --tls (the system's trust store), --tls-ca FILE (trust this PEM; implies --tls), --tls-name NAME
// (the name the certificate must carry; default: the host of ADDR).
struct ServerArgs {
  std::string server, token_file, tls_ca, tls_name;
  bool tls = false;
};
// If argv[*i] is one of the options above, consumes it (and its value) and returns 1; returns 0
// when it is not; prints the usage error and returns 2 when its value is missing.
int ParseServerOption(int argc, char** argv, int* i, ServerArgs* out);

// Connects and authenticates; on failure prints why and returns nullptr.
std::unique_ptr<client::Client> ConnectToServer(const ServerArgs& args);

}  // namespace hashmatch::cli

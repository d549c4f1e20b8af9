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

// Connects and authenticates; on failure prints why and returns nullptr.
std::unique_ptr<client::Client> ConnectToServer(const std::string& server,
                                                const std::string& token_file);

}  // namespace hashmatch::cli

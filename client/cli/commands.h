// The CLI's subcommands and their shared helpers.
#pragma once

#include <cstdint>
#include <string>

#include "hashmatch/core/json_string.h"

namespace hashmatch::cli {

int RunHash(int argc, char** argv);
int RunMatch(int argc, char** argv);
int RunKernels();

// Prints why and the usage to stderr; returns the usage exit status (2).
int Usage(const std::string& why);
bool ParseUint(const std::string& s, uint32_t* out);
using hashmatch::JsonEscape;  // hashmatch/core/json_string.h

}  // namespace hashmatch::cli

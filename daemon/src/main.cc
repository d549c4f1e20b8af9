// hashmatchd: the hashmatch matching daemon.
//
//   hashmatchd --config FILE        serve (docs/daemon.md; example: config/hashmatchd.example.conf)
//   hashmatchd --check-config FILE  parse the config and the quarantine state file, report errors,
//                                   exit
//   hashmatchd --hash-token         read a token on stdin, print the SHA-256 hex for [tokens]
#include <iostream>
#include <string>

#include "hashmatch/daemon/config.h"
#include "hashmatch/daemon/daemon.h"
#include "quarantine_file.h"

namespace {

constexpr char kUsage[] =
    "usage: hashmatchd --config FILE\n"
    "       hashmatchd --check-config FILE\n"
    "       hashmatchd --hash-token < TOKEN\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace hashmatch::daemon;
  const std::string cmd = argc >= 2 ? argv[1] : "";
  if (cmd == "--hash-token" && argc == 2) {
    std::string token;
    std::getline(std::cin, token);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    if (token.empty()) {
      std::cerr << "hashmatchd: empty token on stdin\n";
      return 2;
    }
    std::cout << TokenDigestHex(token) << "\n";
    return 0;
  }
  if ((cmd == "--config" || cmd == "--check-config") && argc == 3) {
    auto config = LoadConfig(argv[2]);
    if (!config.ok()) {
      std::cerr << "hashmatchd: " << config.status().message() << "\n";
      return 2;
    }
    if (cmd == "--check-config") {
      // The quarantine state file too: an operator who edited it can check it before a restart.
      auto quarantined =
          ReadQuarantineFile(hashmatch::Env::Default(), config->quarantine.state_file);
      if (!quarantined.ok()) {
        std::cerr << "hashmatchd: " << quarantined.status().message() << "\n";
        return 2;
      }
      std::cout << "config OK: " << config->tokens.size() << " tokens; " << quarantined->size()
                << " quarantined entries in " << config->quarantine.state_file.string() << "\n";
      return 0;
    }
    return RunDaemon(*config);
  }
  if (cmd == "-h" || cmd == "--help") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}

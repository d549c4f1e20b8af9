// Helpers shared by the tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace hashmatch::testing {

// ../shared, where the reference data lives; configured by CMake (HASHMATCH_SHARED_DIR).
inline std::filesystem::path SharedDir() {
  return HASHMATCH_SHARED_DIR;
}

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string(ci) != "0" && std::string(ci) != "false";
}

// Reads a file's lines, without line terminators (LF or CRLF).
inline std::vector<std::string> ReadLines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// A conformance tally, printed in a fixed form that the test script collects:
//   TALLY <name>: <passed>/<total> <what>
inline void PrintTally(const std::string& name, size_t passed, size_t total,
                       const std::string& what) {
  std::cout << "TALLY " << name << ": " << passed << "/" << total << " " << what << std::endl;
}

}  // namespace hashmatch::testing

// Skips the test when ../shared is absent, or fails it when CI is set (CI must have the data).
#define HM_REQUIRE_SHARED(relative)                                                        \
  do {                                                                                     \
    const auto hm_path_ = ::hashmatch::testing::SharedDir() / (relative);                  \
    if (!std::filesystem::exists(hm_path_)) {                                              \
      if (::hashmatch::testing::InCi()) {                                                  \
        FAIL() << "CI is set but the shared reference data is missing: " << hm_path_;      \
      } else {                                                                             \
        GTEST_SKIP() << "shared reference data not found at " << hm_path_ << "; skipping"; \
      }                                                                                    \
    }                                                                                      \
  } while (0)

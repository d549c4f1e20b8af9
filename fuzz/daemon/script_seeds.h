// The hand-written scripts of fuzz/daemon/corpus/ (S-*), in script_session.h's format: one per
// area (gate, matching, sets, sync, roles, limits, images, casts and cancellations).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace hashmatch::fuzz {

// name -> script (its first byte is the mode, 'S'). `images`: a directory with jpeg-5x5.jpg and
// png-1x1.png (fuzz/corpus) for the matchImages seeds; "" for made-up bytes.
std::vector<std::pair<std::string, std::string>> ScriptSeeds(const std::filesystem::path& images);

}  // namespace hashmatch::fuzz

// Degenerate codes: values that are in a list but can only produce false matches.
//
// A hash list is what partners send, and some lists carry junk: placeholders (all zeros, a byte
// repeated), hashes of blank or flat images, digests of empty files. Matching them would flag
// innocent content, so the store refuses or quarantines them (SetConfig::degenerate) with the
// reason this check gives. The checks:
//
//   every signal   all-zero and all-one codes
//   pdq            too few or too many bits set: PDQ thresholds 256 DCT coefficients at their
//                  median, so a real hash has 128 bits set (fewer only with ties, i.e. flat
//                  images); the quality-0 "ramp" pattern: the set bits form a staircase in the
//                  low-frequency corner of the 16x16 DCT grid (bit (i, j) set implies (i-1, j) and
//                  (i, j-1) set), which is what a smooth gradient hashes to, e.g. the reference's
//                  misc-images/small.jpg, 0007001f003f...03ff, quality 0; or the complement of
//                  such a staircase
//   pdq, digests   a placeholder: the code repeats a pattern of 1, 2 or 4 bytes ("deadbeef" x 8)
//   md5/sha1/sha256  the digest of the empty input (a zero-byte file)
//
// The 64-bit image hashes only get the all-zero/all-one check: a flat or striped image legitimately
// gives repetitive 64-bit values, and those are the lists' business.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "hashmatch/core/signal_type.h"

namespace hashmatch {

struct DegenerateOptions {
  int pdq_min_bits = 96;   // fewer bits set: degenerate
  int pdq_max_bits = 160;  // more bits set: degenerate
};

// Why `code` (of `signal`, GetSignalInfo(signal).code_bytes bytes) is degenerate, e.g. "PDQ with 12
// bits set (a real PDQ hash has about 128; allowed 96..160)"; nullopt when it is fine.
std::optional<std::string> DegenerateReason(SignalType signal, std::span<const uint8_t> code,
                                            const DegenerateOptions& options = {});

}  // namespace hashmatch

// The structured mode of the daemon fuzz target: the input is a script of RPC calls that a real
// Cap'n Proto client (capnp::TwoPartyClient, on the fuzzer's end of the pipe) makes to the fuzz
// daemon, so the well-formed messages reach the services' own checks and the store: wrong and
// right tokens, every method of every interface, hashes of every signal type in hex and bytes
// (known codes, bit-flipped codes, garbage), images, sync pages, set names and keys that exist and
// that do not, limits just under and over, calls through the wrong capability, cancelled calls.
//
// Script format (every read past the end gives 0, so any byte string is a script):
//   byte 0          the token: admin, scan, sync:pdq, a wrong one, one from the input, or none
//   then per call   op byte (which method), flags byte (bit 0: wait for the answer before the
//                   next call; bit 1: send it through another capability, cast; bit 2: drop the
//                   answer at once, which cancels the call), then the op's own arguments.
// At most kMaxCalls calls.
//
// Besides the sanitizers, the oracles: a call the caller's role may not make (docs/daemon.md's
// table, restated here independently of daemon/src/access.cc) must never succeed, and an admin
// call must never be refused with permission_denied. Against a daemon that is not ready
// (FuzzDaemon::Use(kLoading or kFailed)): a call that needs the store (NeedsStore) never
// succeeds, and fails with "unavailable: not ready: ..." unless it never reached the service
// (refused by role, pipelined on a failed authenticate, a null or cast capability, the connection
// gone); Gate.info, Health.health and Health.stats report ready = false with the state
// ("loading", "failed: ..."), and the quarantine is empty (against the ready one: ready, "ready").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace hashmatch::fuzz {

inline constexpr int kMaxCalls = 24;

// Byte 0.
enum TokenChoice : uint8_t {
  kTokAdmin,
  kTokScan,
  kTokSync,
  kTokWrong,
  kTokFromInput,
  kTokNone,
  kNumTokenChoices
};
// The op byte (modulo kNumOps).
enum Op : uint8_t {
  kInfo,
  kAuthenticate,  // again: [token byte] (then the later calls use the new grant)
  kMatch,         // [n][per query: [n][hash...] [threshold i8]] [options]
  kMatchMany,     // [u16 n] [hash]: n one-hash queries (over max_batch from 257)
  kMatchImages,   // [n][per image: u16 length (0xffff: 70,000 zero bytes), bytes] [options]
                  // [dihedral] [n][digest signal...]
  kListSets,
  kGetSet,           // [name]
  kCreateSet,        // [name][signal][u16 threshold][kind][bits: enabled, refuseDegenerate]
  kConfigureSet,     // [name][bits: has threshold, kind, enabled; enabled][u16 threshold][kind]
  kDropSet,          // [name]
  kSetEntryEnabled,  // [name][key][enabled]
  kListQuarantined,
  kReleaseQuarantined,  // [name][key]
  // [name][n][per record: [key][bits: 1 deleted, 2 not matchable, 4 classification, 8 tags, 16
  // a hash even when deleted][hash][class str][n][tag str...][u32 time]][bits: hasCheckpoint,
  // fullList, skipOtherSignals][checkpoint str]
  kApplyPage,
  kGetCheckpoint,  // [name]
  kHealth,
  kStats,
  kNumOps
};
// A hash: [sel: signal = sel % 10 (8, 9: no such type), form = sel / 10 % 6: 0 known code as
// hex, 1 known code as upper-case hex, 2 known code as bytes with bit flips ([n][pos...]), 3 hex
// from the input, 4 bytes from the input, 5 neither][index of the known code].
// Options: [n][name...][threshold i8][max hits]. A name: [sel < 240: one of pdq md5 dh allow fz
// fz2; else a string]. A key: [sel < 128: a baseline key; < 250: "k<sel>"; else a string].
// A string: [length] bytes.

// Runs one script on a fresh connection. With `record`, the client's bytes go there instead of to
// the daemon, and the calls are made without waiting for answers: the recording is what the
// client sends before any answer, and replays as one raw input (daemon_message_fuzzer.cc).
void RunScript(std::span<const uint8_t> script, std::string* record = nullptr);

// Whether `method` ("Matcher.match") needs the store, so fails while the daemon is not ready
// (docs/daemon.md, "Start-up, readiness and shutdown"): Matcher, SetAdmin and Sync, except the
// two quarantine calls, which read the daemon's in-memory quarantine.
bool NeedsStore(std::string_view method);

}  // namespace hashmatch::fuzz

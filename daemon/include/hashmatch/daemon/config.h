// hashmatchd's configuration file: a small INI dialect, documented in docs/daemon.md with an
// example in config/hashmatchd.example.conf.
//
//   # comment (also ';')
//   [server]
//   listen = 127.0.0.1:7700
//   store = /var/lib/hashmatch/store
//   [tokens]
//   scanner-1 = <sha256 hex of the token> scan
//
// One `key = value` per line; sections [server], [limits], [index], [quarantine], [tokens],
// [testing].
// Unknown sections or keys, a repeated key, a malformed number or role, or a token digest that is
// not 64 hex digits refuse the whole file with "FILE:LINE: reason": a typo in a limit must not
// silently leave the default in force. Tokens are never stored in the clear, only their SHA-256
// digests.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/live_index.h"
#include "hashmatch/core/status.h"

namespace hashmatch::daemon {

// One configured token: a name for the logs, the SHA-256 of the secret, and its roles
// ("scan", "sync:SET", "admin").
struct TokenConfig {
  std::string name;
  std::array<uint8_t, 32> sha256{};
  std::vector<std::string> roles;
};

struct Limits {
  uint64_t max_message_bytes = 64 << 20;    // one incoming RPC message (ReaderOptions)
  int max_nesting = 64;                     // pointer nesting in one message (ReaderOptions)
  uint64_t max_inflight_bytes = 128 << 20;  // unanswered calls per connection (flow control)
  uint32_t max_batch = 10000;               // hashes in one match call (all queries together)
  uint32_t max_hashes_per_query = 16;       // hashes in one query (a dihedral query has 8)
  uint32_t max_images = 64;                 // images in one matchImages call
  uint64_t max_image_bytes = 32 << 20;      // one image of matchImages
  uint64_t max_image_pixels = 100'000'000;
  uint32_t max_page_records = 100000;     // records in one sync page
  uint32_t max_hits_per_query = 1000;     // per-query cap (a client may ask for fewer)
  uint32_t max_connections = 256;         // open connections; more are refused with an error
  uint32_t max_queued_calls = 1024;       // calls waiting for a worker; more are refused
  uint32_t call_deadline_ms = 30000;      // per call, from arrival to answer
  uint32_t auth_timeout_ms = 10000;       // a connection must authenticate within this
  uint32_t auth_failure_delay_ms = 1000;  // a wrong token is answered after this delay
};

// Hooks for the integration tests only; all default to off.
struct TestingConfig {
  uint32_t load_delay_ms = 0;   // sleep before opening the store (to observe "not ready")
  uint32_t match_delay_ms = 0;  // sleep in each match job of >= match_delay_min_hashes hashes
  uint32_t match_delay_min_hashes = 1;
};

// Quarantine of entries whose matches surge (daemon/src/hot_entries.h).
struct QuarantineSettings {
  uint32_t min_hits_per_minute = 0;  // 0: off
  double surge_factor = 10;          // times the entry's usual hits per minute
  // The quarantined entries, kept across restarts (daemon/src/quarantine_file.h). ParseConfig
  // sets it: `state_file` when given, else kDefaultQuarantineFile inside the store directory.
  std::filesystem::path state_file;
};
inline constexpr const char* kDefaultQuarantineFile = "hashmatchd.quarantine";

// [index]: how every set's LiveIndex searches (docs/gpu.md). `gpu = on` makes opening the store
// fail when no GPU mirror can be built (no CUDA in this build, no GPU visible); `auto` uses one
// when it can. The log line "set_index" at startup names each set's backend.
struct IndexSettings {
  LiveIndexGpuOptions::Mode gpu = LiveIndexGpuOptions::Mode::kOff;
  uint32_t gpu_min_batch = 256;  // batches of at least this many hashes go to the GPU (>= 1)
};

struct DaemonConfig {
  std::filesystem::path path;  // the file it was read from ("" when parsed from text)

  // [server]
  std::string listen = "127.0.0.1:7700";  // host:port (port 0: any free port); "" = no TCP
  std::filesystem::path unix_socket;      // "" = none
  std::filesystem::path port_file;        // written with the bound TCP port once listening
  std::filesystem::path tls_cert;         // PEM certificate chain: the TCP port speaks TLS only
  std::filesystem::path tls_key;          // PEM private key (both or neither)
  std::filesystem::path store;            // required
  bool create_store = false;              // create an empty store when `store` has none
  uint32_t workers = 0;                   // matching threads; 0 = two per CPU
  uint32_t match_threads = 0;             // threads one call's batch spreads over; 0 = every CPU
  std::filesystem::path audit_log;        // append-only JSON lines of every hit; "" = none
  std::string http_listen;                // /metrics, /healthz, /readyz; "" = none
  std::filesystem::path http_port_file;   // written with the bound HTTP port

  Limits limits;
  IndexSettings index;
  QuarantineSettings quarantine;
  std::vector<TokenConfig> tokens;
  TestingConfig testing;
};

// Parses configuration text; `name` is used in error messages and relative paths are resolved
// against `base_dir`.
Result<DaemonConfig> ParseConfig(std::string_view text, std::string_view name,
                                 const std::filesystem::path& base_dir);
// Reads and parses a file.
Result<DaemonConfig> LoadConfig(const std::filesystem::path& path);

// Lower-case hex SHA-256 of a token, as the [tokens] section wants it.
std::string TokenDigestHex(std::string_view token);

}  // namespace hashmatch::daemon

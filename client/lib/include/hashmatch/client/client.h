// hashmatch::client: the C++ client of hashmatchd. Plain structs in, plain structs out; no kj or
// Cap'n Proto type appears here.
//
//   auto c = hashmatch::client::Client::Connect({.address = "127.0.0.1:7700", .token = token});
//   if (!c.ok()) { std::cerr << c.error().ToString(); return; }
//   auto r = (*c)->Match({{.hashes = {{.signal = "pdq", .hex = "f8f8..."}}}});
//
// Threads. Each Client runs its own event loop on a background thread; the calls below marshal
// onto it and block the caller until the answer (or the timeout). They may be called from any
// thread, also concurrently: calls from different threads are in flight together on the one
// connection. A Client is not copyable; destroying it closes the connection.
//
// Errors. Every call returns an Error (code + message) or a value. Codes are the daemon's
// ("permission_denied", "unavailable" (also "not ready" and a lost connection), "out_of_range",
// "deadline_exceeded", "resource_exhausted", "invalid_argument", "not_found", ...). Per-item
// errors of a batch are in the item's result, never in the call's Error.
//
// Signal types are named as in the CLI and the wire: "pdq", "ahash64", "dhash64", "phash64",
// "whash64", "md5", "sha1", "sha256".
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace hashmatch::client {

struct Error {
  std::string code;  // empty: OK
  std::string message;
  bool ok() const { return code.empty(); }
  std::string ToString() const { return ok() ? "ok" : code + ": " + message; }
};

// A value or an Error.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  const Error& error() const {
    static const Error kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// One hash: hex (either case) or bytes in hex order.
struct Hash {
  std::string signal = "pdq";
  std::string hex;
  std::vector<uint8_t> bytes;  // used when hex is empty
};

// One item to look up: one hash, or the eight PDQ orientations of one image (dihedral), or any
// hashes of one item. Each listed entry is reported once, at its nearest hash.
struct Query {
  std::vector<Hash> hashes;
  int threshold = -1;  // -1: each set's own; else clamped to each set's
};

struct MatchOptions {
  std::vector<std::string> sets;    // empty: every enabled set of each signal
  int threshold = -1;               // for queries without their own
  uint32_t max_hits_per_query = 0;  // 0: the server's cap
};

struct Hit {
  std::string set;
  std::string key;
  uint32_t distance = 0;
  uint32_t hash_index = 0;  // which of the query's hashes matched (orientation for dihedral)
  std::string classification;
  std::vector<std::string> tags;
  int64_t source_time = 0;
};

struct QueryResult {
  Error error;  // this item failed; the others did not
  std::vector<Hit> hits;
  std::vector<Hit> suppressed;   // cancelled by a suppress set
  std::vector<Hit> suppressors;  // the suppress-set hits that cancelled them
  std::vector<Hit> quarantined;  // hits of entries quarantined for a surge of matches: not matches
  bool truncated = false;        // more hits existed than the cap
};

struct SearchedSet {
  std::string name;
  std::string signal;
  uint64_t version = 0;
  uint32_t threshold = 0;
  bool suppress = false;
};

struct MatchResponse {
  uint64_t sequence = 0;              // the store transaction the answer saw
  std::vector<SearchedSet> searched;  // every set searched, with its version
  std::vector<QueryResult> results;   // one per query, in order
};

struct ImageResult {
  Error error;  // the image did not decode (its digests may still have matched)
  uint32_t width = 0, height = 0, quality = 0;
  std::vector<Hash> hashes;  // as bytes: PDQ (8 when dihedral), then the digests asked
};

struct MatchImagesResponse {
  MatchResponse match;
  std::vector<ImageResult> images;
};

struct SetConfig {
  std::string name;
  std::string signal = "pdq";
  uint32_t threshold = 31;
  bool suppress = false;  // a suppress set (allow-list) instead of a match set
  bool enabled = true;
  bool refuse_degenerate = false;
};

struct SetUpdate {
  std::optional<uint32_t> threshold;
  std::optional<bool> suppress;
  std::optional<bool> enabled;
};

struct SetInfo {
  SetConfig config;
  uint64_t version = 0;
  int64_t created_time = 0;
  int64_t last_sync_time = 0;
  std::optional<std::string> checkpoint;
  uint64_t live = 0, indexed = 0, tombstones = 0, quarantined = 0, disabled = 0, unmatchable = 0;
};

struct Record {
  std::string key;
  Hash hash;  // empty for a deletion
  bool deleted = false;
  bool matchable = true;
  std::string classification;
  std::vector<std::string> tags;
  int64_t source_time = 0;
};

struct Page {
  std::vector<Record> records;
  std::optional<std::string> checkpoint;
  bool full_list = false;
  bool skip_other_signals = false;
};

struct CommitStats {
  uint64_t sequence = 0, set_version = 0;
  bool changed = false;
  uint64_t records = 0, added = 0, updated = 0, deleted = 0, unchanged = 0, stale = 0, skipped = 0,
           quarantined = 0;
  std::vector<std::string> notes;
};

struct QuarantinedEntry {
  std::string set, key;
  int64_t since = 0;
  uint64_t hits_this_minute = 0;
  double usual_per_minute = 0;
};

struct SetCheckpoint {
  std::optional<std::string> checkpoint;
  uint64_t version = 0;
  int64_t last_sync_time = 0;
};

struct ServerInfo {
  uint32_t schema_version = 0;
  std::string server_version;
  bool ready = false;
};

struct Grant {
  std::string principal;
  std::vector<std::string> roles;
  bool matcher = false, sets = false, sync = false, health = false;  // capabilities held
};

struct Health {
  bool ready = false;
  std::string state;  // "loading", "ready", "draining", "failed: ..."
};

struct ServerStats {
  uint64_t uptime_seconds = 0;
  bool ready = false;
  uint32_t connections = 0;
  uint64_t connections_total = 0, connections_refused = 0, auth_failures = 0;
  uint64_t queries_matched = 0, hits = 0, store_sequence = 0;
  uint32_t worker_queue = 0;
  struct Method {
    std::string method;
    uint64_t calls = 0, errors = 0;
  };
  std::vector<Method> methods;
};

struct ConnectOptions {
  // "HOST:PORT" (TCP; "localhost:7700", "[::1]:7700") or "unix:/path/to/socket".
  std::string address = "127.0.0.1:7700";
  // Authenticate at once with this token when not empty (else call Authenticate).
  std::string token;
  // TLS (a daemon with tls_cert/tls_key): the server's certificate is verified against
  // tls_ca_file (PEM; empty: the system's trust store) and tls_server_name (empty: the host part
  // of `address`; an IP address needs a certificate naming it, or a name here that it names).
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_server_name;
  // Largest answer accepted (a batch of 10,000 queries with many hits is large).
  uint64_t max_message_bytes = uint64_t(1) << 30;
  // Per call, including connecting; 0: none.
  std::chrono::milliseconds timeout{60000};
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const ConnectOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<ServerInfo> Info();
  Result<Grant> Authenticate(const std::string& token);
  const Grant& grant() const;  // empty until authenticated

  // Matcher (roles scan, admin).
  Result<MatchResponse> Match(const std::vector<Query>& queries, const MatchOptions& options = {});
  // The daemon decodes and hashes the images (PDQ; all 8 orientations when dihedral; plus the
  // digests named, "md5"/"sha1"/"sha256"). Prefer hashing locally: then images never leave the
  // host.
  Result<MatchImagesResponse> MatchImages(const std::vector<std::vector<uint8_t>>& images,
                                          const MatchOptions& options = {}, bool dihedral = true,
                                          const std::vector<std::string>& digests = {});

  // SetAdmin (list/get: every role; the rest: admin).
  Result<std::vector<SetInfo>> ListSets();
  Result<SetInfo> GetSet(const std::string& name);
  Result<SetInfo> CreateSet(const SetConfig& config);
  Result<SetInfo> ConfigureSet(const std::string& name, const SetUpdate& update);
  Error DropSet(const std::string& name);
  Result<SetInfo> SetEntryEnabled(const std::string& set, const std::string& key, bool enabled);
  // Entries quarantined for a sudden surge of matches (admin), and releasing one.
  Result<std::vector<QuarantinedEntry>> ListQuarantined();
  Result<bool> ReleaseQuarantined(const std::string& set, const std::string& key);

  // Sync (sync:SET for that set, admin).
  Result<CommitStats> ApplyPage(const std::string& set, const Page& page);
  Result<SetCheckpoint> GetCheckpoint(const std::string& set);

  // Health (every role).
  Result<Health> GetHealth();
  Result<ServerStats> GetStats();

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a token file: the first line, surrounding whitespace removed.
Result<std::string> ReadTokenFile(const std::string& path);

}  // namespace hashmatch::client

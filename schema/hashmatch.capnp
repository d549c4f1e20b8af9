# The hashmatch wire protocol: what hashmatchd serves and hashmatch::client speaks.
#
# Version 1 (`schemaVersion`). Evolution follows Cap'n Proto's rules: new fields, enumerants,
# union members and methods are added with the next ordinal and old clients keep working; nothing
# is renamed in meaning, renumbered or removed. A change that cannot be made that way gets a new
# file ID and schemaVersion 2. `Gate.info` tells a client which version it talks to.
#
# Security model (docs/daemon.md). A connection starts with the `Gate` alone (the bootstrap
# capability). `authenticate` exchanges a token for capabilities chosen by the token's roles:
#   scan       Matcher, plus reading set metadata (never hashes: hits carry set, key, metadata and
#              distance, and no call returns a listed code);
#   sync:SET   Sync for that set only, plus reading set metadata;
#   admin      everything.
# Each method's allowed roles are listed in one table in the daemon (daemon/src/access_table.cc);
# every call is checked against it, whatever capability it arrives on.
#
# Errors. A call that fails as a whole (not authenticated for it, not ready, a limit exceeded, an
# unknown set) fails with an exception whose description starts with a stable code name:
#   "permission_denied: ...", "unavailable: not ready: ...", "out_of_range: batch of ...",
#   "deadline_exceeded: ...", "resource_exhausted: ...", "invalid_argument: ...", "not_found: ..."
# A problem with one item of a batch (a malformed hash, an image that does not decode) is reported
# in that item's result and never fails the batch or the connection.

@0xbf7180fb3cb0a260;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("hashmatch::wire");

const schemaVersion :UInt32 = 1;

# ---- Hashes ---------------------------------------------------------------------------------------

enum SignalType {
  # The same order and names as core's SignalType (signal_type.h).
  pdq @0;      # Meta PDQ, 256 bits, Hamming distance
  ahash64 @1;  # imagehash average_hash, 64 bits
  dhash64 @2;
  phash64 @3;
  whash64 @4;
  md5 @5;      # exact digests: equality only
  sha1 @6;
  sha256 @7;
}

struct Hash {
  # One code of one signal type, as hex (either case, exactly 2 digits per byte, nothing else) or
  # as bytes in hex order (byte 0 = the first two hex digits).
  signal @0 :SignalType;
  union {
    hex @1 :Text;
    bytes @2 :Data;
  }
}

struct Error {
  code @0 :Text;     # stable name: "invalid_argument", "out_of_range", "unsupported", ...
  message @1 :Text;  # what and where, e.g. "query 12: expected 64 hex digits, got 63"
}

# ---- Matching -------------------------------------------------------------------------------------

struct Query {
  # One item to look up: usually one hash; for a dihedral batch the eight PDQ hashes of one image
  # (all orientations, in core's Dihedral order, the original first). Every listed entry within
  # distance of any of the hashes is reported once, with the hash that came nearest (ties: the
  # lower index), so a mirrored copy of a listed image is found through its orientation.
  hashes @0 :List(Hash);
  threshold @1 :Int32 = -1;  # this query's distance bound, clamped to each set's; -1: the sets'
}

struct MatchOptions {
  sets @0 :List(Text);       # sets to search; empty: every enabled set of each query's signal
  threshold @1 :Int32 = -1;  # bound for every query without its own (clamped to each set's)
  maxHitsPerQuery @2 :UInt32 = 0;  # 0: the server's cap; a larger value is lowered to it
}

struct Hit {
  set @0 :Text;
  key @1 :Text;             # the entry's key in its set (the source's identity)
  distance @2 :UInt32;      # Hamming distance; 0 for exact digests
  hashIndex @3 :UInt32;     # which of the query's hashes matched (the orientation for dihedral)
  classification @4 :Text;  # as the source gave it, e.g. NCMEC "A1"
  tags @5 :List(Text);
  sourceTime @6 :Int64;     # the source's timestamp of the entry (unix seconds), 0 if none
}

struct QueryResult {
  union {
    ok @0 :Void;
    error @1 :Error;  # this query failed (malformed hash, unknown type...); the others did not
  }
  hits @2 :List(Hit);        # sorted by (distance, set, key); empty when suppressed
  suppressed @3 :List(Hit);  # hits cancelled by a suppress set (an allow-list of known benign)
  suppressors @4 :List(Hit); # the suppress-set hits that cancelled them
  truncated @5 :Bool;        # more hits existed than the per-query cap; the nearest are kept
  quarantined @6 :List(Hit); # hits of entries quarantined for a sudden surge of matches: not
                             # matches until an admin releases the entry (docs/daemon.md)
}

struct SearchedSet {
  name @0 :Text;
  signal @1 :SignalType;
  version @2 :UInt64;     # the set's version the answer comes from
  threshold @3 :UInt32;
  suppress @4 :Bool;      # a suppress set
}

struct MatchResult {
  sequence @0 :UInt64;              # the store's last transaction the answer saw
  searched @1 :List(SearchedSet);   # every set searched, with its version
  results @2 :List(QueryResult);    # one per query (per image), in order
}

struct ImageResult {
  # What the daemon computed for one image of matchImages.
  union {
    ok @0 :Void;
    error @1 :Error;  # the image did not decode (not an image, corrupt, too large...)
  }
  width @2 :UInt32;
  height @3 :UInt32;
  quality @4 :UInt32;      # PDQ quality (0..100) of the original orientation
  hashes @5 :List(Hash);   # the hashes matched: PDQ (eight when dihedral), then the digests asked
}

interface Matcher {
  match @0 (queries :List(Query), options :MatchOptions) -> (result :MatchResult);
  # Matches a batch of queries; each query's hashes may be of any signal type.

  matchImages @1 (images :List(Data), options :MatchOptions, dihedral :Bool,
                  digests :List(SignalType)) -> (result :MatchResult, images :List(ImageResult));
  # For clients that cannot hash: the daemon decodes each image (JPEG, PNG, WebP), hashes it with
  # PDQ (all eight orientations when dihedral) and the digests asked (md5, sha1, sha256), and
  # matches those hashes as one query per image. result.results[i] belongs to images[i].
}

# ---- Sets -----------------------------------------------------------------------------------------

enum SetKind {
  match @0;     # hits are matches
  suppress @1;  # a vetted allow-list: its hits cancel other sets' hits on the same query
}

struct SetConfig {
  name @0 :Text;            # 1..64 of [A-Za-z0-9_.-], not starting with '.'
  signal @1 :SignalType;
  threshold @2 :UInt32;     # match when distance <= threshold; 0 for exact digests
  kind @3 :SetKind;
  enabled @4 :Bool = true;
  refuseDegenerate @5 :Bool; # refuse pages with degenerate codes instead of quarantining them
}

struct SetUpdate {
  # Fields with has* = false keep their value.
  hasThreshold @0 :Bool;
  threshold @1 :UInt32;
  hasKind @2 :Bool;
  kind @3 :SetKind;
  hasEnabled @4 :Bool;
  enabled @5 :Bool;
}

struct SetInfo {
  config @0 :SetConfig;
  version @1 :UInt64;
  createdTime @2 :Int64;   # unix seconds
  lastSyncTime @3 :Int64;  # commit time of the last import; 0 = never
  hasCheckpoint @4 :Bool;
  checkpoint @5 :Text;     # the source's resume point stored with the last import
  live @6 :UInt64;         # entries not deleted
  indexed @7 :UInt64;      # live entries queries can match
  tombstones @8 :UInt64;
  quarantined @9 :UInt64;
  disabled @10 :UInt64;
  unmatchable @11 :UInt64;
}

interface SetAdmin {
  listSets @0 () -> (sets :List(SetInfo), sequence :UInt64);
  getSet @1 (name :Text) -> (set :SetInfo);
  createSet @2 (config :SetConfig) -> (set :SetInfo);
  configureSet @3 (name :Text, update :SetUpdate) -> (set :SetInfo);
  dropSet @4 (name :Text) -> ();
  setEntryEnabled @5 (set :Text, key :Text, enabled :Bool) -> (set :SetInfo);
  # Disables (or re-enables) one entry, e.g. a confirmed false positive.

  listQuarantined @6 () -> (entries :List(QuarantinedEntry));
  releaseQuarantined @7 (set :Text, key :Text) -> (released :Bool);
  # Entries quarantined for a sudden surge of matches, and releasing one (its current rate then
  # counts as usual). False when it was not quarantined.
}

struct QuarantinedEntry {
  set @0 :Text;
  key @1 :Text;
  since @2 :Int64;           # unix seconds
  hitsThisMinute @3 :UInt64;  # the hits in the minute that triggered the quarantine
  usualPerMinute @4 :Float64;  # the entry's usual hits per minute at that time
}

# ---- Sync -----------------------------------------------------------------------------------------

struct Record {
  key @0 :Text;
  hash @1 :Hash;            # unset (no bytes, no hex) for a deletion
  deleted @2 :Bool;         # a tombstone: remove the entry with this key
  matchable @3 :Bool = true;
  classification @4 :Text;
  tags @5 :List(Text);
  sourceTime @6 :Int64;     # of two records for one key, the later wins
}

struct Page {
  records @0 :List(Record);
  hasCheckpoint @1 :Bool;
  checkpoint @2 :Text;         # the source's resume point after this page, stored with it
  fullList @3 :Bool;           # the page is the whole list: live keys it lacks are deleted
  skipOtherSignals @4 :Bool;   # skip records of another signal instead of refusing the page
}

struct CommitStats {
  sequence @0 :UInt64;
  setVersion @1 :UInt64;
  changed @2 :Bool;        # false: the page was already applied (idempotent) or empty
  records @3 :UInt64;
  added @4 :UInt64;
  updated @5 :UInt64;
  deleted @6 :UInt64;
  unchanged @7 :UInt64;
  stale @8 :UInt64;
  skipped @9 :UInt64;
  quarantined @10 :UInt64;
  notes @11 :List(Text);
}

interface Sync {
  applyPage @0 (set :Text, page :Page) -> (stats :CommitStats);
  # One page as one transaction: every record validated, then applied with the checkpoint, or
  # nothing (the error names the record). Applying the same page twice changes nothing.

  getCheckpoint @1 (set :Text) -> (hasCheckpoint :Bool, checkpoint :Text, version :UInt64,
                                   lastSyncTime :Int64);
}

# ---- Health ---------------------------------------------------------------------------------------

struct MethodStats {
  method @0 :Text;     # "Matcher.match", ...
  calls @1 :UInt64;
  errors @2 :UInt64;
}

struct Stats {
  uptimeSeconds @0 :UInt64;
  ready @1 :Bool;
  connections @2 :UInt32;       # open now
  connectionsTotal @3 :UInt64;
  connectionsRefused @4 :UInt64;  # over max_connections
  authFailures @5 :UInt64;
  queriesMatched @6 :UInt64;
  hits @7 :UInt64;
  workerQueue @8 :UInt32;       # calls waiting for a worker now
  storeSequence @9 :UInt64;
  methods @10 :List(MethodStats);
}

interface Health {
  health @0 () -> (ready :Bool, state :Text);
  # state: "loading", "ready", "draining" or "failed: <why>".
  stats @1 () -> (stats :Stats);
}

# ---- The gate -------------------------------------------------------------------------------------

struct ServerInfo {
  schemaVersion @0 :UInt32;
  serverVersion @1 :Text;
  ready @2 :Bool;
}

struct Grant {
  # Capabilities for the roles of the token; those the roles allow no method of are left null.
  principal @0 :Text;       # the token's name in the daemon's config (for logs)
  roles @1 :List(Text);     # "scan", "sync:NCMEC", "admin"
  matcher @2 :Matcher;
  sets @3 :SetAdmin;
  sync @4 :Sync;
  health @5 :Health;
}

interface Gate {
  info @0 () -> (info :ServerInfo);
  authenticate @1 (token :Text) -> (grant :Grant);
  # A wrong token fails with "permission_denied: invalid token" after a delay.
}

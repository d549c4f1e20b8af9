// Bulk scanning: every image of directories, manifests and WebDataset-style tar shards is read,
// decoded, hashed (PDQ, MD5 of the bytes, and any other chosen signal) and matched in-process
// against a local store's sets, with one result per item, in input order. No daemon is involved:
// this is the engine of `hashmatch scan` and of the Python binding's scanner (a Dask worker scans
// its partition of shards with it).
//
//   auto store = HashSetStore::Open(dir, {.read_only = true}).value();
//   auto snapshot = store->GetSnapshot();           // one consistent version for the whole scan
//   std::vector<ScanInput> inputs = {{"shards/000000.tar"}, {"shards/000001.tar"}};
//   auto summary = Scan(*snapshot, inputs, ScanOptions{}, [](ScanItemResult& item) {
//     if (item.matched()) ...;                      // called in item order, one call at a time
//     return Status::Ok();
//   });
//
// Items. The inputs are expanded, in order, into a stream of items numbered 0, 1, 2, ...:
//   - a file: one item (whatever its name);
//   - a directory: its files, recursively, in sorted path order (each directory's names sorted
//     bytewise, a subdirectory's files where its name sorts); symlinks to files are followed,
//     symlinks to directories are not; only files with an image name (ScanOptions::all_files),
//     and tar shards (by name, as below), whose members are expanded in their place;
//   - a tar shard (.tar, .tar.gz, .tgz, .tar.zst, ... read with libarchive, never extracted to
//     disk): its regular-file members in archive order, only those with an image name;
//   - a manifest: one path per line (blank lines skipped, a trailing '\r' dropped; a relative path
//     is relative to the manifest's directory), each expanded as an input of kind kAuto; read
//     lazily, so a manifest of a billion lines costs no memory.
// An "image name" ends in .jpg, .jpeg, .png or .webp (any case); other files and members are
// counted in ScanSummary::skipped_files, not items. The numbering is a function of the inputs and
// of the file system only, so a resumed scan (skip_items) sees the same items after the same
// numbers.
//
// Errors. An item that cannot be read or decoded, or is too large, is an item with a non-OK
// status (its message names the path and member); a directory that cannot be listed, a missing
// input, an unreadable manifest or a shard that cannot be opened is one failed item at its place in
// the stream. A shard damaged halfway gives its members up to the damage (the damaged one failed)
// and then one failed item for the shard; skipping members (skip_items) numbers them exactly as
// reading them does. None of these stops the scan. Scan itself fails only on bad options, a set
// that does not exist, a resume point that does not hold (ScanOptions::resume_after), or a sink
// error.
//
// Matching. Each computed signal type is matched against the store's enabled sets of that type
// (or the sets named in ScanOptions::sets, plus every enabled suppress set of the computed types:
// a vetted allow-list applies whatever was named), through StoreSnapshot::Match (match.h):
// perceptual sets by Hamming distance within the set's threshold, digests by equality. PDQ codes
// with a quality below min_quality are not matched (flat images match each other). Digests are
// matched even when the item then failed to decode: a listed file that is not a valid image is
// still found. Suppression is per item: a hit of a suppress set on any of the item's codes (any
// signal, any orientation) cancels every match-set hit of that item; they move to `suppressed`.
//
// Threads and memory. A oneTBB parallel_pipeline: a serial stage lists items and reads tar
// members (tar streams are sequential), a parallel stage reads files, hashes and matches a chunk
// of items, and a serial in-order stage calls the sink. At most max_tokens chunks are in flight,
// each holding at most chunk_items items and (beyond its last item) chunk_bytes bytes of item
// data (a file's size is taken from a stat when it is listed), so the memory is bounded by about
// max_tokens x (chunk_bytes + one item of at most max_item_bytes) plus one decoded image per
// thread, whatever the number of items.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hashmatch/core/batch_hash.h"
#include "hashmatch/core/image.h"
#include "hashmatch/core/pdq.h"
#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/hashsets/match.h"
#include "hashmatch/hashsets/set_model.h"

namespace hashmatch {

enum class ScanInputKind : uint8_t {
  kAuto = 0,   // a directory if it is one; a tar shard if the name ends in .tar, .tar.gz, .tgz,
               // .tar.bz2, .tar.xz or .tar.zst; otherwise a file
  kFile,       // one item
  kDirectory,  // recursive walk
  kTar,        // a tar shard
  kManifest,   // a text file of paths, one per line
};

struct ScanInput {
  std::filesystem::path path;
  ScanInputKind kind = ScanInputKind::kAuto;
};

struct ScanOptions {
  // Signals computed for every item. PDQ and MD5 are always computed (they are added if absent);
  // add others (SHA-1, SHA-256, the 64-bit image hashes) to match sets of those types. A set whose
  // type is not computed is not searched.
  SignalSet signals = {SignalType::kPdq, SignalType::kMd5};
  bool dihedral = false;  // PDQ: match all eight orientations; hits say which one matched
  DecodeOptions decode;   // pixel and scan limits (image.h)
  PdqOptions pdq;         // the exact path by default; pdq.fast is the JPEG fast path (pdq.h)
  int min_quality = 50;   // PDQ codes below this quality are not matched

  std::vector<std::string> sets;      // empty: every enabled set of each computed signal type
  std::optional<uint32_t> threshold;  // narrows every set's threshold (never widens it)
  size_t max_hits_per_item = 100;     // per signal and orientation, nearest first; 0: no cap

  bool all_files = false;                         // directory walks and tars: every regular file
  uint64_t max_item_bytes = uint64_t(256) << 20;  // larger items fail with out_of_range

  // Threads: 0 = all cores (or the enclosing task_arena's limit); n = at most n.
  int max_threads = 0;
  size_t max_tokens = 0;                      // chunks in flight; 0: 2 x threads
  size_t chunk_items = 16;                    // items per chunk (>= 1)
  uint64_t chunk_bytes = uint64_t(16) << 20;  // a chunk closes once its bytes reach this

  // Resume: items 0 .. skip_items-1 are listed (to keep the numbering) but neither read nor
  // delivered; a tar's skipped members are skipped over, not decompressed where it can seek.
  uint64_t skip_items = 0;
  // Resume check: the (path, member) of item skip_items - 1 as the first run saw it. When set,
  // Scan fails with invalid_argument, before delivering anything, if the item there is another
  // one or the inputs hold fewer items: the dataset changed under the resume point.
  std::optional<std::pair<std::string, std::string>> resume_after;
};

// One hit of one of the item's codes.
struct ScanHit {
  SignalType signal = SignalType::kPdq;
  std::string set;
  uint64_t set_version = 0;
  SetKind kind = SetKind::kMatch;
  uint32_t distance = 0;
  // PDQ with ScanOptions::dihedral: the orientation of the item whose code matched (a set entry
  // hit by several orientations is reported once, at its smallest distance).
  std::optional<Dihedral> orientation;
  Entry entry;  // key, listed code, classification, tags
};

struct ScanItemResult {
  uint64_t index = 0;  // position in the item stream (see the top of this file)
  std::string path;    // the file, or the tar shard holding the member
  std::string member;  // the member's name inside the shard; empty for a file
  uint64_t bytes = 0;  // the item's size in bytes (0 when it could not be read)

  // OK, or why the item failed (read, too large, decode, pixel limit, a listing error).
  Status status;
  // Which of `hashes` hold values: the digests whenever the bytes were read (even if the decode
  // then failed), the perceptual hashes only when `status` is OK. hashes.pdq[0] is the item as
  // stored; with dihedral, all eight orientations are filled.
  bool bytes_read = false;
  BatchHashResult hashes;
  bool low_quality = false;  // PDQ quality < min_quality: PDQ was not matched

  std::vector<ScanHit> matches;      // sorted by (signal, distance, set, key)
  std::vector<ScanHit> suppressed;   // match-set hits cancelled by a suppress set
  std::vector<ScanHit> suppressors;  // the suppress-set hits that cancelled them
  bool truncated = false;            // some code had more than max_hits_per_item hits

  // Number of non-image files and members passed over since the previous item (they are not
  // items; ScanSummary::skipped_files adds them up).
  uint64_t skipped_before = 0;

  bool ok() const { return status.ok(); }
  bool matched() const { return !matches.empty(); }
  bool is_suppressed() const { return matches.empty() && !suppressed.empty(); }
};

struct ScanSummary {
  uint64_t items = 0;       // items delivered to the sink (not counting skip_items)
  uint64_t scanned = 0;     // items hashed successfully
  uint64_t matched = 0;     // items with at least one match
  uint64_t suppressed = 0;  // items whose every hit a suppress set cancelled
  uint64_t failed = 0;      // items with a non-OK status
  uint64_t low_quality = 0;
  uint64_t skipped_files = 0;                        // non-image files and members passed over
  std::map<std::string, uint64_t> failed_by_reason;  // StatusCodeName(code) -> items
  uint64_t bytes = 0;                                // bytes of the delivered items
  double seconds = 0;                                // wall time of the scan
  uint64_t store_sequence = 0;                       // the snapshot's sequence number
  std::vector<SearchedSet> searched;                 // sets searched, with their versions

  // Items counted from an earlier run (RunScanJob resuming from a checkpoint: the counters then
  // cover the whole scan, `seconds` only this run).
  uint64_t resumed_items = 0;

  // This run's rate: items it delivered per second.
  double items_per_second() const {
    return seconds > 0 ? double(items - resumed_items) / seconds : 0;
  }
  // Adds one delivered item to the counters (Scan does this for every item it delivers).
  void Count(const ScanItemResult& item);
};

// Called for every item, in item order, on one thread at a time (any thread). The item may be
// moved from. A non-OK return stops the scan: items already in flight are dropped, and Scan
// returns that status.
using ScanSink = std::function<Status(ScanItemResult& item)>;

// Scans `inputs` against `store` (a snapshot: every item sees the same set versions).
Result<ScanSummary> Scan(const StoreSnapshot& store, std::span<const ScanInput> inputs,
                         const ScanOptions& options, const ScanSink& sink);

// The same, collecting every item (for small inputs: one Dask partition of shards).
Result<std::vector<ScanItemResult>> ScanAll(const StoreSnapshot& store,
                                            std::span<const ScanInput> inputs,
                                            const ScanOptions& options,
                                            ScanSummary* summary = nullptr);

// The number of items the inputs hold (for a progress bar's total): lists directories and reads
// tar headers, reads no file (but a compressed shard is decompressed to find its headers). Uses
// only options.all_files.
uint64_t CountScanItems(std::span<const ScanInput> inputs, const ScanOptions& options);

}  // namespace hashmatch

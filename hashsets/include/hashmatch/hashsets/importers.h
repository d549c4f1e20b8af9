// Partner hash-list importers: streaming parsers that turn list files and sync pages into the
// neutral EntryRecord form (records.h), and the CSV exporter that writes them back.
//
// Formats (ListFormat; samples and expected results in ../shared/hashlists/README.md):
//   plain          one hex hash per line; blank lines and `#` comment lines ignored, whitespace
//                  trimmed. Key: the lower-case hex. Signal: ImportOptions::signal, else inferred
//                  from the length where that is unambiguous (32 -> md5, 40 -> sha1; 64 digits may
//                  be pdq or sha256, 16 any 64-bit hash, so those need the caller's type).
//   csv, tsv       a header row, then one entry per record (RFC 4180 quoting, also for TSV as in
//                  Python's excel-tab dialect: quoted commas, quotes and newlines; UTF-8 BOM; LF or
//                  CRLF). Columns are found by CsvMapping. Key: the key column, else the hex.
//   pytx           python-threatexchange local file: `<signal_type> <value>` per line. Key: hex.
//                  Types hashmatch does not handle (url, raw_text, ...) are skipped and counted.
//   te-csv         ThreatExchange CLI cache, no header: `indicator,first_descriptor_id,added_on,
//                  "labels"`. Key: the descriptor id; labels become tags; added_on the time. Signal
//                  from the file name (`<collab>.<TYPE>.te`), else ImportOptions::signal, else the
//                  length.
//   ncmec-xml      one NCMEC hash-sharing v2 `queryResult` page (expat, streamed). One record per
//                  (entry, fingerprint type) keyed "<member id>:<entry id>:<md5|sha1|pdq>", e.g.
//                  "42:img1:pdq"; classification from <classification>, tag "image" or "video".
//                  A live entry also yields tombstones for the md5/sha1/pdq keys it no longer
//                  carries (an updated entry replaces the whole entry); `deleted*` entries
//                  (deletedImage, deletedVideo) yield tombstones for all three keys. Other
//                  fingerprints (PhotoDNA, ...) are ignored. Checkpoint: JSON
//                  {"next": <paging/next or "">, "max_timestamp": <latest timestamp in the page>}.
//   stopncii-json  one StopNCII FetchHashes page (nlohmann::json SAX, streamed). Key
//                  "<signalType>:<lower-case hex>", e.g. "ImagePDQ:ac39...". ImagePDQ -> pdq,
//                  VideoMD5 -> md5; other signal types are skipped and counted. hashStatus Active:
//                  matchable; Withdrawn: kept with matchable = false (it may be reinstated);
//                  Deleted: a tombstone. Tags: "case:<case number>" per caseNumbers key, then per
//                  CSPFeedbacks item "csp:<source>:<feedbackValue>" and its tags. Checkpoint: JSON
//                  with nextPageToken, nextSetTimestamp and hasMoreRecords as the page gave them.
//
// Streaming and transactions. A parse emits records to a RecordSink in chunks of at most
// ImportLimits::chunk_records, so a 10M-line file is never held whole. A chunk is NOT a commit:
// the parse validates as it goes and any malformed record anywhere (or a sink error) makes the
// whole call fail, after some chunks may already have been delivered. The store therefore stages
// chunks and applies them, with the returned checkpoint, only when the call returns OK.
//
// Duplicates. Pages (ncmec-xml, stopncii-json) are bounded by ImportLimits::max_page_records and
// buffered whole: the sink sees them de-duplicated by key, the record with the later source
// timestamp winning whatever its place in the page (equal times: the later in the page), emitted
// in the order each key first appeared, after the whole page has parsed. File formats (plain,
// csv, tsv, pytx, te-csv) are not buffered: the sink sees every record in file order, duplicates
// included, and the store applies "later source_time wins, equal: the later record" (records.h).
//
// Errors are Status values, never exceptions: "<name>:<line>: <reason>", where <name> is the path
// or source name given and <line> the 1-based line where the offending line, CSV record or XML/
// JSON entry starts; page records also give their 1-based index, e.g.
// "page.xml:12: entry 2 (42/img1): pdq: expected 64 hex digits, got 63". Malformed input is
// kInvalidArgument, an exceeded limit kOutOfRange, a read failure kIoError; a sink's own error is
// returned as it is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"
#include "hashmatch/hashsets/records.h"

namespace hashmatch {

enum class ListFormat : uint8_t {
  kPlain,
  kCsv,
  kTsv,
  kPytx,
  kTeCsv,
  kNcmecXml,
  kStopNciiJson,
};

// The CLI names: "plain", "csv", "tsv", "pytx", "te-csv", "ncmec-xml", "stopncii-json".
std::string_view ListFormatName(ListFormat format);
// Exact (case-insensitive) CLI name to format; nullopt when unknown.
std::optional<ListFormat> ListFormatFromName(std::string_view name);
// "plain|csv|tsv|pytx|te-csv|ncmec-xml|stopncii-json", for usage messages.
std::string_view ListFormatNames();
// True for the sync-page formats, whose records are buffered and de-duplicated per page and
// which return a checkpoint.
bool IsPageFormat(ListFormat format);

// Guesses a format from the file name's extension (.xml, .json, .te, .tsv, .csv), else from the
// first bytes of the content (`head`, a few KiB is plenty): '<' XML, '{' JSON, then the first
// line that is not blank or a comment: tab-separated -> tsv, four comma-separated fields starting
// with a hex hash -> te-csv, other commas -> csv, "<word> <value>" -> pytx, one hex token ->
// plain. Refuses (kInvalidArgument, naming the file) what it cannot tell.
Result<ListFormat> DetectListFormat(std::string_view file_name, std::string_view head);
// The same on a file's name and first 8 KiB.
Result<ListFormat> DetectListFormatOfFile(const std::filesystem::path& path);

// Explicit bounds on everything an input can make the parser hold. Exceeding one fails the parse
// with kOutOfRange and a message naming the limit.
struct ImportLimits {
  size_t max_line_bytes = 64 << 10;      // one text line or CSV record (quoted newlines included),
                                         // one XML text node or attribute set, one JSON string
  size_t max_key_bytes = 1024;           // one entry key
  size_t max_page_records = 1'000'000;   // source entries in one ncmec-xml / stopncii-json page
  uint64_t max_page_bytes = 1ull << 30;  // bytes of one ncmec-xml / stopncii-json page
  size_t max_depth = 32;                 // XML element / JSON container nesting
  size_t chunk_records = 16384;          // records per sink call (not a limit on the input)
};

// How csv/tsv columns map to record fields. Each role names a header column (matched
// case-insensitively, surrounding whitespace ignored); an unset role takes the first of its
// default names present in the header, or stays unmapped; a role set to a name the header lacks
// is an error. Defaults:
//   key: key, external_id, id            hash (required): hash, hash_value, value, indicator
//   signal_type: signal_type, type, signal, hash_type
//   classification: classification, category         tags: tags, labels
//   source_time: source_time, time, timestamp, updated_at, last_updated, added_on
//   matchable: matchable                 deleted: deleted
// Times are unix seconds or ISO 8601 (no zone = UTC); booleans true/false, 1/0, yes/no or empty
// (the default). Without a signal_type column every row has ImportOptions::signal's type, else
// the type inferred from its length. A deleted row needs a key; its hash may be empty.
struct CsvMapping {
  std::optional<std::string> key, hash, signal_type, classification, tags, source_time, matchable,
      deleted;
  // Splits the tags column. 0: any run of whitespace. Otherwise this byte; each tag is trimmed of
  // surrounding whitespace and empty tags are dropped.
  char tag_separator = 0;
};

struct ImportOptions {
  std::optional<ListFormat> format;  // unset: DetectListFormat on the name and first bytes
  // Single-type formats (plain, te-csv, csv without a signal_type column): the type of every hash.
  // Multi-type formats (pytx, csv with a signal_type column, ncmec-xml, stopncii-json): a filter;
  // records of other types are skipped and counted in ImportSummary::filtered, after being
  // validated like the others (a malformed record of any type still refuses the input).
  std::optional<SignalType> signal;
  CsvMapping csv;
  ImportLimits limits;
  bool source_refs = true;  // fill EntryRecord::source_ref ("<name>:<line>"); off saves an
                            // allocation per record on very large imports
};

inline constexpr size_t kSignalTypeCount = 8;  // AllSignalTypes().size()

struct ImportSummary {
  uint64_t lines = 0;           // input lines (newlines, plus a last unterminated line)
  uint64_t source_records = 0;  // entries in the source: hash lines, CSV rows, XML entries, JSON
                                // hashRecords (blank and comment lines excluded)
  uint64_t emitted = 0;         // records given to the sink (live + tombstones)
  uint64_t tombstones = 0;      // of which deleted = true
  std::array<uint64_t, kSignalTypeCount> per_signal{};  // live records emitted, by SignalType
  uint64_t not_matchable = 0;  // live records emitted with matchable = false
  uint64_t filtered = 0;       // records skipped for ImportOptions::signal
  uint64_t unsupported = 0;    // source records of a type hashmatch does not handle, skipped
  uint64_t duplicates = 0;     // page records superseded by another record for the same key
  std::optional<Checkpoint> checkpoint;  // page formats only
};

// Receives a chunk of records. It may move from them (the vector is cleared after it returns);
// a non-OK status aborts the parse, which returns it.
using RecordSink = std::function<Status(std::vector<EntryRecord>& chunk)>;

// Parses a file, streaming it in blocks. Format: options.format, else detected.
Result<ImportSummary> ImportFile(const std::filesystem::path& path, const ImportOptions& options,
                                 const RecordSink& sink);
// Parses bytes already in memory; `source_name` stands for the file name in messages, source
// references and detection (its extension) and, for te-csv, gives the signal type.
Result<ImportSummary> ImportBytes(std::string_view bytes, std::string_view source_name,
                                  const ImportOptions& options, const RecordSink& sink);
// Parses a stream (e.g. std::cin), read in blocks.
Result<ImportSummary> ImportStream(std::istream& in, std::string_view source_name,
                                   const ImportOptions& options, const RecordSink& sink);

// Convenience for bounded inputs (sync pages, tests): every record of `path` in one ImportPage
// with its checkpoint (full_list false). `summary`, when given, receives the summary.
Result<ImportPage> ReadImportPage(const std::filesystem::path& path, const ImportOptions& options,
                                  ImportSummary* summary = nullptr);

// ---- Export ------------------------------------------------------------------------------------

// The exporter's header row; the default CsvMapping reads every column back.
inline constexpr std::string_view kCsvExportHeader =
    "key,signal_type,hash,classification,tags,source_time,matchable";

struct CsvExportOptions {
  // Joins tags; must match the importing CsvMapping::tag_separator (' ' here = 0 there).
  char tag_separator = ' ';
};

// Writes live records as CSV that the csv importer with the default mapping reads back as the
// same records (key, signal, code, classification, tags, source_time, matchable; source_ref is
// not written). source_time is written as ISO 8601 UTC ("2026-10-02T12:00:05Z"), empty when 0.
// Refuses, naming the key, what could not round-trip: tombstones, a code of the wrong size, a
// key the importer would refuse, or a tag that is empty, has surrounding whitespace or contains
// the separator (or whitespace, with ' ').
class CsvExporter {
 public:
  explicit CsvExporter(std::ostream& out, CsvExportOptions options = {});
  Status Write(const EntryRecord& record);  // the header goes out before the first row
  Status Finish();                          // writes the header if no row did; flushes
  uint64_t rows() const { return rows_; }

 private:
  Status WriteHeaderOnce();
  std::ostream& out_;
  CsvExportOptions options_;
  bool header_written_ = false;
  uint64_t rows_ = 0;
};

}  // namespace hashmatch

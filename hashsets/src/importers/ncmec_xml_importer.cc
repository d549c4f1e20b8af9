// NCMEC hash-sharing API v2 `queryResult` pages, streamed through expat.
//
//   <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
//     <images count=".." maxTimestamp="..">
//       <image><member id="42">..</member><timestamp>..</timestamp><id>img1</id>
//              <classification>A1</classification>
//              <fingerprints><md5>..</md5><sha1>..</sha1><pdq>..</pdq></fingerprints></image>
//       <deletedImage><member id="42"/><id>img2</id><timestamp>..</timestamp></deletedImage>
//     </images>
//     <videos ..> <video>..</video> <deletedVideo>..</deletedVideo> </videos>
//     <paging><next>/v2/entries?...</next></paging>
//   </queryResult>
//
// Element names are matched without their prefix (a default or prefixed namespace reads the
// same). Elements not listed above are skipped with their content. DOCTYPE is refused outright:
// NCMEC sends none and it is the door to entity expansion attacks. A page is buffered in a
// PageBuffer (entries are not in time order) and emitted once the document is complete.
#include <expat.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "parsers.h"
#include "text_util.h"

namespace hashmatch::importers {
namespace {

// The fingerprint types hashmatch keeps, in key/emission order.
constexpr std::array<SignalType, 3> kFpSignals = {SignalType::kMd5, SignalType::kSha1,
                                                  SignalType::kPdq};
constexpr std::array<std::string_view, 3> kFpNames = {"md5", "sha1", "pdq"};

std::string_view LocalName(const XML_Char* name) {
  std::string_view n(name);
  const size_t colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// Where the parser is; one value per open element that matters (kOther: skipped subtree).
enum class Ctx {
  kDocument,
  kRoot,
  kList,   // images / videos
  kEntry,  // image / video / deleted*
  kField,  // member / timestamp / id / classification: text collected
  kFingerprints,
  kFingerprint,  // md5 / sha1 / pdq: text collected
  kPaging,
  kNext,  // paging/next: text collected
  kOther,
};

struct Entry {
  uint64_t line = 0;
  size_t index = 0;  // 1-based in the page
  bool deleted = false;
  bool video = false;
  std::optional<std::string> member, id, timestamp, classification;
  std::array<std::optional<std::string>, 3> fp;
  std::array<uint64_t, 3> fp_line{};
};

class NcmecParser {
 public:
  NcmecParser(BufferedInput& in, RecordEmitter& out) : in_(in), out_(out) {
    parser_ = XML_ParserCreate(nullptr);
  }
  ~NcmecParser() {
    if (parser_ != nullptr) XML_ParserFree(parser_);
  }

  Status Run();

 private:
  static void XMLCALL OnStart(void* self, const XML_Char* name, const XML_Char** attrs) {
    static_cast<NcmecParser*>(self)->Start(LocalName(name), attrs);
  }
  static void XMLCALL OnEnd(void* self, const XML_Char*) { static_cast<NcmecParser*>(self)->End(); }
  static void XMLCALL OnText(void* self, const XML_Char* s, int len) {
    static_cast<NcmecParser*>(self)->Text(std::string_view(s, size_t(len)));
  }
  static void XMLCALL OnDoctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*,
                                int) {
    auto* p = static_cast<NcmecParser*>(self);
    p->Fail(Status::InvalidArgument(p->Here() + "DOCTYPE is not allowed in an NCMEC page"));
  }

  uint64_t Line() const { return XML_GetCurrentLineNumber(parser_); }
  std::string Here() const { return Where(in_.name(), Line()); }
  std::string EntryWhere(const Entry& e, uint64_t line) const {
    std::string w = Where(in_.name(), line) + "entry " + std::to_string(e.index);
    if (e.member || e.id) {
      w += " (" + e.member.value_or("?") + "/" + e.id.value_or("?") + ")";
    }
    return w + ": ";
  }
  void Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    XML_StopParser(parser_, XML_FALSE);
  }

  void Start(std::string_view name, const XML_Char** attrs);
  void End();
  void Text(std::string_view s);
  Status FinishEntry();
  // Parses a timestamp and keeps the page's latest for the checkpoint.
  Result<int64_t> NoteMaxTimestamp(std::string_view text, uint64_t line);
  // Starts collecting text for a leaf; a second occurrence of the same leaf is an error.
  void Collect(std::optional<std::string>* slot, std::string_view name) {
    if (slot->has_value()) {
      Fail(Status::InvalidArgument(EntryWhere(entry_, Line()) + "<" + std::string(name) +
                                   "> appears twice"));
      return;
    }
    slot->emplace();
    text_ = &**slot;
  }

  BufferedInput& in_;
  RecordEmitter& out_;
  XML_Parser parser_ = nullptr;
  Status error_;
  std::vector<Ctx> stack_{Ctx::kDocument};
  std::string* text_ = nullptr;  // where character data goes, or null
  Entry entry_;
  size_t entries_ = 0;
  PageBuffer page_;
  std::optional<std::string> next_;
  int64_t max_us_ = INT64_MIN;
  std::string max_text_;
};

void NcmecParser::Start(std::string_view name, const XML_Char** attrs) {
  if (!error_.ok()) return;
  const ImportLimits& lim = out_.options().limits;
  if (stack_.size() > lim.max_depth) {
    Fail(Status::OutOfRange(Here() + "elements nested deeper than " +
                            std::to_string(lim.max_depth) + " (max_depth)"));
    return;
  }
  const Ctx parent = stack_.back();
  Ctx ctx = Ctx::kOther;
  switch (parent) {
    case Ctx::kDocument:
      if (name != "queryResult") {
        Fail(Status::InvalidArgument(Here() + "root element is <" + std::string(name) +
                                     ">, not an NCMEC <queryResult>"));
        return;
      }
      ctx = Ctx::kRoot;
      break;
    case Ctx::kRoot:
      if (name == "images" || name == "videos") {
        ctx = Ctx::kList;
        for (const XML_Char** a = attrs; *a != nullptr; a += 2) {
          if (LocalName(a[0]) == "maxTimestamp") {
            auto t = NoteMaxTimestamp(a[1], Line());
            if (!t.ok()) return Fail(t.status());
          }
        }
      } else if (name == "paging") {
        ctx = Ctx::kPaging;
      }
      break;
    case Ctx::kList: {
      const bool deleted = name.substr(0, 7) == "deleted";
      if (!deleted && name != "image" && name != "video") break;
      ctx = Ctx::kEntry;
      if (++entries_ > lim.max_page_records) {
        Fail(Status::OutOfRange(Here() + "more than " + std::to_string(lim.max_page_records) +
                                " entries in one page (max_page_records)"));
        return;
      }
      entry_ = Entry();
      entry_.line = Line();
      entry_.index = entries_;
      entry_.deleted = deleted;
      entry_.video = deleted ? name == "deletedVideo" : name == "video";
      break;
    }
    case Ctx::kEntry:
      if (name == "member") {
        ctx = Ctx::kField;  // its text is the member's name, not kept
        for (const XML_Char** a = attrs; *a != nullptr; a += 2) {
          if (LocalName(a[0]) != "id") continue;
          if (entry_.member) {
            Fail(Status::InvalidArgument(EntryWhere(entry_, Line()) + "<member> appears twice"));
            return;
          }
          entry_.member = std::string(Trim(a[1]));
        }
      } else if (name == "timestamp") {
        ctx = Ctx::kField;
        Collect(&entry_.timestamp, name);
      } else if (name == "id") {
        ctx = Ctx::kField;
        Collect(&entry_.id, name);
      } else if (name == "classification") {
        ctx = Ctx::kField;
        Collect(&entry_.classification, name);
      } else if (name == "fingerprints") {
        ctx = Ctx::kFingerprints;
      }
      break;
    case Ctx::kFingerprints:
      for (size_t k = 0; k < kFpNames.size(); ++k) {
        if (name != kFpNames[k]) continue;
        ctx = Ctx::kFingerprint;
        entry_.fp_line[k] = Line();
        Collect(&entry_.fp[k], name);
      }
      break;
    case Ctx::kPaging:
      if (name == "next") {
        ctx = Ctx::kNext;
        if (next_) {
          Fail(Status::InvalidArgument(Here() + "<next> appears twice in <paging>"));
          return;
        }
        next_.emplace();
        text_ = &*next_;
      }
      break;
    case Ctx::kField:
    case Ctx::kFingerprint:
    case Ctx::kNext:
      Fail(Status::InvalidArgument(Here() + "unexpected <" + std::string(name) +
                                   "> inside a text element"));
      return;
    default:
      break;  // inside a skipped element: skip
  }
  stack_.push_back(ctx);
}

void NcmecParser::Text(std::string_view s) {
  if (!error_.ok() || text_ == nullptr) return;
  if (text_->size() + s.size() > out_.options().limits.max_line_bytes) {
    Fail(Status::OutOfRange(Here() + "element text over the limit of " +
                            std::to_string(out_.options().limits.max_line_bytes) +
                            " bytes (max_line_bytes)"));
    return;
  }
  text_->append(s);
}

void NcmecParser::End() {
  if (!error_.ok()) return;
  const Ctx ctx = stack_.back();
  stack_.pop_back();
  text_ = nullptr;
  if (ctx == Ctx::kEntry) {
    Status s = FinishEntry();
    if (!s.ok()) Fail(std::move(s));
  }
}

Result<int64_t> NcmecParser::NoteMaxTimestamp(std::string_view text, uint64_t line) {
  text = Trim(text);
  const std::optional<int64_t> us = ParseTimeMicros(text);
  if (!us) {
    return Status::InvalidArgument(Where(in_.name(), line) +
                                   "timestamp is not ISO 8601: " + Shown(text));
  }
  if (*us > max_us_) {
    max_us_ = *us;
    max_text_ = std::string(text);
  }
  return *us;
}

Status NcmecParser::FinishEntry() {
  Entry& e = entry_;
  auto fail = [&](const std::string& why) {
    return Status::InvalidArgument(EntryWhere(e, e.line) + why);
  };
  if (!e.member || e.member->empty()) return fail("no <member id=\"...\">");
  if (e.member->find(':') != std::string::npos) return fail("member id contains ':'");
  if (!e.id || Trim(*e.id).empty()) return fail("no <id>");
  if (!e.timestamp) return fail("no <timestamp>");
  const std::string id(Trim(*e.id));
  const auto parsed = NoteMaxTimestamp(*e.timestamp, e.line);
  if (!parsed.ok()) return fail("<timestamp> is not ISO 8601: " + Shown(Trim(*e.timestamp)));
  const int64_t us = *parsed;
  std::string classification(e.classification ? Trim(*e.classification) : std::string_view());
  Status s = CheckLabel("classification", classification);
  if (!s.ok()) return fail(s.message());

  ImportSummary& sum = out_.summary();
  ++sum.source_records;
  const ImportOptions& opt = out_.options();
  for (size_t k = 0; k < kFpSignals.size(); ++k) {
    EntryRecord r;
    r.key = *e.member + ":" + id + ":" + std::string(kFpNames[k]);
    s = CheckKey(r.key, opt.limits.max_key_bytes);
    if (!s.ok()) return Status(s.code(), EntryWhere(e, e.line) + s.message());
    r.signal = kFpSignals[k];
    r.source_time = MicrosToSeconds(us);
    // A live entry replaces the whole entry: fingerprint types it no longer has are deleted.
    r.deleted = e.deleted || !e.fp[k];
    if (!r.deleted) {
      s = DecodeCode(Trim(*e.fp[k]), r.signal, &r.code);
      if (!s.ok()) {
        return Status::InvalidArgument(EntryWhere(e, e.fp_line[k]) + std::string(kFpNames[k]) +
                                       ": " + s.message());
      }
      r.classification = classification;
      r.tags = {e.video ? "video" : "image"};
    }
    // Filtered only once valid: a malformed fingerprint refuses the page whatever its type.
    if (out_.Filtered(r.signal)) continue;
    r.source_ref = SourceRef(out_, in_.name(), e.line);
    page_.Add(std::move(r), us, &sum);
  }
  return Status::Ok();
}

Status NcmecParser::Run() {
  if (parser_ == nullptr) return Status::Internal("expat: cannot create a parser");
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser_, OnText);
  XML_SetStartDoctypeDeclHandler(parser_, OnDoctype);
  const ImportLimits& lim = out_.options().limits;
  uint64_t fed = 0, newlines = 0;
  bool last_newline = true;
  for (;;) {
    std::string_view chunk = in_.Available();
    const bool final = chunk.empty();
    if (!final) {
      fed += chunk.size();
      if (fed > lim.max_page_bytes) {
        return Status::OutOfRange(in_.name() + ": page is over the limit of " +
                                  std::to_string(lim.max_page_bytes) + " bytes (max_page_bytes)");
      }
      newlines += std::count(chunk.begin(), chunk.end(), '\n');
      last_newline = chunk.back() == '\n';
    }
    // Expat takes an int length; blocks are at most a few MiB.
    const XML_Status st = XML_Parse(parser_, chunk.data(), int(chunk.size()), final);
    in_.Consume(chunk.size());
    if (!error_.ok()) return error_;
    if (st != XML_STATUS_OK) {
      return Status::InvalidArgument(Where(in_.name(), XML_GetCurrentLineNumber(parser_)) +
                                     "XML error: " + XML_ErrorString(XML_GetErrorCode(parser_)) +
                                     " (column " +
                                     std::to_string(XML_GetCurrentColumnNumber(parser_) + 1) + ")");
    }
    if (final) break;
    auto more = in_.Fill();
    if (!more.ok()) return more.status();
  }
  out_.summary().lines = newlines + (last_newline ? 0 : 1);

  Status s = page_.EmitTo(out_);
  if (!s.ok()) return s;
  nlohmann::json cp = {{"next", next_ ? std::string(Trim(*next_)) : std::string()},
                       {"max_timestamp", max_text_}};
  out_.summary().checkpoint =
      Checkpoint{cp.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  return Status::Ok();
}

}  // namespace

Status ParseNcmecXml(BufferedInput& in, RecordEmitter& out) {
  NcmecParser p(in, out);
  return p.Run();
}

}  // namespace hashmatch::importers

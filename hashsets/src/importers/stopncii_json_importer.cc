// StopNCII FetchHashes pages, streamed through nlohmann::json's SAX parser.
//
//   {"count": 5, "nextSetTimestamp": 1790000010, "nextPageToken": "tok-2", "hasMoreRecords": true,
//    "hashRecords": [{"lastModtimestamp": 1790000000, "hashValue": "ac39..", "hashStatus":
//      "Active", "caseNumbers": {"case-0": "Active"}, "signalType": "ImagePDQ",
//      "CSPFeedbacks": [{"source": "..", "feedbackValue": "Blocked", "tags": ["Nude"]}]}, ...]}
//
// The page is never parsed into one DOM: the handler walks the top level itself and builds a
// small DOM for one hash record at a time, which it converts and drops. Unknown top-level keys are
// skipped, unknown record keys ignored; a known key of the wrong type refuses the page. Records
// go to a PageBuffer (a later record for the same key replaces the earlier).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <streambuf>

#include "parsers.h"
#include "text_util.h"

namespace hashmatch::importers {
namespace {

using json = nlohmann::json;

// A std::streambuf over BufferedInput that counts lines and bytes, for nlohmann's stream adapter
// (which reads one character at a time with sbumpc, so gptr() is the parser's position).
class CountingBuf final : public std::streambuf {
 public:
  CountingBuf(BufferedInput& in, uint64_t max_bytes) : in_(in), max_bytes_(max_bytes) {}

  // 1-based line of the parser's current position.
  uint64_t line() const { return newlines_ + uint64_t(std::count(eback(), gptr(), '\n')) + 1; }
  uint64_t lines_total() const { return newlines_ + (last_char_ != '\n' && total_ != 0); }
  const Status& status() const { return status_; }

 protected:
  int_type underflow() override {
    if (eback() != nullptr) {
      newlines_ += uint64_t(std::count(eback(), egptr(), '\n'));
      in_.Consume(size_t(egptr() - eback()));
      setg(nullptr, nullptr, nullptr);
    }
    std::string_view avail = in_.Available();
    if (avail.empty()) {
      auto more = in_.Fill();
      if (!more.ok()) {
        status_ = more.status();
        return traits_type::eof();
      }
      if (!*more) return traits_type::eof();
      avail = in_.Available();
    }
    total_ += avail.size();
    if (total_ > max_bytes_) {
      status_ = Status::OutOfRange(in_.name() + ": page is over the limit of " +
                                   std::to_string(max_bytes_) + " bytes (max_page_bytes)");
      return traits_type::eof();
    }
    last_char_ = avail.back();
    char* p = const_cast<char*>(avail.data());
    setg(p, p, p + avail.size());
    return traits_type::to_int_type(*p);
  }

 private:
  BufferedInput& in_;
  uint64_t max_bytes_;
  uint64_t newlines_ = 0, total_ = 0;
  char last_char_ = '\n';
  Status status_;
};

std::string TypeName(const json& j) {
  if (j.is_number_integer()) return "an integer";
  if (j.is_number_float()) return "a fractional number";
  const std::string n = j.type_name();
  return (n == "object" || n == "array" ? "an " : "a ") + n;
}

class StopNciiHandler {
 public:
  StopNciiHandler(BufferedInput& in, RecordEmitter& out, const CountingBuf& buf)
      : in_(in), out_(out), buf_(buf), lim_(out.options().limits) {}

  const Status& error() const { return error_; }
  PageBuffer& page() { return page_; }
  const json& checkpoint() const { return checkpoint_; }
  bool saw_records() const { return saw_records_; }

  // nlohmann::json SAX interface.
  bool null() { return Value(json(nullptr)); }
  bool boolean(bool v) { return Value(json(v)); }
  bool number_integer(json::number_integer_t v) { return Value(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return Value(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return Value(json(v)); }
  bool string(json::string_t& v) {
    if (!CheckString(v)) return false;
    return Value(json(std::move(v)));
  }
  bool binary(json::binary_t&) { return Fail(Here() + "unexpected binary value"); }
  bool key(json::string_t& k) {
    if (!CheckString(k)) return false;
    if (skip_ != 0) return true;
    if (depth_ == 1) {
      if (!root_keys_.insert(k).second) return Fail(Here() + "key \"" + k + "\" appears twice");
      root_key_ = std::move(k);
    } else if (!build_.empty()) {
      if (build_.size() == 1 && build_[0]->contains(k)) {
        return Fail(RecordWhere() + "key \"" + k + "\" appears twice");
      }
      pending_key_ = std::move(k);
    }
    return true;
  }
  bool start_object(std::size_t) { return Open(json::object()); }
  bool start_array(std::size_t) { return Open(json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5:
    // ..."; the prefix is dropped and any raw bytes it quotes are escaped.
    std::string what = ex.what();
    const size_t p = what.find("] ");
    if (p != std::string::npos) what = what.substr(p + 2);
    std::string shown = Shown(what, 300);
    return Fail(Here() + "JSON " + shown.substr(1, shown.size() - 2));
  }

 private:
  std::string Here() const { return Where(in_.name(), buf_.line()); }
  std::string RecordWhere() const {
    return Where(in_.name(), record_line_) + "hashRecords[" + std::to_string(record_index_) + "]: ";
  }
  bool Fail(std::string message, StatusCode code = StatusCode::kInvalidArgument) {
    if (error_.ok()) error_ = Status(code, std::move(message));
    return false;
  }
  bool CheckString(const std::string& s) {
    if (s.size() <= lim_.max_line_bytes) return true;
    return Fail(Here() + "string of " + std::to_string(s.size()) + " bytes is over the limit of " +
                    std::to_string(lim_.max_line_bytes) + " (max_line_bytes)",
                StatusCode::kOutOfRange);
  }

  // Adds a value (scalar or a new container) where the parser is; returns the added json when
  // it goes into the record being built.
  json* Add(json&& v) {
    json* top = build_.back();
    if (top->is_array()) {
      top->push_back(std::move(v));
      return &top->back();
    }
    json& slot = (*top)[pending_key_];
    slot = std::move(v);
    return &slot;
  }

  bool Open(json&& container) {
    if (skip_ != 0) {
      ++depth_;
      return true;
    }
    if (depth_ + 1 > lim_.max_depth) {
      return Fail(
          Here() + "JSON nested deeper than " + std::to_string(lim_.max_depth) + " (max_depth)",
          StatusCode::kOutOfRange);
    }
    const bool is_array = container.is_array();
    if (depth_ == 0) {
      if (is_array) return Fail(Here() + "expected a JSON object at the top, got an array");
      ++depth_;
      return true;
    }
    if (depth_ == 1) {
      if (root_key_ == "hashRecords") {
        if (!is_array) return Fail(Here() + "hashRecords: expected an array, got an object");
        saw_records_ = true;
        in_records_ = true;
      } else if (IsKnownRootKey(root_key_)) {
        return Fail(Here() + root_key_ + ": expected " + RootKeyType(root_key_) + ", got " +
                    TypeName(container));
      } else {
        skip_ = depth_ + 1;  // an unknown key: skip its value
      }
      ++depth_;
      return true;
    }
    if (depth_ == 2 && in_records_) {
      if (is_array) {
        return Fail(Where(in_.name(), buf_.line()) + "hashRecords[" +
                    std::to_string(record_index_) + "]: expected an object, got an array");
      }
      if (page_records_++ >= lim_.max_page_records) {
        return Fail(Here() + "more than " + std::to_string(lim_.max_page_records) +
                        " hash records in one page (max_page_records)",
                    StatusCode::kOutOfRange);
      }
      record_ = json::object();
      build_.assign(1, &record_);
      record_line_ = buf_.line();
      ++depth_;
      return true;
    }
    build_.push_back(Add(std::move(container)));
    ++depth_;
    return true;
  }

  bool Close() {
    --depth_;
    if (skip_ != 0) {
      if (depth_ < skip_) skip_ = 0;
      return true;
    }
    if (!build_.empty()) {
      build_.pop_back();
      if (build_.empty()) {
        Status s = Record();
        ++record_index_;
        if (!s.ok()) return Fail(s.message(), s.code());
      }
    } else if (depth_ == 1 && in_records_) {
      in_records_ = false;
    }
    return true;
  }

  bool Value(json&& v) {
    if (skip_ != 0) return true;
    if (depth_ == 0) return Fail(Here() + "expected a JSON object at the top, got " + TypeName(v));
    if (depth_ == 1) return RootValue(v);
    if (depth_ == 2 && in_records_) {
      return Fail(Here() + "hashRecords[" + std::to_string(record_index_) +
                  "]: expected an object, got " + TypeName(v));
    }
    if (!build_.empty()) Add(std::move(v));
    return true;
  }

  static bool IsKnownRootKey(const std::string& k) {
    return k == "count" || k == "nextSetTimestamp" || k == "nextPageToken" ||
           k == "hasMoreRecords" || k == "hashRecords";
  }
  static std::string RootKeyType(const std::string& k) {
    if (k == "count") return "an integer";
    if (k == "nextSetTimestamp") return "an integer or null";
    if (k == "nextPageToken") return "a string or null";
    if (k == "hasMoreRecords") return "a boolean";
    return "an array";
  }

  bool RootValue(const json& v) {
    const std::string& k = root_key_;
    bool ok = true;
    if (k == "count") {
      ok = v.is_number_integer();
    } else if (k == "nextSetTimestamp") {
      ok = v.is_number_integer() || v.is_null();
    } else if (k == "nextPageToken") {
      ok = v.is_string() || v.is_null();
    } else if (k == "hasMoreRecords") {
      ok = v.is_boolean();
    } else if (k == "hashRecords") {
      ok = false;
    } else {
      return true;  // unknown: ignored
    }
    if (!ok) return Fail(Here() + k + ": expected " + RootKeyType(k) + ", got " + TypeName(v));
    if (k != "count") checkpoint_[k] = v;
    return true;
  }

  Status Record();

  BufferedInput& in_;
  RecordEmitter& out_;
  const CountingBuf& buf_;
  const ImportLimits& lim_;
  Status error_;
  size_t depth_ = 0;  // open containers
  size_t skip_ = 0;   // nonzero: skipping until depth_ drops below it
  std::string root_key_;
  std::set<std::string> root_keys_;
  bool in_records_ = false, saw_records_ = false;
  json record_;
  std::vector<json*> build_;  // containers of the record being built, innermost last
  std::string pending_key_;
  uint64_t record_line_ = 0;
  size_t record_index_ = 0, page_records_ = 0;
  PageBuffer page_;
  json checkpoint_ = json::object();
};

Status StopNciiHandler::Record() {
  const json& j = record_;
  const std::string where = RecordWhere();
  auto fail = [&](const std::string& why) { return Status::InvalidArgument(where + why); };
  // A required or optional string member.
  auto str = [&](const char* name, bool required, std::string* out) -> Status {
    auto it = j.find(name);
    if (it == j.end())
      return required ? fail(std::string("missing \"") + name + "\"") : Status::Ok();
    if (!it->is_string())
      return fail(std::string(name) + ": expected a string, got " + TypeName(*it));
    *out = it->get<std::string>();
    return Status::Ok();
  };
  ImportSummary& sum = out_.summary();
  ++sum.source_records;
  std::string signal_name, hash, status;
  for (Status s : {str("signalType", true, &signal_name), str("hashValue", true, &hash),
                   str("hashStatus", true, &status)}) {
    if (!s.ok()) return s;
  }
  std::optional<SignalType> signal;
  if (signal_name == "ImagePDQ") signal = SignalType::kPdq;
  if (signal_name == "VideoMD5") signal = SignalType::kMd5;
  if (!signal) {
    // A signal type hashmatch cannot match (e.g. a video hash format it lacks): skipped and
    // counted, so that one new type does not stop a whole sync.
    ++sum.unsupported;
    return Status::Ok();
  }

  EntryRecord r;
  r.signal = *signal;
  const std::string_view hex = Trim(hash);
  Status s = DecodeCode(hex, r.signal, &r.code);
  if (!s.ok()) return fail("hashValue: " + s.message());
  r.key = signal_name + ":" + LowerHex(hex);
  if (EqualsIgnoreCase(status, "Active")) {
  } else if (EqualsIgnoreCase(status, "Withdrawn")) {
    r.matchable = false;  // kept, may be reinstated; never matched meanwhile
  } else if (EqualsIgnoreCase(status, "Deleted")) {
    r.deleted = true;
    r.code.clear();
  } else {
    return fail("hashStatus: unknown status " + Shown(status) + " (Active, Withdrawn, Deleted)");
  }
  int64_t time_s = 0;
  if (auto it = j.find("lastModtimestamp"); it != j.end()) {
    if (!it->is_number_integer()) {
      return fail("lastModtimestamp: expected an integer, got " + TypeName(*it));
    }
    if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX / 1000000)) {
      return fail("lastModtimestamp: out of range");
    }
    time_s = it->get<int64_t>();
    if (time_s > INT64_MAX / 1000000 || time_s < INT64_MIN / 1000000) {
      return fail("lastModtimestamp: out of range");
    }
  }
  r.source_time = time_s;
  if (!r.deleted) {
    if (auto it = j.find("caseNumbers"); it != j.end() && !it->is_null()) {
      if (!it->is_object()) return fail("caseNumbers: expected an object, got " + TypeName(*it));
      for (auto c = it->begin(); c != it->end(); ++c) r.tags.push_back("case:" + c.key());
    }
    if (auto it = j.find("CSPFeedbacks"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) return fail("CSPFeedbacks: expected an array, got " + TypeName(*it));
      for (size_t i = 0; i < it->size(); ++i) {
        const json& f = (*it)[i];
        const std::string fw = "CSPFeedbacks[" + std::to_string(i) + "]";
        if (!f.is_object()) return fail(fw + ": expected an object, got " + TypeName(f));
        std::string source, value;
        for (const char* name : {"source", "feedbackValue"}) {
          auto m = f.find(name);
          if (m == f.end() || m->is_null()) continue;
          if (!m->is_string()) {
            return fail(fw + "." + name + ": expected a string, got " + TypeName(*m));
          }
          (std::string_view(name) == "source" ? source : value) = m->get<std::string>();
        }
        if (!source.empty() || !value.empty()) r.tags.push_back("csp:" + source + ":" + value);
        if (auto t = f.find("tags"); t != f.end() && !t->is_null()) {
          if (!t->is_array()) return fail(fw + ".tags: expected an array, got " + TypeName(*t));
          for (const json& tag : *t) {
            if (!tag.is_string()) {
              return fail(fw + ".tags: expected strings, got " + TypeName(tag));
            }
            r.tags.push_back(tag.get<std::string>());
          }
        }
      }
    }
    for (const std::string& t : r.tags) {
      s = CheckLabel("tag", t);
      if (!s.ok()) return fail(s.message());
    }
  }
  s = CheckKey(r.key, lim_.max_key_bytes);
  if (!s.ok()) return Status(s.code(), where + s.message());
  if (out_.Filtered(r.signal)) return Status::Ok();  // only once valid
  r.source_ref = SourceRef(out_, in_.name(), record_line_);
  page_.Add(std::move(r), time_s * 1000000, &sum);
  return Status::Ok();
}

}  // namespace

Status ParseStopNciiJson(BufferedInput& in, RecordEmitter& out) {
  CountingBuf buf(in, out.options().limits.max_page_bytes);
  std::istream stream(&buf);
  StopNciiHandler handler(in, out, buf);
  bool ok = false;
  try {
    ok = json::sax_parse(stream, &handler, json::input_format_t::json, /*strict=*/true);
  } catch (const std::exception& e) {
    // SAX parsing reports errors through parse_error; this is only memory exhaustion or a bug.
    return Status::Internal(in.name() + ": JSON parser failed: " + e.what());
  }
  if (!buf.status().ok()) return buf.status();  // a read error or the size limit cut the input
  if (!ok || !handler.error().ok()) {
    if (!handler.error().ok()) return handler.error();
    return Status::InvalidArgument(in.name() + ": JSON parse failed");
  }
  if (!handler.saw_records()) {
    return Status::InvalidArgument(in.name() + ": not a StopNCII page: no \"hashRecords\" array");
  }
  out.summary().lines = buf.lines_total();
  Status s = handler.page().EmitTo(out);
  if (!s.ok()) return s;
  out.summary().checkpoint =
      Checkpoint{handler.checkpoint().dump(-1, ' ', false, json::error_handler_t::replace)};
  return Status::Ok();
}

}  // namespace hashmatch::importers

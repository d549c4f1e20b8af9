// Format names, format detection and the entry points that pick a parser.
#include "hashmatch/hashsets/importers.h"

#include <array>
#include <istream>

#include "emitter.h"
#include "input.h"
#include "parsers.h"
#include "text_util.h"

namespace hashmatch {
namespace {

struct FormatName {
  ListFormat format;
  std::string_view name;
};
constexpr std::array<FormatName, 7> kFormats = {{
    {ListFormat::kPlain, "plain"},
    {ListFormat::kCsv, "csv"},
    {ListFormat::kTsv, "tsv"},
    {ListFormat::kPytx, "pytx"},
    {ListFormat::kTeCsv, "te-csv"},
    {ListFormat::kNcmecXml, "ncmec-xml"},
    {ListFormat::kStopNciiJson, "stopncii-json"},
}};

static_assert(kSignalTypeCount == 8, "ImportSummary::per_signal must cover every SignalType");

bool IsHex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// The format of one data line of a text list, or nullopt.
std::optional<ListFormat> SniffLine(std::string_view t) {
  if (t.find('\t') != std::string_view::npos) return ListFormat::kTsv;
  if (t.find(',') != std::string_view::npos) {
    const size_t comma = t.find(',');
    const std::string_view first = importers::Trim(t.substr(0, comma));
    const size_t commas = size_t(std::count(t.begin(), t.end(), ','));
    // te-csv rows are "hash,id,time,labels": three commas unless the quoted labels hold more.
    if (IsHex(first) && first.size() >= 32 && commas >= 3) return ListFormat::kTeCsv;
    return ListFormat::kCsv;
  }
  size_t sp = 0;
  while (sp < t.size() && !importers::IsSpace(t[sp])) ++sp;
  if (sp == t.size()) {
    if (IsHex(t)) return ListFormat::kPlain;
    return std::nullopt;
  }
  if (IsIdentifier(t.substr(0, sp))) return ListFormat::kPytx;
  return std::nullopt;
}

Result<ImportSummary> Run(importers::ByteSource& source, std::string name,
                          const ImportOptions& options, const RecordSink& sink) {
  const ImportLimits& lim = options.limits;
  if (lim.max_line_bytes == 0 || lim.max_line_bytes > (size_t(1) << 30)) {
    return Status::InvalidArgument("ImportLimits::max_line_bytes must be 1 to 2^30");
  }
  importers::BufferedInput in(source, std::move(name), lim.max_line_bytes);
  ListFormat format;
  if (options.format) {
    format = *options.format;
  } else {
    auto head = in.Head(8192);
    if (!head.ok()) return head.status();
    auto detected = DetectListFormat(in.name(), *head);
    if (!detected.ok()) return detected.status();
    format = *detected;
  }
  ImportSummary summary;
  importers::RecordEmitter out(options, sink, &summary);
  Status s;
  switch (format) {
    case ListFormat::kPlain:
      s = importers::ParsePlain(in, out);
      break;
    case ListFormat::kCsv:
      s = importers::ParseCsv(in, out, ',');
      break;
    case ListFormat::kTsv:
      s = importers::ParseCsv(in, out, '\t');
      break;
    case ListFormat::kPytx:
      s = importers::ParsePytx(in, out);
      break;
    case ListFormat::kTeCsv:
      s = importers::ParseTeCsv(in, out);
      break;
    case ListFormat::kNcmecXml:
      s = importers::ParseNcmecXml(in, out);
      break;
    case ListFormat::kStopNciiJson:
      s = importers::ParseStopNciiJson(in, out);
      break;
  }
  if (!s.ok()) return s;
  s = out.Finish();
  if (!s.ok()) return s;
  return summary;
}

}  // namespace

std::string_view ListFormatName(ListFormat format) {
  for (const FormatName& f : kFormats)
    if (f.format == format) return f.name;
  return "?";
}

std::optional<ListFormat> ListFormatFromName(std::string_view name) {
  for (const FormatName& f : kFormats)
    if (importers::EqualsIgnoreCase(f.name, name)) return f.format;
  return std::nullopt;
}

std::string_view ListFormatNames() {
  return "plain|csv|tsv|pytx|te-csv|ncmec-xml|stopncii-json";
}

bool IsPageFormat(ListFormat format) {
  return format == ListFormat::kNcmecXml || format == ListFormat::kStopNciiJson;
}

Result<ListFormat> DetectListFormat(std::string_view file_name, std::string_view head) {
  const std::string base = std::filesystem::path(file_name).filename().string();
  const size_t dot = base.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : importers::ToLower(base.substr(dot + 1));
  if (ext == "xml") return ListFormat::kNcmecXml;
  if (ext == "json") return ListFormat::kStopNciiJson;
  if (ext == "te") return ListFormat::kTeCsv;
  if (ext == "tsv") return ListFormat::kTsv;
  if (ext == "csv") return ListFormat::kCsv;

  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  const std::string_view lead = importers::Trim(head);
  if (!lead.empty() && lead[0] == '<') return ListFormat::kNcmecXml;
  if (!lead.empty() && lead[0] == '{') return ListFormat::kStopNciiJson;
  auto cannot = [&](const std::string& why) {
    return Status::InvalidArgument(std::string(file_name) + ": cannot tell the list format (" +
                                   why + "); give one of " + std::string(ListFormatNames()));
  };
  while (!head.empty()) {
    const size_t nl = head.find('\n');
    const std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    const std::string_view t = importers::Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (auto f = SniffLine(t)) return *f;
    return cannot("first data line " + importers::Shown(t));
  }
  if (lead.empty()) return ListFormat::kPlain;  // empty or blank: nothing to import either way
  return cannot("no data line in the first bytes");
}

Result<ListFormat> DetectListFormatOfFile(const std::filesystem::path& path) {
  auto source = importers::OpenFileSource(path);
  if (!source.ok()) return source.status();
  importers::BufferedInput in(**source, path.string(), 1 << 16);
  auto head = in.Head(8192);
  if (!head.ok()) return head.status();
  return DetectListFormat(path.string(), *head);
}

Result<ImportSummary> ImportFile(const std::filesystem::path& path, const ImportOptions& options,
                                 const RecordSink& sink) {
  auto source = importers::OpenFileSource(path);
  if (!source.ok()) return source.status();
  return Run(**source, path.string(), options, sink);
}

Result<ImportSummary> ImportBytes(std::string_view bytes, std::string_view source_name,
                                  const ImportOptions& options, const RecordSink& sink) {
  auto source = importers::MemorySource(bytes);
  return Run(*source, std::string(source_name), options, sink);
}

Result<ImportSummary> ImportStream(std::istream& in, std::string_view source_name,
                                   const ImportOptions& options, const RecordSink& sink) {
  auto source = importers::StreamSource(in, std::string(source_name));
  return Run(*source, std::string(source_name), options, sink);
}

Result<ImportPage> ReadImportPage(const std::filesystem::path& path, const ImportOptions& options,
                                  ImportSummary* summary) {
  ImportPage page;
  auto result = ImportFile(path, options, [&](std::vector<EntryRecord>& chunk) {
    for (EntryRecord& r : chunk) page.records.push_back(std::move(r));
    return Status::Ok();
  });
  if (!result.ok()) return result.status();
  page.checkpoint = result->checkpoint;
  if (summary != nullptr) *summary = *result;
  return page;
}

}  // namespace hashmatch

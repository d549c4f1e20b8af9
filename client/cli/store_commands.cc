// hashmatch sets / import / export / sync on a local store (store_commands.h).
#include "store_commands.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

#include "commands.h"
#include "hashmatch/core/hex.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/hashsets/importers.h"
#include "store_cli.h"

namespace hashmatch::cli {

const char kStoreUsage[] =
    "       hashmatch sets create NAME --type TYPE [--threshold N] [--kind match|suppress] "
    "[--disabled] [--refuse-degenerate] --store DIR\n"
    "       hashmatch sets update NAME [--threshold N] [--kind match|suppress] "
    "[--enable|--disable] --store DIR\n"
    "       hashmatch sets list|show NAME [--entries] [--format text|jsonl] --store DIR\n"
    "       hashmatch sets drop NAME --store DIR\n"
    "       hashmatch import SET FILE [--format FMT] [--full-list] --store DIR\n"
    "       hashmatch export SET [--out FILE] --store DIR\n"
    "       hashmatch sync SET --from DIR --store DIR\n"
    "       hashmatch match --store DIR [--type TYPE] [--set NAME]... [--threshold N] "
    "[--max-hits N] [--dihedral] [--format text|jsonl] HASH|FILE|IMAGE...\n";

namespace {

namespace fs = std::filesystem;

std::string Time(int64_t t) {
  if (t == 0) return "never";
  const std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void PrintSet(const SetInfo& s, bool jsonl) {
  const SetConfig& c = s.config;
  const char* kind = c.kind == SetKind::kSuppress ? "suppress" : "match";
  const std::string type(GetSignalInfo(c.signal).name);
  const std::string cp = s.checkpoint ? s.checkpoint->value : "";
  if (jsonl) {
    std::cout << "{\"set\":\"" << JsonEscape(c.name) << "\",\"type\":\"" << type
              << "\",\"threshold\":" << c.threshold << ",\"kind\":\"" << kind
              << "\",\"enabled\":" << (c.enabled ? "true" : "false") << ",\"version\":" << s.version
              << ",\"entries\":" << s.counts.live << ",\"indexed\":" << s.counts.indexed
              << ",\"quarantined\":" << s.counts.quarantined
              << ",\"disabled\":" << s.counts.disabled
              << ",\"unmatchable\":" << s.counts.unmatchable
              << ",\"tombstones\":" << s.counts.tombstones << ",\"last_sync\":" << s.last_sync_time
              << ",\"checkpoint\":";
    if (s.checkpoint) {
      std::cout << '"' << JsonEscape(cp) << "\"}\n";
    } else {
      std::cout << "null}\n";
    }
    return;
  }
  std::cout << c.name << " " << type << " threshold=" << c.threshold << " kind=" << kind
            << (c.enabled ? "" : " DISABLED") << " version=" << s.version
            << " entries=" << s.counts.live << " indexed=" << s.counts.indexed
            << " quarantined=" << s.counts.quarantined << " disabled=" << s.counts.disabled
            << " unmatchable=" << s.counts.unmatchable << " tombstones=" << s.counts.tombstones
            << " last_sync=" << Time(s.last_sync_time) << " checkpoint=" << (cp.empty() ? "-" : cp)
            << "\n";
}

void PrintEntry(const Entry& e, bool jsonl) {
  std::string tags;
  for (const std::string& t : e.tags) tags += (tags.empty() ? "" : " ") + t;
  if (jsonl) {
    std::cout << "{\"key\":\"" << JsonEscape(e.key) << "\",\"hash\":\"" << EncodeHex(e.code)
              << "\",\"classification\":\"" << JsonEscape(e.classification) << "\",\"tags\":[";
    for (size_t i = 0; i < e.tags.size(); ++i) {
      std::cout << (i ? "," : "") << "\"" << JsonEscape(e.tags[i]) << "\"";
    }
    std::cout << "],\"deleted\":" << (e.deleted ? "true" : "false")
              << ",\"matchable\":" << (e.matchable ? "true" : "false")
              << ",\"enabled\":" << (e.enabled ? "true" : "false") << ",\"quarantine\":\""
              << JsonEscape(e.quarantine_reason) << "\",\"source_time\":" << e.source_time
              << ",\"first_seen\":" << e.first_seen << ",\"last_updated\":" << e.last_updated
              << "}\n";
    return;
  }
  std::cout << "  " << e.key << " " << EncodeHex(e.code)
            << (e.classification.empty() ? "" : " class=" + e.classification)
            << (tags.empty() ? "" : " tags=" + tags) << (e.deleted ? " DELETED" : "")
            << (e.matchable ? "" : " unmatchable") << (e.enabled ? "" : " DISABLED")
            << (e.quarantine_reason.empty() ? "" : " QUARANTINED(" + e.quarantine_reason + ")")
            << "\n";
}

void PrintStats(const std::string& what, const CommitStats& s) {
  std::cout << what << ": " << s.records << " records: " << s.added << " added, " << s.updated
            << " updated, " << s.deleted << " deleted, " << s.unchanged << " unchanged, " << s.stale
            << " stale, " << s.skipped << " skipped, " << s.quarantined
            << " quarantined; set version " << s.set_version << (s.changed ? "" : " (unchanged)")
            << "\n";
  for (const std::string& n : s.notes) std::cerr << "hashmatch: " << n << "\n";
}

int RunSets(StoreArgs& a) {
  if (a.positional.empty()) return Usage("sets: expected create, update, list, show or drop");
  const std::string sub = a.positional[0];
  const std::string name = a.positional.size() > 1 ? a.positional[1] : "";
  if (sub != "list" && name.empty()) return Usage("sets " + sub + ": expected a set name");
  const bool reading = sub == "list" || sub == "show";
  auto store = OpenStore(a, sub == "create", reading);
  if (!store) return 2;
  if (sub == "create") {
    SetConfig c;
    c.name = name;
    if (!a.type) return Usage("sets create: --type is required");
    c.signal = *a.type;
    c.threshold = a.threshold.value_or(
        GetSignalInfo(c.signal).perceptual ? (c.signal == SignalType::kPdq ? 31 : 8) : 0);
    if (a.kind) c.kind = *a.kind;
    c.enabled = !a.disable;
    if (a.refuse_degenerate) c.degenerate = DegeneratePolicy::kRefuse;
    return Check(store->CreateSet(c));
  }
  if (sub == "update") {
    SetUpdate u;
    u.threshold = a.threshold;
    u.kind = a.kind;
    if (a.enable || a.disable) u.enabled = a.enable;
    return Check(store->UpdateSet(name, u));
  }
  if (sub == "drop") return Check(store->DropSet(name));
  auto snap = store->GetSnapshot();
  if (sub == "list") {
    for (const SetInfo& s : snap->ListSets()) PrintSet(s, a.jsonl);
    return 0;
  }
  if (sub == "show") {
    auto s = snap->GetSet(name);
    if (!s.ok()) return Check(s.status());
    PrintSet(s.value(), a.jsonl);
    if (a.entries) {
      (void)snap->ForEachEntry(name, [&](const Entry& e) {
        PrintEntry(e, a.jsonl);
        return true;
      });
    }
    return 0;
  }
  return Usage("sets: unknown subcommand '" + sub + "'");
}

ImportOptions ImporterOptions(const SetInfo& set, std::optional<ListFormat> format) {
  ImportOptions o;
  o.format = format;
  o.signal = set.config.signal;  // the type of untyped lines; a filter for multi-type formats
  return o;
}

int RunImport(StoreArgs& a) {
  if (a.positional.size() != 2) return Usage("import: expected SET FILE");
  const std::string set = a.positional[0];
  const fs::path file = a.positional[1];
  auto store = OpenStore(a, false);
  if (!store) return 2;
  auto info = store->GetSet(set);
  if (!info.ok()) return Check(info.status());
  ApplyOptions ao;
  ao.full_list = a.full_list;
  // One staged transaction for the whole file: chunks are staged as the parser streams them and
  // committed, with the file's checkpoint, only if the whole file parsed.
  auto txn = store->BeginImport(set, ao);
  if (!txn.ok()) return Check(txn.status());
  auto summary = ImportFile(file, ImporterOptions(info.value(), a.format), txn.value()->AsSink());
  if (!summary.ok()) {
    std::cerr << "hashmatch: " << summary.status().message() << " (nothing imported)\n";
    return 1;
  }
  auto r = txn.value()->Commit(summary->checkpoint);
  if (!r.ok()) return Check(r.status());
  PrintStats("imported " + file.string() + " into " + set, r.value());
  if (summary->filtered || summary->unsupported) {
    std::cout << "  (" << summary->filtered << " records of other types and "
              << summary->unsupported << " of unsupported types not imported)\n";
  }
  return 0;
}

int RunExport(StoreArgs& a) {
  if (a.positional.size() != 1) return Usage("export: expected SET");
  auto store = OpenStore(a, false, /*read_only=*/true);
  if (!store) return 2;
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::binary | std::ios::trunc);
    if (!file) return Check(Status::IoError("cannot create " + a.out));
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  CsvExporter exporter(out);
  const std::string set = a.positional[0];
  auto snap = store->GetSnapshot();
  auto info = snap->GetSet(set);
  if (!info.ok()) return Check(info.status());
  Status status;
  Status each = snap->ForEachEntry(set, [&](const Entry& e) {
    if (e.deleted) return true;  // tombstones are the store's history, not the list
    EntryRecord r;
    r.key = e.key;
    r.signal = info->config.signal;
    r.code = e.code;
    r.classification = e.classification;
    r.tags = e.tags;
    r.source_time = e.source_time;
    r.matchable = e.matchable;
    status = exporter.Write(r);
    return status.ok();
  });
  if (each.ok() && status.ok()) status = exporter.Finish();
  if (!each.ok()) status = each;
  return Check(status);
}

// Pages in name order; those up to the one whose checkpoint the set holds are already applied.
int RunSync(StoreArgs& a) {
  if (a.positional.size() != 1 || a.from.empty()) return Usage("sync: expected SET --from DIR");
  const std::string set = a.positional[0];
  auto store = OpenStore(a, false);
  if (!store) return 2;
  auto info = store->GetSet(set);
  if (!info.ok()) return Check(info.status());
  std::vector<fs::path> pages;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(a.from, ec)) {
    if (e.is_regular_file()) pages.push_back(e.path());
  }
  if (ec) return Check(Status::IoError("cannot list " + a.from + ": " + ec.message()));
  std::sort(pages.begin(), pages.end());
  // Read every page first (they are bounded): a malformed page stops the sync before it.
  std::vector<ImportPage> parsed;
  for (const fs::path& p : pages) {
    auto page = ReadImportPage(p, ImporterOptions(info.value(), a.format));
    if (!page.ok()) {
      std::cerr << "hashmatch: " << page.status().message() << " (sync stopped before this page)\n";
      pages.resize(parsed.size());
      break;
    }
    // Pages without a source checkpoint (plain lists) are known by their file name.
    if (!page->checkpoint) page->checkpoint = Checkpoint{"file:" + p.filename().string()};
    parsed.push_back(std::move(page).value());
  }
  size_t start = 0;
  if (info->checkpoint) {
    for (size_t i = parsed.size(); i-- > 0;) {
      if (parsed[i].checkpoint == info->checkpoint) {
        start = i + 1;
        break;
      }
    }
  }
  for (size_t i = 0; i < start; ++i) {
    std::cout << "page " << pages[i].filename().string() << ": already applied\n";
  }
  for (size_t i = start; i < parsed.size(); ++i) {
    auto r = store->ApplyPage(set, parsed[i]);
    if (!r.ok()) return Check(r.status());
    PrintStats("page " + pages[i].filename().string(), r.value());
  }
  return parsed.size() == pages.size() ? 0 : 1;
}

}  // namespace

bool IsStoreCommand(const std::string& cmd, int argc, char** argv) {
  if (cmd == "import" || cmd == "export") return true;
  if (cmd != "sets" && cmd != "sync" && cmd != "match") return false;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--store") return true;
  }
  return false;
}

int RunStoreCommand(const std::string& cmd, int argc, char** argv) {
  StoreArgs a;
  if (int rc = ParseStoreArgs(cmd, argc, argv, &a); rc != 0) return rc;
  if (cmd == "sets") return RunSets(a);
  if (cmd == "import") return RunImport(a);
  if (cmd == "export") return RunExport(a);
  if (cmd == "sync") return RunSync(a);
  if (cmd == "match") return RunStoreMatch(a);
  return Usage("unknown command '" + cmd + "'");
}

}  // namespace hashmatch::cli

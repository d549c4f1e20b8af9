// hashmatch sync SET FILE... --server ADDR --token-file F: partner lists into a set through the
// daemon.
//
//   hashmatch sync SET FILE... [--format FMT] [--checkpoint C] [--full-list] [--page-size N]
//   hashmatch sync SET --show-checkpoint
//
// Each FILE is parsed here by the list importers (importers.h: plain, csv, tsv, pytx, te-csv,
// ncmec-xml, stopncii-json; detected unless --format), keeping the records of the set's signal
// type, and sent as pages of at most --page-size records (Sync.applyPage). A page is one
// transaction in the daemon; a file's checkpoint (a sync page's own, or --checkpoint for the last
// file) goes with its last page, so a file that fits one page is applied atomically with it. A
// file that needs several pages is applied page by page: if one is refused, the earlier pages
// stay applied (the message says how many). --full-list (the files are the whole set: entries
// they lack are deleted) needs everything in one page.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "hashmatch/hashsets/importers.h"
#include "remote.h"

namespace hashmatch::cli {
namespace {

// Collects importer records into pages and sends them.
class Pager {
 public:
  Pager(client::Client& c, std::string set, size_t page_size, bool full_list)
      : client_(c), set_(std::move(set)), page_size_(page_size), full_list_(full_list) {}

  Status Add(std::vector<EntryRecord>& chunk) {
    for (EntryRecord& r : chunk) {
      client::Record out;
      out.key = std::move(r.key);
      out.deleted = r.deleted;
      if (!r.code.empty()) {
        out.hash.signal = std::string(GetSignalInfo(r.signal).name);
        out.hash.bytes = std::move(r.code);
      }
      out.matchable = r.matchable;
      out.classification = std::move(r.classification);
      out.tags = std::move(r.tags);
      out.source_time = r.source_time;
      page_.records.push_back(std::move(out));
      if (page_.records.size() >= page_size_) {
        if (full_list_) {
          return Status::OutOfRange("--full-list needs the whole list in one page (more than " +
                                    std::to_string(page_size_) + " records; raise --page-size)");
        }
        if (Status st = Send(std::nullopt); !st.ok()) return st;
      }
    }
    return Status::Ok();
  }

  // Sends what is pending with `checkpoint` (an empty page still stores a checkpoint).
  Status Send(std::optional<std::string> checkpoint) {
    if (page_.records.empty() && !checkpoint && !full_list_) return Status::Ok();
    page_.checkpoint = std::move(checkpoint);
    page_.full_list = full_list_;
    const size_t n = page_.records.size();
    auto st = client_.ApplyPage(set_, page_);
    page_ = client::Page();
    if (!st.ok()) {
      return Status(StatusCode::kInvalidArgument,
                    "page " + std::to_string(pages_ + 1) + " (" + std::to_string(n) +
                        " records) refused: " + st.error().ToString() + "; " +
                        std::to_string(pages_) + " earlier pages stay applied");
    }
    ++pages_;
    records_ += n;
    total_.added += st->added;
    total_.updated += st->updated;
    total_.deleted += st->deleted;
    total_.unchanged += st->unchanged;
    total_.stale += st->stale;
    total_.quarantined += st->quarantined;
    total_.set_version = st->set_version;
    return Status::Ok();
  }

  void Report() const {
    std::printf(
        "%s: %zu records in %zu pages: %llu added, %llu updated, %llu deleted, %llu unchanged, "
        "%llu stale, %llu quarantined; version %llu\n",
        set_.c_str(), records_, pages_, static_cast<unsigned long long>(total_.added),
        static_cast<unsigned long long>(total_.updated),
        static_cast<unsigned long long>(total_.deleted),
        static_cast<unsigned long long>(total_.unchanged),
        static_cast<unsigned long long>(total_.stale),
        static_cast<unsigned long long>(total_.quarantined),
        static_cast<unsigned long long>(total_.set_version));
  }

 private:
  client::Client& client_;
  const std::string set_;
  const size_t page_size_;
  const bool full_list_;
  client::Page page_;
  size_t pages_ = 0, records_ = 0;
  client::CommitStats total_;
};

}  // namespace

int RunSync(int argc, char** argv) {
  ServerArgs server;
  std::vector<std::string> words;
  std::optional<std::string> checkpoint;
  std::optional<ListFormat> format;
  bool full_list = false, show = false;
  uint32_t page_size = 10000;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (int r = ParseServerOption(argc, argv, &i, &server); r != 0) {
      if (r != 1) return r;
      continue;
    }
    const bool has_value = i + 1 < argc;
    if (a == "--checkpoint") {
      if (!has_value) return Usage("--checkpoint needs a value");
      checkpoint = argv[++i];
    } else if (a == "--format") {
      if (!has_value || !(format = ListFormatFromName(argv[i + 1]))) {
        return Usage("--format is one of " + std::string(ListFormatNames()));
      }
      ++i;
    } else if (a == "--full-list") {
      full_list = true;
    } else if (a == "--show-checkpoint") {
      show = true;
    } else if (a == "--page-size") {
      if (!has_value || !ParseUint(argv[++i], &page_size) || page_size == 0) {
        return Usage("--page-size needs N > 0");
      }
    } else if (a.rfind("--", 0) == 0) {
      return Usage("unknown option " + a);
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) return Usage("sync needs SET");
  if (!show && words.size() < 2) return Usage("sync needs SET FILE...");
  const std::string set = words[0];
  auto client = ConnectToServer(server);
  if (!client) return 2;
  auto fail = [](const client::Error& e) {
    std::cerr << "hashmatch: " << e.ToString() << "\n";
    return e.code == "permission_denied" || e.code == "unavailable" ? 2 : 1;
  };
  if (show) {
    auto cp = client->GetCheckpoint(set);
    if (!cp.ok()) return fail(cp.error());
    std::printf("%s\n", cp->checkpoint ? cp->checkpoint->c_str() : "");
    return 0;
  }
  auto info = client->GetSet(set);
  if (!info.ok()) return fail(info.error());
  ImportOptions options;
  options.format = format;
  options.signal = SignalTypeFromName(info->config.signal);
  Pager pager(*client, set, page_size, full_list);
  for (size_t f = 1; f < words.size(); ++f) {
    auto summary = ImportFile(
        words[f], options, [&pager](std::vector<EntryRecord>& chunk) { return pager.Add(chunk); });
    if (!summary.ok()) {
      std::cerr << "hashmatch: " << words[f] << ": " << summary.status().message() << "\n";
      return 1;
    }
    std::optional<std::string> cp;
    if (summary->checkpoint) cp = summary->checkpoint->value;
    if (f + 1 == words.size() && checkpoint) cp = checkpoint;
    if (Status st = pager.Send(cp); !st.ok()) {
      std::cerr << "hashmatch: " << words[f] << ": " << st.message() << "\n";
      return 1;
    }
    if (summary->filtered > 0 || summary->unsupported > 0) {
      std::fprintf(stderr, "hashmatch: %s: %llu records of other signal types skipped\n",
                   words[f].c_str(),
                   static_cast<unsigned long long>(summary->filtered + summary->unsupported));
    }
  }
  pager.Report();
  return 0;
}

}  // namespace hashmatch::cli

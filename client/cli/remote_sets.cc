// hashmatch sets through hashmatchd, and the connection helper the remote commands share.
// The same verbs and output as the local-store commands (store_commands.h), with --server and
// --token-file in place of --store:
//
//   hashmatch sets list|show NAME [--format text|jsonl]
//   hashmatch sets create NAME [--type T] [--threshold N] [--kind match|suppress] [--disabled]
//                  [--refuse-degenerate]
//   hashmatch sets update NAME [--threshold N] [--kind K] [--enable|--disable]
//   hashmatch sets drop NAME
//   hashmatch sets enable-entry|disable-entry NAME KEY
//   hashmatch sets quarantined | release NAME KEY     (entries quarantined for a surge of matches)
// (sync through the daemon is in remote_sync.cc.)
#include <cstdio>
#include <ctime>
#include <iostream>

#include "commands.h"
#include "hash_list.h"
#include "hashmatch/core/hex.h"
#include "remote.h"

namespace hashmatch::cli {

const char kRemoteUsage[] =
    "       hashmatch match --server ADDR --token-file F [--set S]... [--type T] [--threshold N] "
    "[--dihedral] [--min-quality N] [--format text|jsonl] [--batch N] HASH|FILE|DIR...\n"
    "       (with --server: also --tls, --tls-ca FILE, --tls-name NAME for a TLS port)\n"
    "       hashmatch sets list|show NAME|create NAME|update NAME|drop NAME|enable-entry NAME KEY|"
    "disable-entry NAME KEY|quarantined|release NAME KEY --server ADDR --token-file F [--type T] "
    "[--threshold N] "
    "[--kind match|suppress] [--disabled] [--refuse-degenerate] [--enable|--disable] "
    "[--format text|jsonl]\n"
    "       hashmatch sync SET FILE...|--show-checkpoint --server ADDR --token-file F "
    "[--format FMT] [--checkpoint C] [--full-list] [--page-size N]\n";

bool HasServerFlag(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--server") return true;
  }
  return false;
}

int ParseServerOption(int argc, char** argv, int* i, ServerArgs* out) {
  const std::string a = argv[*i];
  std::string* value = a == "--server"       ? &out->server
                       : a == "--token-file" ? &out->token_file
                       : a == "--tls-ca"     ? &out->tls_ca
                       : a == "--tls-name"   ? &out->tls_name
                                             : nullptr;
  if (a == "--tls") {
    out->tls = true;
    return 1;
  }
  if (value == nullptr) return 0;
  if (*i + 1 >= argc) return Usage(a + " needs a value");
  *value = argv[++*i];
  if (a == "--tls-ca") out->tls = true;
  return 1;
}

std::unique_ptr<client::Client> ConnectToServer(const ServerArgs& args) {
  if (args.server.empty()) {
    Usage("needs --server HOST:PORT or unix:PATH");
    return nullptr;
  }
  if (args.token_file.empty()) {
    Usage("--server needs --token-file FILE");
    return nullptr;
  }
  auto token = client::ReadTokenFile(args.token_file);
  if (!token.ok()) {
    std::cerr << "hashmatch: " << token.error().message << "\n";
    return nullptr;
  }
  client::ConnectOptions o;
  o.address = args.server;
  o.token = *token;
  o.tls = args.tls;
  o.tls_ca_file = args.tls_ca;
  o.tls_server_name = args.tls_name;
  auto c = client::Client::Connect(o);
  if (!c.ok()) {
    std::cerr << "hashmatch: " << args.server << ": " << c.error().ToString() << "\n";
    return nullptr;
  }
  return std::move(c.value());
}

namespace {

// The options every remote command takes, and the rest as positional words.
struct Common {
  ServerArgs server;
  bool jsonl = false;
  std::vector<std::string> words;
};

std::string TimeText(int64_t t) {
  if (t == 0) return "never";
  char buf[32];
  const std::time_t tt = std::time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// As the local `sets list` prints a set (store_commands.cc).
void PrintSet(const client::SetInfo& s, bool jsonl) {
  const client::SetConfig& c = s.config;
  const char* kind = c.suppress ? "suppress" : "match";
  if (jsonl) {
    std::printf(
        "{\"name\":\"%s\",\"type\":\"%s\",\"threshold\":%u,\"kind\":\"%s\",\"enabled\":%s,"
        "\"version\":%llu,\"entries\":%llu,\"indexed\":%llu,\"quarantined\":%llu,"
        "\"disabled\":%llu,\"unmatchable\":%llu,\"tombstones\":%llu,\"last_sync\":%lld,"
        "\"checkpoint\":%s}\n",
        JsonEscape(c.name).c_str(), c.signal.c_str(), c.threshold, kind,
        c.enabled ? "true" : "false", static_cast<unsigned long long>(s.version),
        static_cast<unsigned long long>(s.live), static_cast<unsigned long long>(s.indexed),
        static_cast<unsigned long long>(s.quarantined), static_cast<unsigned long long>(s.disabled),
        static_cast<unsigned long long>(s.unmatchable),
        static_cast<unsigned long long>(s.tombstones), static_cast<long long>(s.last_sync_time),
        s.checkpoint ? ("\"" + JsonEscape(*s.checkpoint) + "\"").c_str() : "null");
    return;
  }
  std::printf(
      "%s %s threshold=%u kind=%s%s version=%llu entries=%llu indexed=%llu quarantined=%llu "
      "disabled=%llu unmatchable=%llu tombstones=%llu last_sync=%s checkpoint=%s\n",
      c.name.c_str(), c.signal.c_str(), c.threshold, kind, c.enabled ? "" : " DISABLED",
      static_cast<unsigned long long>(s.version), static_cast<unsigned long long>(s.live),
      static_cast<unsigned long long>(s.indexed), static_cast<unsigned long long>(s.quarantined),
      static_cast<unsigned long long>(s.disabled), static_cast<unsigned long long>(s.unmatchable),
      static_cast<unsigned long long>(s.tombstones), TimeText(s.last_sync_time).c_str(),
      s.checkpoint && !s.checkpoint->empty() ? s.checkpoint->c_str() : "-");
}

int Fail(const client::Error& e) {
  std::cerr << "hashmatch: " << e.ToString() << "\n";
  return e.code == "permission_denied" || e.code == "unavailable" ? 2 : 1;
}

}  // namespace

int RunSets(int argc, char** argv) {
  Common c;
  client::SetConfig config;
  client::SetUpdate update;
  bool threshold_given = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    std::string v;
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    uint32_t n = 0;
    if (int r = ParseServerOption(argc, argv, &i, &c.server); r != 0) {
      if (r != 1) return r;
    } else if (a == "--format") {
      if (!value(&v) || (v != "text" && v != "jsonl")) return Usage("--format is text or jsonl");
      c.jsonl = v == "jsonl";
    } else if (a == "--type") {
      if (!value(&config.signal) || !SignalTypeFromName(config.signal)) {
        return Usage("--type needs a signal type");
      }
    } else if (a == "--threshold") {
      if (!value(&v) || !ParseUint(v, &n)) return Usage("--threshold needs a number");
      config.threshold = n;
      update.threshold = n;
      threshold_given = true;
    } else if (a == "--kind") {
      if (!value(&v) || (v != "match" && v != "suppress")) {
        return Usage("--kind is match or suppress");
      }
      config.suppress = v == "suppress";
      update.suppress = config.suppress;
    } else if (a == "--disabled") {
      config.enabled = false;
    } else if (a == "--refuse-degenerate") {
      config.refuse_degenerate = true;
    } else if (a == "--enable" || a == "--disable") {
      update.enabled = a == "--enable";
    } else if (a.rfind("--", 0) == 0) {
      return Usage("unknown option " + a);
    } else {
      c.words.push_back(a);
    }
  }
  const std::string action = c.words.empty() ? "list" : c.words[0];
  const size_t want = action == "list" || action == "quarantined" ? 1
                      : action == "enable-entry" || action == "disable-entry" || action == "release"
                          ? 3
                          : 2;
  if (c.words.size() > want || (action != "list" && c.words.size() != want)) {
    return Usage("sets " + action + ": wrong arguments");
  }
  if (action == "create" && !threshold_given &&
      !GetSignalInfo(*SignalTypeFromName(config.signal)).perceptual) {
    config.threshold = 0;  // digests match exactly
  }
  auto client = ConnectToServer(c.server);
  if (!client) return 2;
  if (action == "list") {
    auto sets = client->ListSets();
    if (!sets.ok()) return Fail(sets.error());
    for (const client::SetInfo& s : *sets) PrintSet(s, c.jsonl);
    return 0;
  }
  if (action == "quarantined") {
    auto entries = client->ListQuarantined();
    if (!entries.ok()) return Fail(entries.error());
    for (const client::QuarantinedEntry& e : *entries) {
      std::printf("%s %s since=%s hits_this_minute=%llu usual_per_minute=%.1f\n", e.set.c_str(),
                  e.key.c_str(), TimeText(e.since).c_str(),
                  static_cast<unsigned long long>(e.hits_this_minute), e.usual_per_minute);
    }
    return 0;
  }
  if (action == "release") {
    auto released = client->ReleaseQuarantined(c.words[1], c.words[2]);
    if (!released.ok()) return Fail(released.error());
    std::fprintf(stderr, "hashmatch: %s/%s %s\n", c.words[1].c_str(), c.words[2].c_str(),
                 *released ? "released" : "was not quarantined");
    return *released ? 0 : 1;
  }
  const std::string& name = c.words[1];
  client::Result<client::SetInfo> r = client::Error{"invalid_argument", "unknown action"};
  if (action == "show") {
    r = client->GetSet(name);
  } else if (action == "create") {
    config.name = name;
    r = client->CreateSet(config);
  } else if (action == "update") {
    r = client->ConfigureSet(name, update);
  } else if (action == "enable-entry" || action == "disable-entry") {
    r = client->SetEntryEnabled(name, c.words[2], action == "enable-entry");
  } else if (action == "drop") {
    client::Error e = client->DropSet(name);
    if (!e.ok()) return Fail(e);
    std::fprintf(stderr, "hashmatch: dropped set %s\n", name.c_str());
    return 0;
  } else {
    return Usage("sets: unknown action '" + action + "'");
  }
  if (!r.ok()) return Fail(r.error());
  PrintSet(*r, c.jsonl);
  return 0;
}

}  // namespace hashmatch::cli

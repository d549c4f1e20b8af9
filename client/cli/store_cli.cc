#include "store_cli.h"

#include <iostream>

#include "commands.h"

namespace hashmatch::cli {

int ParseStoreArgs(const std::string& cmd, int argc, char** argv, StoreArgs* a) {
  for (int i = 0; i < argc; ++i) {
    const std::string f = argv[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (f == "--store") {
      if (!value(&a->store)) return Usage(f + " needs a directory");
    } else if (f == "--type") {
      if (!value(&v) || !(a->type = SignalTypeFromName(v))) return Usage("unknown --type");
    } else if (f == "--threshold") {
      uint32_t t = 0;
      if (!value(&v) || !ParseUint(v, &t)) return Usage("--threshold needs a number");
      a->threshold = t;
    } else if (f == "--max-hits") {
      uint32_t t = 0;
      if (!value(&v) || !ParseUint(v, &t)) return Usage("--max-hits needs a number");
      a->max_hits = t;
    } else if (f == "--kind") {
      if (!value(&v) || (v != "match" && v != "suppress")) {
        return Usage("--kind is match or suppress");
      }
      a->kind = v == "match" ? SetKind::kMatch : SetKind::kSuppress;
    } else if (f == "--format") {
      if (!value(&v)) return Usage("--format needs a value");
      if (cmd == "import" || cmd == "sync") {
        if (!(a->format = ListFormatFromName(v))) {
          return Usage("--format: one of " + std::string(ListFormatNames()));
        }
      } else if (v == "jsonl" || v == "text") {
        a->jsonl = v == "jsonl";
      } else {
        return Usage("--format is text or jsonl");
      }
    } else if (f == "--out") {
      if (!value(&a->out)) return Usage("--out needs a file");
    } else if (f == "--from") {
      if (!value(&a->from)) return Usage("--from needs a directory");
    } else if (f == "--set") {
      if (!value(&v)) return Usage("--set needs a name");
      a->sets.push_back(v);
    } else if (f == "--enable") {
      a->enable = true;
    } else if (f == "--disable" || f == "--disabled") {
      a->disable = true;
    } else if (f == "--refuse-degenerate") {
      a->refuse_degenerate = true;
    } else if (f == "--entries") {
      a->entries = true;
    } else if (f == "--full-list") {
      a->full_list = true;
    } else if (f == "--dihedral") {
      a->dihedral = true;
    } else if (f.size() > 1 && f[0] == '-') {
      return Usage(cmd + ": unknown option " + f);
    } else {
      a->positional.push_back(f);
    }
  }
  if (a->store.empty()) return Usage(cmd + " needs --store DIR");
  if (a->enable && a->disable) return Usage("--enable and --disable together");
  return 0;
}

std::unique_ptr<HashSetStore> OpenStore(const StoreArgs& a, bool create, bool read_only) {
  StoreOptions o;
  o.create_if_missing = create;
  o.read_only = read_only;
  auto s = HashSetStore::Open(a.store, o);
  if (!s.ok()) {
    std::cerr << "hashmatch: " << s.status().message() << "\n";
    return nullptr;
  }
  for (const std::string& n : s.value()->recovery().notes) {
    if (n.rfind("removed obsolete file", 0) != 0) std::cerr << "hashmatch: store: " << n << "\n";
  }
  if (s.value()->recovery().torn_tail) {
    std::cerr << "hashmatch: store: dropped a torn record at the end of "
              << s.value()->recovery().torn_tail_file << " (offset "
              << s.value()->recovery().torn_tail_offset << ": a write interrupted by a crash)\n";
  }
  return std::move(s).value();
}

int Check(const Status& s) {
  if (s.ok()) return 0;
  std::cerr << "hashmatch: " << s.message() << "\n";
  return 2;
}

}  // namespace hashmatch::cli

// scan_lines: the bulk-scan pipeline (hashmatch::Scan, scan/include/hashmatch/scan/scan.h) over a
// read-only Store, from Python. Items come back as the JSON lines `hashmatch scan` writes
// (ScanItemJson: the same bytes for the same item), the summary as ScanSummaryJson; the package's
// hashmatch.scan() parses them. The pipeline runs with the GIL released; a Python callback, when
// given, is called for each item in item order with the GIL taken back for the call.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "hashmatch/hashsets/hash_set_store.h"
#include "hashmatch/scan/scan.h"
#include "hashmatch/scan/scan_json.h"

namespace hashmatch::py {

// Defined in store.cc: the store behind a hashmatch.Store object (raises when it is closed).
std::shared_ptr<const HashSetStore> StoreOf(pyb::handle store);

namespace {

// Lines carry paths as the file system gives them: bytes that are not UTF-8 survive as surrogate
// escapes (os.fsdecode's convention) instead of failing the call.
pyb::str Text(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), Py_ssize_t(s.size()), "surrogateescape");
  if (!o) throw pyb::error_already_set();
  return pyb::reinterpret_steal<pyb::str>(o);
}

ScanInputKind ParseKind(const std::string& k) {
  if (k == "auto") return ScanInputKind::kAuto;
  if (k == "file") return ScanInputKind::kFile;
  if (k == "directory") return ScanInputKind::kDirectory;
  if (k == "tar") return ScanInputKind::kTar;
  if (k == "manifest") return ScanInputKind::kManifest;
  ThrowInvalid("input kind: expected auto, file, directory, tar or manifest, got '" + k + "'");
}

struct ScanArgs {
  std::vector<std::string> signals = {"pdq", "md5"};
  bool dihedral = false;
  bool fast = false;
  int min_quality = 50;
  std::optional<std::vector<std::string>> sets;
  std::optional<uint32_t> threshold;
  size_t max_hits_per_item = 100;
  bool all_files = false;
  uint64_t max_item_bytes = uint64_t(256) << 20;
  uint64_t max_pixels = 100'000'000;
  int threads = 0;
  size_t chunk_items = 16;
  bool flagged_only = false;  // only matched, suppressed and failed items (the CLI's default)
};

pyb::tuple ScanLines(pyb::handle store_obj, const std::vector<std::filesystem::path>& paths,
                     const std::string& kind, const ScanArgs& a, pyb::object callback) {
  std::shared_ptr<const HashSetStore> store = StoreOf(store_obj);
  ScanOptions o;
  o.signals = SignalSet{SignalType::kPdq, SignalType::kMd5};
  for (const std::string& s : a.signals) o.signals.insert(ParseSignal(s));
  o.dihedral = a.dihedral;
  o.pdq.fast = a.fast;
  o.min_quality = a.min_quality;
  if (a.sets) o.sets = *a.sets;
  o.threshold = a.threshold;
  o.max_hits_per_item = a.max_hits_per_item;
  o.all_files = a.all_files;
  o.max_item_bytes = a.max_item_bytes;
  o.decode.max_pixels = a.max_pixels;
  o.max_threads = a.threads;
  if (a.chunk_items == 0) ThrowInvalid("chunk_items must be at least 1");
  o.chunk_items = a.chunk_items;
  const ScanInputKind k = ParseKind(kind);
  std::vector<ScanInput> inputs;
  for (const auto& p : paths) inputs.push_back(ScanInput{p, k});

  std::vector<std::string> lines;
  std::optional<pyb::error_already_set> callback_error;
  const bool have_callback = !callback.is_none();
  ScanSink sink = [&](ScanItemResult& item) -> Status {
    if (a.flagged_only && item.ok() && !item.matched() && item.suppressed.empty()) {
      return Status::Ok();
    }
    std::string line = ScanItemJson(item, o.signals);
    if (!have_callback) {
      lines.push_back(std::move(line));
      return Status::Ok();
    }
    pyb::gil_scoped_acquire acquire;
    try {
      callback(Text(line));
    } catch (pyb::error_already_set& e) {
      callback_error.emplace(std::move(e));
      return Status(StatusCode::kUnavailable, "stopped by the Python callback's exception");
    }
    return Status::Ok();
  };
  // As `hashmatch scan`: the type of every set that will be searched is computed too (a store's
  // SHA-1 list is not silently left out), so the same call gives the CLI's bytes.
  const std::shared_ptr<const StoreSnapshot> snap = store->GetSnapshot();
  for (const SetInfo& s : snap->ListSets()) {
    const bool named = std::find(o.sets.begin(), o.sets.end(), s.config.name) != o.sets.end();
    if (named || (o.sets.empty() && s.config.enabled)) o.signals.insert(s.config.signal);
  }
  Result<ScanSummary> r = Status::Internal("unset");
  {
    pyb::gil_scoped_release release;
    r = Scan(*snap, inputs, o, sink);
  }
  if (callback_error) throw std::move(*callback_error);
  ScanSummary summary = Take(std::move(r));
  pyb::list out;
  for (const std::string& l : lines) out.append(Text(l));
  return pyb::make_tuple(out, Text(ScanSummaryJson(summary)));
}

}  // namespace

void DefineScan(pyb::module_& m) {
  m.def(
      "scan_lines",
      [](pyb::handle store, const std::vector<std::filesystem::path>& inputs,
         const std::string& kind, std::vector<std::string> signals, bool dihedral, bool fast,
         int min_quality, std::optional<std::vector<std::string>> sets,
         std::optional<uint32_t> threshold, size_t max_hits_per_item, bool all_files,
         uint64_t max_item_bytes, uint64_t max_pixels, int threads, size_t chunk_items,
         bool flagged_only, pyb::object callback) {
        ScanArgs a;
        a.signals = std::move(signals);
        a.dihedral = dihedral;
        a.fast = fast;
        a.min_quality = min_quality;
        a.sets = std::move(sets);
        a.threshold = threshold;
        a.max_hits_per_item = max_hits_per_item;
        a.all_files = all_files;
        a.max_item_bytes = max_item_bytes;
        a.max_pixels = max_pixels;
        a.threads = threads;
        a.chunk_items = chunk_items;
        a.flagged_only = flagged_only;
        return ScanLines(store, inputs, kind, a, std::move(callback));
      },
      pyb::arg("store"), pyb::arg("inputs"), pyb::kw_only(), pyb::arg("kind") = "auto",
      pyb::arg("signals") = std::vector<std::string>{"pdq", "md5"}, pyb::arg("dihedral") = false,
      pyb::arg("fast") = false, pyb::arg("min_quality") = 50, pyb::arg("sets") = pyb::none(),
      pyb::arg("threshold") = pyb::none(), pyb::arg("max_hits_per_item") = size_t(100),
      pyb::arg("all_files") = false, pyb::arg("max_item_bytes") = uint64_t(256) << 20,
      pyb::arg("max_pixels") = uint64_t(100'000'000), pyb::arg("threads") = 0,
      pyb::arg("chunk_items") = size_t(16), pyb::arg("flagged_only") = false,
      pyb::arg("callback") = pyb::none(),
      "Scans inputs against the store; returns (JSON lines, summary JSON). See hashmatch.scan.");
}

}  // namespace hashmatch::py

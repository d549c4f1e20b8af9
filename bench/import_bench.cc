// Import throughput: plain hex lists and NCMEC XML pages parsed into EntryRecords, one thread.
//
//   import_bench [--dir DIR] [--sizes 1000000,10000000] [--page-entries 100000] [--reps 3]
//
// Generates its inputs in DIR (default /tmp/hm_import_bench; reused when already there):
// plain-N.txt, N random 64-hex PDQ lines; ncmec-N/page-K.xml, N entries in pages of
// --page-entries, each entry with md5, sha1 and pdq fingerprints like the NCMEC sample, in
// shuffled time order. The sink counts and drops each chunk, as a store would after staging it.
// Prints, per input, the best of --reps runs: wall and CPU seconds, entries/s, records/s, MB/s.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "hashmatch/hashsets/importers.h"

namespace fs = std::filesystem;
using hashmatch::EntryRecord;
using hashmatch::ImportOptions;
using hashmatch::ListFormat;
using hashmatch::SignalType;
using hashmatch::Status;

namespace {

const char kDigits[] = "0123456789abcdef";

void RandomHex(std::mt19937_64& rng, char* out, size_t digits) {
  for (size_t i = 0; i < digits; i += 16) {
    uint64_t w = rng();
    for (size_t d = 0; d < 16 && i + d < digits; ++d)
      out[i + d] = kDigits[(w >> (60 - 4 * d)) & 15];
  }
}

void WritePlain(const fs::path& p, size_t n) {
  std::ofstream out(p, std::ios::binary);
  std::mt19937_64 rng(n);
  std::string buf;
  buf.reserve(65 << 14);
  char line[65];
  line[64] = '\n';
  for (size_t i = 0; i < n; ++i) {
    RandomHex(rng, line, 64);
    buf.append(line, 65);
    if (buf.size() >= (65u << 14)) out.write(buf.data(), std::streamsize(buf.size())), buf.clear();
  }
  out.write(buf.data(), std::streamsize(buf.size()));
}

void WriteNcmecPage(const fs::path& p, size_t first, size_t n, std::mt19937_64& rng) {
  std::string s;
  s.reserve(n * 520 + 512);
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
       "<queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\">\n"
       "  <images count=\"" +
       std::to_string(n) + "\">\n";
  char md5[32], sha1[40], pdq[64], ts[32];
  for (size_t i = 0; i < n; ++i) {
    RandomHex(rng, md5, 32);
    RandomHex(rng, sha1, 40);
    RandomHex(rng, pdq, 64);
    // Times shuffled within the page: entries are not in time order.
    const uint64_t sec = rng() % 86400;
    std::snprintf(ts, sizeof ts, "2026-10-02T%02u:%02u:%02uZ", unsigned(sec / 3600),
                  unsigned(sec / 60 % 60), unsigned(sec % 60));
    s += "    <image>\n      <member id=\"42\">Member 42</member>\n      <timestamp>";
    s += ts;
    s += "</timestamp>\n      <id>img" + std::to_string(first + i) +
         "</id>\n      <classification>A1</classification>\n      <fingerprints><md5>";
    s.append(md5, 32);
    s += "</md5><sha1>";
    s.append(sha1, 40);
    s += "</sha1><pdq>";
    s.append(pdq, 64);
    s += "</pdq></fingerprints>\n    </image>\n";
  }
  s += "  </images>\n  <videos count=\"0\"/>\n  <paging>\n    <next>/v2/entries?start=" +
       std::to_string(first + n) + "</next>\n  </paging>\n</queryResult>\n";
  std::ofstream(p, std::ios::binary).write(s.data(), std::streamsize(s.size()));
}

std::vector<fs::path> NcmecPages(const fs::path& dir, size_t n, size_t per_page) {
  std::vector<fs::path> pages;
  const fs::path done = dir / "complete";
  const bool have = fs::exists(done);
  fs::create_directories(dir);
  std::mt19937_64 rng(n);
  for (size_t first = 0, k = 0; first < n; first += per_page, ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "page-%05zu.xml", k);
    pages.push_back(dir / name);
    if (!have) WriteNcmecPage(pages.back(), first, std::min(per_page, n - first), rng);
  }
  if (!have) std::ofstream(done) << "ok\n";
  return pages;
}

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + t.tv_nsec * 1e-9;
}

struct Run {
  double wall = 1e30, cpu = 1e30;
  uint64_t entries = 0, records = 0, bytes = 0;
};

// Parses every file once, `reps` times; keeps the fastest wall time.
Run Measure(const std::vector<fs::path>& files, const ImportOptions& opt, int reps) {
  Run best;
  for (int r = 0; r < reps; ++r) {
    uint64_t records = 0, entries = 0, bytes = 0, keys = 0;
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = CpuSeconds();
    for (const fs::path& f : files) {
      auto res = hashmatch::ImportFile(f, opt, [&](std::vector<EntryRecord>& chunk) {
        records += chunk.size();
        for (const EntryRecord& e : chunk) keys += e.key.size();
        return Status::Ok();
      });
      if (!res.ok()) {
        std::fprintf(stderr, "%s\n", res.status().ToString().c_str());
        std::exit(1);
      }
      entries += res->source_records;
      bytes += fs::file_size(f);
    }
    const double cpu = CpuSeconds() - c0;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    if (keys == 0) std::abort();  // keeps the sink's work observable
    if (wall < best.wall) best = Run{wall, cpu, entries, records, bytes};
  }
  return best;
}

void Print(const char* what, size_t n, const Run& r) {
  std::printf("| %s | %zu | %.3f | %.3f | %.2fM | %.2fM | %.0f |\n", what, n, r.wall, r.cpu,
              r.entries / r.wall / 1e6, r.records / r.wall / 1e6, r.bytes / r.wall / 1e6);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = "/tmp/hm_import_bench";
  std::vector<size_t> sizes = {1'000'000, 10'000'000};
  size_t per_page = 100'000;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir") {
      dir = v;
    } else if (a == "--sizes") {
      sizes.clear();
      for (size_t p = 0; p < v.size();) {
        const size_t q = v.find(',', p);
        sizes.push_back(std::stoull(v.substr(p, q - p)));
        p = q == std::string::npos ? v.size() : q + 1;
      }
    } else if (a == "--page-entries") {
      per_page = std::stoull(v);
    } else if (a == "--reps") {
      reps = std::stoi(v);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  fs::create_directories(dir);
  std::printf(
      "| input | entries | wall s | cpu s | entries/s | records/s | MB/s |\n"
      "|---|---|---|---|---|---|---|\n");
  for (size_t n : sizes) {
    const fs::path plain = dir / ("plain-" + std::to_string(n) + ".txt");
    if (!fs::exists(plain)) WritePlain(plain, n);
    ImportOptions opt;
    opt.format = ListFormat::kPlain;
    opt.signal = SignalType::kPdq;
    Print("plain hex", n, Measure({plain}, opt, reps));
    opt.source_refs = false;
    Print("plain hex, no source_ref", n, Measure({plain}, opt, reps));

    const auto pages = NcmecPages(dir / ("ncmec-" + std::to_string(n)), n, per_page);
    ImportOptions x;
    x.format = ListFormat::kNcmecXml;
    Print("ncmec xml (md5+sha1+pdq)", n, Measure(pages, x, reps));
    x.signal = SignalType::kPdq;
    Print("ncmec xml, pdq only", n, Measure(pages, x, reps));
  }
  return 0;
}

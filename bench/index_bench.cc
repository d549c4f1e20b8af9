// Exact Hamming range search at scale: our methods (flat scan, MIH, LiveIndex) beside FAISS
// (IndexBinaryFlat, IndexBinaryMultiHash(256, 16, 16) with nflip 1, IndexBinaryHNSW for k-NN),
// on the same data in one run, one thread unless --threads says otherwise.
//
//   index_bench --n 1000000 [--radius 31] [--queries 1000] [--faiss 1] [--hnsw 1] [--sets abc]
//               [--updates 1] [--min-seconds 1] [--threads 1] [--mih-tables 10,12,...]
//
// Data sets (fixed seeds): (a) uniform random 256-bit codes, each query with planted neighbours
// at distances 0..31; (b) clustered: 5% of the codes in groups of 20 near-duplicates within 24
// bits of a centre, queries near the centres; (c) tight pigeonhole queries for the MIH index's own
// geometry (every substring off by exactly its probe radius + 1 except one off by its radius).
// Modes: single queries, batches of 8 (one image's dihedral set) and of 1,000. Recall is measured
// against the flat scan's exact answer. Debian's FAISS is built without POPCNT (say so beside its
// figures).
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <omp.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench_clock.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/core/static_index.h"
#include "index/mih_layout.h"

namespace {

using namespace hashmatch;
using namespace hashmatch::bench;

struct DataSet {
  std::string name;
  std::vector<uint8_t> codes;  // n x 32
  std::vector<uint64_t> ids;
  std::vector<uint8_t> queries;  // q x 32
  size_t n() const { return ids.size(); }
  size_t q() const { return queries.size() / 32; }
};

void FlipBit(uint8_t* c, uint32_t p) {
  c[(p / 64) * 8 + (p % 64) / 8] ^= uint8_t(1u << (p % 8));
}

void RandomCodes(std::mt19937_64& rng, size_t n, std::vector<uint8_t>* out) {
  const size_t base = out->size();
  out->resize(base + n * 32);
  for (size_t i = base; i < out->size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(out->data() + i, &v, 8);
  }
}

void FlipRandom(std::mt19937_64& rng, uint8_t* c, uint32_t d) {
  std::set<uint32_t> done;
  while (done.size() < d) {
    const uint32_t p = uint32_t(rng() % 256);
    if (done.insert(p).second) FlipBit(c, p);
  }
}

DataSet MakeUniform(size_t n, size_t nq) {
  DataSet d{"a-uniform+planted", {}, {}, {}};
  std::mt19937_64 rng(42);
  const size_t planted = nq * 32;
  RandomCodes(rng, n - std::min(n, planted), &d.codes);
  RandomCodes(rng, nq, &d.queries);
  for (size_t q = 0; q < nq && d.codes.size() / 32 < n; ++q) {
    for (uint32_t dist = 0; dist < 32 && d.codes.size() / 32 < n; ++dist) {
      std::vector<uint8_t> c(d.queries.begin() + q * 32, d.queries.begin() + q * 32 + 32);
      FlipRandom(rng, c.data(), dist);
      d.codes.insert(d.codes.end(), c.begin(), c.end());
    }
  }
  d.ids.resize(d.codes.size() / 32);
  for (size_t i = 0; i < d.ids.size(); ++i) d.ids[i] = i;
  return d;
}

DataSet MakeClustered(size_t n, size_t nq) {
  DataSet d{"b-clustered", {}, {}, {}};
  std::mt19937_64 rng(43);
  const size_t clustered = n / 20, groups = clustered / 20;
  RandomCodes(rng, n - groups * 20, &d.codes);
  std::vector<uint8_t> centres;
  RandomCodes(rng, groups, &centres);
  for (size_t g = 0; g < groups; ++g) {
    for (int k = 0; k < 20; ++k) {
      std::vector<uint8_t> c(centres.begin() + g * 32, centres.begin() + g * 32 + 32);
      FlipRandom(rng, c.data(), uint32_t(rng() % 25));
      d.codes.insert(d.codes.end(), c.begin(), c.end());
    }
  }
  for (size_t q = 0; q < nq; ++q) {
    const size_t g = rng() % groups;
    std::vector<uint8_t> c(centres.begin() + g * 32, centres.begin() + g * 32 + 32);
    FlipRandom(rng, c.data(), uint32_t(rng() % 12));
    d.queries.insert(d.queries.end(), c.begin(), c.end());
  }
  d.ids.resize(d.codes.size() / 32);
  for (size_t i = 0; i < d.ids.size(); ++i) d.ids[i] = i;
  return d;
}

// Uniform codes plus, per query, codes at exactly `radius` found by one table only and codes at
// radius + 1 found by none, for an m-table MIH.
DataSet MakePigeonhole(size_t n, size_t nq, int m, uint32_t radius) {
  DataSet d{"c-pigeonhole", {}, {}, {}};
  std::mt19937_64 rng(44);
  const auto geom = mih::Geometry(n, 256, m);
  const auto radii = mih::Radii(m, radius);
  RandomCodes(rng, n - std::min(n, nq * size_t(m + 1)), &d.codes);
  RandomCodes(rng, nq, &d.queries);
  for (size_t q = 0; q < nq; ++q) {
    for (int exception = -1; exception < m; ++exception) {
      if (d.codes.size() / 32 >= n) break;
      std::vector<uint8_t> c(d.queries.begin() + q * 32, d.queries.begin() + q * 32 + 32);
      for (int t = 0; t < m; ++t) {
        const int flips = radii[size_t(t)] + 1 - (t == exception ? 1 : 0);
        std::vector<uint32_t> pos(geom[size_t(t)].bits);
        for (uint32_t b = 0; b < pos.size(); ++b) pos[b] = geom[size_t(t)].start + b;
        std::shuffle(pos.begin(), pos.end(), rng);
        for (int f = 0; f < flips && f < int(pos.size()); ++f) FlipBit(c.data(), pos[size_t(f)]);
      }
      d.codes.insert(d.codes.end(), c.begin(), c.end());
    }
  }
  d.ids.resize(d.codes.size() / 32);
  for (size_t i = 0; i < d.ids.size(); ++i) d.ids[i] = i;
  return d;
}

// A searcher answers a batch: per query, the sorted ids within the radius.
using Answer = std::vector<std::vector<uint64_t>>;
using Searcher = std::function<void(const uint8_t* queries, size_t nq, Answer* out)>;

struct Row {
  std::string method;
  double build_s = 0;
  double bytes_per_hash = 0;
  double qps[3] = {0, 0, 0};  // single, batch 8, batch 1000
  double recall = 1;
};

// Queries per second for one mode, running for at least `min_s` (or every query once).
double MeasureQps(const Searcher& s, const DataSet& d, size_t batch, double min_s) {
  Answer a;
  size_t done = 0;
  const double t0 = ThreadCpuSeconds();
  double el = 0;
  while (true) {
    const size_t start = done % d.q();
    const size_t nb = std::min(batch, d.q() - start);
    s(d.queries.data() + start * 32, nb, &a);
    done += nb;
    el = ThreadCpuSeconds() - t0;
    if (el >= min_s && done >= std::min<size_t>(batch, d.q())) break;
    if (done >= d.q() * 4 && el >= 0.2) break;
  }
  return double(done) / el;
}

double Recall(const Answer& truth, const Answer& got) {
  size_t want = 0, found = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    want += truth[q].size();
    for (uint64_t id : truth[q]) found += std::binary_search(got[q].begin(), got[q].end(), id);
  }
  return want ? double(found) / double(want) : 1.0;
}

Searcher OurSearcher(const HammingIndex& index, uint32_t radius) {
  return [&index, radius](const uint8_t* q, size_t nq, Answer* out) {
    RangeSearchOptions o;
    o.radius = radius;
    o.max_hits_per_query = 0;
    o.max_threads = 1;
    RangeSearchResult r;
    (void)index.RangeSearch(CodeView{q, nq, 32}, o, &r);
    out->assign(nq, {});
    for (size_t i = 0; i < nq; ++i) {
      for (const IndexHit& h : r.of(i)) (*out)[i].push_back(h.id);
      std::sort((*out)[i].begin(), (*out)[i].end());
    }
  };
}

Searcher FaissSearcher(const faiss::IndexBinary& index, uint32_t radius) {
  return [&index, radius](const uint8_t* q, size_t nq, Answer* out) {
    faiss::RangeSearchResult r{static_cast<faiss::Index::idx_t>(nq)};
    index.range_search(faiss::Index::idx_t(nq), q, int(radius) + 1, &r);  // FAISS is strict
    out->assign(nq, {});
    for (size_t i = 0; i < nq; ++i) {
      for (size_t j = r.lims[i]; j < r.lims[i + 1]; ++j) (*out)[i].push_back(uint64_t(r.labels[j]));
      std::sort((*out)[i].begin(), (*out)[i].end());
    }
  };
}

void Print(const DataSet& d, const Row& r) {
  std::printf("| %s | %zu | %s | %.2f | %.1f | %.0f | %.0f | %.0f | %.4f |\n", d.name.c_str(),
              d.n(), r.method.c_str(), r.build_s, r.bytes_per_hash, r.qps[0], r.qps[1], r.qps[2],
              r.recall);
  std::fflush(stdout);
}

struct Args {
  size_t n = 1'000'000;
  size_t queries = 1000;
  uint32_t radius = 31;
  bool faiss = true;
  bool hnsw = true;
  bool updates = true;
  std::string sets = "abc";
  double min_s = 1.0;
  int threads = 1;
  std::vector<int> mih_tables;  // extra MIH configurations to compare with the planner's
};

void RunSet(const DataSet& d, const Args& args) {
  const CodeView codes{d.codes.data(), d.n(), 32};
  // Ground truth: our flat scan (itself tested against a bit-by-bit oracle).
  auto flat = BuildFlatIndex(codes, d.ids).value();
  Answer truth;
  OurSearcher(*flat, args.radius)(d.queries.data(), d.q(), &truth);
  size_t hits = 0;
  for (auto& t : truth) hits += t.size();
  std::printf("\n%s: N=%zu, %zu queries, radius %u, %zu true hits\n", d.name.c_str(), d.n(), d.q(),
              args.radius, hits);
  std::printf(
      "| set | N | method | build s | RAM B/hash | QPS single | QPS batch 8 | QPS batch 1000 | "
      "recall |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");

  auto measure = [&](Row row, const Searcher& s) {
    Answer got;
    s(d.queries.data(), d.q(), &got);
    row.recall = Recall(truth, got);
    const size_t batches[3] = {1, 8, 1000};
    for (int m = 0; m < 3; ++m) row.qps[m] = MeasureQps(s, d, batches[m], args.min_s);
    Print(d, row);
  };

  {
    Row r{"ours flat"};
    r.bytes_per_hash = double(flat->Stats().memory_bytes) / double(d.n());
    measure(r, OurSearcher(*flat, args.radius));
  }
  std::vector<int> configs = {0};
  configs.insert(configs.end(), args.mih_tables.begin(), args.mih_tables.end());
  for (int tables : configs) {
    const auto t0 = Clock::now();
    MihOptions mo;
    mo.expected_radius = args.radius;
    mo.max_threads = args.threads;
    mo.num_tables = tables;
    mo.flat_fallback = tables == 0;
    auto mih = BuildMihIndex(codes, d.ids, mo).value();
    Row r{"ours " + mih->Stats().method};
    r.build_s = Seconds(t0, Clock::now());
    r.bytes_per_hash = double(mih->Stats().memory_bytes) / double(d.n());
    measure(r, OurSearcher(*mih, args.radius));
  }
  if (!args.faiss) return;
  {
    const auto t0 = Clock::now();
    faiss::IndexBinaryFlat fi(256);
    fi.add(faiss::Index::idx_t(d.n()), d.codes.data());
    Row r{"FAISS IndexBinaryFlat (no POPCNT build)"};
    r.build_s = Seconds(t0, Clock::now());
    r.bytes_per_hash = 32;
    measure(r, FaissSearcher(fi, args.radius));
  }
  {
    const size_t rss0 = RssBytes();
    const auto t0 = Clock::now();
    faiss::IndexBinaryMultiHash fi(256, 16, 16);
    fi.nflip = 1;
    fi.add(faiss::Index::idx_t(d.n()), d.codes.data());
    Row r{"FAISS IndexBinaryMultiHash(256,16,16) nflip=1"};
    r.build_s = Seconds(t0, Clock::now());
    r.bytes_per_hash = double(RssBytes() - rss0) / double(d.n()) + 32;
    measure(r, FaissSearcher(fi, args.radius));
  }
}

// k-NN: our flat and MIH against FAISS HNSW (approximate), recall@10 against the exact answer.
void RunKnn(const DataSet& d, const Args& args) {
  const CodeView codes{d.codes.data(), d.n(), 32};
  const size_t k = 10, nq = std::min<size_t>(d.q(), 200);
  auto flat = BuildFlatIndex(codes, d.ids).value();
  MihOptions mo;
  mo.max_threads = args.threads;
  auto mih = BuildMihIndex(codes, d.ids, mo).value();
  KnnOptions ko;
  ko.k = k;
  ko.max_threads = 1;
  KnnResult truth;
  const auto t0 = Clock::now();
  (void)flat->Knn(CodeView{d.queries.data(), nq, 32}, ko, &truth);
  const double flat_qps = double(nq) / Seconds(t0, Clock::now());
  KnnResult got;
  const auto t1 = Clock::now();
  (void)mih->Knn(CodeView{d.queries.data(), nq, 32}, ko, &got);
  const double mih_qps = double(nq) / Seconds(t1, Clock::now());
  bool same = got.neighbors == truth.neighbors && got.count == truth.count;
  std::printf(
      "\nk-NN (k=%zu, %zu single queries, %s): ours flat %.0f q/s; ours MIH %.0f q/s (%s)\n", k, nq,
      d.name.c_str(), flat_qps, mih_qps, same ? "identical to flat" : "DIFFERS FROM FLAT");
  if (!args.faiss || !args.hnsw) return;
  const auto t2 = Clock::now();
  faiss::IndexBinaryHNSW h(256, 16);
  h.add(faiss::Index::idx_t(d.n()), d.codes.data());
  const double build = Seconds(t2, Clock::now());
  std::vector<int32_t> dist(nq * k);
  std::vector<faiss::Index::idx_t> lab(nq * k);
  const auto t3 = Clock::now();
  h.search(faiss::Index::idx_t(nq), d.queries.data(), faiss::Index::idx_t(k), dist.data(),
           lab.data());
  const double qps = double(nq) / Seconds(t3, Clock::now());
  // Recall@k by distance: a returned neighbour counts if it is within the true k-th distance.
  size_t ok = 0;
  for (size_t q = 0; q < nq; ++q) {
    const uint32_t kth = truth.of(q).back().distance;
    for (size_t j = 0; j < k; ++j) ok += lab[q * k + j] >= 0 && uint32_t(dist[q * k + j]) <= kth;
  }
  std::printf(
      "FAISS IndexBinaryHNSW(M=16): build %.1f s, %.0f q/s, recall@%zu %.3f (approximate)\n", build,
      qps, k, double(ok) / double(nq * k));
}

// Applies 10,000 changes (5,000 adds, 5,000 removes) to a LiveIndex over the set while a reader
// thread queries, and reports how long until they are visible.
void RunUpdates(const DataSet& d, const Args& args) {
  const CodeView codes{d.codes.data(), d.n(), 32};
  MihOptions mo;
  mo.max_threads = args.threads;
  auto base = BuildMihIndex(codes, d.ids, mo).value();
  LiveIndexOptions lo;
  lo.method = LiveIndexOptions::Method::kMih;
  auto li = LiveIndex::FromBase(base, lo).value();
  std::atomic<bool> stop{false};
  std::atomic<size_t> reads{0};
  std::thread reader([&] {
    RangeSearchOptions o;
    o.max_threads = 1;
    RangeSearchResult r;
    size_t i = 0;
    while (!stop) {
      (void)li->RangeSearch(CodeView{d.queries.data() + (i++ % d.q()) * 32, 1, 32}, o, &r);
      ++reads;
    }
  });
  std::mt19937_64 rng(7);
  std::vector<uint8_t> add;
  RandomCodes(rng, 5000, &add);
  std::vector<uint64_t> add_ids(5000), rm_ids(5000);
  for (size_t i = 0; i < 5000; ++i) {
    add_ids[i] = (uint64_t(1) << 40) + i;
    rm_ids[i] = d.ids[i * (d.n() / 5000)];
  }
  const size_t reads0 = reads;
  const auto t0 = Clock::now();
  Status s1 = li->Add(CodeView{add.data(), 5000, 32}, add_ids);
  Status s2 = li->Remove(rm_ids);
  const double one_call = Seconds(t0, Clock::now());
  // The same volume as 100 batches of 50 adds + 50 removes (how a sync job applies pages).
  std::vector<uint8_t> add2;
  RandomCodes(rng, 5000, &add2);
  const auto t1 = Clock::now();
  for (size_t b = 0; b < 100; ++b) {
    std::vector<uint64_t> a(50), r(50);
    for (size_t i = 0; i < 50; ++i) {
      a[i] = (uint64_t(1) << 41) + b * 50 + i;
      r[i] = d.ids[(b * 50 + i) * (d.n() / 5000) + 1];
    }
    (void)li->Add(CodeView{add2.data() + b * 50 * 32, 50, 32}, a);
    (void)li->Remove(r);
  }
  const double batched = Seconds(t1, Clock::now());
  const size_t during = reads - reads0;
  stop = true;
  reader.join();
  std::printf(
      "\nUpdates on %s (N=%zu): 5,000 adds + 5,000 removes in one call each: %.3f s "
      "(%s); as 100 pages of 50+50: %.3f s; %zu reader queries ran meanwhile; size %zu\n",
      d.name.c_str(), d.n(), one_call, (s1.ok() && s2.ok()) ? "ok" : "FAILED", batched, during,
      li->size());
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--n")
      args.n = std::stoull(v);
    else if (k == "--queries")
      args.queries = std::stoull(v);
    else if (k == "--radius")
      args.radius = uint32_t(std::stoul(v));
    else if (k == "--faiss")
      args.faiss = v != "0";
    else if (k == "--hnsw")
      args.hnsw = v != "0";
    else if (k == "--updates")
      args.updates = v != "0";
    else if (k == "--sets")
      args.sets = v;
    else if (k == "--min-seconds")
      args.min_s = std::stod(v);
    else if (k == "--threads")
      args.threads = std::stoi(v);
    else if (k == "--mih-tables") {
      for (size_t p = 0; p < v.size();) {
        size_t e = v.find(',', p);
        if (e == std::string::npos) e = v.size();
        args.mih_tables.push_back(std::stoi(v.substr(p, e - p)));
        p = e + 1;
      }
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  omp_set_num_threads(1);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("index_bench: N=%zu queries=%zu radius=%u kernel=%s\n", args.n, args.queries,
              args.radius, std::string(KernelPathName(DistanceKernels::Default().path())).c_str());
  for (char s : args.sets) {
    DataSet d;
    if (s == 'a')
      d = MakeUniform(args.n, args.queries);
    else if (s == 'b')
      d = MakeClustered(args.n, args.queries);
    else if (s == 'c') {
      const int m = PlanMih(args.n, 32, args.radius).num_tables;
      d = MakePigeonhole(args.n, args.queries, m, args.radius);
    } else
      continue;
    RunSet(d, args);
    if (s == 'a') {
      RunKnn(d, args);
      if (args.updates) RunUpdates(d, args);
    }
  }
  return 0;
}

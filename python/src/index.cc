// Index and LiveIndex: in-memory Hamming indexes built from numpy codes (static_index.h,
// live_index.h), with exact range search and k-nearest-neighbour search.
//
// Results are numpy arrays:
//   range_search -> RangeResult(offsets, ids, distances, truncated): query q's hits are
//                   ids[offsets[q]:offsets[q+1]], sorted by (distance, id); truncated[q] when the
//                   cap kept only the nearest (FAISS's `lims` layout, with an inclusive radius).
//   knn          -> KnnResult(ids, distances), shape (n, k); where a query has fewer than k
//                   neighbours (a small index) the row ends with distance -1 and id 2**64 - 1.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "common.h"
#include "hashmatch/core/live_index.h"
#include "hashmatch/core/static_index.h"

namespace hashmatch::py {
namespace {

pyb::object g_range_result, g_knn_result;  // namedtuple types, created in DefineIndex

pyb::object RangeSearchPy(const HammingIndex& index, pyb::handle queries, uint32_t radius,
                          size_t max_hits_per_query, int threads) {
  CodeBatch q = ReadCodes(queries, index.code_bytes(), "queries");
  RangeSearchOptions o;
  o.radius = radius;
  o.max_hits_per_query = max_hits_per_query;
  o.max_threads = threads;
  RangeSearchResult r;
  Status s;
  {
    pyb::gil_scoped_release release;
    s = index.RangeSearch(q.view, o, &r);
  }
  Check(s);
  const size_t n = r.num_queries(), h = r.hits.size();
  pyb::array_t<int64_t> offsets({pyb::ssize_t(n + 1)});
  pyb::array_t<uint64_t> ids({pyb::ssize_t(h)});
  pyb::array_t<int32_t> distances({pyb::ssize_t(h)});
  pyb::array_t<bool> truncated({pyb::ssize_t(n)});
  for (size_t i = 0; i <= n; ++i) offsets.mutable_at(i) = int64_t(r.offsets[i]);
  for (size_t i = 0; i < h; ++i) {
    ids.mutable_at(i) = r.hits[i].id;
    distances.mutable_at(i) = int32_t(r.hits[i].distance);
  }
  for (size_t i = 0; i < n; ++i) truncated.mutable_at(i) = r.truncated[i] != 0;
  return g_range_result(offsets, ids, distances, truncated);
}

pyb::object KnnPy(const HammingIndex& index, pyb::handle queries, size_t k, int threads) {
  if (k == 0) ThrowInvalid("k must be at least 1");
  CodeBatch q = ReadCodes(queries, index.code_bytes(), "queries");
  KnnOptions o;
  o.k = k;
  o.max_threads = threads;
  KnnResult r;
  Status s;
  {
    pyb::gil_scoped_release release;
    s = index.Knn(q.view, o, &r);
  }
  Check(s);
  const size_t n = q.view.count;
  pyb::array_t<uint64_t> ids({pyb::ssize_t(n), pyb::ssize_t(k)});
  pyb::array_t<int32_t> distances({pyb::ssize_t(n), pyb::ssize_t(k)});
  for (size_t i = 0; i < n; ++i) {
    const auto nb = r.of(i);
    for (size_t j = 0; j < k; ++j) {
      ids.mutable_at(i, j) = j < nb.size() ? nb[j].row : std::numeric_limits<uint64_t>::max();
      distances.mutable_at(i, j) = j < nb.size() ? int32_t(nb[j].distance) : -1;
    }
  }
  return g_knn_result(ids, distances);
}

LiveIndexOptions::Method ParseMethod(const std::string& m) {
  if (m == "auto") return LiveIndexOptions::Method::kAuto;
  if (m == "flat") return LiveIndexOptions::Method::kFlat;
  if (m == "mih") return LiveIndexOptions::Method::kMih;
  ThrowInvalid("method: expected 'auto', 'flat' or 'mih', got '" + m + "'");
}

pyb::dict StatsDict(const HammingIndex& index) {
  const IndexStats s = index.Stats();
  pyb::dict d;
  d["method"] = s.method;
  d["size"] = s.size;
  d["memory_bytes"] = s.memory_bytes;
  return d;
}

// An immutable index (flat or MIH), owned through a shared pointer (possibly a file mapping).
struct PyIndex {
  std::shared_ptr<const StaticIndex> index;
};

PyIndex BuildIndex(pyb::handle codes, pyb::handle ids_obj, const std::string& method,
                   uint32_t expected_radius, int num_tables, int threads) {
  pyb::array a = pyb::array::ensure(codes);
  if (!a || a.ndim() != 2) ThrowInvalid("codes: expected a uint8 array of shape (n, code_bytes)");
  CodeBatch c = ReadCodes(a, size_t(a.shape(1)), "codes");
  pyb::array_t<uint64_t, pyb::array::c_style> ids;
  if (ids_obj.is_none()) {
    ids = pyb::array_t<uint64_t, pyb::array::c_style>({pyb::ssize_t(c.view.count)});
    for (size_t i = 0; i < c.view.count; ++i) ids.mutable_at(i) = i;
  } else {
    ids = ReadIds(ids_obj, c.view.count, "ids");
  }
  const LiveIndexOptions::Method m = ParseMethod(method);
  MihOptions mo;
  mo.expected_radius = expected_radius;
  mo.num_tables = num_tables;
  mo.max_threads = threads;
  const std::span<const uint64_t> idspan(ids.data(), c.view.count);
  Result<std::shared_ptr<const StaticIndex>> r = Status::Internal("unset");
  {
    pyb::gil_scoped_release release;
    // "auto" as LiveIndex chooses: MIH when its cost model beats the flat scan (and the set is
    // not tiny), else flat.
    bool mih = m == LiveIndexOptions::Method::kMih;
    if (m == LiveIndexOptions::Method::kAuto && c.view.count >= 4096) {
      const MihPlan plan = PlanMih(c.view.count, c.view.code_bytes, expected_radius);
      mih = plan.est_query_ns < plan.est_flat_ns;
    }
    r = mih ? BuildMihIndex(c.view, idspan, mo) : BuildFlatIndex(c.view, idspan);
  }
  return PyIndex{Take(std::move(r))};
}

struct PyLiveIndex {
  std::unique_ptr<LiveIndex> index;
};

LiveIndexOptions LiveOptions(const std::string& method, uint32_t expected_radius) {
  LiveIndexOptions o;
  o.method = ParseMethod(method);
  o.mih.expected_radius = expected_radius;
  return o;
}

}  // namespace

// What Index and LiveIndex share: saving, searching and their sizes.
template <class Py>
void AddSearchMethods(pyb::class_<Py>& cls) {
  cls.def(
         "save",
         [](const Py& self, const std::filesystem::path& path) {
           Status s;
           {
             pyb::gil_scoped_release release;
             s = self.index->Save(path);
           }
           Check(s);
         },
         pyb::arg("path"))
      .def(
          "range_search",
          [](const Py& self, pyb::handle q, uint32_t radius, size_t cap, int threads) {
            return RangeSearchPy(*self.index, q, radius, cap, threads);
          },
          pyb::arg("queries"), pyb::kw_only(), pyb::arg("radius") = 31u,
          pyb::arg("max_hits_per_query") = size_t(100'000), pyb::arg("threads") = 0,
          "Every code within radius (inclusive) of each query -> RangeResult.")
      .def(
          "knn",
          [](const Py& self, pyb::handle q, size_t k, int threads) {
            return KnnPy(*self.index, q, k, threads);
          },
          pyb::arg("queries"), pyb::kw_only(), pyb::arg("k") = size_t(1), pyb::arg("threads") = 0)
      .def_property_readonly("code_bytes", [](const Py& s) { return s.index->code_bytes(); })
      .def("__len__", [](const Py& s) { return s.index->size(); })
      .def("stats", [](const Py& s) { return StatsDict(*s.index); });
}

void DefineIndex(pyb::module_& m) {
  pyb::module_ collections = pyb::module_::import("collections");
  g_range_result = collections.attr("namedtuple")(
      "RangeResult", pyb::make_tuple("offsets", "ids", "distances", "truncated"));
  g_knn_result = collections.attr("namedtuple")("KnnResult", pyb::make_tuple("ids", "distances"));
  g_range_result.attr("__module__") = "hashmatch";
  g_knn_result.attr("__module__") = "hashmatch";
  m.attr("RangeResult") = g_range_result;
  m.attr("KnnResult") = g_knn_result;
  // The namedtuple types must outlive the module's last call; they are never freed.
  g_range_result.inc_ref();
  g_knn_result.inc_ref();

  auto index =
      pyb::class_<PyIndex>(
          m, "Index",
          "An immutable exact Hamming index (flat scan or multi-index hashing) over "
          "uint8 codes of shape (n, code_bytes), code_bytes a multiple of 8.")
          .def(pyb::init(&BuildIndex), pyb::arg("codes"), pyb::arg("ids") = pyb::none(),
               pyb::kw_only(), pyb::arg("method") = "auto", pyb::arg("expected_radius") = 31u,
               pyb::arg("num_tables") = 0, pyb::arg("threads") = 0,
               "ids: unique non-negative integers, default 0..n-1. method: 'auto' (MIH when the "
               "cost "
               "model says probing beats scanning at expected_radius), 'flat' or 'mih'.")
          .def_static(
              "load",
              [](const std::filesystem::path& path, bool verify_checksums) {
                LoadOptions o;
                o.verify_checksums = verify_checksums;
                Result<std::shared_ptr<const StaticIndex>> r = Status::Internal("unset");
                {
                  pyb::gil_scoped_release release;
                  r = LoadStaticIndex(path, o);
                }
                return PyIndex{Take(std::move(r))};
              },
              pyb::arg("path"), pyb::kw_only(), pyb::arg("verify_checksums") = true,
              "Maps an index file written by save() (or a store snapshot's index file).")
          .def(
              "codes",
              [](const PyIndex& s) {
                const CodeView v = s.index->codes();
                auto a = NewBytes2D(v.count, v.code_bytes);
                if (v.count) std::memcpy(a.mutable_data(), v.data, v.count * v.code_bytes);
                return a;
              },
              "a copy of the stored codes, rows in ascending id order")
          .def("ids", [](const PyIndex& s) {
            const auto ids = s.index->ids();
            pyb::array_t<uint64_t> a({pyb::ssize_t(ids.size())});
            if (!ids.empty())
              std::memcpy(a.mutable_data(), ids.data(), ids.size() * sizeof(uint64_t));
            return a;
          });
  AddSearchMethods(index);

  auto live =
      pyb::class_<PyLiveIndex>(
          m, "LiveIndex",
          "An updatable exact index: add and remove while searching (each call "
          "searches the version current when it starts).")
          .def(
              pyb::init([](size_t code_bytes, const std::string& method, uint32_t expected_radius) {
                return PyLiveIndex{
                    Take(LiveIndex::Create(code_bytes, LiveOptions(method, expected_radius)))};
              }),
              pyb::arg("code_bytes"), pyb::kw_only(), pyb::arg("method") = "auto",
              pyb::arg("expected_radius") = 31u)
          .def_static(
              "open",
              [](const std::filesystem::path& path, const std::string& method) {
                Result<std::unique_ptr<LiveIndex>> r = Status::Internal("unset");
                {
                  pyb::gil_scoped_release release;
                  r = LiveIndex::Open(path, LiveOptions(method, 31));
                }
                return PyLiveIndex{Take(std::move(r))};
              },
              pyb::arg("path"), pyb::kw_only(), pyb::arg("method") = "auto")
          .def(
              "add",
              [](PyLiveIndex& self, pyb::handle codes, pyb::handle ids_obj) {
                CodeBatch c = ReadCodes(codes, self.index->code_bytes(), "codes");
                auto ids = ReadIds(ids_obj, c.view.count, "ids");
                Status s;
                {
                  pyb::gil_scoped_release release;
                  s = self.index->Add(c.view, {ids.data(), c.view.count});
                }
                Check(s);
              },
              pyb::arg("codes"), pyb::arg("ids"),
              "all or nothing: an id already live refuses the batch")
          .def(
              "remove",
              [](PyLiveIndex& self, pyb::handle ids_obj) {
                pyb::array a = pyb::array::ensure(ids_obj);
                if (!a || a.ndim() != 1) ThrowInvalid("ids: expected a 1-D integer array");
                auto ids = ReadIds(a, size_t(a.shape(0)), "ids");
                Status s;
                {
                  pyb::gil_scoped_release release;
                  s = self.index->Remove({ids.data(), size_t(ids.shape(0))});
                }
                Check(s);
              },
              pyb::arg("ids"), "all or nothing: an id not live refuses the batch (NotFoundError)")
          .def("__contains__",
               [](const PyLiveIndex& s, uint64_t id) { return s.index->Contains(id); })
          .def("compact",
               [](PyLiveIndex& self) {
                 Status s;
                 {
                   pyb::gil_scoped_release release;
                   s = self.index->Compact();
                 }
                 Check(s);
               })
          .def_property_readonly("version",
                                 [](const PyLiveIndex& s) { return s.index->LiveStats().version; });
  AddSearchMethods(live);
}

}  // namespace hashmatch::py

// The hashmatch._hashmatch extension module: errors, code arrays, hex, signal types; the hashing,
// store, index and scan sections are defined in their own files (common.h).
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <vector>

#include "common.h"
#include "hashmatch/core/hex.h"

namespace hashmatch::py {
namespace {

// One Python exception class per StatusCode, created at import (RegisterErrors).
struct ErrorClass {
  StatusCode code;
  const char* name;
  PyObject* extra_base;  // a builtin base besides hashmatch.Error, or nullptr
  PyObject* type = nullptr;
};
std::array<ErrorClass, 9> g_errors = {{
    {StatusCode::kInvalidArgument, "InvalidArgumentError", PyExc_ValueError},
    {StatusCode::kNotFound, "NotFoundError", PyExc_LookupError},
    {StatusCode::kAlreadyExists, "AlreadyExistsError", nullptr},
    {StatusCode::kOutOfRange, "OutOfRangeError", PyExc_ValueError},
    {StatusCode::kUnsupported, "UnsupportedError", nullptr},
    {StatusCode::kCorruption, "CorruptionError", nullptr},
    {StatusCode::kIoError, "IoError", PyExc_OSError},
    {StatusCode::kUnavailable, "UnavailableError", nullptr},
    {StatusCode::kInternal, "InternalError", nullptr},
}};
PyObject* g_error_base = nullptr;

void RaiseStatus(const Status& s) {
  PyObject* type = g_error_base;
  for (const ErrorClass& e : g_errors) {
    if (e.code == s.code()) type = e.type;
  }
  // An instance (not PyErr_SetString) so that `code` can be set on it.
  pyb::object inst =
      pyb::reinterpret_steal<pyb::object>(PyObject_CallFunction(type, "s", s.message().c_str()));
  if (!inst) return;  // the constructor raised; that error stands
  PyObject_SetAttrString(inst.ptr(), "code", pyb::str(std::string(StatusCodeName(s.code()))).ptr());
  PyErr_SetObject(type, inst.ptr());
}

}  // namespace

void RegisterErrors(pyb::module_& m) {
  g_error_base = PyErr_NewExceptionWithDoc(
      "hashmatch.Error",
      "Base of every hashmatch error; `code` is the library's status code name "
      "(\"invalid_argument\", \"not_found\", ...) and str(e) its message.",
      PyExc_Exception, nullptr);
  m.attr("Error") = pyb::handle(g_error_base);
  for (ErrorClass& e : g_errors) {
    pyb::tuple bases = e.extra_base
                           ? pyb::make_tuple(pyb::handle(g_error_base), pyb::handle(e.extra_base))
                           : pyb::make_tuple(pyb::handle(g_error_base));
    const std::string qualified = std::string("hashmatch.") + e.name;
    e.type = PyErr_NewException(qualified.c_str(), bases.ptr(), nullptr);
    if (!e.type) throw pyb::error_already_set();
    m.attr(e.name) = pyb::handle(e.type);
  }
  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      RaiseStatus(e.status);
    }
  });
}

CodeBatch ReadCodes(pyb::handle obj, size_t code_bytes, const char* what) {
  pyb::array a = pyb::array::ensure(obj);
  if (!a) ThrowInvalid(std::string(what) + ": expected a numpy uint8 array");
  if (!a.dtype().is(pyb::dtype::of<uint8_t>())) {
    ThrowInvalid(std::string(what) + ": expected dtype uint8, got " +
                 std::string(pyb::str(a.dtype())));
  }
  const auto width = pyb::ssize_t(code_bytes);
  const bool one = a.ndim() == 1 && a.shape(0) == width;
  const bool many = a.ndim() == 2 && a.shape(1) == width;
  if (!one && !many) {
    std::string shape = "(";
    for (pyb::ssize_t i = 0; i < a.ndim(); ++i) {
      shape += (i ? ", " : "") + std::to_string(a.shape(i));
    }
    ThrowInvalid(std::string(what) + ": expected shape (n, " + std::to_string(code_bytes) +
                 ") or (" + std::to_string(code_bytes) + ",), got " + shape +
                 (a.ndim() == 1 ? ",)" : ")"));
  }
  CodeBatch b;
  b.array = pyb::array_t<uint8_t, pyb::array::c_style>::ensure(a);
  if (!b.array) throw pyb::error_already_set();
  b.view = CodeView{b.array.data(), one ? 1 : size_t(a.shape(0)), code_bytes};
  return b;
}

pyb::array_t<uint64_t, pyb::array::c_style> ReadIds(pyb::handle obj, size_t n, const char* what) {
  pyb::array a = pyb::array::ensure(obj);
  if (!a || a.ndim() != 1 || size_t(a.shape(0)) != n) {
    ThrowInvalid(std::string(what) + ": expected a 1-D integer array of " + std::to_string(n) +
                 " ids");
  }
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    ThrowInvalid(std::string(what) + ": expected an integer dtype, got " +
                 std::string(pyb::str(a.dtype())));
  }
  if (kind == 'i') {
    pyb::module_ np = pyb::module_::import("numpy");
    if (n > 0 && pyb::cast<bool>(np.attr("any")(np.attr("less")(a, 0)))) {
      ThrowInvalid(std::string(what) + ": ids must not be negative");
    }
  }
  auto ids = pyb::array_t<uint64_t, pyb::array::c_style>::ensure(a.attr("astype")("uint64"));
  if (!ids) throw pyb::error_already_set();
  return ids;
}

SignalType ParseSignal(const std::string& name) {
  if (auto t = SignalTypeFromName(name)) return *t;
  std::string names;
  for (const SignalInfo& i : AllSignalTypes())
    names += (names.empty() ? "" : ", ") + std::string(i.name);
  ThrowInvalid("unknown signal type '" + name + "' (one of: " + names + ")");
}

pyb::array_t<uint8_t> NewBytes2D(size_t n, size_t width) {
  if (width == 0) return pyb::array_t<uint8_t>({pyb::ssize_t(n)});
  return pyb::array_t<uint8_t>({pyb::ssize_t(n), pyb::ssize_t(width)});
}

namespace {

// from_hex: one string -> 1-D array; a sequence of strings -> (n, bytes), all one length.
pyb::array_t<uint8_t> FromHex(pyb::handle obj) {
  if (pyb::isinstance<pyb::str>(obj)) {
    const std::string s = pyb::cast<std::string>(obj);
    if (s.size() % 2) ThrowInvalid("odd number of hex digits (" + std::to_string(s.size()) + ")");
    auto out = NewBytes2D(s.size() / 2, 0);
    Check(DecodeHex(s, std::span<uint8_t>(out.mutable_data(), s.size() / 2)));
    return out;
  }
  std::vector<std::string> strings = pyb::cast<std::vector<std::string>>(obj);
  if (strings.empty()) ThrowInvalid("from_hex: no hex strings (the code size is unknown)");
  const size_t width = strings[0].size() / 2;
  if (width == 0) ThrowInvalid("hex string 0: empty");
  auto out = NewBytes2D(strings.size(), width);
  for (size_t i = 0; i < strings.size(); ++i) {
    if (strings[i].size() != 2 * width) {
      ThrowInvalid("hex string " + std::to_string(i) + ": expected " + std::to_string(2 * width) +
                   " hex digits, got " + std::to_string(strings[i].size()));
    }
    Status s = DecodeHex(strings[i], std::span<uint8_t>(out.mutable_data(i, 0), width));
    if (!s.ok()) ThrowInvalid("hex string " + std::to_string(i) + ": " + s.message());
  }
  return out;
}

// to_hex: a 1-D array -> str; a 2-D array -> list of str; bytes -> str.
pyb::object ToHexPy(pyb::handle obj) {
  if (pyb::isinstance<pyb::bytes>(obj)) {
    const std::string b = pyb::cast<std::string>(obj);
    return pyb::str(EncodeHex({reinterpret_cast<const uint8_t*>(b.data()), b.size()}));
  }
  pyb::array a = pyb::array::ensure(obj);
  if (!a || !a.dtype().is(pyb::dtype::of<uint8_t>()) || a.ndim() < 1 || a.ndim() > 2) {
    ThrowInvalid("to_hex: expected bytes or a 1-D / 2-D uint8 array");
  }
  auto c = pyb::array_t<uint8_t, pyb::array::c_style>::ensure(a);
  if (a.ndim() == 1) return pyb::str(EncodeHex({c.data(), size_t(c.shape(0))}));
  pyb::list out;
  const size_t w = size_t(c.shape(1));
  for (pyb::ssize_t i = 0; i < c.shape(0); ++i) out.append(EncodeHex({c.data(i, 0), w}));
  return out;
}

}  // namespace

}  // namespace hashmatch::py

PYBIND11_MODULE(_hashmatch, m) {
  using namespace hashmatch;
  using namespace hashmatch::py;
  m.doc() =
      "hashmatch: perceptual-hash matching engine (C++ core; see python/hashmatch/__init__.py)";
  RegisterErrors(m);

  pyb::list signals;
  for (const SignalInfo& i : AllSignalTypes()) {
    pyb::dict d;
    d["name"] = std::string(i.name);
    d["code_bytes"] = i.code_bytes;
    d["perceptual"] = i.perceptual;
    d["max_distance"] = i.max_distance;
    signals.append(d);
  }
  m.attr("SIGNAL_TYPES") = signals;
  m.def("from_hex", &FromHex, pyb::arg("hex"),
        "Hex string -> 1-D uint8 array; list of hex strings (one length) -> (n, bytes) array. "
        "Strict: no whitespace, no 0x prefix (the library's DecodeHex).");
  m.def("to_hex", &ToHexPy, pyb::arg("codes"),
        "bytes or 1-D uint8 array -> str; (n, bytes) uint8 array -> list of str (lower case).");

  DefineHashing(m);
  DefineStore(m);
  DefineIndex(m);
#ifdef HASHMATCH_PY_WITH_SCAN  // the scan pipeline (hashmatch::scan), when it is built
  DefineScan(m);
#endif
}

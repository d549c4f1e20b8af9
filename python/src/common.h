// Shared pieces of the Python binding: turning a hashmatch::Status into a Python exception, and
// reading numpy code arrays.
//
// Errors. Every non-OK Status becomes an instance of one exception class per StatusCode (all
// subclasses of hashmatch.Error; InvalidArgumentError is also a ValueError, NotFoundError a
// LookupError, IoError an OSError), whose message is the library's message and whose `code`
// attribute is the stable code name ("invalid_argument", ...). Python-side misuse the library never
// sees (a wrong dtype, a wrong shape) raises InvalidArgumentError in the same way.
//
// GIL. Functions that hash, match or search copy or pin their inputs while holding the GIL, then
// release it for the library call (gil_scoped_release), then build Python results holding it again.
// Numpy inputs are pinned, not copied: a caller that mutates an array from another thread during
// the call gets whatever bytes were there, as with numpy's own GIL-free loops.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <span>
#include <string>

#include "hashmatch/core/distance.h"
#include "hashmatch/core/signal_type.h"
#include "hashmatch/core/status.h"

namespace hashmatch::py {

namespace pyb = pybind11;

// Thrown by binding code; translated to the matching Python exception class.
struct StatusError {
  Status status;
};

[[noreturn]] inline void Throw(Status s) {
  throw StatusError{std::move(s)};
}
[[noreturn]] inline void ThrowInvalid(std::string message) {
  throw StatusError{Status::InvalidArgument(std::move(message))};
}
inline void Check(const Status& s) {
  if (!s.ok()) Throw(s);
}
template <class T>
T Take(Result<T> r) {
  if (!r.ok()) Throw(r.status());
  return std::move(r).value();
}

// Registers the exception classes in `m` and the translator for StatusError.
void RegisterErrors(pyb::module_& m);

// A C-contiguous uint8 view of a batch of codes of `code_bytes` bytes each: a 2-D array of shape
// (n, code_bytes), or a 1-D array of code_bytes bytes (one code). Other dtypes are refused rather
// than cast: a float array of hashes is almost certainly a mistake. `what` names the argument in
// messages. The returned array keeps the data alive (it may be a contiguous copy).
struct CodeBatch {
  pyb::array_t<uint8_t, pyb::array::c_style> array;
  CodeView view;
};
CodeBatch ReadCodes(pyb::handle obj, size_t code_bytes, const char* what);

// A 1-D uint64 array of `n` ids (any integer dtype that converts exactly; negative refused).
pyb::array_t<uint64_t, pyb::array::c_style> ReadIds(pyb::handle obj, size_t n, const char* what);

// The signal type named `name` ("pdq", "md5", ...), or InvalidArgumentError listing the names.
SignalType ParseSignal(const std::string& name);

// A new uint8 array of shape (n, width) (width 0: 1-D of n).
pyb::array_t<uint8_t> NewBytes2D(size_t n, size_t width);

// Module sections, each in its own file.
void DefineHashing(pyb::module_& m);
void DefineStore(pyb::module_& m);
void DefineIndex(pyb::module_& m);
void DefineScan(pyb::module_& m);

}  // namespace hashmatch::py

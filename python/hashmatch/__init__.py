"""hashmatch: perceptual-hash matching against hash lists, from Python.

The engine is the C++ library (module ``hashmatch._hashmatch``); this package re-exports it and
adds the one-image conveniences.

Hashing (every call releases the GIL while it hashes; batches run on all cores)::

    import hashmatch as hm
    r = hm.hash_batch(["a.jpg", open("b.png", "rb").read(), pixels])   # dict of columns
    r["pdq"]        # uint8 (n, 32); with dihedral=True (n, 8, 32) in Dihedral order
    r["quality"]    # int32 (n,) / (n, 8)
    r["ok"], r["error"], r["error_code"]   # per item: failures never raise
    hm.pdq("a.jpg") # PdqHash(hash=b'...', quality=100); raises on failure

Inputs: ``bytes``/``bytearray``/``memoryview``/1-D uint8 array (encoded JPEG, PNG or WebP), a
path (``str`` or ``os.PathLike``), or decoded pixels as a uint8 array (H, W), (H, W, 3) or
(H, W, 4). Signals: ``pdq``, ``ahash64``, ``dhash64``, ``phash64``, ``whash64`` (Python
imagehash's conventions), ``md5``, ``sha1``, ``sha256`` (digests of the encoded bytes).

Matching against a store (read-only; many processes may open one directory)::

    with hm.Store("/var/lib/hashmatch") as store:
        res = store.match(r["pdq"])           # MatchResult
        for hit in res.hits: print(hit.query, hit.set, hit.key, hit.distance, hit.set_version)

In-memory indexes::

    index = hm.Index(codes)                   # codes: uint8 (n, 32); ids default 0..n-1
    lims, ids, dist, truncated = index.range_search(queries, radius=31)
    ids, dist = index.knn(queries, k=5)

Errors are ``hm.Error`` subclasses carrying the library's message and ``code``.
"""

import collections as _collections
import json as _json
import os as _os

from . import _hashmatch
from ._hashmatch import (  # noqa: F401  (re-exported)
    SIGNAL_TYPES,
    AlreadyExistsError,
    CorruptionError,
    Error,
    Hit,
    Index,
    InternalError,
    InvalidArgumentError,
    IoError,
    KnnResult,
    LiveIndex,
    MatchResult,
    NotFoundError,
    OutOfRangeError,
    RangeResult,
    Store,
    UnavailableError,
    UnsupportedError,
    from_hex,
    hash_batch,
    to_hex,
)

__all__ = [
    "SIGNAL_TYPES", "DIHEDRAL", "Error", "AlreadyExistsError", "CorruptionError", "InternalError",
    "InvalidArgumentError", "IoError", "NotFoundError", "OutOfRangeError", "UnavailableError",
    "UnsupportedError", "Hit", "Index", "KnnResult", "LiveIndex", "MatchResult", "RangeResult",
    "Store", "PdqHash", "from_hex", "to_hex", "hash_batch", "pdq", "pdq_dihedral", "imagehashes",
    "md5", "sha1", "sha256",
]
HAVE_SCAN = hasattr(_hashmatch, "scan_lines")  # built with the scan library (scan/)
if HAVE_SCAN:
    __all__ += ["scan", "ScanResult"]

# The eight orientations, in the order of hash_batch(..., dihedral=True)'s second axis.
DIHEDRAL = ("original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1",
            "flipminus1")

PdqHash = _collections.namedtuple("PdqHash", ["hash", "quality"])
PdqHash.__doc__ = "A PDQ hash (32 bytes, hex order) and its quality (0..100; below 50: flat image)."
PdqHash.hex = property(lambda self: self.hash.hex())

_ERRORS = {
    "invalid_argument": InvalidArgumentError,
    "not_found": NotFoundError,
    "already_exists": AlreadyExistsError,
    "out_of_range": OutOfRangeError,
    "unsupported": UnsupportedError,
    "corruption": CorruptionError,
    "io_error": IoError,
    "unavailable": UnavailableError,
    "internal": InternalError,
}


def _one(image, signals, **options):
    """Hashes one image; raises the item's error as the matching hashmatch.Error subclass."""
    r = hash_batch([image], signals=signals, **options)
    if not r["ok"][0]:
        exc = _ERRORS.get(r["error_code"][0], Error)(r["error"][0])
        exc.code = r["error_code"][0]
        raise exc
    return r


def pdq(image, **options):
    """PdqHash of one image (bytes, path or pixel array). Options as hash_batch's."""
    r = _one(image, ["pdq"], **options)
    return PdqHash(r["pdq"][0].tobytes(), int(r["quality"][0]))


def pdq_dihedral(image, **options):
    """The eight PdqHashes of one image (one DCT), in DIHEDRAL order."""
    r = _one(image, ["pdq"], dihedral=True, **options)
    return [PdqHash(r["pdq"][0][d].tobytes(), int(r["quality"][0][d])) for d in range(8)]


def imagehashes(image, **options):
    """The four 64-bit hashes of Python imagehash (8 bytes each), as a dict by signal name."""
    names = ["ahash64", "dhash64", "phash64", "whash64"]
    r = _one(image, names, **options)
    return {n: r[n][0].tobytes() for n in names}


def _digest(name):
    def digest(data, **options):
        return _one(data, [name], **options)[name][0].tobytes()

    digest.__name__ = name
    digest.__doc__ = f"{name.upper()} of encoded bytes or of a file's bytes (never decoded)."
    return digest


md5 = _digest("md5")
sha1 = _digest("sha1")
sha256 = _digest("sha256")


ScanResult = _collections.namedtuple("ScanResult", ["items", "summary"])
ScanResult.__doc__ = """items: one dict per item (the JSON line `hashmatch scan` writes, parsed);
summary: the scan's summary dict (counts, failed_by_reason, images_per_second, sets searched)."""


def scan(store, inputs, *, kind="auto", flagged_only=False, callback=None, raw=False, **options):
    """Scans files, directories, manifests or tar shards against a read-only Store, in-process.

    inputs: paths (str or os.PathLike); kind: "auto" (directory, tar shard by name, else a file),
    "file", "directory", "tar" or "manifest". Every item is read, hashed (PDQ and MD5, plus
    options["signals"]), matched against the store's enabled sets of those types and returned in
    item order; the type of every set searched is computed too, as `hashmatch scan` does, so the
    items are the CLI's lines. flagged_only: only matched, suppressed and failed items.
    callback: called with each item instead of collecting it (a dict, or the JSON line when
    raw=True); an exception it raises stops the scan and propagates. raw: items as the JSON lines
    themselves. Other options:
    signals, dihedral, fast, min_quality, sets, threshold, max_hits_per_item, all_files,
    max_item_bytes, max_pixels, threads, chunk_items. Returns ScanResult(items, summary).
    """
    paths = [_os.fspath(p) for p in ([inputs] if isinstance(inputs, (str, _os.PathLike)) else inputs)]
    cb = None
    if callback is not None:
        cb = callback if raw else (lambda line: callback(_json.loads(line)))
    lines, summary = _hashmatch.scan_lines(store, paths, kind=kind, flagged_only=flagged_only,
                                           callback=cb, **options)
    items = lines if raw else [_json.loads(line) for line in lines]
    return ScanResult(items, _json.loads(summary))


if not HAVE_SCAN:  # a build without scan/ has no scanner
    del scan, ScanResult

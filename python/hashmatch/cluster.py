"""Scanning shards on a cluster (Dask here; Spark or any task system the same way).

The unit of work is a *partition*: a contiguous slice of the input list (tar shards, directories,
manifests). A task runs ``scan_partition`` in a worker process, which

* opens the store read-only once per process (``worker_store``: a module-level cache, so every
  later task on that worker reuses the open store and its memory-mapped indexes; a read-only open
  takes no lock and writes nothing, so any number of workers, on one machine or on many, open the
  same directory at once);
* checks that the store is at the sequence number the driver saw (every partition must match
  against the same snapshot, or the results would mix set versions);
* scans its inputs with ``hashmatch.scan`` (the C++ pipeline, all the task's threads) and returns
  plain, picklable results.

``merge`` concatenates the partitions in input order and renumbers the items, so the result is
exactly what one process scanning all the inputs returns (``scan_with_dask`` does both). See
docs/scaling.md for real clusters.
"""

import os
import time

from . import InvalidArgumentError, ScanResult, Store, UnavailableError, scan

_stores = {}  # store path -> Store, for this process
_opens = {}  # store path -> how many times this process opened it (1: the cache works)


def worker_store(path, verify_checksums=True):
    """The store at `path`, opened read-only the first time a task in this process asks."""
    path = os.fspath(path)
    store = _stores.get(path)
    if store is None:
        store = Store(path, verify_checksums=verify_checksums)
        _stores[path] = store
        _opens[path] = _opens.get(path, 0) + 1
    return store


def open_counts():
    """{store path: opens} in this process (for tests and monitoring: run it on every worker)."""
    return dict(_opens)


def scan_partition(store_path, inputs, expected_sequence=None, **options):
    """Scans one partition in this process; returns a dict with the items (dicts), the summary,
    this process's id and the wall time. Options are hashmatch.scan's."""
    store = worker_store(store_path)
    if expected_sequence is not None and store.sequence != expected_sequence:
        raise UnavailableError(
            f"store {store_path} is at sequence {store.sequence} on this worker, the driver saw "
            f"{expected_sequence}: every partition must scan the same snapshot")
    start, cpu = time.perf_counter(), time.process_time()
    items, summary = scan(store, [os.fspath(p) for p in inputs], **options)
    # process_time: CPU of the whole worker process (all its threads) during the task; with one
    # task at a time per process (threads_per_worker=1) that is the task's CPU cost.
    return {"items": items, "summary": summary, "pid": os.getpid(),
            "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}


def partition(inputs, n):
    """`inputs` cut into at most `n` contiguous slices of near-equal length, in order."""
    inputs = list(inputs)
    if n < 1:
        raise InvalidArgumentError("partitions must be at least 1")
    n = min(n, len(inputs)) or 1
    size, extra = divmod(len(inputs), n)
    parts, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        parts.append(inputs[start:end])
        start = end
    return parts


_COUNTERS = ("items", "scanned", "matched", "suppressed", "failed", "low_quality",
             "skipped_files", "bytes", "resumed_items")


def merge(results, seconds=None):
    """Partition results (in input order) -> ScanResult as one process would return it: items
    renumbered 0, 1, ...; counters summed; the sets searched (identical in every partition, or an
    error). `seconds`: the wall time of the whole run (for images_per_second)."""
    items, summary = [], None
    for r in results:
        s = r["summary"]
        for item in r["items"]:
            item = dict(item)
            item["index"] = item["index"] + (summary["items"] if summary else 0)
            items.append(item)
        if summary is None:
            summary = dict(s, failed_by_reason=dict(s["failed_by_reason"]))
            continue
        if (s["store_sequence"], s["sets"]) != (summary["store_sequence"], summary["sets"]):
            raise UnavailableError("partitions scanned different store snapshots")
        for k in _COUNTERS:
            summary[k] += s[k]
        for reason, n in s["failed_by_reason"].items():
            summary["failed_by_reason"][reason] = summary["failed_by_reason"].get(reason, 0) + n
    if summary is None:
        raise InvalidArgumentError("no partitions to merge")
    summary["partition_seconds"] = [r["seconds"] for r in results]
    summary["partition_cpu_seconds"] = [r.get("cpu_seconds", 0.0) for r in results]
    if seconds is not None:
        summary["seconds"] = seconds
        summary["images_per_second"] = summary["items"] / seconds if seconds > 0 else 0
    return ScanResult(items, summary)


def scan_with_dask(client, store_path, inputs, partitions=None, **options):
    """Scans `inputs` on a Dask cluster: one task per partition (default: 2 per worker thread),
    each in a worker process with the store opened once per process. Returns the merged
    ScanResult, equal item for item to hashmatch.scan(Store(store_path), inputs, **options)."""
    inputs = [os.fspath(p) for p in inputs]
    with Store(store_path) as store:  # the snapshot every partition must see
        sequence = store.sequence
    if partitions is None:
        partitions = 2 * max(1, sum(client.nthreads().values()))
    parts = partition(inputs, partitions)
    start = time.perf_counter()
    futures = [client.submit(scan_partition, os.fspath(store_path), part, sequence,
                             pure=False, **options) for part in parts]
    results = client.gather(futures)
    return merge(results, seconds=time.perf_counter() - start)

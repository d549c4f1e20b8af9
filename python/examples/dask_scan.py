#!/usr/bin/python3
"""Scan WebDataset-style tar shards against a hashmatch store on a Dask cluster.

Every worker process opens the store read-only once (memory-mapped indexes, shared through the
page cache by the workers of one machine) and scans whole shards; the driver merges the
partitions into exactly the result one process would give (hashmatch.cluster).

  # shards to play with: the images of a directory, replicated, 64 per shard
  dask_scan.py make-shards ../shared/pdq-reference /tmp/shards --copies 20 --per-shard 64

  # a local cluster of 2 worker processes x 1 thread, compared with one process on 2 threads
  dask_scan.py scan --store /var/lib/hashmatch --workers 2 --compare /tmp/shards/*.tar

  # a running cluster (dask-scheduler / dask-worker, or dask-jobqueue, dask-kubernetes...):
  # the store path and the shard paths must be valid on every worker
  dask_scan.py scan --store /data/store --scheduler tcp://10.0.0.1:8786 --out hits.jsonl \\
      --flagged-only /data/shards/*.tar

Run with Debian's /usr/bin/python3 and PYTHONPATH=<build>/python (or an installed hashmatch).
"""
import argparse
import json
import os
import sys
import tarfile
import time


def make_shards(args):
    exts = (".jpg", ".jpeg", ".png", ".webp")
    images = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.src, followlinks=True)
                    for f in fs if f.lower().endswith(exts))
    if not images:
        sys.exit(f"no images under {args.src}")
    os.makedirs(args.out, exist_ok=True)
    members = [(c, p) for c in range(args.copies) for p in images]
    shards = 0
    for start in range(0, len(members), args.per_shard):
        path = os.path.join(args.out, f"shard-{shards:06d}.tar")
        with tarfile.open(path, "w", dereference=True) as tar:  # symlinks: their files
            for k, (c, p) in enumerate(members[start:start + args.per_shard]):
                name = f"{start + k:09d}{os.path.splitext(p)[1].lower()}"
                tar.add(p, arcname=name)
        shards += 1
    print(f"{len(members)} images ({len(images)} distinct x {args.copies}) in {shards} shards "
          f"under {args.out}")


def scan(args):
    import distributed

    import hashmatch as hm
    from hashmatch import cluster

    options = dict(dihedral=args.dihedral, flagged_only=args.flagged_only,
                   threads=args.scan_threads or args.threads_per_worker)
    if args.scheduler:
        client = distributed.Client(args.scheduler)
    else:
        client = distributed.Client(distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=args.threads_per_worker, processes=True,
            dashboard_address=None))
    with client:
        cores = sum(client.nthreads().values())
        # Open the store on every worker before the clock starts (as a long-lived cluster has).
        client.run(lambda path: cluster.worker_store(path) and None, args.store)
        res = cluster.scan_with_dask(client, args.store, args.shards,
                                     partitions=args.partitions, **options)
        s = res.summary
        cpu = sum(s["partition_cpu_seconds"])
        report = {"mode": "dask", "workers": len(client.nthreads()), "worker_threads": cores,
                  "partitions": len(s["partition_seconds"]), "items": s["items"],
                  "matched": s["matched"], "failed": s["failed"], "seconds": round(s["seconds"], 3),
                  "images_per_second": round(s["images_per_second"], 1),
                  "worker_cpu_seconds": round(cpu, 3),
                  "images_per_cpu_second": round(s["items"] / cpu, 1) if cpu else None}
        print(json.dumps(report))
    if args.out:
        with open(args.out, "w") as f:
            for item in res.items:
                f.write(json.dumps(item, separators=(",", ":")) + "\n")
    if args.compare:
        # The same scan in this one process, on as many threads as the cluster had.
        with hm.Store(args.store) as store:
            start, cpu0 = time.perf_counter(), time.process_time()
            one = hm.scan(store, args.shards, **dict(options, threads=cores))
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
        same = one.items == res.items
        print(json.dumps({"mode": "one process", "threads": cores, "items": one.summary["items"],
                          "seconds": round(wall, 3),
                          "images_per_second": round(one.summary["items"] / wall, 1),
                          "cpu_seconds": round(cpu, 3),
                          "images_per_cpu_second": round(one.summary["items"] / cpu, 1),
                          "dask_equal": same}))
        if not same:
            sys.exit("the Dask result differs from the single-process scan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-shards", help="tar shards of replicated images")
    m.add_argument("src")
    m.add_argument("out")
    m.add_argument("--copies", type=int, default=10)
    m.add_argument("--per-shard", type=int, default=64)
    s = sub.add_parser("scan", help="scan shards on a Dask cluster")
    s.add_argument("--store", required=True)
    s.add_argument("--scheduler", help="address of a running scheduler (default: LocalCluster)")
    s.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    s.add_argument("--threads-per-worker", type=int, default=1)
    s.add_argument("--scan-threads", type=int, default=0,
                   help="hashmatch threads per task (default: --threads-per-worker)")
    s.add_argument("--partitions", type=int, default=None, help="default: 2 per worker thread")
    s.add_argument("--dihedral", action="store_true")
    s.add_argument("--flagged-only", action="store_true",
                   help="return only matched, suppressed and failed items")
    s.add_argument("--out", help="write the items as JSON lines")
    s.add_argument("--compare", action="store_true",
                   help="also scan in this process and check the results are equal")
    s.add_argument("shards", nargs="+")
    args = p.parse_args()
    make_shards(args) if args.cmd == "make-shards" else scan(args)


if __name__ == "__main__":
    main()

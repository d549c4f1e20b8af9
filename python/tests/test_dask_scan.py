"""The scan over a Dask LocalCluster of worker processes equals a single-process scan, item for
item; each worker opens the store once however many partitions it runs."""
import os

import pytest

import hashmatch as hm
from test_scan import make_shards

pytestmark = [
    pytest.mark.skipif(not getattr(hm, "HAVE_SCAN", False), reason="built without the scan library"),
    # Debian's distributed 2022.12 on tornado 6.2: a deprecation inside tornado, not ours.
    pytest.mark.filterwarnings("ignore:make_current is deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    # Worker processes (not threads): each has its own interpreter, module cache and store.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, worker_dashboard_address=None) as c:
        with distributed.Client(c) as client:
            yield client


def test_dask_scan_equals_one_process(sample_store, dask_client, tmp_path):
    from hashmatch import cluster

    shards = []
    for r in range(4):  # 12 shards, ~40 items with one corrupt member per three shards
        d = tmp_path / f"r{r}"
        d.mkdir()
        shards += make_shards(d)
    options = dict(dihedral=True, signals=["sha1"], threads=1)

    with hm.Store(sample_store) as store:
        want = hm.scan(store, shards, **options)
    got = cluster.scan_with_dask(dask_client, sample_store, shards, partitions=5, **options)

    assert got.items == want.items
    assert len(got.items) == want.summary["items"] >= 40
    for k in ("items", "scanned", "matched", "suppressed", "failed", "failed_by_reason",
              "low_quality", "skipped_files", "bytes", "store_sequence", "sets"):
        assert got.summary[k] == want.summary[k], k
    assert want.summary["matched"] >= 20 and want.summary["failed"] == 4
    assert len(got.summary["partition_seconds"]) == 5

    # Five partitions on two single-threaded worker processes: both workers worked, and each
    # opened the store exactly once.
    opens = dask_client.run(cluster.open_counts)
    assert len(opens) == 2
    assert all(o == {os.fspath(sample_store): 1} for o in opens.values()), opens


def test_partitions_and_merge_errors(sample_store):
    from hashmatch import cluster

    assert cluster.partition(range(7), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert cluster.partition(range(2), 5) == [[0], [1]]
    with pytest.raises(hm.InvalidArgumentError):
        cluster.partition(range(3), 0)
    # A worker that sees another snapshot than the driver refuses to scan.
    with pytest.raises(hm.UnavailableError, match="same snapshot"):
        cluster.scan_partition(sample_store, [], expected_sequence=10**9)
    a = cluster.scan_partition(sample_store, [])
    b = dict(a, summary=dict(a["summary"], store_sequence=a["summary"]["store_sequence"] + 1))
    with pytest.raises(hm.UnavailableError, match="different store snapshots"):
        cluster.merge([a, b])


def test_example_script(sample_store, tmp_path):
    # python/examples/dask_scan.py end to end: make shards, scan them on its own LocalCluster
    # and compare with one process.
    import json
    import subprocess
    import sys

    from conftest import REPO, SAMPLES

    example = REPO / "python/examples/dask_scan.py"
    subprocess.run([sys.executable, example, "make-shards", SAMPLES / "images", tmp_path / "sh",
                    "--copies", "3", "--per-shard", "8"], check=True, capture_output=True)
    shards = sorted((tmp_path / "sh").glob("*.tar"))
    assert len(shards) == 4  # 10 images x 3 copies, 8 per shard
    p = subprocess.run([sys.executable, example, "scan", "--store", sample_store, "--workers", "2",
                        "--compare", "--out", tmp_path / "items.jsonl", *shards],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    dask, one = [json.loads(l) for l in p.stdout.splitlines()]
    assert dask["items"] == one["items"] == 30 and dask["matched"] == 21 and one["dask_equal"]
    assert dask["workers"] == 2
    assert len((tmp_path / "items.jsonl").read_text().splitlines()) == 30

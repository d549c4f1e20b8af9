"""hashmatch.scan: the bulk-scan pipeline from Python, item for item (byte for byte) what
`hashmatch scan` writes, over directories, manifests and tar shards."""
import io
import json
import tarfile

import pytest

import hashmatch as hm
from conftest import SAMPLES, run_cli

pytestmark = pytest.mark.skipif(not getattr(hm, "HAVE_SCAN", False),
                                reason="built without the scan library")


def make_shards(root, n_shards=3):
    """Tar shards (WebDataset style) of the sample pictures, plus a non-image member and a
    truncated PNG; returns their paths in order."""
    images = sorted((SAMPLES / "images").rglob("*.png"))
    shards = []
    for s in range(n_shards):
        path = root / f"shard-{s:04d}.tar"
        with tarfile.open(path, "w") as tar:
            for i, img in enumerate(images):
                if (i + s) % n_shards:
                    continue
                tar.add(img, arcname=f"{s:04d}/{img.stem}.png")
            meta = json.dumps({"shard": s}).encode()
            info = tarfile.TarInfo(f"{s:04d}/meta.json")
            info.size = len(meta)
            tar.addfile(info, io.BytesIO(meta))
            if s == 1:
                broken = images[0].read_bytes()[:300]
                info = tarfile.TarInfo(f"{s:04d}/broken.png")
                info.size = len(broken)
                tar.addfile(info, io.BytesIO(broken))
        shards.append(path)
    return shards


@pytest.fixture()
def shards(tmp_path):
    return make_shards(tmp_path)


def test_directory_scan_equals_the_cli(sample_store, cli, tmp_path):
    d = SAMPLES / "images"
    with hm.Store(sample_store) as store:
        lines, summary = hm.scan(store, [d], raw=True, threads=2)
        flagged, _ = hm.scan(store, d, raw=True, flagged_only=True)
    all_cli = run_cli(cli, "scan", "--store", sample_store, "--all-items", "--quiet", d)
    assert "".join(lines) == all_cli
    flagged_cli = run_cli(cli, "scan", "--store", sample_store, "--quiet", d, check=False)
    assert "".join(flagged) == flagged_cli
    # The four listed pictures and their edited copies but the mirrored one (no --dihedral).
    assert summary["items"] == 10 and summary["matched"] == 7 and summary["failed"] == 0


def test_tar_shards_and_manifest(sample_store, cli, shards, tmp_path):
    with hm.Store(sample_store) as store:
        res = hm.scan(store, shards, dihedral=True, signals=["sha256"])
        manifest = tmp_path / "list.txt"
        manifest.write_text("\n".join(str(s) for s in shards) + "\n")
        via_manifest = hm.scan(store, [manifest], kind="manifest", dihedral=True,
                               signals=["sha256"])
    assert res.items == via_manifest.items
    cli_lines = run_cli(cli, "scan", "--store", sample_store, "--all-items", "--dihedral",
                        "--algo", "sha256", "--quiet", *shards, check=False)
    assert [json.loads(l) for l in cli_lines.splitlines()] == res.items
    items = res.items
    assert [i["index"] for i in items] == list(range(len(items)))
    assert all(i["path"] == str(shards[int(i["member"][:4])]) for i in items)
    assert res.summary["skipped_files"] == 3  # one meta.json per shard: not items
    broken = [i for i in items if i["member"].endswith("broken.png")]
    assert len(broken) == 1 and broken[0]["result"] == "error" and "sha256" in broken[0]
    assert res.summary["failed"] == 1 and res.summary["failed_by_reason"] == {"corruption": 1}
    mirrored = [i for i in items if "mirrored" in i["member"]][0]
    assert mirrored["result"] == "match"
    assert {(m["set"], m["orientation"]) for m in mirrored["matches"]} == {("known", "flipy")}
    known1 = [i for i in items if i["member"].endswith("known-1.png")][0]
    # PDQ, MD5 and (computed because the store has a dhash64 set) dHash all match.
    assert {m["set"] for m in known1["matches"]} == {"known", "meta", "digests", "dhash"}
    assert "dhash64" in known1
    meta = [m for m in known1["matches"] if m["set"] == "meta"][0]
    assert (meta["key"], meta["classification"], meta["tags"]) == ("img-1", "A1", ["red", "shared"])
    versions = {s["set"]: s["version"] for s in res.summary["sets"]}
    assert all(m["set_version"] == versions[m["set"]] for i in items for m in i.get("matches", []))


def test_callback_streams_items_in_order_and_can_stop(sample_store, shards):
    seen = []
    with hm.Store(sample_store) as store:
        res = hm.scan(store, shards, callback=seen.append)
        assert res.items == [] and [i["index"] for i in seen] == list(range(res.summary["items"]))

        class Stop(Exception):
            pass

        def stop_at_three(item):
            if item["index"] == 3:
                raise Stop("enough")

        with pytest.raises(Stop, match="enough"):
            hm.scan(store, shards, callback=stop_at_three)


def test_scan_errors(sample_store, tmp_path):
    store = hm.Store(sample_store)
    with pytest.raises(hm.NotFoundError):
        hm.scan(store, [SAMPLES / "images"], sets=["nope"])
    with pytest.raises(hm.InvalidArgumentError, match="input kind"):
        hm.scan(store, [SAMPLES / "images"], kind="zip")
    # A missing input is one failed item, never fatal.
    res = hm.scan(store, [tmp_path / "missing-dir", SAMPLES / "images/listed/known-1.png"])
    assert [i["result"] for i in res.items] == ["error", "match"]
    store.close()
    with pytest.raises(hm.UnavailableError):
        hm.scan(store, [SAMPLES / "images"])
    with pytest.raises(hm.InvalidArgumentError, match="hashmatch.Store"):
        hm.scan("not a store", [SAMPLES / "images"])

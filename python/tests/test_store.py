"""Matching against a store built with the hashmatch CLI: the binding's hits equal `hashmatch
match --store`'s, with entry metadata and set versions; dihedral matching; read-only opens;
errors."""
import hashlib
import os

import numpy as np
import pytest

import hashmatch as hm
from conftest import SAMPLES, jsonl, run_cli


def hash_lines(path):
    return [l for l in path.read_text().splitlines() if l and not l.startswith("#")]


def test_sets_are_listed_with_their_versions(sample_store, cli):
    with hm.Store(sample_store) as store:
        sets = {s["name"]: s for s in store.sets()}
        cli_sets = {s["set"]: s for s in jsonl(run_cli(cli, "sets", "list", "--format", "jsonl",
                                                       "--store", sample_store))}
        assert sets.keys() == cli_sets.keys() == {"dhash", "digests", "generic", "known", "meta"}
        for name, s in sets.items():
            c = cli_sets[name]
            assert (s["signal"], s["threshold"], s["kind"], s["version"], s["counts"]["live"]) == \
                   (c["type"], c["threshold"], c["kind"], c["version"], c["entries"])
        assert sets["generic"]["counts"]["indexed"] == 2000
        assert store.set("meta")["signal"] == "pdq"
        assert store.sequence > 0
        e = store.entry("meta", "img-1")
        assert e["classification"] == "A1" and e["tags"] == ["red", "shared"]


def test_match_equals_the_cli(sample_store, cli):
    # The sample queries: near-duplicates of list entries at distances 0..48 and unrelated ones.
    queries_file = SAMPLES / "sample-queries.pdq.txt"
    queries = hm.from_hex(hash_lines(queries_file))
    with hm.Store(sample_store) as store:
        res = store.match(queries)
    assert res.num_queries == len(queries) and not res.truncated.any()
    versions = {s["set"]: s["version"] for s in res.searched}
    assert set(versions) == {"generic", "known", "meta"}  # the PDQ sets; not the md5 one
    got = [(hm.to_hex(queries[h.query]), h.set, h.set_version, h.key, h.listed_hash, h.distance,
            h.classification, h.tags) for h in res.hits]
    want = [(l["query"], l["set"], l["set_version"], l["key"], l["listed_hash"], l["distance"],
             l["classification"], l["tags"])
            for l in jsonl(run_cli(cli, "match", "--store", sample_store, "--format", "jsonl",
                                   queries_file))]
    assert got == want
    assert len(got) >= 5 and all(h.set_version == versions[h.set] for h in res.hits)
    # Narrowing the threshold drops the far hits; it cannot widen a set's threshold.
    narrow = store_match(sample_store, queries, threshold=12)
    assert {h.distance for h in narrow.hits} <= set(range(13)) and len(narrow.hits) < len(got)
    wide = store_match(sample_store, queries, threshold=200)
    assert max(h.distance for h in wide.hits) <= 31


def store_match(path, queries, **kw):
    with hm.Store(path) as store:
        return store.match(queries, **kw)


def test_images_match_with_metadata_and_orientation(sample_store):
    scan = sorted((SAMPLES / "images/scan").glob("*.png"))
    r = hm.hash_batch(scan, dihedral=True)
    with hm.Store(sample_store) as store:
        plain = store.match(r["pdq"][:, 0], sets=["known", "meta"])
        dihedral = store.match(r["pdq"], dihedral=True, sets=["known", "meta"])
    names = [p.name for p in scan]
    by_query = {}
    for h in dihedral.hits:
        by_query.setdefault(names[h.query], []).append(h)
    # The mirrored upload matches only through its flipped orientation.
    mirrored = "upload-03-known-3-mirrored.png"
    assert mirrored not in {names[h.query] for h in plain.hits}
    assert [(h.set, h.orientation, h.distance) for h in by_query[mirrored]] == \
           [("known", "flipy", 0)]
    # The edited copies of known-1 and known-2 hit `meta` too, with its metadata.
    meta = {names[h.query]: h for h in dihedral.hits if h.set == "meta"}
    assert meta["upload-01-known-1-resized.png"].key == "img-1"
    assert meta["upload-01-known-1-resized.png"].classification == "A1"
    assert meta["upload-02-known-2-brightened.png"].tags == ["shared"]
    assert not any(n.startswith("upload-0") and "unrelated" in n for n in by_query)
    # Each listed entry once per image, at its nearest orientation.
    keys = [(h.query, h.set, h.key) for h in dihedral.hits]
    assert len(keys) == len(set(keys))
    assert dihedral.hits[0].as_dict()["listed_hash"] == dihedral.hits[0].listed_hash


def test_digest_sets(sample_store):
    data = (SAMPLES / "images/listed/known-1.png").read_bytes()
    codes = np.frombuffer(hashlib.md5(data).digest() + hashlib.md5(b"x").digest(),
                          np.uint8).reshape(2, 16)
    with hm.Store(sample_store) as store:
        res = store.match(codes, signal="md5")
    assert [(h.query, h.set, h.distance) for h in res.hits] == [(0, "digests", 0)]


def test_64_bit_sets(sample_store):
    # (n, 8) dHash codes of the listed pictures and their edited copies against the dhash set.
    listed = sorted((SAMPLES / "images/listed").glob("*.png"))
    edited = sorted((SAMPLES / "images/scan").glob("*known*.png"))
    r = hm.hash_batch(listed + edited, signals=["dhash64"])
    assert r["dhash64"].shape == (8, 8)
    with hm.Store(sample_store) as store:
        res = store.match(r["dhash64"], signal="dhash64")
        assert [s["set"] for s in res.searched] == ["dhash"]
        exact = [(h.query, h.distance) for h in res.hits if h.query < 4]
        assert exact == [(0, 0), (1, 0), (2, 0), (3, 0)]
        assert all(h.distance <= 8 for h in res.hits)
        with pytest.raises(hm.InvalidArgumentError, match=r"\(n, 8\)"):
            store.match(r["dhash64"][:, :4], signal="dhash64")


def test_read_only_opens_write_nothing(sample_store):
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                    for p in sample_store.iterdir())
    a, b = hm.Store(sample_store), hm.Store(sample_store)  # no lock: both open at once
    q = hm.from_hex(hash_lines(SAMPLES / "sample-images.pdq.txt"))
    assert [h.key for h in a.match(q, sets=["known"]).hits] == \
           [h.key for h in b.match(q, sets=["known"]).hits]
    a.close()
    b.close()
    after = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                   for p in sample_store.iterdir())
    assert before == after


def test_errors(sample_store, tmp_path):
    with pytest.raises(hm.Error) as e:
        hm.Store(tmp_path / "no-store-here")
    assert e.value.code in ("not_found", "io_error") and str(e.value)
    store = hm.Store(sample_store)
    q = np.zeros((1, 32), np.uint8)
    with pytest.raises(hm.NotFoundError, match="nope"):
        store.match(q, sets=["nope"])
    with pytest.raises(hm.InvalidArgumentError, match=r"\(n, 16\)"):
        store.match(q, signal="md5")
    with pytest.raises(hm.InvalidArgumentError, match="dtype uint8"):
        store.match(q.astype(np.float64))
    with pytest.raises(hm.InvalidArgumentError, match=r"\(n, 8, 32\)"):
        store.match(q, dihedral=True)
    with pytest.raises(hm.NotFoundError):
        store.entry("meta", "no-such-key")
    store.close()
    with pytest.raises(hm.UnavailableError, match="closed"):
        store.match(q)
    # A damaged store is refused with the library's message naming the file.
    broken = tmp_path / "broken"
    os.makedirs(broken)
    for p in sample_store.iterdir():
        data = p.read_bytes()
        if p.name.startswith("CURRENT"):
            data = b"MANIFEST-999999\n"
        (broken / p.name).write_bytes(data)
    with pytest.raises(hm.Error, match="MANIFEST"):
        hm.Store(broken)


def test_suppress_sets_cancel_hits(cli, tmp_path):
    # An allow-list (suppress set) holding known-2's hash: a query that hits it has its match-set
    # hits moved to `suppressed`, with the allow-list hit in `suppressors`; as the CLI reports.
    d = tmp_path / "s"
    hashes = hash_lines(SAMPLES / "sample-images.pdq.txt")
    (tmp_path / "allow.txt").write_text(hashes[1] + "\n")
    run_cli(cli, "sets", "create", "known", "--type", "pdq", "--store", d)
    run_cli(cli, "import", "known", SAMPLES / "sample-images.pdq.txt", "--store", d)
    run_cli(cli, "sets", "create", "allow", "--type", "pdq", "--kind", "suppress", "--store", d)
    run_cli(cli, "import", "allow", tmp_path / "allow.txt", "--store", d)
    queries = hm.from_hex(hashes)
    with hm.Store(d) as store:
        res = store.match(queries)
        scan = sorted((SAMPLES / "images/scan").glob("*.png"))
        dihedral = store.match(hm.hash_batch(scan, dihedral=True)["pdq"], dihedral=True)
    assert [(h.query, h.set) for h in res.hits] == [(0, "known"), (2, "known"), (3, "known")]
    assert [(h.query, h.set, h.suppressed) for h in res.suppressed] == [(1, "known", True)]
    assert [(h.query, h.set) for h in res.suppressors] == [(1, "allow")]
    kinds = {s["set"]: s["kind"] for s in res.searched}
    assert kinds == {"known": "match", "allow": "suppress"}
    cli_lines = jsonl(run_cli(cli, "match", "--store", d, "--format", "jsonl",
                              SAMPLES / "sample-images.pdq.txt"))
    assert [(l["key"], l.get("suppressed", False)) for l in cli_lines] == \
           [(h.key, h.suppressed) for h in sorted(res.hits + res.suppressed, key=lambda h: h.query)]
    # Per image over all orientations: the brightened copy of known-2 is cancelled.
    names = [p.name for p in scan]
    assert "upload-02-known-2-brightened.png" in {names[h.query] for h in dihedral.suppressed}
    assert "upload-02-known-2-brightened.png" not in {names[h.query] for h in dihedral.hits}

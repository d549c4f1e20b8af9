"""In-memory indexes from numpy codes: exact against a brute-force numpy oracle, for flat and MIH,
PDQ (32-byte) and 64-bit (8-byte) codes; LiveIndex updates; files; errors."""
import numpy as np
import pytest

import hashmatch as hm

POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.int32)


def brute_distances(queries, codes):
    return POPCOUNT[queries[:, None, :] ^ codes[None, :, :]].sum(axis=2)


def clustered_codes(rng, n, code_bytes, centres=20):
    """Codes in clusters (so that small radii find several neighbours), plus uniform noise."""
    base = rng.integers(0, 256, (centres, code_bytes), dtype=np.uint8)
    codes = base[rng.integers(0, centres, n)]
    flips = rng.random((n, code_bytes * 8)) < 0.06
    return codes ^ np.packbits(flips, axis=1)


@pytest.mark.parametrize("method", ["flat", "mih", "auto"])
@pytest.mark.parametrize("code_bytes,radius", [(32, 31), (8, 6)])
def test_range_search_and_knn_are_exact(method, code_bytes, radius):
    rng = np.random.default_rng(code_bytes)
    both = clustered_codes(rng, 6040, code_bytes)  # queries from the same clusters
    codes = both[:6000]
    ids = np.arange(6000, dtype=np.uint64) * 7919 + 11  # not 0..n-1: results carry the ids
    queries = np.concatenate([both[6000:],
                              rng.integers(0, 256, (10, code_bytes), dtype=np.uint8)])
    index = hm.Index(codes, ids, method=method, expected_radius=radius)
    assert len(index) == 6000 and index.code_bytes == code_bytes
    if method != "auto":
        assert index.stats()["method"].startswith(method)

    d = brute_distances(queries, codes)
    res = index.range_search(queries, radius=radius, threads=2)
    assert res.offsets.shape == (51,) and not res.truncated.any()
    for q in range(len(queries)):
        got = list(zip(res.distances[res.offsets[q]:res.offsets[q + 1]].tolist(),
                       res.ids[res.offsets[q]:res.offsets[q + 1]].tolist()))
        want = sorted((int(d[q, i]), int(ids[i])) for i in np.nonzero(d[q] <= radius)[0])
        assert got == want, q
    assert res.offsets[-1] > len(queries)  # the clusters give real neighbours

    knn = index.knn(queries, k=5)
    for q in range(len(queries)):
        want = sorted((int(d[q, i]), int(ids[i])) for i in range(len(codes)))[:5]
        assert list(zip(knn.distances[q].tolist(), knn.ids[q].tolist())) == want


def test_truncation_keeps_the_nearest():
    codes = np.zeros((50, 32), np.uint8)
    codes[:, 0] = np.arange(50, dtype=np.uint8)  # distances 0..6 from the zero query
    index = hm.Index(codes)
    res = index.range_search(np.zeros((1, 32), np.uint8), radius=256, max_hits_per_query=3)
    assert res.truncated.tolist() == [True]
    assert res.distances.tolist() == [0, 1, 1] and res.ids.tolist() == [0, 1, 2]


def test_knn_on_a_small_index_pads_the_rows():
    index = hm.Index(np.zeros((2, 8), np.uint8), np.array([5, 9]))
    knn = index.knn(np.zeros(8, np.uint8), k=4)  # one query as a 1-D array
    assert knn.ids.shape == (1, 4)
    assert knn.ids[0, :2].tolist() == [5, 9] and knn.distances[0].tolist() == [0, 0, -1, -1]
    assert knn.ids[0, 2] == np.iinfo(np.uint64).max


def test_save_and_load(tmp_path):
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    index = hm.Index(codes, method="mih")
    index.save(tmp_path / "x.idx")
    loaded = hm.Index.load(tmp_path / "x.idx")
    q = codes[:20] ^ np.uint8(1)
    a, b = index.range_search(q, radius=40), loaded.range_search(q, radius=40)
    assert all((x == y).all() for x, y in zip(a, b))
    assert (loaded.codes() == codes).all() and (loaded.ids() == np.arange(5000)).all()
    # A damaged file is refused with the library's message, not mapped.
    data = bytearray((tmp_path / "x.idx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.idx").write_bytes(bytes(data))
    with pytest.raises(hm.CorruptionError):
        hm.Index.load(tmp_path / "bad.idx")
    with pytest.raises(hm.Error):
        hm.Index.load(tmp_path / "missing.idx")


def test_live_index_add_remove_search(tmp_path):
    rng = np.random.default_rng(2)
    live = hm.LiveIndex(32)
    codes = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    live.add(codes[:200], np.arange(200))
    live.add(codes[200:], np.arange(200, 300))
    assert len(live) == 300 and 250 in live
    live.remove(np.array([0, 1, 250]))
    assert len(live) == 297 and 250 not in live
    res = live.range_search(codes[[0, 2, 250]], radius=0)
    assert res.ids.tolist() == [2]  # 0 and 250 removed, 2 still there
    with pytest.raises(hm.AlreadyExistsError, match="id 5"):  # live: the batch is refused
        live.add(codes[:2], np.array([5, 1000]))
    assert 1000 not in live
    with pytest.raises(hm.NotFoundError):
        live.remove(np.array([0]))
    live.compact()
    live.save(tmp_path / "live.idx")
    reopened = hm.LiveIndex.open(tmp_path / "live.idx")
    assert len(reopened) == 297
    assert (reopened.knn(codes[10:20]).ids[:, 0] == np.arange(10, 20)).all()


def test_misuse_is_refused():
    with pytest.raises(hm.InvalidArgumentError, match="dtype uint8"):
        hm.Index(np.zeros((4, 32), np.int64))
    with pytest.raises(hm.InvalidArgumentError):  # not a multiple of 8 bytes
        hm.Index(np.zeros((4, 12), np.uint8))
    with pytest.raises(hm.InvalidArgumentError):  # duplicate ids
        hm.Index(np.zeros((2, 8), np.uint8), np.array([3, 3]))
    with pytest.raises(hm.InvalidArgumentError, match="negative"):
        hm.Index(np.zeros((2, 8), np.uint8), np.array([-1, 3]))
    index = hm.Index(np.zeros((2, 32), np.uint8))
    with pytest.raises(hm.InvalidArgumentError, match=r"expected shape \(n, 32\)"):
        index.range_search(np.zeros((1, 8), np.uint8))
    with pytest.raises(hm.InvalidArgumentError, match="method"):
        hm.Index(np.zeros((2, 8), np.uint8), method="lsh")
    with pytest.raises(hm.InvalidArgumentError, match="k must be"):
        index.knn(np.zeros((1, 32), np.uint8), k=0)


def test_live_index_searches_while_another_thread_adds():
    # Both calls release the GIL: a reader searches while a writer adds; every search sees a
    # consistent version (the codes added so far, each found at distance 0).
    import threading

    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (4000, 32), dtype=np.uint8)
    live = hm.LiveIndex(32, method="flat")
    done = threading.Event()
    errors = []

    def writer():
        for start in range(0, 4000, 200):
            live.add(codes[start:start + 200], np.arange(start, start + 200))
        done.set()

    def reader():
        while not done.is_set():
            res = live.range_search(codes[:4000:97], radius=0)
            for q in range(len(res.offsets) - 1):
                ids = res.ids[res.offsets[q]:res.offsets[q + 1]].tolist()
                if ids not in ([], [q * 97]):
                    errors.append((q, ids))

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(live) == 4000
    final = live.range_search(codes, radius=0)
    assert (final.ids == np.arange(4000)).all()

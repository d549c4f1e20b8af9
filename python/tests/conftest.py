"""Fixtures shared by the binding's tests.

ctest runs these with PYTHONPATH=<build>/python (the module as built), HASHMATCH_CLI=<the
hashmatch tool> and HASHMATCH_SHARED_DIR=<../shared>. Tests that need the reference data skip when
it is absent, but fail when CI is set (CI must have it); tests that need the CLI skip when this
build has none (-DHASHMATCH_BUILD_CLI=OFF), and fail under CI too.
"""
import json
import os
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def _missing(what):
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {what}")
    pytest.skip(what)


@pytest.fixture(scope="session")
def shared_dir():
    d = Path(os.environ.get("HASHMATCH_SHARED_DIR", REPO.parent / "shared"))
    if not (d / "pdq-reference" / "expected.tsv").is_file():
        _missing(f"the shared reference data is missing at {d}")
    return d


@pytest.fixture(scope="session")
def cli():
    exe = os.environ.get("HASHMATCH_CLI", "")
    if not exe or not os.access(exe, os.X_OK):
        _missing("the hashmatch CLI is not available (HASHMATCH_CLI)")
    return exe


def run_cli(cli, *args, check=True):
    """Runs the CLI; returns stdout. A failing command fails the test with its stderr."""
    p = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        pytest.fail(f"hashmatch {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p.stdout


def jsonl(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_png(path, pixels):
    """Writes a uint8 array (H, W), (H, W, 3) or (H, W, 4) as an 8-bit PNG (no filter)."""
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    colour = {1: 0, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + a[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    Path(path).write_bytes(data)
    return data


def synthetic_image(seed, h=96, w=128, channels=3):
    """A test picture with edges and texture (random blocks plus a sinusoid, mild noise): PDQ
    quality 100 and a hash that rotating the pixels changes only in a few bits."""
    rng = np.random.default_rng(seed)
    blocks = rng.uniform(0, 255, (6, 6, channels))
    img = np.kron(blocks, np.ones((h // 6 + 1, w // 6 + 1, 1)))[:h, :w]
    y, x = np.mgrid[0:h, 0:w]
    wave = 0.5 + 0.5 * np.sin(x / 9.0 + rng.uniform(0, 6)) * np.cos(y / 13.0)
    img = 0.7 * img + 0.3 * 255 * wave[..., None] + rng.normal(0, 2, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., 0] if channels == 1 else img


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory, cli):
    """A store built with the CLI from the bundled samples:
    known     pdq, threshold 31: the four listed sample pictures (keys = their hashes)
    generic   pdq: the 2000-hash sample list (plain hex)
    meta      pdq, CSV with keys, classification and tags: known-1 and known-2
    digests   md5: the MD5 of listed/known-1.png
    dhash     dhash64, threshold 8: the dHash of the four listed pictures (from `hashmatch hash`)
    """
    d = tmp_path_factory.mktemp("store") / "s"
    tmp = d.parent
    run_cli(cli, "sets", "create", "known", "--type", "pdq", "--store", d)
    run_cli(cli, "import", "known", SAMPLES / "sample-images.pdq.txt", "--store", d)
    run_cli(cli, "sets", "create", "generic", "--type", "pdq", "--store", d)
    run_cli(cli, "import", "generic", SAMPLES / "sample-list.pdq.txt", "--store", d)
    hashes = [l for l in (SAMPLES / "sample-images.pdq.txt").read_text().splitlines()
              if l and not l.startswith("#")]
    csv = tmp / "meta.csv"
    csv.write_text("key,hash,classification,tags\n"
                   f"img-1,{hashes[0]},A1,\"red shared\"\n"
                   f"img-2,{hashes[1]},B2,shared\n")
    run_cli(cli, "sets", "create", "meta", "--type", "pdq", "--store", d)
    run_cli(cli, "import", "meta", csv, "--format", "csv", "--store", d)
    import hashlib
    md5 = hashlib.md5((SAMPLES / "images/listed/known-1.png").read_bytes()).hexdigest()
    (tmp / "md5.txt").write_text(md5 + "\n")
    run_cli(cli, "sets", "create", "digests", "--type", "md5", "--threshold", "0", "--store", d)
    run_cli(cli, "import", "digests", tmp / "md5.txt", "--format", "plain", "--store", d)
    listed = sorted((SAMPLES / "images/listed").glob("*.png"))
    dhashes = [line.split(",")[0] for line in
               run_cli(cli, "hash", "--algo", "dhash64", "--quiet", *listed).splitlines()]
    (tmp / "dhash.txt").write_text("\n".join(dhashes) + "\n")
    run_cli(cli, "sets", "create", "dhash", "--type", "dhash64", "--threshold", "8", "--store", d)
    run_cli(cli, "import", "dhash", tmp / "dhash.txt", "--format", "plain", "--store", d)
    return d

#!/usr/bin/python3
"""Regenerates the bundled sample images (synthetic, deterministic; standard library only).

samples/images/listed/   four "known" pictures; their PDQ hashes form samples/sample-images.pdq.txt
samples/images/scan/     what the demo scans: edited copies of the listed pictures (resized,
                         brightened, mirrored, noisy) and two unrelated pictures

Run from the repository root, then rebuild the list with the project's own hasher:
    /usr/bin/python3 samples/generate_images.py
    build/demo/client/hashmatch hash samples/images/listed | cut -d, -f1 > samples/sample-images.pdq.txt
"""
import os
import random
import struct
import zlib


def write_png(path, w, h, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def scene(seed, w=320, h=240):
    """A picture of gradient background, rectangles and discs: RGB rows."""
    rng = random.Random(seed)
    c0 = [rng.randrange(256) for _ in range(3)]
    c1 = [rng.randrange(256) for _ in range(3)]
    img = [[[int(c0[k] + (c1[k] - c0[k]) * (x + y) / (w + h)) for k in range(3)] for x in range(w)]
           for y in range(h)]
    for _ in range(12):
        col = [rng.randrange(256) for _ in range(3)]
        if rng.random() < 0.5:
            x0, y0 = rng.randrange(w), rng.randrange(h)
            x1, y1 = min(w, x0 + rng.randrange(20, 140)), min(h, y0 + rng.randrange(20, 120))
            for y in range(y0, y1):
                for x in range(x0, x1):
                    img[y][x] = list(col)
        else:
            cx, cy, r = rng.randrange(w), rng.randrange(h), rng.randrange(10, 70)
            for y in range(max(0, cy - r), min(h, cy + r)):
                for x in range(max(0, cx - r), min(w, cx + r)):
                    if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
                        img[y][x] = list(col)
    return img


def flatten(img):
    return [[v for px in row for v in px] for row in img]


def save(path, img):
    write_png(path, len(img[0]), len(img), flatten(img))


def resized(img, w, h):
    H, W = len(img), len(img[0])
    return [[img[y * H // h][x * W // w] for x in range(w)] for y in range(h)]


def brightened(img, d):
    return [[[min(255, v + d) for v in px] for px in row] for row in img]


def mirrored(img):
    return [list(reversed(row)) for row in img]


def noisy(img, seed, amp):
    rng = random.Random(seed)
    return [[[max(0, min(255, v + rng.randint(-amp, amp))) for v in px] for px in row] for row in img]


os.makedirs("samples/images/listed", exist_ok=True)
os.makedirs("samples/images/scan", exist_ok=True)
listed = {f"known-{i}": scene(100 + i) for i in range(1, 5)}
for name, img in listed.items():
    save(f"samples/images/listed/{name}.png", img)
save("samples/images/scan/upload-01-known-1-resized.png", resized(listed["known-1"], 200, 150))
save("samples/images/scan/upload-02-known-2-brightened.png", brightened(listed["known-2"], 25))
save("samples/images/scan/upload-03-known-3-mirrored.png", mirrored(listed["known-3"]))
save("samples/images/scan/upload-04-known-4-noisy.png", noisy(listed["known-4"], 7, 20))
save("samples/images/scan/upload-05-unrelated.png", scene(900))
save("samples/images/scan/upload-06-unrelated.png", scene(901))

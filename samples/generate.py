#!/usr/bin/python3
"""Regenerates the bundled sample: a synthetic PDQ list and queries with planted near-duplicates.

Deterministic (fixed seed). The hashes are synthetic (each has exactly 128 of 256 bits set, like
real PDQ hashes); they stand for no image. Run from the repository root:
    /usr/bin/python3 samples/generate.py
"""
import random

rng = random.Random(20261127)


def pdq_like():
    bits = rng.sample(range(256), 128)
    n = 0
    for b in bits:
        n |= 1 << b
    return n


def flip(n, k):
    for b in rng.sample(range(256), k):
        n ^= 1 << b
    return n


def hexs(n):
    return format(n, "064x")


listed = [pdq_like() for _ in range(2000)]
with open("samples/sample-list.pdq.txt", "w") as f:
    f.write("# hashmatch bundled sample list: 2000 synthetic PDQ hashes (samples/generate.py)\n")
    for n in listed:
        f.write(hexs(n) + "\n")

# Queries: near-duplicates of listed hashes at chosen distances, and unrelated hashes.
with open("samples/sample-queries.pdq.txt", "w") as f:
    f.write("# queries: near-duplicates of list entries at distance 0, 4, 12, 24, 31 (match at the\n")
    f.write("# default threshold 31), 32 and 48 (do not match), then 5 unrelated hashes\n")
    for row, k in [(0, 0), (17, 4), (256, 12), (999, 24), (1500, 31), (1700, 32), (1999, 48)]:
        f.write(hexs(flip(listed[row], k)) + "\n")
    for _ in range(5):
        f.write(hexs(pdq_like()) + "\n")

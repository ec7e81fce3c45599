#!/usr/bin/env python3
"""scripts/valid-split.py TRAIN.tsv[.gz] FRACTION SEED TRAIN_OUT VALID_OUT

Writes the two parts `nlprnn train TRAIN --valid-split FRACTION --seed SEED` makes of a TSV
corpus with a header: VALID_OUT the held-out rows, TRAIN_OUT the others (both with the header, rows
in file order). So a validation set the shipped classifier never trained on can be reused by other
steps (scripts/train-ko-self.sh). It repeats the library's draws: nr_seed_mix(SEED, 0x5EED, 1)
seeds xoshiro256** (common/rng.c, splitmix64 seeding), Fisher-Yates over the examples as
nr_dataset_shuffle does, the last round(FRACTION * n) held out (corpora/dataset.c
nr_dataset_split). It assumes every data row is an example (no empty or malformed rows: true of
nsmc/train.tsv.gz); tests/test_valid_split.sh checks it against `nlprnn train` itself.
"""
import gzip
import sys

M = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


class Xoshiro:
    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed, v = splitmix64(seed)
            self.s.append(v)

    def u64(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        limit = M - M % n
        while True:
            x = self.u64()
            if x < limit:
                return x % n


def seed_mix(a, b, c):
    return ((a * 0x9E3779B97F4A7C15) & M) ^ (((b + 0x632BE59BD9B4E019) * 0xC2B2AE3D27D4EB4F) & M) ^ \
        (((c + 1) * 0x165667B19E3779F9) & M)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.strip().splitlines()[0])
    src, frac, seed, train_out, valid_out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header, rows = lines[0], lines[1:]
    n = len(rows)
    order = list(range(n))
    rng = Xoshiro(seed_mix(seed, 0x5EED, 1))
    for i in range(n, 1, -1):
        j = rng.below(i)
        order[i - 1], order[j] = order[j], order[i - 1]
    k = int(frac * n + 0.5)
    if frac > 0 and n >= 2:
        k = min(max(k, 1), n - 1)
    held = set(order[n - k:])
    with open(train_out, "w", encoding="utf-8") as tr, open(valid_out, "w", encoding="utf-8") as va:
        tr.write(header + "\n")
        va.write(header + "\n")
        for i, row in enumerate(rows):
            (va if i in held else tr).write(row + "\n")


if __name__ == "__main__":
    main()

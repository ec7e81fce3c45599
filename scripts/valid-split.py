#!/usr/bin/env python3
"""scripts/valid-split.py TRAIN.tsv[.gz] FRACTION SEED TRAIN_OUT VALID_OUT

Writes the two parts `nlprnn train TRAIN --valid-split FRACTION --seed SEED` makes of a TSV
corpus with a header: VALID_OUT the held-out rows, TRAIN_OUT the others (both with the header, rows
in file order). So a validation set the shipped classifier never trained on can be reused by other
steps (scripts/train-ko-self.sh). It repeats the library's draws: nr_seed_mix(SEED, 0x5EED, 1)
seeds xoshiro256** (common/rng.c, splitmix64 seeding), Fisher-Yates over the examples as
nr_dataset_shuffle does, the last round(FRACTION * n) held out (corpora/dataset.c
nr_dataset_split). It assumes every data row is an example (no empty or malformed rows: true of
nsmc/train.tsv.gz); tests/test_cli_classify.sh checks it against `nlprnn train` itself.
"""
import gzip
import sys

from nlprnn_rng import Xoshiro, seed_mix  # scripts/nlprnn_rng.py


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
    rng.shuffle(order)
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

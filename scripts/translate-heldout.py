#!/usr/bin/env python3
"""scripts/translate-heldout.py PAIRS.tsv[.gz] SEED VALID OUT.tsv

Writes the pairs that `nlprnn translate-train PAIRS --seed SEED --valid VALID` holds out for
validation (header line first), so that models can be scored on text none of them trained on.
SEED is the split's seed: translate-train's --split-seed, or its --seed when --split-seed is 0
(the default); `--seed 2 --split-seed 1` holds out the pairs of SEED 1.
It repeats tasks/translate/train.c (nr_tr_held_out): pair i (0-based, in file order, after the
header) is held out when the first uniform draw of xoshiro256** seeded (splitmix64) with
nr_seed_mix(SEED ^ 0x76616c6964, i, 0) is below VALID. Pairs the trainer leaves out (more than
--max-len pieces or an empty side) would shift the indices: the tatoeba-train pairs have none.
Pairs appended after the file's own (back-translations) do not move the held-out ones."""
import gzip
import os
import sys

from nlprnn_rng import Xoshiro, seed_mix  # scripts/nlprnn_rng.py


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, seed, valid, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    rows = [l for l in lines[1:] if l]
    kept = [l for i, l in enumerate(rows) if Xoshiro(seed_mix(seed ^ 0x76616c6964, i, 0)).uniform() < valid]
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(lines[0] + "\n" + "".join(l + "\n" for l in kept))
    os.replace(tmp, out)
    print(f"translate-heldout: {len(kept)} of {len(rows)} pairs held out -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

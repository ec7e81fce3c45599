#!/usr/bin/env python3
"""scripts/translate-heldout-long.py TRAIN.tsv[.gz] PROFILE.tsv[.gz] SEED N HELDOUT.tsv REST.tsv

Holds out N pairs of TRAIN whose SOURCE-side (Korean, column ko) length profile matches the ko
column of PROFILE, and writes them to HELDOUT.tsv (columns en, ko) and the other pairs of TRAIN to
REST.tsv (TRAIN's header and columns), less every pair that shares its Korean or its English
sentence with a held-out one. Models trained on REST.tsv can then be scored on HELDOUT.tsv, a
validation set built the way tatoeba-test was built from the Tatoeba export (docs/experiments/translate.md,
"Choosing the recipe", thirteenth round):

- tatoeba-test keeps only pairs whose sentences never occur in tatoeba-train; here the candidates
  are the pairs whose Korean AND English sentences each occur once in TRAIN (no other translation
  of either is left to train on), and REST drops any pair sharing a sentence with a held-out one;
- tatoeba-test's Korean sentences are longer than tatoeba-train's; here the held-out pairs are
  drawn, bin by bin, so that the share of each bin of Korean length (characters without spaces,
  BINS below) is PROFILE's ko column's (largest remainders give the N pairs; a bin with too few
  candidates takes them all and says so).

Only PROFILE's ko column is read (the source: what a translator sees at run time); its English
side and any score are not used. The draw: within each bin, in TRAIN's order, the candidates are
shuffled by a Fisher-Yates of xoshiro256** (scripts/nlprnn_rng.py) seeded with
nr_seed_mix(SEED ^ 0x6c6f6e67, bin, 0), and the first ones taken; the held-out pairs are written
in TRAIN's order. The same arguments give the same files."""
import gzip
import os
import sys
from collections import Counter

from nlprnn_rng import Xoshiro, seed_mix  # scripts/nlprnn_rng.py

# upper bounds (inclusive) of the Korean length bins, characters without spaces; the last is open
BINS = [4, 6, 8, 10, 12, 14, 16, 19, 23, 28]


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l]
    head = lines[0].split("\t")
    return lines[0], head, [l.split("\t") for l in lines[1:]]


def length_bin(ko):
    n = len(ko.replace(" ", ""))
    for i, top in enumerate(BINS):
        if n <= top:
            return i
    return len(BINS)


def write(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(header + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    train_path, prof_path, seed, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    held_path, rest_path = sys.argv[5], sys.argv[6]
    header, head, rows = read(train_path)
    ko, en = head.index("ko"), head.index("en")
    _, phead, prows = read(prof_path)
    pko = phead.index("ko")
    nb = len(BINS) + 1

    # the profile: the share of each Korean length bin in PROFILE, as N pairs (largest remainders)
    pc = Counter(length_bin(r[pko]) for r in prows)
    exact = [n * pc[b] / len(prows) for b in range(nb)]
    want = [int(x) for x in exact]
    for b in sorted(range(nb), key=lambda b: (-(exact[b] - want[b]), b))[: n - sum(want)]:
        want[b] += 1

    kc = Counter(r[ko] for r in rows)
    ec = Counter(r[en] for r in rows)
    cand = [[] for _ in range(nb)]
    for i, r in enumerate(rows):
        if kc[r[ko]] == 1 and ec[r[en]] == 1:
            cand[length_bin(r[ko])].append(i)
    held = []
    for b in range(nb):
        c = cand[b][:]
        rng = Xoshiro(seed_mix(seed ^ 0x6c6f6e67, b, 0))
        rng.shuffle(c)
        if len(c) < want[b]:
            print(f"translate-heldout-long: bin {b}: {len(c)} candidates for {want[b]}: all taken", file=sys.stderr)
        held += c[: want[b]]
    held = sorted(held)
    hk = {rows[i][ko] for i in held}
    he = {rows[i][en] for i in held}
    hs = set(held)
    rest = [r for i, r in enumerate(rows) if i not in hs and r[ko] not in hk and r[en] not in he]
    dropped = len(rows) - len(held) - len(rest)
    write(held_path, "en\tko", [[rows[i][en], rows[i][ko]] for i in held])
    write(rest_path, header, rest)

    def profile(rs, k, e):
        m = max(1, len(rs))
        return (f"Korean {sum(len(r[k].replace(' ', '')) for r in rs) / m:.2f} characters "
                f"{sum(len(r[k].split()) for r in rs) / m:.2f} words"
                + (f", English {sum(len(r[e].split()) for r in rs) / m:.2f} words" if e is not None else ""))
    print(f"translate-heldout-long: {len(held)} of {len(rows)} pairs held out -> {held_path} "
          f"({profile([rows[i] for i in held], ko, en)}; the profile's {profile(prows, pko, None)})", file=sys.stderr)
    print(f"translate-heldout-long: {len(rest)} pairs left to train on -> {rest_path} "
          f"({dropped} more dropped: they share a sentence with a held-out pair)", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""bench/cloze.py: the automatic Korean cloze benchmark made from nsmc/lm_valid, and its scorer.

make:   python3 bench/cloze.py make --train ../shared/corpora/nsmc/lm_train.txt.gz \
            --valid ../shared/corpora/nsmc/lm_valid.txt.gz --out bench/cloze.tsv [--n 500] [--seed 1]
        [--exclude ITEMS.tsv --keep N]: then leave out the items whose review (the sentence with
        the answer put back) is one of ITEMS.tsv's, and keep the first N of the others. The
        validation set on which fill's proposals and calibration were chosen (docs/lm.md) is
        `make ... --n 900 --seed 2 --exclude bench/cloze.tsv --keep 400`: disjoint from the
        benchmark's 500 reviews, which are reported, not used to choose.
score:  python3 bench/cloze.py score --items bench/cloze.tsv --cand-out C.txt --open-out O.txt

Items (make): words are space-separated eojeol. A "frequent content word" is an eojeol made only
of Hangul syllables, at least 2 syllables long, seen at least --min-count (200) times in lm_train,
and not among the --skip-top (50) most frequent eojeol (those are mostly adverbs and function
words: 너무, 정말, 진짜, 그냥, ...). Validation reviews (shuffled with --seed) with at least 4
eojeol and at least one such word give one item each: one of those words (chosen at random) is
replaced by "___" (its first occurrence). The 7 distractors are drawn at random among the 40
content words nearest in frequency rank to the answer (none of them in the sentence), so the
8 candidates have similar frequencies and the answer cannot be told by frequency alone.

Line format of cloze.tsv: SENTENCE_WITH___<TAB>ANSWER<TAB>C1,C2,...,C8 (candidates shuffled).

Scoring reads `nlprnn fill --input` outputs: with the candidates (top-1 accuracy among 8) and
open (top-1: the best proposal is the answer; top-5 recall: the answer among the 5 best proposals).
"""
import argparse
import collections
import gzip
import random
import re
import sys

HANGUL = re.compile(r"^[\uac00-\ud7a3]{2,}$")


def lines(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield line.rstrip("\n").rstrip("\r")


def make(a):
    count = collections.Counter()
    for line in lines(a.train):
        count.update(line.split())
    ranked = [w for w, _ in count.most_common()]
    skip = set(ranked[: a.skip_top])
    content = [w for w in ranked if HANGUL.match(w) and count[w] >= a.min_count and w not in skip]
    rank = {w: i for i, w in enumerate(content)}
    rng = random.Random(a.seed)
    valid = [l for l in lines(a.valid) if l.strip()]
    rng.shuffle(valid)
    items = []
    n = 0
    for line in valid:
        if n >= a.n:
            break
        words = line.split()
        if len(words) < 4 or "_" in line or "\t" in line or "[MASK]" in line:
            continue
        elig = sorted({w for w in words if w in rank})
        if not elig:
            continue
        ans = rng.choice(elig)
        i = words.index(ans)
        sent = " ".join(words[:i] + ["___"] + words[i + 1:])
        r = rank[ans]
        lo, hi = max(0, r - 20), min(len(content), r + 21)
        pool = [w for w in content[lo:hi] if w != ans and w not in words]
        if len(pool) < 7:
            continue
        cands = rng.sample(pool, 7) + [ans]
        rng.shuffle(cands)
        items.append(f"{sent}\t{ans}\t{','.join(cands)}\n")
        n += 1
    if a.exclude:
        def review(item):
            f = item.rstrip("\n").split("\t")
            return f[0].replace("___", f[1], 1)
        seen = {review(l) for l in lines(a.exclude)}
        items = [l for l in items if review(l) not in seen][: a.keep]
    out = open(a.out, "w", encoding="utf-8")
    out.writelines(items)
    out.close()
    print(f"cloze: {len(items)} items, {len(content)} content words (count >= {a.min_count}, "
          f"top {a.skip_top} eojeol skipped) -> {a.out}", file=sys.stderr)


def score(a):
    items = [l.split("\t") for l in lines(a.items)]
    res = {}
    if a.cand_out:
        got = list(lines(a.cand_out))
        ok = sum(1 for it, g in zip(items, got) if g.split("\t")[:1] == [it[1]])
        res["top1_of_8"] = (ok, len(got))
    if a.open_out:
        got = list(lines(a.open_out))
        ok1 = sum(1 for it, g in zip(items, got) if g.split("\t")[:1] == [it[1]])
        ok = sum(1 for it, g in zip(items, got) if it[1] in g.split("\t")[0:10:2])
        res["open_top1"] = (ok1, len(got))
        res["open_top5"] = (ok, len(got))
    for k, (ok, n) in res.items():
        print(f"{k}: {ok}/{n} = {100.0 * ok / max(n, 1):.1f}%")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--train", required=True)
    m.add_argument("--valid", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--n", type=int, default=500)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--min-count", type=int, default=200)
    m.add_argument("--skip-top", type=int, default=50)
    m.add_argument("--exclude", help="items file whose reviews are left out (after making --n items)")
    m.add_argument("--keep", type=int, default=None, help="with --exclude: keep the first N items")
    s = sub.add_parser("score")
    s.add_argument("--items", required=True)
    s.add_argument("--cand-out")
    s.add_argument("--open-out")
    a = ap.parse_args()
    make(a) if a.cmd == "make" else score(a)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""scripts/soft-targets.py GOLD.tsv UNL.txt OUT.tsv LABEL_WEIGHT GOLD_PRED... -- UNL_PRED...

Writes the training file of a distilled student (`nlprnn train --soft-column soft`, issue 16)
from the predictions of an ensemble of binary teachers (labels 0 and 1):

- GOLD.tsv: the labelled reviews (`id<TAB>document<TAB>label`, header); GOLD_PRED the teachers'
  `nlprnn classify --lines --data-labels --top-k 2` output on its documents, one file a teacher.
  A row's target is LABEL_WEIGHT x one-hot(label) + (1 - LABEL_WEIGHT) x the teachers' mean.
- UNL.txt: unlabelled texts, one a line; UNL_PRED the teachers' output on them. A text's target
  is the teachers' mean; its label column the mean's argmax. As many of each class by that
  argmax are kept (all of the rarer one, a sample of the other drawn with random.Random(1)).

OUT.tsv: `id<TAB>document<TAB>label<TAB>soft` with soft = "P(0) P(1)" (6 decimals); gold rows
first, then the kept unlabelled ones (id u<line index>) in their order.
"""
import random
import sys


def mean_p1(files, n):
    """The teachers' mean P(label 1) for n lines; lines "L<TAB>P<TAB>L<TAB>P"."""
    ps = []
    for f in files:
        p = []
        with open(f, encoding="utf-8") as fp:
            for ln, line in enumerate(fp, 1):
                x = line.rstrip("\n").split("\t")
                try:
                    q = dict(zip(x[0::2], map(float, x[1::2])))["1"]
                except (KeyError, ValueError):
                    q = -1.0
                if not 0.0 <= q <= 1.0:
                    sys.exit(f"soft-targets: {f}:{ln}: not LABEL<TAB>P pairs with a P(1) in [0, 1]: {line.rstrip()!r}")
                p.append(q)
        if len(p) != n:
            sys.exit(f"soft-targets: {f}: {len(p)} predictions for {n} texts")
        ps.append(p)
    return [sum(v) / len(v) for v in zip(*ps)]


def main():
    a = sys.argv[1:]
    if "--" not in a or len(a) < 7:
        sys.exit(__doc__.strip().splitlines()[0])
    cut = a.index("--")
    gold, unl, out = a[0], a[1], a[2]
    try:
        w = float(a[3])
    except ValueError:
        w = -1.0
    if not 0.0 <= w <= 1.0:
        sys.exit(f"soft-targets: LABEL_WEIGHT {a[3]!r} is not a number in [0, 1]")
    gold_preds, unl_preds = a[4:cut], a[cut + 1:]
    if not gold_preds or len(gold_preds) != len(unl_preds):
        sys.exit("soft-targets: give each teacher's predictions on GOLD and on UNL")
    with open(gold, encoding="utf-8") as fp:
        rows = fp.read().split("\n")
    if rows[0] != "id\tdocument\tlabel":
        sys.exit(f"soft-targets: {gold}: header {rows[0]!r}, not id<TAB>document<TAB>label")
    rows = [r for r in rows[1:] if r]
    for ln, r in enumerate(rows, 2):
        if r.count("\t") < 2 or r.rsplit("\t", 1)[1] not in ("0", "1"):
            sys.exit(f"soft-targets: {gold}:{ln}: not id<TAB>document<TAB>label with label 0 or 1")
    with open(unl, encoding="utf-8") as fp:
        texts = fp.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    pg, pu = mean_p1(gold_preds, len(rows)), mean_p1(unl_preds, len(texts))
    by = {0: [], 1: []}
    for i, p in enumerate(pu):
        by[int(p > 0.5)].append(i)
    k = min(len(by[0]), len(by[1]))
    rng = random.Random(1)
    keep = sorted(i for c in (0, 1) for i in (rng.sample(by[c], k) if len(by[c]) > k else by[c]))
    with open(out, "w", encoding="utf-8") as o:
        o.write("id\tdocument\tlabel\tsoft\n")
        for r, p in zip(rows, pg):
            q = w * (r.rsplit("\t", 1)[1] == "1") + (1.0 - w) * p  # label checked above
            o.write(f"{r}\t{1.0 - q:.6f} {q:.6f}\n")
        for i in keep:
            o.write(f"u{i}\t{texts[i]}\t{int(pu[i] > 0.5)}\t{1.0 - pu[i]:.6f} {pu[i]:.6f}\n")
    print(f"soft-targets: {len(rows)} gold reviews (label weight {w}); unlabelled: {len(by[0])} "
          f"negative, {len(by[1])} positive, {k} of each kept; {len(gold_preds)} teachers",
          file=sys.stderr)


if __name__ == "__main__":
    main()

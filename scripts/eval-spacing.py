#!/usr/bin/env python3
"""scripts/eval-spacing.py: measure a spacing model on well-spaced text (docs/spacing.md).

usage: scripts/eval-spacing.py [--nlprnn BUILD/nlprnn] [--model NAME|FILE] [--train FILE ...]
                               [--keep-spaces-check] [--by-vocab] [--speed] [--hyp FILE] TEST_FILE ...

For every non-empty line of the TEST_FILEs (.gz read too) the reference is the line in NFC with
runs of white space as single spaces; the input is the line with every space removed. The
program respaces the inputs (`nlprnn space -i`), and the script reports:
  syllable accuracy  right space decisions / decisions; a decision is "space or not after the
                     character", for every character but the last of a line
  word P / R / F1    a word of the output counts as right when the reference has a word with both
                     the same start and the same end (character positions)
  exact lines        lines respaced exactly like the reference
beside two baselines computed here: "no spaces" (every line one word) and "unigram" (a space after
a character when the --train files put one after it in more than half of its occurrences). With
--keep-spaces-check, the reference lines go through `nlprnn space --keep-spaces` and the share
left unchanged is reported. With --by-vocab (needs --train), the model's word recall is split by
whether the reference word occurs as a word (between spaces) in the --train files: seen words
and unseen ones, with their shares of the reference words. With --speed: sentences per second of `nlprnn space` over the test
lines at 1 and 2 threads (the run with the best wall time of 3, with its CPU seconds) and one
sentence with model load (best of 5). With --hyp FILE the outputs are read from FILE (one line per test line, the test
files in order) instead of running nlprnn: bench/space_torch.py writes such a file.
White space is Unicode Zs plus TAB, LF, CR, VT, FF, as in the library.
"""
import argparse
import gzip
import os
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata


def is_white(c):
    return c in "\t\n\r\v\f" or unicodedata.category(c) == "Zs"


def words_of(line):
    """NFC line -> list of words (white space runs split)."""
    out, cur = [], []
    for c in unicodedata.normalize("NFC", line):
        if is_white(c):
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


def read_lines(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if words_of(line):
                yield line


def spans(words):
    s, i = set(), 0
    for w in words:
        s.add((i, i + len(w)))
        i += len(w)
    return s


def boundaries(words):
    """For each character but the last: 1 when a space follows."""
    b = []
    for k, w in enumerate(words):
        b.extend([0] * (len(w) - 1))
        if k + 1 < len(words):
            b.append(1)
    return b


class Score:
    def __init__(self):
        self.ok = self.dec = self.right = self.hyp = self.ref = self.exact = self.lines = 0
        self.mismatch = 0

    def add(self, ref_words, hyp_words):
        self.lines += 1
        if "".join(ref_words) != "".join(hyp_words):
            self.mismatch += 1  # the characters differ: counted as all wrong
            self.dec += max(len("".join(ref_words)) - 1, 0)
            self.ref += len(ref_words)
            self.hyp += len(hyp_words)
            return
        rb, hb = boundaries(ref_words), boundaries(hyp_words)
        self.ok += sum(1 for a, b in zip(rb, hb) if a == b)
        self.dec += len(rb)
        rs, hs = spans(ref_words), spans(hyp_words)
        self.right += len(rs & hs)
        self.ref += len(rs)
        self.hyp += len(hs)
        self.exact += ref_words == hyp_words

    def row(self, name):
        p = self.right / self.hyp if self.hyp else 0.0
        r = self.right / self.ref if self.ref else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        acc = self.ok / self.dec if self.dec else 0.0
        return "| %s | %.4f | %.4f | %.4f | %.4f | %.4f |" % (name, acc, p, r, f, self.exact / self.lines)


def run_space(nlprnn, model, lines, extra=()):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        name = f.name
    try:
        out = subprocess.run([nlprnn, "space", "-m", model, *extra, "-i", name], check=True,
                             stdout=subprocess.PIPE).stdout.decode("utf-8")
    finally:
        os.unlink(name)
    res = out.split("\n")
    assert res[-1] == "" and len(res) == len(lines) + 1, "expected %d lines, got %d" % (len(lines), len(res) - 1)
    return res[:-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nlprnn", default="build/nlprnn")
    ap.add_argument("--model", default="ko")
    ap.add_argument("--train", nargs="*", default=[])
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--keep-spaces-check", action="store_true")
    ap.add_argument("--by-vocab", action="store_true",
                    help="word recall of the model on reference words seen / unseen as words in --train")
    ap.add_argument("--hyp", help="score this file (one output line per test line, all test files in order) "
                    "instead of running nlprnn (e.g. bench/space_torch.py's output)")
    ap.add_argument("tests", nargs="+")
    a = ap.parse_args()
    if a.by_vocab and not a.train:
        ap.error("--by-vocab needs --train FILE ...")

    uni = {}
    seen = set()  # the words of the --train files (for --by-vocab)
    for path in a.train:
        for line in read_lines(path):
            w = words_of(line)
            seen.update(w)
            for k, word in enumerate(w):
                for j, c in enumerate(word):
                    sp = 1 if (j == len(word) - 1 and k + 1 < len(w)) else 0
                    if j == len(word) - 1 and k + 1 == len(w):
                        continue  # the end of a line is no decision
                    n, s = uni.get(c, (0, 0))
                    uni[c] = (n + 1, s + sp)

    print("| test file | lines | characters |")
    print("|---|---|---|")
    all_rows = []
    total = {"model": Score(), "no spaces": Score(), "unigram": Score()}
    refs_all = []
    by_vocab = {True: [0, 0], False: [0, 0]}  # seen in --train -> [reference words, found by the model]
    hyp_lines = None
    if a.hyp:
        with open(a.hyp, encoding="utf-8") as f:
            hyp_lines = f.read().split("\n")[:-1]
    for path in a.tests:
        refs = [words_of(l) for l in read_lines(path)]
        refs_all.extend(refs)
        inputs = ["".join(w) for w in refs]
        if hyp_lines is not None:
            outs, hyp_lines = hyp_lines[:len(inputs)], hyp_lines[len(inputs):]
            assert len(outs) == len(inputs), "--hyp has fewer lines than the test files"
        else:
            outs = run_space(a.nlprnn, a.model, inputs)
        hyps = [h.split(" ") if h else [] for h in outs]
        sc = {"model": Score(), "no spaces": Score(), "unigram": Score()}
        for ref, hyp, inp in zip(refs, hyps, inputs):
            for k, h in (("model", hyp), ("no spaces", [inp])):
                sc[k].add(ref, h)
                total[k].add(ref, h)
            if a.by_vocab and "".join(hyp) == inp:
                hs, i = spans(hyp), 0
                for w in ref:
                    g = by_vocab[w in seen]
                    g[0] += 1
                    g[1] += (i, i + len(w)) in hs
                    i += len(w)
            uw, cur = [], ""
            for j, c in enumerate(inp):
                cur += c
                n, s = uni.get(c, (0, 0))
                if j + 1 < len(inp) and n and s * 2 > n:
                    uw.append(cur)
                    cur = ""
            uw.append(cur)
            sc["unigram"].add(ref, uw)
            total["unigram"].add(ref, uw)
        print("| %s | %d | %d |" % (os.path.basename(path), len(refs), sum(len(i) for i in inputs)))
        all_rows.append((os.path.basename(path), sc))
    print()
    print("| method | syllable accuracy | word precision | word recall | word F1 | exact lines |")
    print("|---|---|---|---|---|---|")
    for name, sc in all_rows + [("all", total)]:
        for k in ("model", "unigram", "no spaces"):
            print(sc[k].row("%s: %s" % (name, k)))
    if total["model"].mismatch:
        print("warning: %d lines came back with other characters" % total["model"].mismatch, file=sys.stderr)

    if a.by_vocab:
        n = sum(g[0] for g in by_vocab.values())
        print()
        print("| reference words (all test files) | words | share | model's word recall |")
        print("|---|---|---|---|")
        for k, name in ((True, "seen as a word in --train"), (False, "not seen in --train")):
            g = by_vocab[k]
            print("| %s | %d | %.4f | %.4f |" % (name, g[0], g[0] / n if n else 0.0, g[1] / g[0] if g[0] else 0.0))

    if a.keep_spaces_check:
        lines = [" ".join(w) for w in refs_all]
        out = run_space(a.nlprnn, a.model, lines, ("--keep-spaces",))
        same = sum(1 for x, y in zip(lines, out) if x == y)
        print()
        print("--keep-spaces on the reference lines: %d of %d unchanged (%.4f)" % (same, len(lines), same / len(lines)))

    if a.speed:
        inputs = ["".join(w) for w in refs_all]
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
            f.write("\n".join(inputs) + "\n")
            name = f.name
        print()
        print("| run | sentences | best wall s | its CPU s (user+sys) | sentences/s (wall) |")
        print("|---|---|---|---|---|")

        def timed(args):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            dt = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            return dt, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

        for th in (1, 2):
            best = min(timed([a.nlprnn, "space", "-m", a.model, "-t", str(th), "-i", name]) for _ in range(3))
            print("| space -t %d -i (model load included) | %d | %.2f | %.2f | %.0f |"
                  % (th, len(inputs), best[0], best[1], len(inputs) / best[0]))
        best = min(timed([a.nlprnn, "space", "-m", a.model, inputs[0]]) for _ in range(5))
        print("| one sentence as an argument, model load included | 1 | %.3f | %.3f | %.1f |"
              % (best[0], best[1], 1 / best[0]))
        os.unlink(name)


if __name__ == "__main__":
    main()

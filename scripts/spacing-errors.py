#!/usr/bin/env python3
"""scripts/spacing-errors.py: where a spacing model's errors are (docs/experiments/spacing.md, "What the
remaining errors are").

usage: scripts/spacing-errors.py [--nlprnn BUILD/nlprnn] [--model NAME|FILE] [--hyp FILE]
                                 [--sample N] [--seed S] TEST_FILE ...

References and inputs are made as scripts/eval-spacing.py makes them (NFC, runs of white space as
one space; the input has every space removed). Every space decision where the model and the
reference differ is an error; the script prints
  - the errors by class, from the two characters around the decision:
      latin       both are Latin letters (English text run together)
      punctuation one of them is neither a letter nor a digit (quotes, brackets, %)
      number+unit an Arabic digit before a Hangul syllable (Hangul orthography art. 43 lets
                  "3 개" be written "3개")
      aux         a syllable ending in the vowel of the connective -아/-어 (no final consonant,
                  ㅏ ㅐ ㅒ ㅓ ㅕ ㅘ ㅙ ㅝ) before an auxiliary verb's first syllable (보, 주, 버리,
                  놓, 두, 가, 오, 대, 내, 드리, 있, 싶 and their common forms); art. 47 lets
                  "먹어 보다" be written "먹어보다". A pattern, so some hits are not auxiliaries.
      bound+hada  before 듯하, 만하, 법하, 척하, 체하, 양하, 뻔하, 성싶, 듯싶, 직하 (art. 47 too)
      other       the rest
  - word F1 as eval-spacing.py counts it, and word F1 with the decisions of number+unit, aux and
    bound+hada not counted (written together in both the reference and the output): what the
    norm's "both allowed" cases of art. 43 and 47 cost at most;
  - with --sample N, N errors drawn at random (random.Random(S)), each with 6 characters of
    context either side as the reference and as the model space them ("¦" marks the decision:
    a space right after it or not), to be judged by a reader.
Compound nouns and names (art. 49, 50: "유교 문화" or "유교문화") cannot be told apart by such
patterns; the sample is where they show.
"""
import argparse
import importlib.util
import os
import random
from collections import Counter

_spec = importlib.util.spec_from_file_location(
    "eval_spacing", os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval-spacing.py"))
ev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ev)

# medial vowel indexes (0..20) of the connective -아/-어 and its contractions
A_EO = {0, 1, 3, 4, 6, 9, 10, 14}  # ㅏ ㅐ ㅒ ㅓ ㅕ ㅘ ㅙ ㅝ
AUX = ("보", "봤", "봐", "본", "볼", "봅", "주", "줬", "줘", "준", "줄", "줍", "드리", "드렸", "드려",
       "드린", "드릴", "버리", "버렸", "버려", "버린", "버릴", "놓", "놨", "놔", "둬", "두", "둔", "뒀",
       "둘", "가", "갔", "간", "갈", "갑", "오", "왔", "온", "올", "옵", "대", "댔", "내", "냈", "낸",
       "낼", "있", "싶")
BOUND = ("듯하", "듯싶", "만하", "법하", "척하", "체하", "양하", "성싶", "뻔하", "직하")
OPTIONAL = ("number+unit", "aux", "bound+hada")
CLASSES = ("latin", "punctuation") + OPTIONAL + ("other",)


def syllable(c):
    """Hangul syllable -> (initial, medial, final) indexes, else None."""
    o = ord(c) - 0xAC00
    return (o // 588, (o % 588) // 28, o % 28) if 0 <= o < 11172 else None


def is_latin(c):
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def klass(s, i):
    """The class of the decision after s[i]."""
    left, right = s[i], s[i + 1:i + 4]
    if is_latin(left) and is_latin(right[0]):
        return "latin"
    if not (left.isalnum() and right[0].isalnum()):
        return "punctuation"
    if "0" <= left <= "9" and syllable(right[0]):
        return "number+unit"
    j = syllable(left)
    if j and j[2] == 0 and j[1] in A_EO and right.startswith(AUX):
        return "aux"
    if j and right.startswith(BOUND):
        return "bound+hada"
    return "other"


def f1(ref_b, hyp_b):
    """(reference words, output words, right words) from two boundary lists."""
    r, h = ev.spans_of(ref_b), ev.spans_of(hyp_b)
    return len(r), len(h), len(r & h)


def context(s, b, i, width=6):
    """s[i-5..i+6] spaced by b, with a "¦" at the decision after s[i] (before its space if any)."""
    lo, hi = max(0, i - width + 1), min(len(s), i + width + 1)
    return "".join(s[k] + ("¦" if k == i else "") + (" " if k < len(b) and b[k] and k + 1 < hi else "")
                   for k in range(lo, hi))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nlprnn", default="build/nlprnn")
    ap.add_argument("--model", default="ko")
    ap.add_argument("--hyp", help="read the outputs from this file (one line per test line) instead of running nlprnn")
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("tests", nargs="+")
    a = ap.parse_args()

    refs = [ev.words_of(l) for path in a.tests for l in ev.read_lines(path)]
    inputs = ["".join(w) for w in refs]
    if a.hyp:
        with open(a.hyp, encoding="utf-8") as f:
            outs = f.read().split("\n")[:-1]
        if len(outs) != len(inputs):
            raise SystemExit("%s: %d lines, the test files have %d" % (a.hyp, len(outs), len(inputs)))
    else:
        outs = ev.run_space(a.nlprnn, a.model, inputs)

    errors, decisions = Counter(), Counter()
    strict, lenient = [0, 0, 0], [0, 0, 0]
    drawn = []
    for lineno, (ref, out, s) in enumerate(zip(refs, outs, inputs)):
        hyp = out.split(" ") if out else []
        if "".join(hyp) != s:
            raise SystemExit("line %d: the output's characters differ from the input's" % (lineno + 1))
        rb, hb = ev.boundaries(ref), ev.boundaries(hyp)
        rl, hl = list(rb), list(hb)
        for i, (x, y) in enumerate(zip(rb, hb)):
            k = klass(s, i)
            decisions[k] += 1
            if k in OPTIONAL:
                rl[i] = hl[i] = 0
            if x != y:
                errors[k] += 1
                drawn.append((k, context(s, rb, i), context(s, hb, i)))
        for acc, counts in ((strict, f1(rb, hb)), (lenient, f1(rl, hl))):
            for j in range(3):
                acc[j] += counts[j]

    total = sum(errors.values())
    print("| class | decisions | errors | share of errors |")
    print("|---|---|---|---|")
    for k in CLASSES:
        print("| %s | %d | %d | %.4f |" % (k, decisions[k], errors[k], errors[k] / total if total else 0.0))
    print("| all | %d | %d | 1 |" % (sum(decisions.values()), total))
    for name, (r, h, t) in (("word F1", strict), ("word F1, number+unit/aux/bound+hada not counted", lenient)):
        print("%s: %.4f" % (name, 2 * t / (r + h) if r + h else 0.0))
    if a.sample:
        print()
        print("| # | class | reference | model |")
        print("|---|---|---|---|")
        for n, (k, r, h) in enumerate(random.Random(a.seed).sample(drawn, min(a.sample, len(drawn))), 1):
            print("| %d | %s | %s | %s |" % (n, k, r, h))


if __name__ == "__main__":
    main()

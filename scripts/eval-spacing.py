#!/usr/bin/env python3
"""scripts/eval-spacing.py: measure a spacing model on well-spaced text (docs/spacing.md).

usage: scripts/eval-spacing.py [--nlprnn BUILD/nlprnn] [--model NAME|FILE] [--train FILE ...]
                               [--keep-spaces-check] [--by-vocab] [--speed] [--lenient] [--hyp FILE]
                               TEST_FILE ...

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
An output line whose characters are not its input's (an empty one too) counts as all wrong: every
decision of the line wrong, no word of it right, every reference word missed (a warning says how
many lines). In an output, two spaces in a row, or a space at either end, are read as the
reference is: one boundary, or none.

With --lenient a second table scores every method again where Hangul orthography (한글 맞춤법 제5장)
allows both spellings; the strict table is printed as before. A decision (boundary i, after
character i) is OPTIONAL when one of these rules fires; L = the reference word holding character
i, from its start to i; R = the reference word holding character i+1, from i+1 to its end (with a
reference space at i: the words either side; without: the two halves of one word). The set
depends on the line, its reference and --train only, never on the output, so all methods are
scored against the same set.
  (a)  art. 43, a unit after an Arabic numeral ("3 개" / "3개"): character i is a digit 0-9 and R
       is, as a whole, UNIT [SUFFIX] [PARTICLE] from the lists UNITS, UNIT_SUFFIXES, PARTICLES
       below ("2019시즌" and "1일본" do not fire).
  (b1) art. 47, an auxiliary verb after the connective -아/-어 ("먹어 보다" / "먹어보다"): L ends
       in a connective syllable (아 after a syllable with a final consonant and vowel ㅏ ㅗ ㅑ;
       어 after one with a final and another vowel, or with none and ㅚ ㅟ; 여 after 하; 워 쳐 져
       켜 혀 with L of 2+ syllables; 봐 줘 둬 놔; 해 only as the whole of L) and R starts with a
       form in AUX_FORMS (보다 주다 드리다 버리다 놓다 두다 가다 오다 내다 대다 가지다; 보다 itself is
       none of them: "영어보다" is the particle). A particle after the connective (읽어도 보고) does not fire; the rule's
       compound-verb exception (떠내려가 버렸다) is not detected.
  (b2) art. 47, a bound noun + 하다/싶다 after an adnominal form ("할 만하다" / "할만하다"): the last
       syllable of L ends in ㄴ or ㄹ and R starts with 듯 만 법 척 체 양 뻔 직 + a syllable of 하
       (initial ㅎ, vowel ㅏ or ㅐ), or with 듯싶 / 성싶.
  (c)  arts. 48-50 (names and terms of several words) and the like, data-driven, with --train
       only: the --train files have the word LR at least LENIENT_MIN (3) times and the two words
       "L R" in a row at least LENIENT_MIN times.
Lenient syllable accuracy: a decision at an optional boundary counts right either way. Lenient
word precision / recall / F1: every optional boundary is deleted in both the reference and the
output, then words are scored as above (right when start and end match). The optional
boundaries each rule makes on the test files are counted (a boundary can be made optional by
more than one rule; "any" is their union).
"""
import argparse
import gzip
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata


# --lenient's rules (the module docstring; docs/spacing.md "Strict and lenient")
UNITS = ("개", "개국", "개월", "명", "년", "월", "일", "시", "분", "초", "시간", "주", "원", "달러", "엔",
         "위안", "유로", "번", "살", "세", "권", "장", "대", "마리", "곳", "가지", "건", "배", "차", "차례",
         "회", "층", "위", "호", "점", "편", "채", "척", "벌", "켤레", "잔", "병", "쪽", "승", "패", "골",
         "표", "미터", "킬로미터", "킬로그램", "그램", "톤", "리터", "인분")
UNIT_SUFFIXES = ("째", "간", "당", "여", "쯤", "가량", "씩")
PARTICLES = ("의", "을", "를", "이", "가", "은", "는", "에", "에서", "에게", "으로", "로", "와", "과", "도",
             "까지", "부터", "이나", "나", "만큼", "보다")


def _alt(words):
    return "|".join(sorted(words, key=len, reverse=True))


UNIT_RE = re.compile("(?:%s)(?:%s)?(?:%s)?$" % (_alt(UNITS), _alt(UNIT_SUFFIXES), _alt(PARTICLES)))
# forms of the auxiliaries of art. 47 (a form ending in $ is the whole of R)
AUX_FORMS = (
    "보았 봤 보아 봐 보고 보니 보면 보며 보는 보려 보자 보세 보십 보지 보게 보기 본다 본$ 볼$ 볼까 볼게 봅니 봅시 "  # 보다
    "주었 줬 주어 줘 주고 주는 주면 주며 주기 주세 주십 주시 주지 주게 주자 주려 준다 준$ 줄$ 줄게 줍니 "  # 주다
    "드리 드렸 드려 드린 드릴 드립 버리 버렸 버려 버린 버릴 버립 놓 놨 놔 "  # 드리다 버리다 놓다
    "두었 뒀 두어 둬 두고 두는 두면 두며 두기 두지 두자 둔다 둔$ 둡니 "  # 두다
    "가고 가는 가면 가며 가야 가기 가자 가서 간다 간$ 갔 갈$ 갈까 갑니 "  # 가다
    "오고 오는 오면 오며 오기 오자 오지 오던 온다 온$ 올$ 옵니 왔 와$ 와서 와야 와도 "  # 오다
    "내고 내는 내면 내며 내자 내어 내야 냈 낸다 낸$ 낼$ 냅니 대고 대는 대며 댔 댄다 "  # 내다 대다
    "가지고 가졌 가져 가진$").split()  # 가지다
AUX_RE = re.compile("(?:%s)" % "|".join(sorted(AUX_FORMS, key=len, reverse=True)))
BOUND_NOUNS = "듯만법척체양뻔직"
LENIENT_MIN = 3
RULES = ("a", "b1", "b2", "c")
RULE_NAMES = {"a": "(a) art. 43 numeral + unit", "b1": "(b1) art. 47 -아/-어 + auxiliary",
              "b2": "(b2) art. 47 bound noun + 하다/싶다", "c": "(c) arts. 48-50, both forms in --train"}


def jamo(c):
    """Hangul syllable -> (initial, medial, final) indexes, else None."""
    o = ord(c) - 0xAC00
    return (o // 588, (o % 588) // 28, o % 28) if 0 <= o < 11172 else None


def connective_end(left):
    """True when the word part `left` ends in the connective -아/-어 (rule b1)."""
    last = left[-1]
    prev = jamo(left[-2]) if len(left) > 1 else None
    if last in "아어":
        if not prev:
            return False
        if prev[2]:
            return (prev[1] in (0, 2, 8)) == (last == "아")  # ㅏ ㅑ ㅗ take 아
        return last == "어" and prev[1] in (11, 16)  # 되어, 바뀌어
    if last == "여":
        return len(left) > 1 and left[-2] == "하"
    if last in "워쳐져켜혀":
        return len(left) > 1
    if last in "봐줘둬놔":
        return True
    return left == "해"


def optional_rules(words, word_count=None, pair_count=None):
    """Reference words of a line -> {rule: set of optional boundaries i (after character i)}."""
    s = "".join(words)
    start, end = [], []  # start / end (exclusive) of the reference word holding each character
    i = 0
    for w in words:
        start.extend([i] * len(w))
        end.extend([i + len(w)] * len(w))
        i += len(w)
    out = {r: set() for r in RULES}
    for i in range(len(s) - 1):
        left, right = s[start[i]:i + 1], s[i + 1:end[i + 1]]
        if "0" <= s[i] <= "9" and UNIT_RE.match(right):
            out["a"].add(i)
        if connective_end(left) and AUX_RE.match(right):
            out["b1"].add(i)
        j, k = jamo(left[-1]), jamo(right[1]) if len(right) > 1 else None
        if j and j[2] in (4, 8) and ((right[0] in BOUND_NOUNS and k and k[0] == 18 and k[1] in (0, 1))
                                     or right.startswith(("듯싶", "성싶"))):
            out["b2"].add(i)
        if word_count is not None and word_count.get(left + right, 0) >= LENIENT_MIN \
                and pair_count.get((left, right), 0) >= LENIENT_MIN:
            out["c"].add(i)
    return out


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


def boundaries(words):
    """A line's words -> for each of its characters but the last: 1 when a space follows. An empty
    word (two spaces in a row, or a space at either end of an output line) is no word: white space
    between two characters is one boundary however it is written, as in the reference (words_of)."""
    words = [w for w in words if w]
    b = []
    for k, w in enumerate(words):
        b.extend([0] * (len(w) - 1))
        if k + 1 < len(words):
            b.append(1)
    return b


def spans_of(b):
    """The boundary list of a line of len(b) + 1 characters (see boundaries) -> the set of its word
    spans (start, end) in those characters. Every word count of this script and of
    scripts/spacing-errors.py comes from here. A boundary list cannot tell an empty line from a
    line of one character (neither has a boundary): spans() keeps them apart."""
    out, start = set(), 0
    for i, x in enumerate(b):
        if x:
            out.add((start, i + 1))
            start = i + 1
    out.add((start, len(b) + 1))
    return out


def spans(words, optional=frozenset()):
    """A line's words -> the set of their spans (spans_of), the boundaries in optional (each the
    index of the character before it) deleted first, as --lenient does in the reference and the
    output alike. A line without characters (an empty output line) has no words: set(), not the
    span (0, 1) of a one-character line. Empty reference lines never get here: read_lines leaves
    them out of the test lines, so they count nowhere."""
    if not any(words):
        return set()
    return spans_of([0 if i in optional else x for i, x in enumerate(boundaries(words))])


class Score:
    def __init__(self):
        self.ok = self.dec = self.right = self.hyp = self.ref = self.exact = self.lines = 0
        self.mismatch = 0
        self.l_ok = self.l_right = self.l_hyp = self.l_ref = 0  # --lenient

    def add(self, ref_words, hyp_words, optional=frozenset()):
        """optional: the boundaries where either decision is right (--lenient)."""
        self.lines += 1
        if "".join(ref_words) != "".join(hyp_words):
            self.mismatch += 1  # the characters differ: counted as all wrong
            self.dec += max(len("".join(ref_words)) - 1, 0)
            self.ref += len(spans(ref_words))
            self.hyp += len(spans(hyp_words))
            self.l_ref += len(spans(ref_words, optional))
            self.l_hyp += len(spans(hyp_words))  # its positions are not the reference's: no deletion
            return
        rb, hb = boundaries(ref_words), boundaries(hyp_words)
        self.ok += sum(1 for a, b in zip(rb, hb) if a == b)
        self.l_ok += sum(1 for i, (a, b) in enumerate(zip(rb, hb)) if a == b or i in optional)
        self.dec += len(rb)
        rs, hs = spans(ref_words), spans(hyp_words)
        self.right += len(rs & hs)
        self.ref += len(rs)
        self.hyp += len(hs)
        self.exact += ref_words == hyp_words
        rs, hs = spans(ref_words, optional), spans(hyp_words, optional)
        self.l_right += len(rs & hs)
        self.l_ref += len(rs)
        self.l_hyp += len(hs)

    @staticmethod
    def _prf(right, hyp, ref):
        p = right / hyp if hyp else 0.0
        r = right / ref if ref else 0.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0

    def row(self, name):
        p, r, f = self._prf(self.right, self.hyp, self.ref)
        acc = self.ok / self.dec if self.dec else 0.0
        return "| %s | %.4f | %.4f | %.4f | %.4f | %.4f |" % (name, acc, p, r, f, self.exact / self.lines)

    def row_lenient(self, name):
        p, r, f = self._prf(self.l_right, self.l_hyp, self.l_ref)
        acc = self.l_ok / self.dec if self.dec else 0.0
        return "| %s | %.4f | %.4f | %.4f | %.4f |" % (name, acc, p, r, f)


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
    lists = "\n".join("  %s: %s" % (k, " ".join(v)) for k, v in (
        ("UNITS", UNITS), ("UNIT_SUFFIXES", UNIT_SUFFIXES), ("PARTICLES", PARTICLES),
        ("AUX_FORMS ($: the whole of R)", AUX_FORMS)))
    ap = argparse.ArgumentParser(description=__doc__ + "--lenient's lists:\n" + lists,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nlprnn", default="build/nlprnn")
    ap.add_argument("--model", default="ko")
    ap.add_argument("--train", nargs="*", default=[])
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--keep-spaces-check", action="store_true")
    ap.add_argument("--by-vocab", action="store_true",
                    help="word recall of the model on reference words seen / unseen as words in --train")
    ap.add_argument("--lenient", action="store_true",
                    help="also score where Hangul orthography allows both spellings: rules (a) art. 43, (b1) and "
                    "(b2) art. 47, (c) arts. 48-50 (needs --train); see the docstring at the top of this script")
    ap.add_argument("--hyp", help="score this file (one output line per test line, all test files in order) "
                    "instead of running nlprnn (e.g. bench/space_torch.py's output)")
    ap.add_argument("tests", nargs="+")
    a = ap.parse_args()
    if a.by_vocab and not a.train:
        ap.error("--by-vocab needs --train FILE ...")

    uni = {}
    seen = set()  # the words of the --train files (for --by-vocab)
    word_count, pair_count = ({}, {}) if a.train else (None, None)  # for --lenient's rule (c)
    for path in a.train:
        for line in read_lines(path):
            w = words_of(line)
            seen.update(w)
            for k, word in enumerate(w):
                word_count[word] = word_count.get(word, 0) + 1
                if k + 1 < len(w):
                    pair_count[(word, w[k + 1])] = pair_count.get((word, w[k + 1]), 0) + 1
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
    n_optional = []  # (test file, decisions, {rule: optional boundaries}, boundaries any rule makes optional)
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
        counts, n_any, n_dec = {r: 0 for r in RULES}, 0, 0
        for ref, hyp, inp in zip(refs, hyps, inputs):
            opt = frozenset()
            if a.lenient:
                by_rule = optional_rules(ref, word_count, pair_count)
                for r in RULES:
                    counts[r] += len(by_rule[r])
                opt = frozenset().union(*by_rule.values())
                n_any += len(opt)
                n_dec += len(inp) - 1
            for k, h in (("model", hyp), ("no spaces", [inp])):
                sc[k].add(ref, h, opt)
                total[k].add(ref, h, opt)
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
            sc["unigram"].add(ref, uw, opt)
            total["unigram"].add(ref, uw, opt)
        n_optional.append((os.path.basename(path), n_dec, counts, n_any))
        print("| %s | %d | %d |" % (os.path.basename(path), len(refs), sum(len(i) for i in inputs)))
        all_rows.append((os.path.basename(path), sc))
    print()
    print("| method | syllable accuracy | word precision | word recall | word F1 | exact lines |")
    print("|---|---|---|---|---|---|")
    for name, sc in all_rows + [("all", total)]:
        for k in ("model", "unigram", "no spaces"):
            print(sc[k].row("%s: %s" % (name, k)))
    if a.lenient:
        print()
        print("| test file | decisions | %s | any rule |" % " | ".join(RULE_NAMES[r] for r in RULES))
        print("|---|---|%s---|" % ("---|" * len(RULES)))
        rows = n_optional + [("all", sum(x[1] for x in n_optional),
                              {r: sum(x[2][r] for x in n_optional) for r in RULES}, sum(x[3] for x in n_optional))]
        for name, n_dec, counts, n_any in rows:
            print("| %s | %d | %s | %d |" % (name, n_dec, " | ".join(
                "%d" % counts[r] if r != "c" or a.train else "off (no --train)" for r in RULES), n_any))
        print()
        print("| method | lenient syllable accuracy | lenient word precision | lenient word recall | lenient word F1 |")
        print("|---|---|---|---|---|")
        for name, sc in all_rows + [("all", total)]:
            for k in ("model", "unigram", "no spaces"):
                print(sc[k].row_lenient("%s: %s" % (name, k)))
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

#!/usr/bin/env python3
"""tests/test_eval_spacing.py SCRIPT: scripts/eval-spacing.py's scores on two lines worked by hand.

Reference (test file)        output (--hyp)               --train
  아버지가 방에 들어가신다      아버지 가방에 들어가신다       오늘 방에 간다
  오늘 날씨                    오늘 날씨

model:   syllable decisions 8/10 + 3/3 = 11/13; right words 1 + 2 = 3 of 5 output and 5 reference
         words (P = R = F1 = 0.6); exact lines 1/2
unigram: the train file puts a space after 늘 and 에 (each once of once), so 아버지가방에 들어가신다
         and 오늘 날씨: decisions 9/10 + 3/3 = 12/13; right 1 + 2 = 3 of 4 output words, 5
         reference (P 0.75, R 0.6, F1 0.6667); exact 1/2
--by-vocab: 방에 and 오늘 are words of --train (2 of 5 reference words; the model finds 오늘, not
         방에: 0.5); 아버지가, 들어가신다, 날씨 are not (3 of 5; it finds 들어가신다 and 날씨: 0.6667)
--by-vocab without --train is a usage error (exit 2).

--lenient (rules (a), (b1), (b2), (c) of the script's docstring), four lines of lenient.txt:
  reference                      output (--hyp)                 optional boundaries (rule)
  사과 3개를 먹어 보았다           사과 3 개를 먹어보았 다          3|개 (a), 어|보 (b1)
  할 만하다 2019 시즌              할만하다 2019시즌                할|만 (b2); 9|시 no (시즌 is no unit)
  대외 개방을 확대                 대외개방을 확대                  외|개 (c: --train has 대외 개방을 and
                                                                   대외개방을 3 times each)
  인공 지능을 세 개를 읽어도 보고   인공지능을 세개를 읽어도보고      none: 인공지능을 is in --train only
                                                                   twice (c needs 3), 세 is no numeral
                                                                   (a), 도 is a particle (b1)
model, strict: decisions right 6/9 + 7/9 + 5/6 + 9/12 = 27/36 (0.75); right words 1+0+1+0 = 2 of
  5+2+2+3 = 12 output and 4+4+3+6 = 17 reference words (P 0.1667, R 0.1176, F1 0.1379).
model, lenient: the optional decisions count right: 8/9 + 8/9 + 6/6 + 9/12 = 31/36 (0.8611) - 았|다
  (line 1) and line 4's three stay wrong; with the optional boundaries deleted in both, the
  reference has 3+3+2+6 = 14 words, the output 4+2+2+3 = 11, 2+1+2+0 = 5 right (P 0.4545,
  R 0.3571, F1 0.4).
no spaces, lenient: wrong where the reference has a space that is not optional: 2+2+1+5 = 10 of
  36 (0.7222); no reference line is one word after the deletions, so no word is right.
Without --train rule (c) is off: 대외|개방을 counts again, 30/36 (0.8333); words 4 of 11 output
  and 15 reference (P 0.3636, R 0.2667, F1 0.3077).
Empty lines and odd spaces (empty.txt, lines "오늘 날씨", "", "   ", "가", "나 다"; --hyp "", "가",
"나  다"): the empty and the blank test lines are no test lines (3 lines, 7 characters); the
empty output for 오늘날씨 has other characters than its input, so it counts as all wrong (its 3
decisions wrong, no output word, its 2 reference words missed; a warning); "나  다" is read as
"나 다" (2 words, both right; one decision, right) but is not the same line (not exact). Syllable
accuracy 1/4, words 3 right of 3 output and 5 reference (P 1, R 0.6, F1 0.75), exact 1/3; no
boundary is optional, so the lenient row is the same. spans() itself: an empty line has no word,
a one-character line one, and a line scores the same with and without --lenient's deletions when
none applies (Score.add([], []) counted one word in the lenient table and none in the strict).
Beside the script's output, optional_rules itself on short lines (each rule fires where it
should, and not on 영어보다 / 지난해 보고서 / 2019 시즌 / 할 듯도 / 읽어도 보고 ...).
"""
import importlib.util
import os
import subprocess
import sys
import tempfile


def check_lenient(script, put, ev):
    fails = 0
    test = put("lenient.txt", "사과 3개를 먹어 보았다\n할 만하다 2019 시즌\n대외 개방을 확대\n"
               "인공 지능을 세 개를 읽어도 보고\n")
    hyp = put("lenient-hyp.txt", "사과 3 개를 먹어보았 다\n할만하다 2019시즌\n대외개방을 확대\n"
              "인공지능을 세개를 읽어도보고\n")
    train = put("lenient-train.txt", "대외 개방을\n" * 3 + "대외개방을\n" * 3 + "인공 지능을\n" * 3 + "인공지능을\n" * 2)
    strict = "| lenient.txt: model | 0.7500 | 0.1667 | 0.1176 | 0.1379 | 0.0000 |"
    for extra, want in (
            (["--train", train], [
                strict,
                "| lenient.txt | 36 | 1 | 1 | 1 | 1 | 4 |",
                "| all | 36 | 1 | 1 | 1 | 1 | 4 |",
                "| lenient.txt: model | 0.8611 | 0.4545 | 0.3571 | 0.4000 |",
                "| all: model | 0.8611 | 0.4545 | 0.3571 | 0.4000 |",
                "| lenient.txt: no spaces | 0.7222 | 0.0000 | 0.0000 | 0.0000 |"]),
            ([], [
                strict,
                "| lenient.txt | 36 | 1 | 1 | 1 | off (no --train) | 3 |",
                "| lenient.txt: model | 0.8333 | 0.3636 | 0.2667 | 0.3077 |"])):
        r = subprocess.run([sys.executable, script, "--hyp", hyp, *extra, "--lenient", test],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
        if r.returncode != 0:
            print("eval-spacing --lenient %s exited %d: %s" % (extra, r.returncode, r.stderr), file=sys.stderr)
            fails += 1
            continue
        lines = r.stdout.split("\n")
        for w in want:
            if w not in lines:
                print("--lenient %s: missing line: %s\n--- output:\n%s" % (extra, w, r.stdout), file=sys.stderr)
                fails += 1

    # the rules on their own: line -> the optional boundaries, as "left|right" characters
    cases = [
        ("3 개월간 10명의 1.5배 2 년 만에", {"a": ["3|개", "0|명", "5|배", "2|년"]}),
        ("2019 시즌 1일본 3대1로 5 만 명", {}),                    # no unit as the whole rest; 만 is no unit
        ("잡아 두고 먹어버렸다 되어 가는 해 주는 하여 보니", {"b1": ["아|두", "어|버", "어|가", "해|주", "여|보"]}),
        ("읽어도 보고 영어보다 한국어 보다 지난해 보고서 단어 주고", {}),  # particle, 보다, nouns
        ("할 만하다 먹을만한 아는 척했다 올 듯싶다", {"b2": ["할|만", "을|만", "는|척", "올|듯"]}),
        ("올 듯도 하다 그 만한 1년 만에", {"a": ["1|년"]}),          # 듯도: a particle between; 그: no ㄴ/ㄹ
    ]
    for line, want in cases:
        w = line.split()
        s = "".join(w)
        got = {r: [s[i] + "|" + s[i + 1] for i in sorted(v)] for r, v in ev.optional_rules(w).items() if v}
        if got != want:
            print("optional_rules(%r): %r, want %r" % (line, got, want), file=sys.stderr)
            fails += 1
    wc, pc = {"대외개방을": 3, "인공지능을": 2}, {("대외", "개방을"): 3, ("인공", "지능을"): 3}
    for line, want in (("대외 개방을", {1}), ("대외개방을", {1}), ("인공 지능을", set()), ("인공지능을", set())):
        got = ev.optional_rules(line.split(), wc, pc)["c"]
        if got != want:
            print("rule (c) on %r: %r, want %r" % (line, got, want), file=sys.stderr)
            fails += 1
    return fails


def check_empty(script, put, ev):
    fails = 0
    test = put("empty.txt", "오늘 날씨\n\n   \n가\n나 다\n")
    hyp = put("empty-hyp.txt", "\n가\n나  다\n")
    r = subprocess.run([sys.executable, script, "--hyp", hyp, "--lenient", test],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
    lines = r.stdout.split("\n")
    for w in ("| empty.txt | 3 | 7 |",
              "| empty.txt: model | 0.2500 | 1.0000 | 0.6000 | 0.7500 | 0.3333 |",
              "| empty.txt: model | 0.2500 | 1.0000 | 0.6000 | 0.7500 |"):
        if r.returncode != 0 or w not in lines:
            print("empty lines: exit %d, missing line: %s\n--- output:\n%s%s" % (r.returncode, w, r.stdout, r.stderr),
                  file=sys.stderr)
            fails += 1
    if "warning: 1 lines came back with other characters" not in r.stderr:
        print("empty output line: no warning on stderr: %r" % r.stderr, file=sys.stderr)
        fails += 1

    for words, want in (([], set()), ([""], set()), (["", ""], set()), (["가"], {(0, 1)}),
                        (["", "아버지", "", "가", ""], {(0, 3), (3, 4)}), (["나", "다"], {(0, 1), (1, 2)})):
        if ev.spans(words) != want:
            print("spans(%r) = %r, want %r" % (words, ev.spans(words), want), file=sys.stderr)
            fails += 1
    if ev.boundaries(["오늘", "", "날씨"]) != [0, 1, 0] or ev.spans(["대외", "개방을"], {1}) != {(0, 5)}:
        print("boundaries / spans with optional: %r %r" % (ev.boundaries(["오늘", "", "날씨"]),
                                                          ev.spans(["대외", "개방을"], {1})), file=sys.stderr)
        fails += 1
    for ref, hyp in (([], []), (["오늘", "날씨"], []), (["가"], ["가"])):
        sc = ev.Score()
        sc.add(ref, hyp)
        strict, lenient = (sc.right, sc.hyp, sc.ref), (sc.l_right, sc.l_hyp, sc.l_ref)
        want = (len(ev.spans(ref) & ev.spans(hyp)) if "".join(ref) == "".join(hyp) else 0,
                len(ev.spans(hyp)), len(ev.spans(ref)))
        if strict != want or lenient != want:
            print("Score.add(%r, %r): strict (right, hyp, ref) %r, lenient %r, want %r both" % (
                ref, hyp, strict, lenient, want), file=sys.stderr)
            fails += 1
    return fails


def main():
    script = sys.argv[1]
    fails = 0
    with tempfile.TemporaryDirectory() as d:
        def put(name, text):
            p = os.path.join(d, name)
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
            return p
        test = put("test.txt", "아버지가 방에 들어가신다\n\n오늘  날씨\n")  # an empty line and a double space
        train = put("train.txt", "오늘 방에 간다\n")
        hyp = put("hyp.txt", "아버지 가방에 들어가신다\n오늘 날씨\n")
        r = subprocess.run([sys.executable, script, "--hyp", hyp, "--train", train, "--by-vocab", test],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
        if r.returncode != 0:
            print("eval-spacing exited %d: %s" % (r.returncode, r.stderr), file=sys.stderr)
            return 1
        want = [
            "| test.txt | 2 | 15 |",
            "| test.txt: model | 0.8462 | 0.6000 | 0.6000 | 0.6000 | 0.5000 |",
            "| test.txt: unigram | 0.9231 | 0.7500 | 0.6000 | 0.6667 | 0.5000 |",
            "| all: model | 0.8462 | 0.6000 | 0.6000 | 0.6000 | 0.5000 |",
            "| seen as a word in --train | 2 | 0.4000 | 0.5000 |",
            "| not seen in --train | 3 | 0.6000 | 0.6667 |",
        ]
        lines = r.stdout.split("\n")
        for w in want:
            if w not in lines:
                print("missing line: %s\n--- output:\n%s" % (w, r.stdout), file=sys.stderr)
                fails += 1
        r = subprocess.run([sys.executable, script, "--hyp", hyp, "--by-vocab", test],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
        if r.returncode != 2 or "--by-vocab needs --train" not in r.stderr:
            print("--by-vocab without --train: exit %d, stderr %r (want 2 and the reason)" % (r.returncode, r.stderr),
                  file=sys.stderr)
            fails += 1
        spec = importlib.util.spec_from_file_location("eval_spacing", script)
        ev = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ev)
        fails += check_lenient(script, put, ev)
        fails += check_empty(script, put, ev)
    print("test_eval_spacing: %s" % ("all checks passed" if not fails else "%d FAILED" % fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

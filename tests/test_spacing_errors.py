#!/usr/bin/env python3
"""tests/test_spacing_errors.py SCRIPT: scripts/spacing-errors.py on four lines worked by hand.

reference (test file)        output (--hyp)        errors (the decision after ...)
  사과 3 개를 먹어 보았다       사과3개를 먹어보았다    과: other; 3: number+unit; 어 (before 보): aux
  Good day 친구                Goodday 친구          d: latin
  10 % 올랐다                  10% 올랐다            0 (before %): punctuation
  올 듯하다                    올듯하다              올 (before 듯하): bound+hada
decisions by class: other 7 + 2 + 3 + 2 = 14, latin 6, punctuation 2 (0|%, %|올), number+unit 1,
aux 1, bound+hada 1: 25; errors 6, one of each class (share 0.1667).
word F1: reference words 5 + 3 + 3 + 2 = 13, output words 2 + 2 + 2 + 1 = 7, right 0 + 1 + 1 + 0
= 2: 4 / 20 = 0.2000. With number+unit, aux and bound+hada written together in both: reference
words 3 + 3 + 3 + 1 = 10, right 1 + 1 + 1 + 1 = 4: 8 / 17 = 0.4706.
--sample 10 prints all 6 errors; the aux one as "과 3 개를 먹어¦ 보았다" / "과3개를 먹어¦보았다".
An output file with a line short, or with other characters, is refused (non-zero exit, the reason).
"""
import os
import subprocess
import sys
import tempfile


def main():
    script = sys.argv[1]
    fails = 0

    def check(cond, what, out=""):
        nonlocal fails
        if not cond:
            print("FAILED: %s\n%s" % (what, out), file=sys.stderr)
            fails += 1

    with tempfile.TemporaryDirectory() as d:
        def put(name, text):
            p = os.path.join(d, name)
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
            return p
        test = put("test.txt", "사과 3 개를 먹어 보았다\nGood day 친구\n\n10 % 올랐다\n올 듯하다\n")
        hyp = put("hyp.txt", "사과3개를 먹어보았다\nGoodday 친구\n10% 올랐다\n올듯하다\n")
        r = subprocess.run([sys.executable, script, "--hyp", hyp, "--sample", "10", test],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
        lines = r.stdout.split("\n")
        for want in ("| latin | 6 | 1 | 0.1667 |", "| punctuation | 2 | 1 | 0.1667 |",
                     "| number+unit | 1 | 1 | 0.1667 |", "| aux | 1 | 1 | 0.1667 |",
                     "| bound+hada | 1 | 1 | 0.1667 |", "| other | 14 | 1 | 0.1667 |", "| all | 25 | 6 | 1 |",
                     "word F1: 0.2000", "word F1, number+unit/aux/bound+hada not counted: 0.4706"):
            check(want in lines, "missing line: %s" % want, r.stdout)
        sample = [l for l in lines if l.startswith("| ") and l.split("|")[1].strip().isdigit()]
        check(len(sample) == 6, "--sample 10 with 6 errors printed %d rows" % len(sample), r.stdout)
        check(any(l.endswith("| aux | 과 3 개를 먹어¦ 보았다 | 과3개를 먹어¦보았다 |") for l in sample),
              "the aux error's context", r.stdout)

        short = put("short.txt", "사과3개를 먹어보았다\n")
        r = subprocess.run([sys.executable, script, "--hyp", short, test],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
        check(r.returncode != 0 and "short.txt: 1 lines, the test files have 4" in r.stderr,
              "a short output file: exit %d, stderr %r" % (r.returncode, r.stderr))
        other = put("other.txt", "사과3개를 먹어보았다\nGoodday 친구\n10% 올랐어\n올듯하다\n")
        r = subprocess.run([sys.executable, script, "--hyp", other, test],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
        check(r.returncode != 0 and "line 3:" in r.stderr,
              "an output with other characters: exit %d, stderr %r" % (r.returncode, r.stderr))
    print("test_spacing_errors: %s" % ("all checks passed" if not fails else "%d FAILED" % fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

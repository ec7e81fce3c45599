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
"""
import os
import subprocess
import sys
import tempfile


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
    print("test_eval_spacing: %s" % ("all checks passed" if not fails else "%d FAILED" % fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

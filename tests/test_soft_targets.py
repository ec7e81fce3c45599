#!/usr/bin/env python3
"""scripts/soft-targets.py (the distilled student's training file, docs/classify.md): the targets
it writes for a small case worked out by hand, and clear errors (exit 1, the file and line) for
bad input. Usage: test_soft_targets.py SCRIPT"""
import os
import subprocess
import sys
import tempfile

script = sys.argv[1]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print(f"FAIL: {what}")


def run(args):
    return subprocess.run([sys.executable, script] + args, capture_output=True, text=True)


with tempfile.TemporaryDirectory() as d:
    def put(name, text):
        path = os.path.join(d, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    gold = put("gold.tsv", "id\tdocument\tlabel\n1\tgood\t1\n2\tbad\t0\n")
    unl = put("unl.txt", "u-a\nu-b\nu-c\n")
    # two teachers; P(1) on gold 0.8/0.6 and 0.4/0.2; on unl 0.9/0.7, 0.2/0.4, 0.7/0.9
    g1 = put("g1", "1\t0.8\t0\t0.2\n0\t0.6\t1\t0.4\n")
    g2 = put("g2", "0\t0.6\t1\t0.4\n1\t0.2\t0\t0.8\n")
    u1 = put("u1", "1\t0.9\t0\t0.1\n0\t0.8\t1\t0.2\n1\t0.7\t0\t0.3\n")
    u2 = put("u2", "1\t0.7\t0\t0.3\n0\t0.6\t1\t0.4\n1\t0.9\t0\t0.1\n")
    out = os.path.join(d, "out.tsv")
    r = run([gold, unl, out, "0.5", g1, g2, "--", u1, u2])
    check(r.returncode == 0, f"a good case exits 0 (got {r.returncode}: {r.stderr.strip()})")
    if r.returncode == 0:
        lines = open(out, encoding="utf-8").read().splitlines()
        # gold 1: 0.5*1 + 0.5*mean(0.8, 0.4) = 0.8; gold 2: 0.5*0 + 0.5*mean(0.4, 0.2) = 0.15
        # unl means 0.8, 0.3, 0.8: one negative (u1) -> one positive kept, drawn with Random(1)
        want_head = ["id\tdocument\tlabel\tsoft", "1\tgood\t1\t0.200000 0.800000",
                     "2\tbad\t0\t0.850000 0.150000"]
        check(lines[:3] == want_head, f"gold rows: {lines[:3]}")
        rest = lines[3:]
        check(len(rest) == 2, f"one unlabelled text of each class kept: {rest}")
        check("u1\tu-b\t0\t0.700000 0.300000" in rest, f"the negative text kept: {rest}")
        pos = [x for x in rest if x != "u1\tu-b\t0\t0.700000 0.300000"]
        check(len(pos) == 1 and pos[0] in ("u0\tu-a\t1\t0.200000 0.800000",
                                           "u2\tu-c\t1\t0.200000 0.800000"), f"one positive kept: {pos}")
        check([x.split("\t")[0] for x in rest] == sorted((x.split("\t")[0] for x in rest),
                                                           key=lambda s: int(s[1:])), "kept in their order")

    bad = [
        ([put("badlabel.tsv", "id\tdocument\tlabel\n1\tgood\t2\n2\tbad\t0\n"), unl, out, "0.5", g1, g2, "--", u1, u2],
         "badlabel.tsv:2"),
        ([gold, unl, out, "0.5", put("badpred", "1\t0.8\t0\t0.2\n0\tx\n"), g2, "--", u1, u2], "badpred:2"),
        ([gold, unl, out, "0.5", put("nop1", "0\t1.0\n0\t1.0\n"), g2, "--", u1, u2], "nop1:1"),
        ([gold, unl, out, "1.5", g1, g2, "--", u1, u2], "LABEL_WEIGHT"),
        ([gold, unl, out, "0.5", put("short", "1\t0.8\t0\t0.2\n"), g2, "--", u1, u2], "1 predictions for 2 texts"),
    ]
    for args, must in bad:
        r = run(args)
        check(r.returncode == 1 and must in r.stderr, f"bad input {must!r}: exit {r.returncode}, stderr {r.stderr.strip()!r}")

print(f"test_soft_targets: {'FAILED, ' + str(fails) + ' check(s)' if fails else 'ok'}")
sys.exit(1 if fails else 0)

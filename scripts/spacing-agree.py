#!/usr/bin/env python3
"""scripts/spacing-agree.py MIN_F1 TEXT RESPACED [--stats] [--max N] — keep the lines of TEXT whose writers
spaced them the way a spacing model does (issue 18, docs/experiments/spacing.md "Reviews chosen by agreement").

TEXT is one text a line as written (e.g. nsmc reviews); RESPACED is `nlprnn space -i TEXT` of it
(same lines, in order, spaces removed and put back by the model). For each line the writer's word
boundaries and the model's are compared over the characters without white space; the boundary F1
(2 |W & M| / (|W| + |M|), 1 when neither has a boundary) of a line must be >= MIN_F1 for the line
to be written to standard output (in NFC, as written). Reviews are spaced as their writers typed
them; the lines a model trained on written text agrees with are the better spaced ones, so they
teach a spacing model less noise. With --stats a histogram of the F1 values (tenths) and the counts
go to standard error; --max N stops after N lines kept (the first N).

--self-test checks the rules above on made-up lines (a CTest test).

Exit status: 0; 1 when --self-test fails; 2 on a usage error; 3 when the two files do not hold the same characters line by
line (RESPACED is not the respacing of TEXT), naming the line.
"""
import itertools
import sys
import unicodedata


def boundaries(line):
    """The positions (in characters without white space) after which the line has a space, and
    the line's characters without white space."""
    out, chars = set(), []
    for ch in line:
        if ch.isspace():
            if chars:
                out.add(len(chars))
        else:
            chars.append(ch)
    out.discard(len(chars))
    return out, "".join(chars)


def self_test():
    """The rules on made-up lines; returns the number of failed checks."""
    import contextlib
    import io
    import os
    import tempfile
    fails = 0

    def run(text_lines, spaced_lines, *opts):
        with tempfile.TemporaryDirectory() as d:
            a, b = os.path.join(d, "text"), os.path.join(d, "spaced")
            with open(a, "w", encoding="utf-8") as f:
                f.write("".join(x + "\n" for x in text_lines))
            with open(b, "w", encoding="utf-8") as f:
                f.write("".join(x + "\n" for x in spaced_lines))
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = main([opts[0], a, b, *opts[1:]])
            return rc, out.getvalue().splitlines()

    def check(name, got, want):
        nonlocal fails
        if got != want:
            fails += 1
            print(f"spacing-agree self-test: {name}: got {got!r}, want {want!r}", file=sys.stderr)

    check("boundaries", boundaries(" 아버지가  방에\t들어가신다 "), ({4, 6}, "아버지가방에들어가신다"))
    # same spaces: F1 1; none where the model has one: 0; {2,5} against {2}: 2/3
    text = ["아버지가 방에 들어가신다", "아버지가방에들어가신다", "ab cde fg", "가 나"]
    spaced = ["아버지가 방에 들어가신다", "아버지가 방에 들어가신다", "ab cdefg", "가 나"]
    check("min 0.5", run(text, spaced, "0.5"), (0, [text[0], text[2], text[3]]))
    check("min 0.7", run(text, spaced, "0.7"), (0, [text[0], text[3]]))
    check("min 0", run(text, spaced, "0"), (0, text))
    check("--max", run(text, spaced, "0.5", "--max", "2"), (0, [text[0], text[2]]))
    check("NFC out", run(["\u1100\u1161 나"], ["가 나"], "1")[1], ["가 나"])
    check("no boundary either side", run(["가나"], ["가나"], "1"), (0, ["가나"]))
    check("other characters", run(["가 나"], ["가 다"], "0")[0], 3)
    check("not its respacing", run(["가 나"], ["가 나다"], "0")[0], 3)
    check("shorter respacing", run(["가", "나"], ["가"], "0")[0], 3)
    check("longer respacing", run(["가"], ["가", "나"], "0")[0], 3)
    check("bad MIN_F1", run(["가"], ["가"], "x")[0], 2)
    check("bad --max", run(["가"], ["가"], "1", "--max")[0], 2)
    if not fails:
        print("spacing-agree self-test: all checks passed")
    return 1 if fails else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    args, max_kept = [], None
    it = iter(argv)
    for a in it:
        if a == "--max":
            try:
                max_kept = int(next(it))
            except (StopIteration, ValueError):
                print("spacing-agree: --max needs a whole number", file=sys.stderr)
                return 2
        elif a != "--stats":
            args.append(a)
    if len(args) != 3:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    try:
        min_f1 = float(args[0])
    except ValueError:
        print(f"spacing-agree: MIN_F1 must be a number, not {args[0]!r}", file=sys.stderr)
        return 2
    hist, kept, total = [0] * 11, 0, 0
    out = sys.stdout
    with open(args[1], encoding="utf-8", errors="strict") as ft, \
            open(args[2], encoding="utf-8", errors="strict") as fr:
        for lineno, (text, spaced) in enumerate(itertools.zip_longest(ft, fr), 1):
            if text is None or spaced is None:
                print(f"spacing-agree: {args[1]} and {args[2]} differ in length (line {lineno})",
                      file=sys.stderr)
                return 3
            text = unicodedata.normalize("NFC", text.rstrip("\n"))
            w, n1 = boundaries(text)
            m, n2 = boundaries(spaced.rstrip("\n"))
            if n1 != n2:
                print(f"spacing-agree: {args[2]}:{lineno}: other characters than {args[1]}:{lineno}"
                      f" (white space aside): not its respacing", file=sys.stderr)
                return 3
            total += 1
            f1 = 1.0 if not w and not m else 2 * len(w & m) / (len(w) + len(m))
            hist[int(f1 * 10)] += 1
            if f1 >= min_f1:
                kept += 1
                out.write(text + "\n")
                if max_kept is not None and kept >= max_kept:
                    break
    if "--stats" in argv:
        print(f"spacing-agree: {kept} of {total} lines with boundary F1 >= {min_f1}; "
              f"F1 tenths 0..10: {hist}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""scripts/check-doc-outputs.py [BUILD_DIR] [--update] [--self-test] [--verbose] [FILE.md ...]

Runs the commands that README.md and docs/**/*.md (docs/experiments/ too) show with their
output, and compares what they print now with what the docs say, so that documented numbers
cannot drift silently.

Which blocks. Every fenced code block holding at least one command line ("$ cmd", continued
with a trailing backslash) and at least one output line. Each such block must carry a marker,
an HTML comment among the comment/blank lines just above its opening fence:

  <!-- doc-check -->                          run it, compare with the default tolerance
  <!-- doc-check: rtol=0.01 atol=1e-4 -->     ... with these tolerances
  <!-- doc-check: skip="REASON" -->           not run; the reason is listed in the summary
  options that go with a checked block:
    only=1,3        run only these commands of the block (1-based); needs reason="..."
    lines=1-3       compare only these output lines of each command (1-based, counted in the
                    doc's lines of that command's output); needs reason="..."
    setup="CMD"     a shell command run (silently) before the block, e.g. to create an input
  A block without a marker is an error: a new documented output must say how it is checked.

How it runs. Commands of one markdown file run in order, in one scratch folder that looks like
the repository's root: build/ (-> BUILD_DIR), pretrained/, examples/, include/, tests/, scripts/
link to the real ones, docs/figures/ is an empty folder (so --plot writes there, not into the
repo), and ../shared links to the real ../shared. `nlprnn` is on PATH. Each command runs under bash with
a pseudo-terminal as stdout and stderr (the interleaving a reader sees), stdin /dev/null, and
must exit 0.

How it compares. The doc's output lines of a command are matched against the printed lines:
a line that is just "..." stands for any number of lines (without one at the start/end, the
output must start/end there); "..." inside a line stands for any text. Runs of white space are
equal. Every number (sign, digits, decimal point, exponent) is compared as a number: equal if
|printed - doc| <= atol + rtol*|doc|, or within one unit of the doc's last printed digit (for
numbers written with a decimal point or exponent: 0.4182 matches 0.4183). Integers without a
decimal point are compared with rtol/atol only. Everything else must be identical.
Default tolerance: rtol=1e-3, atol=0.

--update rewrites the compared doc lines that differ with the printed ones (lines holding an
in-line "..." are left alone), for regenerating the docs after a deliberate change.
--self-test runs the comparer's own tests (it must reject wrong numbers, missing lines, ...)
and a whole run over a scratch markdown file whose documented number is wrong.

Exit status: 0 all checked blocks match, 1 a mismatch, a failed command or an unmarked block,
2 usage. The summary line says how many blocks/commands were checked and skipped, and why.
"""
import glob
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_RTOL, DEFAULT_ATOL = 1e-3, 0.0
CMD_TIMEOUT = 120

NUM = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
NUM_RE = re.compile(NUM)
ELL = "..."

# ---- parsing markdown ---------------------------------------------------------------------------


class Block:
    def __init__(self, path, line, lang, body, marker, marker_line):
        self.path, self.line, self.lang, self.body = path, line, lang, body  # body: [(lineno, text)]
        self.marker, self.marker_line = marker, marker_line
        self.commands = []  # [Command]


class Command:
    def __init__(self, text, line):
        self.text, self.line = text, line
        self.out = []  # [(lineno, text)] the doc's output lines


def parse_marker(text, where):
    """'<!-- doc-check: k=v k="v w" -->' -> dict; raises ValueError."""
    m = re.match(r"\s*<!--\s*doc-check\s*(?::\s*(.*?))?\s*-->\s*$", text)
    if not m:
        return None
    opts = {}
    rest = m.group(1) or ""
    for tok in shlex.split(rest):
        if "=" not in tok:
            raise ValueError(f"{where}: doc-check option '{tok}' is not key=value")
        k, v = tok.split("=", 1)
        if k not in ("rtol", "atol", "skip", "only", "lines", "setup", "reason"):
            raise ValueError(f"{where}: unknown doc-check option '{k}'")
        opts[k] = v
    for k in ("rtol", "atol"):
        if k in opts:
            try:
                if not float(opts[k]) >= 0:
                    raise ValueError
            except ValueError:
                raise ValueError(f"{where}: {k}={opts[k]} is not a number >= 0")
    if ("only" in opts or "lines" in opts) and not opts.get("reason"):
        raise ValueError(f"{where}: only=/lines= leave output unchecked and need reason=\"...\"")
    if "skip" in opts and not opts["skip"].strip():
        raise ValueError(f"{where}: skip= needs a reason")
    return opts


def parse_range(spec, where):
    out = set()
    for part in spec.split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part.strip())
        if not m:
            raise ValueError(f"{where}: bad list '{spec}'")
        a = int(m.group(1))
        b = int(m.group(2) or a)
        out.update(range(a, b + 1))
    return out


def parse_markdown(path, text):
    """The blocks of a markdown text that show commands with output."""
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^(\s*)(```+|~~~+)(.*)$", lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3).strip(), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append((i + 1, lines[i]))
            i += 1
        i += 1
        # the marker: among the comment / blank lines right above the fence
        marker, marker_line, j = None, None, start - 1
        while j >= 0 and (not lines[j].strip() or lines[j].strip().startswith("<!--")):
            if "doc-check" in lines[j]:
                marker = parse_marker(lines[j], f"{path}:{j + 1}")
                if marker is None:
                    raise ValueError(f"{path}:{j + 1}: malformed doc-check marker: {lines[j].strip()}")
                marker_line = j + 1
                break
            j -= 1
        b = Block(path, start + 1, lang, body, marker, marker_line)
        cur = None
        k = 0
        while k < len(body):
            ln, t = body[k]
            if t.startswith("$ "):
                cmd = t[2:]
                while cmd.endswith("\\") and k + 1 < len(body):
                    k += 1
                    cmd = cmd + "\n" + body[k][1]
                cur = Command(cmd, ln)
                b.commands.append(cur)
            elif cur is not None:
                cur.out.append((ln, t))
            k += 1
        for c in b.commands:  # trailing blank lines of an output are layout
            while c.out and not c.out[-1][1].strip():
                c.out.pop()
        if b.commands and any(c.out for c in b.commands):
            blocks.append(b)
    return blocks


# ---- comparing ----------------------------------------------------------------------------------


def ulp_of(s):
    """One unit of the last printed digit of a number written with '.' or an exponent, else 0."""
    m = re.fullmatch(r"[-+]?(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?", s)
    if not m or (m.group(2) is None and m.group(3) is None):
        return 0.0
    frac = len(m.group(2) or "")
    exp = int(m.group(3) or 0)
    return 10.0 ** (exp - frac)


def line_pattern(doc):
    """A regex for a doc line (numbers captured, '...' any text, white space runs equal) and the
    doc's numbers in order."""
    doc = doc.strip()
    parts, nums, pos = [], [], 0
    tokens = re.finditer(r"(\.\.\.)|(" + NUM + r")|(\s+)", doc)
    for t in tokens:
        if t.start() > pos:
            parts.append(re.escape(doc[pos:t.start()]))
        if t.group(1):
            parts.append(".*?")
        elif t.group(2):
            parts.append("(" + NUM + ")")
            nums.append(t.group(2))
        else:
            parts.append(r"\s+")
        pos = t.end()
    parts.append(re.escape(doc[pos:]))
    return re.compile("".join(parts)), nums


def num_ok(doc_s, got_s, rtol, atol):
    try:
        d, g = float(doc_s), float(got_s)
    except ValueError:
        return doc_s == got_s
    if d == g:
        return True
    tol = max(atol + rtol * abs(d), ulp_of(doc_s) * 1.0000001)
    return abs(g - d) <= tol


def line_shape_ok(doc, got):
    pat, _ = line_pattern(doc)
    return pat.fullmatch(got.strip()) is not None


def line_diff(doc, got, rtol, atol):
    """None when a printed line matches a doc line, else a reason."""
    pat, nums = line_pattern(doc)
    m = pat.fullmatch(got.strip())
    if not m:
        return "text differs"
    bad = [(d, g) for d, g in zip(nums, m.groups()) if not num_ok(d, g, rtol, atol)]
    if bad:
        return "; ".join(f"{g} where the doc says {d}" for d, g in bad) + f" (rtol {rtol:g}, atol {atol:g})"
    return None


def segments(doc_lines):
    """[(lineno, text)] -> (lead_gap, [[(lineno, text)]...], trail_gap) split at '...' lines."""
    segs, cur = [], []
    lead = bool(doc_lines) and doc_lines[0][1].strip() == ELL
    trail = bool(doc_lines) and doc_lines[-1][1].strip() == ELL
    for ln, t in doc_lines:
        if t.strip() == ELL:
            if cur:
                segs.append(cur)
            cur = []
        else:
            cur.append((ln, t))
    if cur:
        segs.append(cur)
    return lead, segs, trail


def match_output(doc_lines, got_lines, rtol, atol, check=None):
    """Match a command's doc output against its printed lines. Returns (problems, pairs):
    problems a list of messages, pairs [(doc lineno, doc text, printed text)] of matched lines.
    check: None or the set of 1-based doc output line indices to compare (others ignored)."""
    if check is not None:
        idx = 0
        kept = []
        for ln, t in doc_lines:
            idx += 1
            if idx in check:
                kept.append((ln, t))
            elif not kept or kept[-1][1].strip() != ELL:
                kept.append((ln, ELL))
        doc_lines = kept
    lead, segs, trail = segments(doc_lines)
    problems, pairs = [], []
    pos = 0
    got = [g for g in got_lines]
    for si, seg in enumerate(segs):
        n = len(seg)
        first, last = si == 0, si == len(segs) - 1
        cands = []
        if first and not lead:
            cands = [0]
        elif last and not trail:
            cands = [len(got) - n]
        else:
            cands = range(pos, len(got) - n + 1)
        found = None
        for c in cands:
            if c < pos or c + n > len(got):
                continue
            if all(line_shape_ok(seg[k][1], got[c + k]) for k in range(n)):
                found = c
                break
        if found is None:
            # the closest place for the message: the first line of the segment's shape
            problems.append(f"line {seg[0][0]}: '{seg[0][1].strip()}' and the {n - 1} line(s) after it "
                            f"not found in the output{' at its start' if first and not lead else ''}"
                            f"{' at its end' if last and not trail and not first else ''}")
            continue
        for k in range(n):
            r = line_diff(seg[k][1], got[found + k], rtol, atol)
            pairs.append((seg[k][0], seg[k][1], got[found + k]))
            if r:
                problems.append(f"line {seg[k][0]}: printed '{got[found + k].strip()}': {r}")
        pos = found + n
        if last and not trail and found + n != len(got):
            problems.append(f"line {seg[-1][0]}: the output goes on after this line "
                            f"({len(got) - found - n} more line(s): '{got[found + n].strip()}' ...)")
    if not segs and not lead and got:
        problems.append("the doc shows no output")
    return problems, pairs


# ---- running ------------------------------------------------------------------------------------


def make_sandbox(build):
    top = tempfile.mkdtemp(prefix="nlprnn-doc-check.")
    root = os.path.join(top, "repo")
    os.makedirs(os.path.join(root, "docs", "figures"))
    os.symlink(os.path.abspath(build), os.path.join(root, "build"))
    for d in ("pretrained", "examples", "include", "tests", "scripts"):
        if os.path.exists(os.path.join(ROOT, d)):
            os.symlink(os.path.join(ROOT, d), os.path.join(root, d))
    shared = os.path.join(os.path.dirname(ROOT), "shared")
    if os.path.exists(shared):
        os.symlink(shared, os.path.join(top, "shared"))
    bindir = os.path.join(top, "bin")
    os.makedirs(bindir)
    os.symlink(os.path.join(os.path.abspath(build), "nlprnn"), os.path.join(bindir, "nlprnn"))
    return top, root, bindir


def run_in_pty(cmd, cwd, env, timeout=CMD_TIMEOUT):
    """Run a shell command with a pseudo-terminal as stdout and stderr; returns (status, lines)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=slave, close_fds=True, start_new_session=True)
    finally:
        os.close(slave)
    chunks, t0 = [], time.time()
    while True:
        if time.time() - t0 > timeout:
            p.kill()
            p.wait()
            os.close(master)
            return -1, [f"(killed after {timeout} s)"]
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            # drain what is left
            try:
                while True:
                    r, _, _ = select.select([master], [], [], 0.05)
                    if not r:
                        break
                    data = os.read(master, 65536)
                    if not data:
                        break
                    chunks.append(data)
            except OSError:
                pass
            break
    os.close(master)
    status = p.wait()
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    lines = [ln.split("\r")[-1] for ln in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return status, lines


class Runner:
    """Runs one markdown file's commands in its scratch folder. A command whose whole history in
    this folder (every command and setup before it, in order) is one already run for another file
    (the English and Korean tutorials) gets that file's result instead of running again; the
    commands so reused are replayed silently before the next one that does run, so the folder
    holds what it would have held."""
    cache = {}

    def __init__(self, root, env):
        self.root, self.env, self.history, self.pending = root, env, [], []

    def run(self, cmd, silent=False):
        self.history.append(cmd)
        key = tuple(self.history)
        if key in Runner.cache:
            self.pending.append(cmd)
            return Runner.cache[key] + (True,)
        for p in self.pending:
            run_in_pty(p, self.root, self.env)
        self.pending = []
        st, out = run_in_pty(cmd, self.root, self.env)
        Runner.cache[key] = (st, out)
        return st, out, False


class Report:
    def __init__(self):
        self.blocks_checked = self.blocks_skipped = 0
        self.cmds_checked = self.cmds_skipped = 0
        self.skips = []  # (where, what, reason)
        self.failures = []  # messages
        self.updates = {}  # path -> {lineno: new text}


def check_file(path, build, report, verbose=False, update=False, sandbox=None, rel=None):
    rel = rel or os.path.relpath(path, ROOT)
    text = open(path, encoding="utf-8").read()
    try:
        blocks = parse_markdown(rel, text)
    except ValueError as e:
        report.failures.append(str(e))
        return
    if not blocks:
        return
    own = sandbox is None
    top, root, bindir = sandbox or make_sandbox(build)
    env = dict(os.environ)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["LC_ALL"] = env.get("LC_ALL") or "C.UTF-8"
    env.pop("COLUMNS", None)
    runner = Runner(root, env)
    try:
        for b in blocks:
            where = f"{rel}:{b.line}"
            o = b.marker
            if o is None:
                report.failures.append(f"{where}: a block with commands and output has no <!-- doc-check ... --> "
                                       "marker (say how it is checked, or skip=\"why\")")
                continue
            if "skip" in o:
                report.blocks_skipped += 1
                report.cmds_skipped += len(b.commands)
                report.skips.append((where, f"{len(b.commands)} command(s)", o["skip"]))
                continue
            rtol = float(o.get("rtol", DEFAULT_RTOL))
            atol = float(o.get("atol", DEFAULT_ATOL))
            only = parse_range(o["only"], where) if "only" in o else None
            lines = parse_range(o["lines"], where) if "lines" in o else None
            report.blocks_checked += 1
            if "setup" in o:
                st, out, _ = runner.run(o["setup"])
                if st != 0:
                    report.failures.append(f"{where}: setup '{o['setup']}' exited {st}: {' | '.join(out[-5:])}")
                    continue
            for ci, c in enumerate(b.commands, 1):
                if only is not None and ci not in only:
                    report.cmds_skipped += 1
                    report.skips.append((f"{rel}:{c.line}", "command " + c.text.split("\n")[0][:60], o["reason"]))
                    continue
                if "../shared/" in c.text and not os.path.exists(os.path.join(top, "shared")):
                    report.cmds_skipped += 1
                    report.skips.append((f"{rel}:{c.line}", "command " + c.text.split("\n")[0][:60],
                                         "../shared is not there (the corpora)"))
                    continue
                t0 = time.time()
                st, out, reused = runner.run(c.text)
                dt = time.time() - t0
                report.cmds_checked += 1
                if verbose:
                    how = "output of the same commands above reused" if reused else f"{dt:.1f} s"
                    print(f"  {rel}:{c.line}: {c.text.splitlines()[0][:70]} ({how}, exit {st})")
                if st != 0:
                    report.failures.append(f"{rel}:{c.line}: '{c.text}' exited {st}:\n    " + "\n    ".join(out[-8:]))
                    continue
                if not c.out:
                    continue
                if lines is not None:
                    report.skips.append((f"{rel}:{c.line}", f"output lines other than {o['lines']}", o["reason"]))
                problems, pairs = match_output(c.out, out, rtol, atol, lines)
                for p in problems:
                    report.failures.append(f"{rel}:{c.line}: {c.text.splitlines()[0][:70]}: {p}")
                if problems and not update:
                    shown = "\n      ".join(out[:40]) + ("\n      ..." if len(out) > 40 else "")
                    report.failures.append(f"    (printed:\n      {shown})")
                if update:
                    for ln, dl, gl in pairs:
                        if ELL not in dl and dl.rstrip() != gl.rstrip():
                            report.updates.setdefault(path, {})[ln] = gl.rstrip()
    finally:
        if own:
            shutil.rmtree(top, ignore_errors=True)


def apply_updates(report):
    for path, ch in report.updates.items():
        lines = open(path, encoding="utf-8").read().split("\n")
        for ln, t in ch.items():
            lines[ln - 1] = t
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        os.replace(path + ".tmp", path)
        print(f"check-doc-outputs: updated {len(ch)} line(s) of {os.path.relpath(path, ROOT)}")


def summary(report, t0):
    print(f"check-doc-outputs: {report.blocks_checked} blocks checked ({report.cmds_checked} commands run), "
          f"{report.blocks_skipped} blocks skipped; {report.cmds_skipped} commands and "
          f"{sum(1 for s in report.skips if s[1].startswith('output lines'))} partial outputs not checked; "
          f"{time.time() - t0:.1f} s")


# ---- self-test ----------------------------------------------------------------------------------


def self_test(build):
    fails = []

    def expect(name, cond):
        if not cond:
            fails.append(name)

    def ok(doc, got, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, check=None):
        d = [(i + 1, t) for i, t in enumerate(doc.split("\n"))]
        return match_output(d, got.split("\n"), rtol, atol, check)[0] == []

    # numbers
    expect("equal", ok("accuracy: 0.8776", "accuracy: 0.8776"))
    expect("last digit +1", ok("p 0.4182", "p 0.4183"))
    expect("last digit +2 rejected", not ok("p 0.4182", "p 0.4184", rtol=0))
    expect("rtol", ok("x 100.0", "x 100.05", rtol=1e-3))
    expect("rtol rejects", not ok("x 100.0", "x 100.2", rtol=1e-3))
    expect("atol", ok("x 0.00", "x 0.03", atol=0.05))
    expect("exponent ulp", ok("1.8341e-01", "1.8342e-01"))
    expect("exponent wrong", not ok("1.8341e-01", "1.8341e-02"))
    expect("integer exact", not ok("at t = 52", "at t = 53"))
    expect("integer rtol", ok("21126 3759", "21140 3760", rtol=1e-2))
    expect("sign", not ok("RMSE -29.2%", "RMSE +29.2%"))
    expect("nan text", not ok("loss nan", "loss 0.5"))
    expect("tab vs spaces", ok("1\t0.9974", "1    0.9974"))
    expect("text differs", not ok("DIVERGED", "finite throughout"))
    expect("extra word", not ok("a 1.0", "a b 1.0"))
    # lines and gaps
    expect("missing line", not ok("a 1\nb 2", "a 1"))
    expect("extra line at end", not ok("a 1", "a 1\nb 2"))
    expect("gap at end", ok("a 1\n...", "a 1\nb 2\nc 3"))
    expect("gap at start", ok("...\nc 3", "a 1\nb 2\nc 3"))
    expect("gap in middle", ok("a 1\n...\nd 4", "a 1\nb 2\nc 3\nd 4"))
    expect("gap in middle wrong end", not ok("a 1\n...\nd 5", "a 1\nb 2\nc 3\nd 4"))
    expect("order", not ok("b 2\n...\na 1", "a 1\nb 2"))
    expect("in-line ellipsis", ok("wrote t.tok (vocab=291 ...) in 0.0 s", "wrote t.tok (vocab=291 merges=12 x=1) in 0.0 s"))
    expect("in-line ellipsis number", not ok("wrote (vocab=291 ...)", "wrote (vocab=290 merges=12)"))
    expect("start anchored", not ok("b 2\n...", "a 1\nb 2"))
    expect("lines= ignores the rest", ok("h\n0 7.7e+04\n25 1.0", "h\n0 7.7e+04\n25 9.0", check={1, 2}))
    expect("lines= still checks its lines", not ok("h\n0 7.7e+04\n25 1.0", "h\n0 9.9e+04\n25 1.0", check={1, 2}))
    # markers
    try:
        parse_marker("<!-- doc-check: lines=1-3 -->", "t")
        fails.append("lines= without reason accepted")
    except ValueError:
        pass
    try:
        parse_marker("<!-- doc-check: rtl=1 -->", "t")
        fails.append("unknown option accepted")
    except ValueError:
        pass
    expect("marker", parse_marker('<!-- doc-check: rtol=0.05 reason="a b" -->', "t") == {"rtol": "0.05", "reason": "a b"})
    # whole runs over scratch markdown files: a right and a wrong number, an unmarked block, a
    # failing command, stdout and stderr in terminal order
    def scratch(md_text):
        with tempfile.TemporaryDirectory() as d:
            md = os.path.join(d, "t.md")
            with open(md, "w") as f:
                f.write(md_text)
            r = Report()
            check_file(md, build, r, rel="t.md")
            return r

    block = "<!-- doc-check -->\n```console\n$ {}\n{}\n```\n"
    r = scratch(block.format("printf '1.5\\nok\\n'", "1.5\nok") +
                "\n<!-- doc-check: skip=\"slow\" -->\n```\n$ sleep 100\ndone\n```\n")
    expect("scratch file: right number passes", not r.failures and r.cmds_checked == 1 and r.blocks_skipped == 1)
    r = scratch(block.format("printf '1.25\\nok\\n'", "1.50\nok"))
    expect("scratch file: wrong number fails", any("1.25 where the doc says 1.50" in m for m in r.failures))
    r = scratch("```console\n$ echo 1\n1\n```\n")
    expect("scratch file: unmarked block fails", any("no <!-- doc-check" in m for m in r.failures))
    r = scratch(block.format("echo 1; exit 3", "1"))
    expect("scratch file: failing command fails", any("exited 3" in m for m in r.failures))
    r = scratch(block.format("echo out; echo err >&2; echo out2", "out\nerr\nout2"))
    expect("scratch file: stdout and stderr interleaved as on a terminal", not r.failures)
    if fails:
        print("check-doc-outputs: self-test FAILED: " + ", ".join(fails), file=sys.stderr)
        return 1
    print("check-doc-outputs: self-test passed (the comparer rejects wrong numbers, texts, missing and extra "
          "lines, unmarked blocks and failing commands)")
    return 0


# ---- main ---------------------------------------------------------------------------------------


def main(argv):
    build, files, update, verbose, selftest = os.path.join(ROOT, "build"), [], False, False, False
    for a in argv:
        if a == "--update":
            update = True
        elif a in ("-v", "--verbose"):
            verbose = True
        elif a == "--self-test":
            selftest = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif a.endswith(".md"):
            files.append(os.path.abspath(a))
        elif a.startswith("-"):
            print(f"check-doc-outputs: unknown option {a}", file=sys.stderr)
            return 2
        else:
            build = a
    if selftest:
        return self_test(build)
    if not os.access(os.path.join(build, "nlprnn"), os.X_OK):
        print(f"check-doc-outputs: {build}/nlprnn is not built", file=sys.stderr)
        return 2
    if not files:
        files = [os.path.join(ROOT, "README.md")] + sorted(
            glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
    t0 = time.time()
    report = Report()
    for f in files:
        if verbose:
            print(os.path.relpath(f, ROOT))
        check_file(f, build, report, verbose=verbose, update=update)
    if update:
        apply_updates(report)
    for where, what, reason in report.skips:
        if verbose:
            print(f"  not checked: {where}: {what}: {reason}")
    for m in report.failures:
        print(m, file=sys.stderr)
    summary(report, t0)
    if report.failures:
        print(f"check-doc-outputs: FAILED ({sum(1 for m in report.failures if not m.startswith('    '))} "
              "problem(s)); after a deliberate change, regenerate with --update and review the diff",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

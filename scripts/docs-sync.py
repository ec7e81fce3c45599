#!/usr/bin/env python3
"""scripts/docs-sync.py NLPRNN_BINARY [--update]

Keeps the command reference in step with the program (called by scripts/check-docs.sh):
  * docs/cli.md: every command listed by `nlprnn --help` has a section "## `nlprnn CMD`" holding
    its exact `nlprnn CMD --help` text between <!-- help:CMD --> and <!-- /help:CMD --> markers;
  * docs/nlprnn.1: the COMMANDS section (between the COMMANDS-BEGIN / COMMANDS-END comments) has
    one .SS per command: its one-line summary and its --help text.
Without --update: exit 1 and name what differs. With --update: rewrite those parts (prose written
around the markers is kept) and add sections for new commands."""
import re, subprocess, sys

def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"docs-sync: '{' '.join(args)}' exited {p.returncode}")
    return p.stdout.rstrip("\n")

def commands(exe):
    out, on = [], False
    for line in run([exe, "--help"]).splitlines():
        if line.startswith("commands:"):
            on = True
        elif on and not line.strip():
            break
        elif on:
            m = re.match(r"  (\S+)\s+(.*)", line)
            if m:
                out.append((m.group(1), m.group(2)))
    return out

def roff_escape(line):
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line

def main():
    exe, update = sys.argv[1], "--update" in sys.argv[2:]
    cmds = commands(exe)
    helps = {c: run([exe, c, "--help"]) for c, _ in cmds}
    problems = []

    # ---- docs/cli.md
    md = open("docs/cli.md", encoding="utf-8").read()
    new_md = md
    for c, summary in cmds:
        block = f"<!-- help:{c} -->\n```text\n{helps[c]}\n```\n<!-- /help:{c} -->"
        pat = re.compile(rf"<!-- help:{re.escape(c)} -->.*?<!-- /help:{re.escape(c)} -->", re.S)
        if pat.search(new_md):
            new_md = pat.sub(lambda _: block, new_md)
        else:
            new_md = new_md.rstrip("\n") + f"\n\n## `nlprnn {c}`\n\n{summary}.\n\n{block}\n"
        if not re.search(rf"^## `nlprnn {re.escape(c)}`", new_md, re.M):
            problems.append(f"docs/cli.md: no '## `nlprnn {c}`' heading")
    for c in re.findall(r"<!-- help:(\S+) -->", new_md):
        if c not in helps:
            problems.append(f"docs/cli.md: section for '{c}', which the program does not have")
    if new_md != md:
        problems.append("docs/cli.md: --help texts differ from the program's")

    # ---- docs/nlprnn.1
    man = open("docs/nlprnn.1", encoding="utf-8").read()
    begin = man.index(".\\\" COMMANDS-END")
    start = man.index("\n", man.index(".\\\" COMMANDS-BEGIN"))
    start = man.index("\n", start + 1)  # the marker comment takes two lines
    parts = []
    for c, summary in cmds:
        parts.append(f".SS {c}\n{roff_escape(summary[0].upper() + summary[1:])}.\n.PP\n.nf\n"
                     + "\n".join(roff_escape(l) if l else "" for l in helps[c].splitlines())
                     + "\n.fi\n")
    new_man = man[: start + 1] + "".join(parts) + man[begin:]
    if new_man != man:
        problems.append("docs/nlprnn.1: COMMANDS section differs from the program's --help")

    if update:
        open("docs/cli.md", "w", encoding="utf-8").write(new_md)
        open("docs/nlprnn.1", "w", encoding="utf-8").write(new_man)
        print(f"docs-sync: docs/cli.md and docs/nlprnn.1 written ({len(cmds)} commands)")
        return 0
    for p in problems:
        print("docs-sync: " + p, file=sys.stderr)
    if problems:
        print(f"docs-sync: run scripts/check-docs.sh BUILD --update, review, commit", file=sys.stderr)
        return 1
    print(f"docs-sync: cli.md and nlprnn.1 match the program ({len(cmds)} commands)")
    return 0

sys.exit(main())

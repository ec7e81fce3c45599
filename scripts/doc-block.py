#!/usr/bin/env python3
"""scripts/doc-block.py DOC NAME FILE — put FILE's text between the markers
`<!-- NAME:begin -->` and `<!-- NAME:end -->` of DOC (a Markdown file), replacing what was there.

The training recipes (scripts/train-*.sh) write the record of their run (commands, times, scores,
bench/env.sh) into their section of the docs this way. DOC is replaced atomically (a temporary
file in its folder, then rename). Exit status: 0; 2 on a usage error; 3 when DOC lacks either
marker or has them out of order (naming DOC and the marker); 4 when a file cannot be read or
written.
"""
import os
import sys
import tempfile


def main(argv):
    if len(argv) != 3:
        print("usage: scripts/doc-block.py DOC NAME FILE", file=sys.stderr)
        return 2
    doc, name, src = argv
    try:
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        with open(src, encoding="utf-8") as f:
            body = f.read().rstrip("\n")
    except OSError as e:
        print(f"doc-block: {e.filename}: {e.strerror}", file=sys.stderr)
        return 4
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    a, b = text.find(begin), text.find(end)
    for marker, at in ((begin, a), (end, b)):
        if at < 0:
            print(f"doc-block: {doc}: no marker {marker}", file=sys.stderr)
            return 3
    if b < a:
        print(f"doc-block: {doc}: {end} comes before {begin}", file=sys.stderr)
        return 3
    a += len(begin)
    out = text[:a] + "\n" + body + "\n" + text[b:]
    folder = os.path.dirname(os.path.abspath(doc))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".doc-block.", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(out)
        os.chmod(tmp, os.stat(doc).st_mode & 0o777)
        os.replace(tmp, doc)
    except OSError as e:
        print(f"doc-block: {doc}: {e.strerror}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

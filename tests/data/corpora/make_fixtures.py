#!/usr/bin/env python3
"""Writes the small corpus fixtures used by tests/test_corpora.c (run from this folder).
Byte offsets asserted in the test are noted next to each file."""
import gzip, io

def w(name, data):
    with open(name, "wb") as f:
        f.write(data)

def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(data)
    return buf.getvalue()

# good.tsv: CRLF row, empty document (skipped), blank line (skipped), last line without "\n".
good = ("id\tdocument\tlabel\n"
        "1\t좋아요\t1\r\n"
        "2\t\t0\n"
        "3\tbad movie\t0\n"
        "\n"
        "4\t최고\t1").encode()
w("good.tsv", good)
w("good.tsv.gz", gz(good))
# missing_col.tsv: line 3 (offset 25) has two fields
w("missing_col.tsv", b"id\tdocument\tlabel\n1\tok\t1\n2\tnolabel\n3\tfine\t0\n")
# bad_utf8.tsv: line 3 starts at byte 25, the 0xFF is byte 31
w("bad_utf8.tsv", b"id\tdocument\tlabel\n1\tok\t1\n2\tbad \xff here\t0\n4\tfine\t1\n")
# quoted.csv: RFC 4180 quoting, a quoted field over two lines, columns in another order
w("quoted.csv", b'label,text\npos,"hello, world"\nneg,"two\nlines with ""quotes"""\npos,plain\n')
# labels.ft: fastText lines; line 2 has two labels; line 4 has none
w("labels.ft", b"__label__pos great film\n__label__neg __label__meh  dull\n\n"
               b"no label here\n__label__pos ok\n")
# lines.txt.gz made of two gzip members
w("concat.txt.gz", gz(b"one\ntwo\n") + gz(b"three\n"))
# truncated.txt.gz: a gzip stream cut in the middle
big = b"".join(b"line %d of a longer text\n" % i for i in range(2000))
z = gz(big)
w("truncated.txt.gz", z[: len(z) // 2])

#!/usr/bin/env python3
"""Derive nfkc_sample.txt (the committed NormalizationTest sample) from Unicode's
NormalizationTest.txt as shipped by Debian's unicode-data package (15.0.0).

    python3 tests/data/tokenizer/make_nfkc_sample.py \
        /usr/share/unicode/NormalizationTest.txt.bz2 > tests/data/tokenizer/nfkc_sample.txt

Sample: every line of Part0 (specific cases) and Part3 (PRI #29), every 12th line of Part1
(character by character) and every 4th line of Part2 (canonical order), in file order.
Lines keep the original format c1;c2;c3;c4;c5; # comment.
"""
import bz2
import sys

path = sys.argv[1]
opener = bz2.open if path.endswith(".bz2") else open
part = None
index = 0
print("# Sample of Unicode NormalizationTest.txt (unicode-data 15.0.0), made by")
print("#   python3 tests/data/tokenizer/make_nfkc_sample.py /usr/share/unicode/NormalizationTest.txt.bz2")
print("# Format: source; NFC; NFD; NFKC; NFKD; # comment   (hex code points)")
with opener(path, "rt", encoding="utf-8") as f:
    for line in f:
        if line.startswith("@Part"):
            part = line.split()[0]
            index = 0
            print(line.rstrip("\n"))
            continue
        if not line.strip() or line.startswith("#"):
            continue
        keep = (part in ("@Part0", "@Part3")
                or (part == "@Part1" and index % 12 == 0)
                or (part == "@Part2" and index % 4 == 0))
        index += 1
        if keep:
            print(line.rstrip("\n"))

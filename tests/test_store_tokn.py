#!/usr/bin/env python3
"""tests/test_store_tokn.py SCRIPT NLPRNN MODEL: scripts/store-tokn.py against the program's writer.

MODEL is a shipped model file as the program writes it today (tokenizer section TOKN stored).
The test makes the older layout of the same file (TOKN zlib-compressed, every other section as it
is: the container of docs/formats.md, written here independently of the script), checks that
the program reads it as such (`nlprnn info` names the encoding) and answers the same (a
classifier: `classify`; a language model: `next`), then:
  - store-tokn.py OLD NEW gives NEW byte for byte equal to MODEL (what the C writer writes);
  - a second run on NEW copies it unchanged ("already stored");
  - bad input: a flipped byte inside TOKN exits 5 naming the section, a truncated file exits 5,
    a missing file exits 4, a wrong argument count exits 2, and the output is not created.
Exit 0 when every check holds, 1 otherwise (each failure printed).
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

END = b"NLPRNEND"
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print(f"FAIL: {what}", file=sys.stderr)


def pad8(n):
    return (8 - n % 8) % 8


def compress_tokn(data):
    """The file with TOKN stored zlib-compressed (encoding 1), headers and lengths rewritten."""
    nsec = struct.unpack_from("<I", data, 16)[0]
    pos, body, found = 40, [], False
    for _ in range(nsec):
        h = bytearray(data[pos:pos + 40])
        fl, sl, rl, rcrc, scrc = struct.unpack_from("<IQQII", h, 4)
        stored = data[pos + 40:pos + 40 + sl]
        if h[:4] == b"TOKN":
            assert fl & 0xFF == 0, "MODEL's TOKN must be stored"
            found = True
            stored = zlib.compress(stored, 9)
            struct.pack_into("<IQQII", h, 4, (fl & ~0xFF) | 1, len(stored), rl, rcrc, zlib.crc32(stored))
            struct.pack_into("<I", h, 36, zlib.crc32(bytes(h[:36])))
        body += [bytes(h), stored, b"\0" * pad8(len(stored))]
        pos += 40 + sl + pad8(sl)
    assert found, "MODEL has no TOKN section"
    body = b"".join(body)
    total = 40 + len(body) + 16
    head = bytearray(data[:40])
    struct.pack_into("<Q", head, 24, total)
    struct.pack_into("<I", head, 36, zlib.crc32(bytes(head[:36])))
    return bytes(head) + body + END + struct.pack("<Q", total)


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    script, cli, model = sys.argv[1:]
    data = open(model, "rb").read()
    old_bytes = compress_tokn(data)
    check(len(old_bytes) < len(data), "the compressed layout is smaller")
    with tempfile.TemporaryDirectory(prefix="nlprnn_store_tokn.") as t:
        old, new, again = (os.path.join(t, n) for n in ("old.nrm", "new.nrm", "again.nrm"))
        open(old, "wb").write(old_bytes)
        info = run(cli, "info", old)
        check(info.returncode == 0, f"info on the old layout: {info.stderr}")
        tokn = [l for l in info.stdout.splitlines() if l.startswith("section TOKN")]
        check(len(tokn) == 1 and "zlib" in tokn[0], f"info names TOKN zlib: {tokn}")
        if "LANG" in info.stdout.splitlines()[1]:  # a language model: the next words
            ask = lambda m: run(cli, "next", "-m", m, "-k", "5", "-f", "json", "이 영화 정말")
        else:  # a classifier: two reviews
            review = os.path.join(t, "review.txt")
            open(review, "w").write("배우들의 연기가 정말 좋았고 다시 보고 싶다\n최악이다 시간 아깝다\n")
            ask = lambda m: run(cli, "classify", "-m", m, "--lines", "--format", "json", review)
        a, b = ask(model), ask(old)
        check(a.returncode == 0 and b.returncode == 0 and a.stdout == b.stdout and a.stdout,
              f"same predictions from both layouts: {a.stdout!r} {b.stdout!r} {b.stderr}")

        r = run(sys.executable, script, old, new)
        check(r.returncode == 0 and "now stored" in r.stdout, f"store-tokn: {r.returncode} {r.stdout} {r.stderr}")
        check(os.path.exists(new) and open(new, "rb").read() == data,
              "store-tokn's output is the writer's file byte for byte")
        r = run(sys.executable, script, new, again)
        check(r.returncode == 0 and "already stored" in r.stdout, f"second run: {r.stdout} {r.stderr}")
        check(os.path.exists(again) and open(again, "rb").read() == data, "second run copies unchanged")

        # bad input: nothing written, the documented exit codes
        nsec = struct.unpack_from("<I", old_bytes, 16)[0]
        pos = 40
        for _ in range(nsec):
            sl = struct.unpack_from("<Q", old_bytes, pos + 8)[0]
            if old_bytes[pos:pos + 4] == b"TOKN":
                break
            pos += 40 + sl + pad8(sl)
        flipped = bytearray(old_bytes)
        flipped[pos + 40 + 100] ^= 0x01
        cases = [("flipped.nrm", bytes(flipped), 5, "section TOKN fails its CRC32 check"),
                 ("short.nrm", old_bytes[:len(old_bytes) // 2], 5, "store-tokn:")]
        for name, blob, code, msg in cases:
            src, dst = os.path.join(t, name), os.path.join(t, "out-" + name)
            open(src, "wb").write(blob)
            r = run(sys.executable, script, src, dst)
            check(r.returncode == code and msg in r.stderr, f"{name}: exit {r.returncode} {r.stderr!r}")
            check(not os.path.exists(dst), f"{name}: no output written")
        r = run(sys.executable, script, os.path.join(t, "missing.nrm"), os.path.join(t, "x.nrm"))
        check(r.returncode == 4, f"missing file: exit {r.returncode}")
        r = run(sys.executable, script, old)
        check(r.returncode == 2, f"one argument: exit {r.returncode}")
    print(f"test_store_tokn: {'FAIL' if fails else 'ok'} ({fails} failures)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""scripts/store-tokn.py IN OUT: re-save an nlprnn model file with its tokenizer section (TOKN)
stored instead of zlib-compressed, every other byte of every other section unchanged.

Files written before 2026-12-05 keep TOKN compressed; the writers now store it (every kind
through nr_mf_add_tokenizer, format/modelfile_write.c), so a load reads the tokenizer where the
file's bytes lie instead of inflating it. Translator files' TOKS/TOKT are not rewritten here
(older ones stay compressed; they load as before). This gives an older file that layout without
retraining: the raw bytes of TOKN are the same, so the model loads the same tokenizer and predicts
the same (check it: compare the program's outputs with IN and OUT). The container is the one of
docs/formats.md: every CRC of IN is checked first (the file header's, each section header's, each
section's stored and raw bytes), OUT gets TOKN's header with encoding 0, stored length = raw
length and stored CRC = raw CRC, the new total length in the file header and the trailer, and new
header CRCs. OUT is written atomically (a temporary file beside it, then rename). A file whose
TOKN is already stored is copied as it is. Exit 0 on success, 2 usage, 4 I/O, 5 a bad model file.
Tested by tests/test_store_tokn.py (CTest store_tokn_ko, store_tokn_ko-lm): the shipped files made
old-style and re-saved give the writer's bytes; bad input gives these exit codes.
"""
import os
import struct
import sys
import tempfile
import zlib

MAGIC, END = b"\x89NLPRNN\n", b"NLPRNEND"


def bad(msg):
    print(f"store-tokn: {msg}", file=sys.stderr)
    sys.exit(5)


def pad8(n):
    return (8 - n % 8) % 8


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        sys.exit(2)
    src, dst = sys.argv[1], sys.argv[2]
    try:
        data = open(src, "rb").read()
    except OSError as e:
        print(f"store-tokn: {src}: {e.strerror}", file=sys.stderr)
        sys.exit(4)
    if len(data) < 56 or data[:8] != MAGIC:
        bad(f"{src}: not an nlprnn model file")
    if zlib.crc32(data[:36]) != struct.unpack_from("<I", data, 36)[0]:
        bad(f"{src}: the file header fails its CRC32 check")
    nsec, flags, total, reserved = struct.unpack_from("<IIQI", data, 16)
    if total != len(data) or flags or reserved:
        bad(f"{src}: the header's length or flags do not match the file")
    out, pos, changed = [data[:40]], 40, False
    for i in range(nsec):
        h = data[pos:pos + 40]
        if len(h) < 40 or zlib.crc32(h[:36]) != struct.unpack_from("<I", h, 36)[0]:
            bad(f"{src}: the header of section {i + 1} at byte {pos} fails its CRC32 check")
        tag = h[:4]
        fl, sl, rl, rcrc, scrc = struct.unpack_from("<IQQII", h, 4)
        stored = data[pos + 40:pos + 40 + sl]
        if len(stored) != sl or zlib.crc32(stored) != scrc:
            bad(f"{src}: section {tag.decode('ascii', 'replace')} fails its CRC32 check")
        if tag == b"TOKN" and fl & 0xFF == 1:
            raw = zlib.decompress(stored)
            if len(raw) != rl or zlib.crc32(raw) != rcrc:
                bad(f"{src}: section TOKN: the inflated bytes fail their length or CRC32 check")
            nh = bytearray(h)
            struct.pack_into("<IQQII", nh, 4, fl & ~0xFF, rl, rl, rcrc, rcrc)
            struct.pack_into("<I", nh, 36, zlib.crc32(bytes(nh[:36])))
            out += [bytes(nh), raw, b"\0" * pad8(rl)]
            changed = True
        else:
            out += [h, stored, b"\0" * pad8(sl)]
        pos += 40 + sl + pad8(sl)
    if data[pos:pos + 8] != END or pos + 16 != len(data):
        bad(f"{src}: bad trailer at byte {pos}")
    body = b"".join(out[1:])
    new_total = 40 + len(body) + 16
    head = bytearray(data[:40])
    struct.pack_into("<Q", head, 24, new_total)
    struct.pack_into("<I", head, 36, zlib.crc32(bytes(head[:36])))
    blob = bytes(head) + body + END + struct.pack("<Q", new_total)
    folder = os.path.dirname(os.path.abspath(dst))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".store-tokn.")
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except OSError as e:
        print(f"store-tokn: {dst}: {e.strerror}", file=sys.stderr)
        sys.exit(4)
    print(f"store-tokn: {dst}: {len(data)} -> {len(blob)} bytes, TOKN "
          f"{'now stored' if changed else 'was already stored (copied)'}")


if __name__ == "__main__":
    main()

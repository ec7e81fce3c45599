#!/usr/bin/env python3
""".ci/ckpt-edit.py IN OUT KEY=VALUE...: copy the nlprnn model file IN (any kind, e.g. a training
checkpoint) to OUT with KEY set to VALUE in its CONF section, every CRC and length recomputed
(docs/formats.md), so that the file passes the container checks and only the loader of its
kind can refuse the values. For probes of the checkpoint reader (.ci/output-probe.sh); values
are written as given (no escaping)."""
import struct
import sys
import zlib

HEADER, SECTION, TRAILER = 40, 40, 16


def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
    data = open(src, "rb").read()
    magic, kind, version, count = data[0:8], data[8:12], *struct.unpack_from("<II", data, 12)
    pos, sections = HEADER, []
    for _ in range(count):
        tag, flags, stored, raw = struct.unpack_from("<4sIQQ", data, pos)
        body = data[pos + SECTION:pos + SECTION + stored]
        if flags & 0xFF == 1:
            body = zlib.decompress(body)
        pos += SECTION + stored + (-stored % 8)
        sections.append([tag, flags & 0xFF00, body])
    for s in sections:
        if s[0] != b"CONF":
            continue
        lines = s[2].decode("utf-8").split("\n")[:-1]
        for e in edits:
            key, value = e.split("=", 1)
            hit = [i for i, l in enumerate(lines) if l.split("=", 1)[0] == key]
            if hit:
                lines[hit[0]] = key + "=" + value
            else:
                lines.append(key + "=" + value)
        s[2] = ("\n".join(lines) + "\n").encode("utf-8")
    out = bytearray()
    for tag, content, body in sections:
        h = struct.pack("<4sIQQIII", tag, content, len(body), len(body), crc(body), crc(body), 0)
        out += h + struct.pack("<I", crc(h)) + body + b"\0" * (-len(body) % 8)
    total = HEADER + len(out) + TRAILER
    h = magic + kind + struct.pack("<IIIQI", version, count, 0, total, 0)
    blob = h + struct.pack("<I", crc(h)) + out + b"NLPRNEND" + struct.pack("<Q", total)
    open(dst, "wb").write(blob)


main()

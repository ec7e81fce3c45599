/* tests/fuzz/reseal.h: recompute the CRCs of a model file (format/modelfile.h) in place, for
 * the loader fuzz targets. The container's CRCs would stop almost every mutation before a task's
 * loader sees it; resealed, mutations of the configuration text, the tokenizer bytes and the
 * weights reach the parsers, the shape and size checks and the network. Each section's stored
 * and raw CRC (zlib sections inflated to do so), each section header and the file header are
 * recomputed; the tokenizer's own checksum inside a TOKN section too, and a stored section that
 * is itself a model file (a translator's TOKS/TOKT tokenizers) is resealed first. Lengths are
 * not re-sealed: the container's own checks (fuzz_modelfile) cover them. */
#ifndef NR_FUZZ_RESEAL_H
#define NR_FUZZ_RESEAL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "format/modelfile.h"

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t crc(const unsigned char *p, size_t n) {
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* Recompute the CRCs of the model file p (n bytes) in place. */
static void reseal(unsigned char *p, size_t n) {
    if (n < NR_MF_HEADER_SIZE || memcmp(p, NR_MF_MAGIC, 8)) return;
    uint32_t nsec = rd32(p + 16);
    size_t pos = NR_MF_HEADER_SIZE;
    for (uint32_t i = 0; i < nsec && i < NR_MF_MAX_SECTIONS; i++) {
        if (n - pos < NR_MF_SECTION_HEADER_SIZE) break;
        unsigned char *h = p + pos, *d = h + NR_MF_SECTION_HEADER_SIZE;
        uint64_t sl = rd64(h + 8);
        if (sl > n - pos - NR_MF_SECTION_HEADER_SIZE) break;
        int enc = h[4];
        if (enc == NR_MF_STORED) {
            if (!memcmp(h, "TOKN", 4) && sl >= 24 && !memcmp(d, "NLPRNTOK", 8))
                wr32(d + sl - 4, crc(d, (size_t)sl - 4)); /* the tokenizer's own checksum */
            else if (sl >= NR_MF_HEADER_SIZE && !memcmp(d, NR_MF_MAGIC, 8))
                reseal(d, (size_t)sl); /* a model file inside (its length is the section's) */
            wr64(h + 16, sl);
            wr32(h + 24, crc(d, (size_t)sl));
        } else if (enc == NR_MF_ZLIB) {
            uint64_t raw = rd64(h + 16);
            if (raw <= (1u << 20)) {
                unsigned char *b = malloc(raw ? (size_t)raw : 1);
                uLongf dn = (uLongf)raw;
                uLong sn = (uLong)sl;
                if (b && uncompress2(b, &dn, d, &sn) == Z_OK && dn == raw) wr32(h + 24, crc(b, dn));
                free(b);
            }
        }
        wr32(h + 28, crc(d, (size_t)sl));
        wr32(h + 36, crc(h, 36));
        pos += NR_MF_SECTION_HEADER_SIZE + (size_t)sl + (size_t)((8 - (sl & 7)) & 7);
        if (pos > n) break;
    }
    wr32(p + 36, crc(p, 36));
}

/* The fuzz input as a model file of the given kind: a private copy (the input is read-only),
 * resealed, opened. Returns the reader, or NULL when the container refuses it; *copy (freed by
 * the caller after nr_mf_close) holds the bytes the reader reads. */
static nr_mf_reader *fuzz_open_resealed(const uint8_t *data, size_t size, const char *kind,
                                        unsigned char **copy, nlprnn_error *e) {
    nr_mf_reader *r = NULL;
    *copy = malloc(size ? size : 1);
    if (!*copy) return NULL;
    if (size) memcpy(*copy, data, size);
    reseal(*copy, size);
    return nr_mf_open_mem(&r, *copy, size, "fuzz.nrm", kind, e) == 0 ? r : NULL;
}

#endif

/* format/modelfile_write.c: writing a model file. Sections are built in memory: a byte buffer
 * (nr_mf_buf) collects a section's payload (config lines: format/conf.c; tensors and strings:
 * format/modelfile_tensors.c), nr_mf_add copies it into the writer (zlib-compressed when that is
 * smaller) with its CRC32s, and nr_mf_writer_save puts the file header, each section's header,
 * bytes and padding, and the trailer in a file written atomically (nr_mf_writer_to_mem: in
 * memory). Layout: format/modelfile.h. Its mirror, the reader that validates every field written
 * here: format/modelfile_read.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/common.h"
#include "format/modelfile_impl.h"

/* ---- byte buffer -------------------------------------------------------------------------- */

void nr_mf_buf_init(nr_mf_buf *b) { memset(b, 0, sizeof *b); }

void nr_mf_buf_free(nr_mf_buf *b) {
    if (!b) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

int nr_mf_buf_reserve(nr_mf_buf *b, size_t extra) {
    if (extra > SIZE_MAX - b->len) return -1;
    size_t need = b->len + extra;
    if (need <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    /* from 2 MiB up in huge pages (a checkpoint's weights and optimizer moments: tens of MB a
     * section, written every epoch; fresh 4 KiB pages faulted one at a time cost ~10 us each
     * here), so the grown buffer is copied rather than realloc'ed */
    unsigned char *nd;
    if (nc >= ((size_t)2 << 20)) {
        nd = nr_big_alloc(nc, 1);
        if (!nd) return -1;
        if (b->len) memcpy(nd, b->data, b->len);
        free(b->data);
    } else {
        nd = realloc(b->data, nc);
    }
    if (!nd) return -1;
    b->data = nd;
    b->cap = nc;
    return 0;
}

int nr_mf_buf_put(nr_mf_buf *b, const void *data, size_t n, nlprnn_error *err) {
    if (!n) return NLPRNN_OK;
    if (nr_mf_buf_reserve(b, n)) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return NLPRNN_OK;
}

int nr_mf_buf_printf(nr_mf_buf *b, nlprnn_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "bad format");
    if (nr_mf_buf_reserve(b, (size_t)n + 1)) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return NLPRNN_OK;
}

/* ---- writer ------------------------------------------------------------------------------- */

typedef struct {
    char tag[4];
    uint32_t flags;
    unsigned char *stored; /* (stored_len) */
    uint64_t stored_len, raw_len;
    uint32_t crc, stored_crc;
} wsection;

struct nr_mf_writer {
    char kind[4];
    uint32_t version;
    int level; /* nr_mf_writer_set_compression: zlib level, -1 its default, 0 never compress */
    wsection *s;
    size_t n, cap;
};

int nr_mf_writer_new(nr_mf_writer **out, const char *kind, nlprnn_error *err) {
    *out = NULL;
    if (!kind || strlen(kind) != 4 || !valid_kind(kind))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "model kind must be 4 characters from A-Z, 0-9, _");
    nr_mf_writer *w = calloc(1, sizeof *w);
    if (!w) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    memcpy(w->kind, kind, 4);
    w->version = NR_MF_VERSION_BASE;
    w->level = Z_DEFAULT_COMPRESSION;
    *out = w;
    return NLPRNN_OK;
}

int nr_mf_writer_set_compression(nr_mf_writer *w, int level, nlprnn_error *err) {
    if (!w || level < -1 || level > 9)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "compression level %d (must be -1..9)", level);
    w->level = level;
    return NLPRNN_OK;
}

int nr_mf_writer_set_version(nr_mf_writer *w, uint32_t version, nlprnn_error *err) {
    if (!w || version < NR_MF_VERSION_BASE || version > NR_MF_VERSION)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "format version %u is not one this build writes (%u..%u)",
                       version, NR_MF_VERSION_BASE, NR_MF_VERSION);
    w->version = version;
    return NLPRNN_OK;
}

void nr_mf_writer_free(nr_mf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free(w->s[i].stored);
    free(w->s);
    free(w);
}

int nr_mf_add(nr_mf_writer *w, const char *tag, int content, const void *data, size_t n,
              int compress, nlprnn_error *err) {
    if (!tag || strlen(tag) != 4 || !valid_tag(tag))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "section tag must be 4 characters from A-Z, 0-9, _");
    if (content < NR_MF_RAW || content > NR_MF_STRINGS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "section %s: unknown content type %d",
                       tag, content);
    if (!data && n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "section %s: no data", tag);
    for (size_t i = 0; i < w->n; i++)
        if (!memcmp(w->s[i].tag, tag, 4))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "section %s added twice", tag);
    if (w->n >= NR_MF_MAX_SECTIONS)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "more than %d sections", NR_MF_MAX_SECTIONS);
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 8;
        wsection *ns = nr_realloc_array(w->s, nc, sizeof *ns);
        if (!ns) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        w->s = ns;
        w->cap = nc;
    }
    wsection *s = &w->s[w->n];
    memset(s, 0, sizeof *s);
    memcpy(s->tag, tag, 4);
    s->raw_len = n;
    s->crc = crc32_of(data, n);
    int enc = NR_MF_STORED;
    if (compress && w->level != 0 && n > 0 && n <= 0xFFFFFFFFu) {
        uLongf bound = compressBound((uLong)n);
        unsigned char *z = malloc(bound ? bound : 1);
        if (!z) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        uLongf zn = bound;
        if (compress2(z, &zn, data, (uLong)n, w->level) == Z_OK && zn < n) {
            s->stored = z;
            s->stored_len = zn;
            enc = NR_MF_ZLIB;
        } else {
            free(z);
        }
    }
    if (enc == NR_MF_STORED) {
        s->stored = nr_big_alloc(n ? n : 1, 1); /* huge pages from 2 MiB (nr_mf_buf_reserve) */
        if (!s->stored) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        if (n) memcpy(s->stored, data, n);
        s->stored_len = n;
    }
    s->flags = (uint32_t)enc | ((uint32_t)content << 8);
    s->stored_crc = enc == NR_MF_STORED ? s->crc : crc32_of(s->stored, (size_t)s->stored_len);
    w->n++;
    return NLPRNN_OK;
}

int nr_mf_add_tokenizer(nr_mf_writer *w, const char *tag, const nlprnn_tokenizer *tok,
                        nlprnn_error *err) {
    void *buf = NULL;
    size_t n = 0;
    int rc = nlprnn_tokenizer_save_memory(tok, &buf, &n, err);
    if (!rc) rc = nr_mf_add(w, tag, NR_MF_RAW, buf, n, 0, err);
    nlprnn_free(buf);
    return rc;
}

static uint64_t writer_total(const nr_mf_writer *w) {
    uint64_t t = NR_MF_HEADER_SIZE + NR_MF_TRAILER_SIZE;
    for (size_t i = 0; i < w->n; i++)
        t += NR_MF_SECTION_HEADER_SIZE + w->s[i].stored_len + pad8(w->s[i].stored_len);
    return t;
}

static void file_header(const nr_mf_writer *w, unsigned char h[NR_MF_HEADER_SIZE]) {
    memset(h, 0, NR_MF_HEADER_SIZE);
    memcpy(h, NR_MF_MAGIC, 8);
    memcpy(h + 8, w->kind, 4);
    put_u32(h + 12, w->version);
    put_u32(h + 16, (uint32_t)w->n);
    put_u32(h + 20, 0); /* flags */
    put_u64(h + 24, writer_total(w));
    put_u32(h + 32, 0); /* reserved */
    put_u32(h + 36, crc32_of(h, 36));
}

static void section_header(const wsection *s, unsigned char h[NR_MF_SECTION_HEADER_SIZE]) {
    memcpy(h, s->tag, 4);
    put_u32(h + 4, s->flags);
    put_u64(h + 8, s->stored_len);
    put_u64(h + 16, s->raw_len);
    put_u32(h + 24, s->crc);
    put_u32(h + 28, s->stored_crc);
    put_u32(h + 32, 0); /* reserved */
    put_u32(h + 36, crc32_of(h, 36));
}

static void trailer(const nr_mf_writer *w, unsigned char t[NR_MF_TRAILER_SIZE]) {
    memcpy(t, NR_MF_END_MAGIC, 8);
    put_u64(t + 8, writer_total(w));
}

int nr_mf_writer_to_mem(const nr_mf_writer *w, unsigned char **data, size_t *n,
                        nlprnn_error *err) {
    *data = NULL;
    *n = 0;
    uint64_t total = writer_total(w);
    if (total > SIZE_MAX) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "model too large");
    unsigned char *p = malloc((size_t)total), *o = p;
    if (!p) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    file_header(w, o);
    o += NR_MF_HEADER_SIZE;
    for (size_t i = 0; i < w->n; i++) {
        section_header(&w->s[i], o);
        o += NR_MF_SECTION_HEADER_SIZE;
        if (w->s[i].stored_len) memcpy(o, w->s[i].stored, (size_t)w->s[i].stored_len);
        o += w->s[i].stored_len;
        size_t pad = pad8(w->s[i].stored_len);
        memset(o, 0, pad);
        o += pad;
    }
    trailer(w, o);
    *data = p;
    *n = (size_t)total;
    return NLPRNN_OK;
}

int nr_mf_writer_save(const nr_mf_writer *w, const char *path, nlprnn_error *err) {
    nr_atomic_file af;
    int rc = nr_atomic_open(&af, path, err);
    if (rc) return rc;
    unsigned char h[NR_MF_HEADER_SIZE], zeros[8] = {0};
    file_header(w, h);
    int ok = fwrite(h, 1, sizeof h, af.fp) == sizeof h;
    for (size_t i = 0; ok && i < w->n; i++) {
        unsigned char sh[NR_MF_SECTION_HEADER_SIZE];
        section_header(&w->s[i], sh);
        size_t sl = (size_t)w->s[i].stored_len, pad = pad8(w->s[i].stored_len);
        ok = fwrite(sh, 1, sizeof sh, af.fp) == sizeof sh &&
             (!sl || fwrite(w->s[i].stored, 1, sl, af.fp) == sl) &&
             (!pad || fwrite(zeros, 1, pad, af.fp) == pad);
    }
    unsigned char t[NR_MF_TRAILER_SIZE];
    trailer(w, t);
    if (ok) ok = fwrite(t, 1, sizeof t, af.fp) == sizeof t;
    if (!ok) {
        rc = nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: write failed: %s", path, strerror(errno));
        nr_atomic_abort(&af);
        return rc;
    }
    return nr_atomic_commit(&af, err);
}

/* format/modelfile.c: the model-file container: writer, validating reader, config, tensor and
 * string sections, description for `nlprnn info`. Layout in modelfile.h and docs/formats.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/common.h"
#include "common/pool.h" /* nr_blas_own */
#include "format/modelfile_impl.h"
#include "nlprnn/modelfile.h"

/* ---- messages ----------------------------------------------------------------------------- */

/* Printable copy of 4 bytes for messages ("CLSF", or "\x00..." escaped). */
static void tag_text(char out[17], const unsigned char *t) {
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        if (t[i] >= 0x20 && t[i] < 0x7F && t[i] != '\\') out[o++] = (char)t[i];
        else o += (size_t)snprintf(out + o, 5, "\\x%02X", t[i]);
    }
    out[o] = '\0';
}

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

/* ---- reader ------------------------------------------------------------------------------- */

const char *nr_mf_name(const nr_mf_reader *r) { return r->name; }
const char *nr_mf_kind(const nr_mf_reader *r) { return r->kind; }
uint32_t nr_mf_version(const nr_mf_reader *r) { return r->version; }
uint64_t nr_mf_file_size(const nr_mf_reader *r) { return r->n; }
size_t nr_mf_section_count(const nr_mf_reader *r) { return r->ns; }
const nr_mf_section *nr_mf_section_at(const nr_mf_reader *r, size_t i) {
    return i < r->ns ? &r->s[i].pub : NULL;
}

const rsection *nr_mf_find_rs(const nr_mf_reader *r, const char *tag) {
    if (!tag || strlen(tag) != 4) return NULL;
    for (size_t i = 0; i < r->ns; i++)
        if (!memcmp(r->s[i].pub.tag, tag, 4)) return &r->s[i];
    return NULL;
}

const nr_mf_section *nr_mf_find(const nr_mf_reader *r, const char *tag) {
    const rsection *s = nr_mf_find_rs(r, tag);
    return s ? &s->pub : NULL;
}

int nr_mf_require(const nr_mf_reader *r, const char *tag, const nr_mf_section **sec,
                  nlprnn_error *err) {
    *sec = nr_mf_find(r, tag);
    if (!*sec)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: no section %s in this %s file",
                       r->name, tag ? tag : "(null)", r->kind);
    return NLPRNN_OK;
}

void nr_mf_close(nr_mf_reader *r) {
    if (!r) return;
    for (size_t i = 0; i < r->ns; i++) {
        rsection *s = &r->s[i];
        free(s->owned);
        for (size_t j = 0; j < s->nt; j++) free(s->t[j].name);
        free(s->t);
        free(s->strs);
        free(s->strbuf);
    }
    free(r->s);
    free(r->file);
    free(r->name);
    free(r);
}

const char *nr_mf_kind_name(const char *k) {
    if (!strcmp(k, NR_KIND_CLASSIFIER)) return "classifier";
    if (!strcmp(k, NR_KIND_LANGMODEL)) return "language model";
    if (!strcmp(k, NR_KIND_FORECASTER)) return "forecaster";
    if (!strcmp(k, NR_KIND_CHECKPOINT)) return "training checkpoint";
    if (!strcmp(k, NR_KIND_TOKENIZER)) return "tokenizer";
    if (!strcmp(k, NR_KIND_TAGGER)) return "tagger";
    return "model";
}

/* The file is shorter than its header says: name where it ends. */
static int truncated(const nr_mf_reader *r, uint32_t nsec, uint64_t total, nlprnn_error *err) {
    const unsigned char *p = r->data;
    uint64_t n = r->n, pos = NR_MF_HEADER_SIZE;
    for (uint32_t i = 0; i < nsec; i++) {
        if (n < pos + NR_MF_SECTION_HEADER_SIZE)
            return nr_fail(err, NLPRNN_E_TRUNCATED, -1, (long long)n,
                           "%s: truncated: the file ends at byte %" PRIu64
                           " in the header of section %u of %u (expected %" PRIu64 " bytes)",
                           r->name, n, i + 1, nsec, total);
        char tag[17];
        tag_text(tag, p + pos);
        uint64_t sl = get_u64(p + pos + 8);
        uint64_t end = sl > total ? total : pos + NR_MF_SECTION_HEADER_SIZE + sl + pad8(sl);
        if (n < end)
            return nr_fail(err, NLPRNN_E_TRUNCATED, -1, (long long)n,
                           "%s: truncated: the file ends at byte %" PRIu64
                           " inside section %s (%u of %u), which ends at byte %" PRIu64,
                           r->name, n, tag, i + 1, nsec, end);
        pos = end;
    }
    return nr_fail(err, NLPRNN_E_TRUNCATED, -1, (long long)n,
                   "%s: truncated: the file ends at byte %" PRIu64
                   " in the trailer (expected %" PRIu64 " bytes)",
                   r->name, n, total);
}

static int validate(nr_mf_reader *r, const char *want_kind, nlprnn_error *err) {
    const unsigned char *p = r->data;
    uint64_t n = r->n;
    const char *name = r->name;
    size_t m = n < 8 ? (size_t)n : 8;
    if (memcmp(p, NR_MF_MAGIC, m) != 0)
        return nr_fail(err, NLPRNN_E_MAGIC, -1, 0, "%s: not an nlprnn model file", name);
    if (n < NR_MF_HEADER_SIZE)
        return nr_fail(err, NLPRNN_E_TRUNCATED, -1, (long long)n,
                       "%s: truncated: the file ends at byte %" PRIu64
                       " in the file header (%d bytes)",
                       name, n, NR_MF_HEADER_SIZE);
    if (get_u32(p + 36) != crc32_of(p, 36))
        return nr_fail(err, NLPRNN_E_CHECKSUM, -1, 36,
                       "%s: the file header fails its CRC32 check (corrupt file)", name);
    r->version = get_u32(p + 12);
    if (r->version > NR_MF_VERSION)
        return nr_fail(err, NLPRNN_E_VERSION, -1, 12,
                       "%s: format version %u is newer than this build reads (%u); upgrade "
                       "nlprnn",
                       name, r->version, NR_MF_VERSION);
    if (r->version == 0)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, 12, "%s: format version 0 is invalid", name);
    char kt[17];
    tag_text(kt, p + 8);
    if (!valid_kind((const char *)p + 8))
        return nr_fail(err, NLPRNN_E_FORMAT, -1, 8, "%s: invalid model kind \"%s\"", name, kt);
    memcpy(r->kind, p + 8, 4);
    r->kind[4] = '\0';
    if (want_kind && strncmp(want_kind, r->kind, 4) != 0)
        return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, 8,
                       "%s: this is a %s file (%s), not a %s (%.4s)", name,
                       nr_mf_kind_name(r->kind), r->kind, nr_mf_kind_name(want_kind), want_kind);
    uint32_t nsec = get_u32(p + 16), flags = get_u32(p + 20), reserved = get_u32(p + 32);
    uint64_t total = get_u64(p + 24);
    if (flags || reserved)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, 20, "%s: unknown header flags 0x%08X/0x%08X",
                       name, flags, reserved);
    if (nsec > NR_MF_MAX_SECTIONS ||
        total < (uint64_t)NR_MF_HEADER_SIZE + NR_MF_TRAILER_SIZE +
                    (uint64_t)nsec * NR_MF_SECTION_HEADER_SIZE)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, 16,
                       "%s: %u sections cannot fit in %" PRIu64 " bytes", name, nsec, total);
    if (n < total) return truncated(r, nsec, total, err);
    if (n > total)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)total,
                       "%s: %" PRIu64 " unexpected bytes after the end of the model at byte %" PRIu64,
                       name, n - total, total);
    r->s = nr_calloc_array(nsec ? nsec : 1, sizeof *r->s);
    if (!r->s) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", name);
    uint64_t pos = NR_MF_HEADER_SIZE, end_sections = total - NR_MF_TRAILER_SIZE;
    for (uint32_t i = 0; i < nsec; i++) {
        if (end_sections - pos < NR_MF_SECTION_HEADER_SIZE)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                           "%s: section %u of %u starts past the end of the sections", name,
                           i + 1, nsec);
        const unsigned char *h = p + pos;
        char tag[17];
        tag_text(tag, h);
        if (get_u32(h + 36) != crc32_of(h, 36))
            return nr_fail(err, NLPRNN_E_CHECKSUM, -1, (long long)pos,
                           "%s: the header of section %u (%s) at byte %" PRIu64
                           " fails its CRC32 check (corrupt file)",
                           name, i + 1, tag, pos);
        if (!valid_tag((const char *)h))
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                           "%s: section %u has an invalid tag \"%s\"", name, i + 1, tag);
        rsection *s = &r->s[i];
        r->ns = i + 1;
        memcpy(s->pub.tag, h, 4);
        s->pub.tag[4] = '\0';
        for (uint32_t j = 0; j < i; j++)
            if (!memcmp(r->s[j].pub.tag, h, 4))
                return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                               "%s: section %s appears twice", name, s->pub.tag);
        uint32_t fl = get_u32(h + 4);
        s->pub.offset = pos;
        s->pub.encoding = (int)(fl & 0xFF);
        s->pub.content = (int)((fl >> 8) & 0xFF);
        s->pub.stored_len = get_u64(h + 8);
        s->pub.raw_len = get_u64(h + 16);
        s->pub.crc = get_u32(h + 24);
        if (get_u32(h + 32))
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos + 32,
                           "%s: section %s: reserved field is not zero", name, s->pub.tag);
        if (fl >> 16)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos + 4,
                           "%s: section %s: unknown flags 0x%08X", name, s->pub.tag, fl);
        if (s->pub.encoding > NR_MF_ZLIB)
            return nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, (long long)pos + 4,
                           "%s: section %s: unknown encoding %d (written by a newer nlprnn?)",
                           name, s->pub.tag, s->pub.encoding);
        uint64_t data_at = pos + NR_MF_SECTION_HEADER_SIZE, sl = s->pub.stored_len;
        if (sl > end_sections - data_at || pad8(sl) > end_sections - data_at - sl)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos + 8,
                           "%s: section %s: %" PRIu64 " bytes do not fit in the file", name,
                           s->pub.tag, sl);
        for (size_t k = 0; k < pad8(sl); k++)
            if (p[data_at + sl + k])
                return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)(data_at + sl + k),
                               "%s: section %s: nonzero padding at byte %" PRIu64, name,
                               s->pub.tag, data_at + sl + k);
        const unsigned char *stored = p + data_at;
        /* the stored bytes first: corrupt input never reaches zlib, and a flipped bit that
         * zlib would not notice (the unused bits of the last deflate byte) is still caught */
        if (crc32_of(stored, (size_t)sl) != get_u32(h + 28))
            return nr_fail(err, NLPRNN_E_CHECKSUM, -1, (long long)data_at,
                           "%s: section %s fails its CRC32 check (corrupt file)", name,
                           s->pub.tag);
        if (s->pub.encoding == NR_MF_STORED) {
            if (s->pub.raw_len != sl)
                return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos + 16,
                               "%s: section %s: raw length %" PRIu64 " differs from stored "
                               "length %" PRIu64,
                               name, s->pub.tag, s->pub.raw_len, sl);
            s->pub.data = stored;
        } else {
            uint64_t raw = s->pub.raw_len;
            /* zlib cannot expand more than about 1032:1 */
            if (raw > 0xFFFFFFFFu || sl > 0xFFFFFFFFu || raw > sl * 1032 + 64 || raw > SIZE_MAX)
                return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos + 16,
                               "%s: section %s: implausible raw length %" PRIu64, name,
                               s->pub.tag, raw);
            s->owned = malloc(raw ? (size_t)raw : 1);
            if (!s->owned)
                return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: section %s: out of memory",
                               name, s->pub.tag);
            uLongf dn = (uLongf)raw;
            uLong sn = (uLong)sl;
            int zr = uncompress2(s->owned, &dn, stored, &sn);
            if (zr != Z_OK || dn != raw || sn != sl) {
                if (zr == Z_MEM_ERROR)
                    return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: section %s: out of memory",
                                   name, s->pub.tag);
                return nr_fail(err, NLPRNN_E_CHECKSUM, -1, (long long)data_at,
                               "%s: section %s: compressed data at byte %" PRIu64
                               " are corrupt",
                               name, s->pub.tag, data_at);
            }
            s->pub.data = s->owned;
        }
        /* stored: the raw bytes are the stored bytes just checked, so their CRC is that one (one
         * pass over the file instead of two) */
        if ((s->pub.encoding == NR_MF_STORED ? get_u32(h + 28)
                                              : crc32_of(s->pub.data, (size_t)s->pub.raw_len)) !=
            s->pub.crc)
            return nr_fail(err, NLPRNN_E_CHECKSUM, -1, (long long)data_at,
                           "%s: section %s fails its CRC32 check (corrupt file)", name,
                           s->pub.tag);
        int rc = NLPRNN_OK;
        if (s->pub.content == NR_MF_TENSORS) {
            rc = nr_mf_parse_tensors(r, s, err);
        } else if (s->pub.content == NR_MF_STRINGS) {
            rc = nr_mf_parse_strings(r, s, err);
        } else if (s->pub.content == NR_MF_CONFIG) {
            nr_conf c;
            char where[64];
            snprintf(where, sizeof where, "section %s", s->pub.tag);
            rc = nr_conf_parse(&c, s->pub.data, (size_t)s->pub.raw_len, where, err);
            if (!rc) nr_conf_free(&c);
            else rc = nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "%.200s: ", name);
        }
        if (rc) return rc;
        pos = data_at + sl + pad8(sl);
    }
    if (pos != end_sections)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                       "%s: %" PRIu64 " unexpected bytes after the last section", name,
                       end_sections - pos);
    if (memcmp(p + pos, NR_MF_END_MAGIC, 8) != 0 || get_u64(p + pos + 8) != total)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pos,
                       "%s: bad trailer at byte %" PRIu64, name, pos);
    return NLPRNN_OK;
}

int nr_mf_open_mem(nr_mf_reader **out, const void *data, size_t n, const char *name,
                   const char *kind, nlprnn_error *err) {
    *out = NULL;
    if (!name) name = "<memory>";
    if (!data && n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: no data", name);
    if (kind && (strlen(kind) != 4 || !valid_kind(kind)))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "invalid model kind requested");
    nr_mf_reader *r = calloc(1, sizeof *r);
    if (r) r->name = nr_strdup(name);
    if (!r || !r->name) {
        free(r);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", name);
    }
    r->data = data ? data : (const unsigned char *)"";
    r->n = n;
    int rc = validate(r, kind, err);
    if (rc) {
        nr_mf_close(r);
        return rc;
    }
    *out = r;
    return NLPRNN_OK;
}

/* The file header, before the rest is read: the magic first (so /dev/zero or a large text is
 * refused after 40 bytes), then its CRC, and the total length it declares. Anything else is
 * left to validate(), which sees the whole file. */
static int head_check(const unsigned char *h, size_t got, const char *path, uint64_t *declared,
                      nlprnn_error *err) {
    size_t m = got < 8 ? got : 8;
    if (memcmp(h, NR_MF_MAGIC, m) != 0)
        return nr_fail(err, NLPRNN_E_MAGIC, -1, 0, "%s: not an nlprnn model file", path);
    if (got < NR_MF_HEADER_SIZE) return NLPRNN_OK; /* validate() names the truncation */
    if (get_u32(h + 36) != crc32_of(h, 36))
        return nr_fail(err, NLPRNN_E_CHECKSUM, -1, 36,
                       "%s: the file header fails its CRC32 check (corrupt file)", path);
    *declared = get_u64(h + 24);
    return NLPRNN_OK;
}

int nr_mf_open_file(nr_mf_reader **out, const char *path, const char *kind, nlprnn_error *err) {
    *out = NULL;
    nr_blas_own(); /* a model is coming: stop the BLAS's spinning threads now (common/pool.h) */
    char *buf;
    size_t n;
    int rc = nr_read_file_checked(path, NR_MF_HEADER_SIZE, head_check, &buf, &n,
                                  NR_MF_DEFAULT_MAX_BYTES, err);
    if (rc) return rc;
    rc = nr_mf_open_mem(out, buf, n, path, kind, err);
    if (rc) {
        free(buf);
        return rc;
    }
    (*out)->file = (unsigned char *)buf;
    return NLPRNN_OK;
}

void *nr_mf_keep_memory(nr_mf_reader *r, const char *tag) {
    const rsection *cs = nr_mf_find_rs(r, tag);
    if (!cs) return NULL;
    rsection *s = &r->s[cs - r->s];
    void *mem = NULL;
    if (s->owned) {
        mem = s->owned;
        s->owned = NULL;
    } else if (r->file && s->pub.data >= r->file && s->pub.data <= r->file + r->n) {
        mem = r->file;
        r->file = NULL;
    }
    return mem;
}

/* ---- info --------------------------------------------------------------------------------- */

static const char *content_name(int c) {
    switch (c) {
    case NR_MF_RAW: return "raw";
    case NR_MF_CONFIG: return "config";
    case NR_MF_TENSORS: return "tensors";
    case NR_MF_STRINGS: return "strings";
    default: return "unknown";
    }
}

int nr_mf_describe(const nr_mf_reader *r, nr_mf_buf *out, nlprnn_error *err) {
    int rc = nr_mf_buf_printf(out, err,
                              "file:     %s\nkind:     %s (%s)\nformat:   version %u\n"
                              "size:     %zu bytes\nsections: %zu\n",
                              r->name, r->kind, nr_mf_kind_name(r->kind), r->version, r->n, r->ns);
    for (size_t i = 0; !rc && i < r->ns; i++) {
        const rsection *s = &r->s[i];
        rc = nr_mf_buf_printf(out, err,
                              "\nsection %s  %s, %s, %" PRIu64 " bytes stored, %" PRIu64
                              " raw, crc32 %08x\n",
                              s->pub.tag, content_name(s->pub.content),
                              s->pub.encoding == NR_MF_ZLIB ? "zlib" : "stored",
                              s->pub.stored_len, s->pub.raw_len, s->pub.crc);
        if (rc) break;
        if (s->pub.content == NR_MF_CONFIG) {
            nr_conf c;
            rc = nr_conf_parse(&c, s->pub.data, (size_t)s->pub.raw_len, s->pub.tag, err);
            for (size_t j = 0; !rc && j < c.n; j++) {
                const char *v = c.vals[j];
                size_t vl = strlen(v);
                int nl = strchr(v, '\n') != NULL;
                rc = nr_mf_buf_printf(out, err, "  %s = %.*s%s\n", c.keys[j],
                                      (int)(vl > 100 || nl ? (nl ? (int)(strchr(v, '\n') - v) : 100) : (int)vl),
                                      v, vl > 100 || nl ? " ..." : "");
            }
            if (!rc) nr_conf_free(&c);
        } else if (s->pub.content == NR_MF_TENSORS) {
            uint64_t total = 0;
            for (size_t j = 0; j < s->nt; j++) total += s->t[j].count;
            rc = nr_mf_buf_printf(out, err, "  %zu tensors, %" PRIu64 " values\n", s->nt, total);
            for (size_t j = 0; !rc && j < s->nt; j++) {
                char sh[200];
                nr_mf_shape_text(sh, sizeof sh, s->t[j].ndim, s->t[j].shape);
                rc = nr_mf_buf_printf(out, err, "  %-32s %-5s %-20s %" PRIu64 " bytes\n",
                                      s->t[j].name, nr_dtype_name(s->t[j].dtype), sh,
                                      s->t[j].payload_len);
            }
        } else if (s->pub.content == NR_MF_STRINGS) {
            rc = nr_mf_buf_printf(out, err, "  %zu strings:", s->nstr);
            for (size_t j = 0; !rc && j < s->nstr && j < 10; j++)
                rc = nr_mf_buf_printf(out, err, " \"%.40s\"", s->strs[j]);
            if (!rc) rc = nr_mf_buf_printf(out, err, "%s\n", s->nstr > 10 ? " ..." : "");
        }
    }
    return rc;
}

/* ---- ensembles: ENSM and the CFkk / WGkk sections of members 2..N ---- */

void nr_mf_member_tags(int k, char conf_tag[8], char wght_tag[8]) {
    snprintf(conf_tag, 8, "CF%02d", k % 100);
    snprintf(wght_tag, 8, "WG%02d", k % 100);
}

int nr_mf_put_members(nr_mf_writer *w, int n, nlprnn_error *err) {
    nr_mf_buf ens;
    nr_mf_buf_init(&ens);
    int rc = nr_conf_put_int(&ens, "members", n, err);
    if (!rc) rc = nr_mf_add(w, "ENSM", NR_MF_CONFIG, ens.data, ens.len, 0, err);
    nr_mf_buf_free(&ens);
    return rc;
}

int nr_mf_get_members(const nr_mf_reader *r, int max, int *n, nlprnn_error *err) {
    *n = 1;
    if (!nr_mf_find(r, "ENSM")) return NLPRNN_OK;
    nr_conf c;
    int rc = nr_mf_get_conf(r, "ENSM", &c, err);
    if (rc) return rc;
    rc = nr_conf_get_int_in(&c, "members", 2, max, n, err);
    nr_conf_free(&c);
    return rc;
}

/* Public: the text `nlprnn info MODEL` prints. */
int nlprnn_model_file_info(const char *path, char **text, nlprnn_error *err) {
    if (!text || !path) {
        if (text) *text = NULL;
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "model file info: NULL argument");
    }
    *text = NULL;
    nr_mf_reader *r;
    int rc = nr_mf_open_file(&r, path, NULL, err);
    if (rc) return rc;
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    rc = nr_mf_describe(r, &b, err);
    if (!rc) rc = nr_mf_buf_put(&b, "", 1, err); /* NUL */
    nr_mf_close(r);
    if (rc) {
        nr_mf_buf_free(&b);
        return rc;
    }
    *text = (char *)b.data;
    return NLPRNN_OK;
}

/* format/modelfile_read.c: reading a model file. nr_mf_open_file / nr_mf_open_mem validate the
 * whole file before anything is used: the file header (magic, CRC32, version, kind, section
 * count, total length), then section by section its header, bounds, padding, the CRC32 of the
 * stored bytes, zlib inflation and the CRC32 of the raw bytes, and the content (config text:
 * nr_conf_parse in format/conf.c; tensors and strings indexed by nr_mf_parse_tensors and
 * nr_mf_parse_strings in format/modelfile_tensors.c, which also reads them out), then the
 * trailer. A short file is NLPRNN_E_TRUNCATED naming the section it ends in (truncated). Layout:
 * format/modelfile.h. Its mirror, the writer of every field checked here:
 * format/modelfile_write.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/common.h"
#include "common/pool.h" /* nr_blas_own */
#include "format/modelfile_impl.h"

/* ---- names in messages: tags, kinds ------------------------------------------------------- */

/* Printable copy of 4 bytes for messages ("CLSF", or "\x00..." escaped). */
static void tag_text(char out[17], const unsigned char *t) {
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        if (t[i] >= 0x20 && t[i] < 0x7F && t[i] != '\\') out[o++] = (char)t[i];
        else o += (size_t)snprintf(out + o, 5, "\\x%02X", t[i]);
    }
    out[o] = '\0';
}

const char *nr_mf_kind_name(const char *k) {
    if (!strcmp(k, NR_KIND_CLASSIFIER)) return "classifier";
    if (!strcmp(k, NR_KIND_LANGMODEL)) return "language model";
    if (!strcmp(k, NR_KIND_FORECASTER)) return "forecaster";
    if (!strcmp(k, NR_KIND_CHECKPOINT)) return "training checkpoint";
    if (!strcmp(k, NR_KIND_TAGGER)) return "tagger";
    if (!strcmp(k, NR_KIND_TRANSLATOR)) return "translator";
    return "model";
}

/* ---- the reader: accessors, lookup, memory, close ----------------------------------------- */

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

int nr_mf_require_rs(const nr_mf_reader *r, const char *tag, int content, const rsection **out,
                     nlprnn_error *err) {
    static const char *const what[] = {"raw section", "config section", "tensor section", "string list"};
    *out = nr_mf_find_rs(r, tag);
    if (!*out)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: no section %s in this %s file",
                       r->name, tag ? tag : "(null)", r->kind);
    if ((*out)->pub.content != content) {
        const char *w = content >= 0 && content <= NR_MF_STRINGS ? what[content] : "section of that kind";
        int rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: section %s is not a %s", r->name,
                         (*out)->pub.tag, w);
        *out = NULL;
        return rc;
    }
    return NLPRNN_OK;
}

int nr_mf_require_content(const nr_mf_reader *r, const char *tag, int content,
                          const nr_mf_section **sec, nlprnn_error *err) {
    const rsection *s;
    int rc = nr_mf_require_rs(r, tag, content, &s, err);
    *sec = rc ? NULL : &s->pub;
    return rc;
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

/* ---- validation: the whole file, before anything is used ---------------------------------- */

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

/* ---- opening: from memory, from a file ---------------------------------------------------- */

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

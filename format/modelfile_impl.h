/* format/modelfile_impl.h: the model-file container's private side, shared by its source files
 * (internal, not installed; the rest of the library uses format/modelfile.h, which describes the
 * layout; docs/formats.md has it byte by byte).
 *
 * The container's files:
 *   modelfile_write.c    the byte buffer; the writer: sections (zlib, CRC32s), file header,
 *                        section headers, trailer; to memory or saved atomically
 *   modelfile_read.c     the reader: open (file or memory), validate header, sections and
 *                        trailer (every length, CRC32 and reserved field), truncation errors
 *                        that name the section; the reader's accessors
 *   conf.c               the text of config sections, both directions: key=value lines written
 *                        (nr_conf_put_*) and parsed (nr_conf_parse, typed getters, nr_mf_get_conf)
 *   modelfile_tensors.c  tensor and string-list sections, both directions: payloads written
 *                        (nr_tensor_put, nr_strings_put), indexed and checked at open
 *                        (nr_mf_parse_tensors, nr_mf_parse_strings), read back by name with the
 *                        shape checked (nr_mf_tensor_read, _f16, _i8; nr_mf_get_strings)
 *   modelfile.c          the file as a whole: the description `nlprnn info` prints; the
 *                        ensembles' member sections (ENSM, CFkk, WGkk), written and read
 * What more than one file needs is here: the little-endian helpers, the checks of tags and kinds,
 * the reader's structs (a validated file and its indexed sections), and the functions one file
 * defines and another calls (nr_mf_*, declared below, not in modelfile.h). The shared library
 * exports none of them (hidden visibility; scripts/check-abi.sh checks the list).
 */
#ifndef NR_FORMAT_MODELFILE_IMPL_H
#define NR_FORMAT_MODELFILE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h" /* nr_crc32 */
#include "format/modelfile.h"

/* ---- little-endian helpers ---------------------------------------------------------------- */

static inline void put_u16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t get_u16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t get_u64(const unsigned char *p) {
    return (uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32);
}

/* CRC32 (zlib) of any length. */
static inline uint32_t crc32_of(const void *data, size_t n) { return nr_crc32(0, data, n); }

/* The zero bytes after n stored bytes that end a section on a multiple of 8. */
static inline size_t pad8(uint64_t n) { return (size_t)((8 - (n & 7)) & 7); }

/* A section tag or a model kind: 4 characters from A-Z, 0-9, _. */
static inline int valid_tag(const char *t) {
    for (int i = 0; i < 4; i++) {
        char c = t[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

static inline int valid_kind(const char *k) { return valid_tag(k); }

/* ---- the reader: a validated file and its sections ---------------------------------------- */

/* One tensor of a tensor section, indexed at open (nr_mf_parse_tensors). */
typedef struct {
    char *name;
    int dtype, ndim;
    uint64_t shape[NR_TENSOR_MAX_DIMS];
    uint64_t count;
    const unsigned char *payload;
    uint64_t payload_len;
} tensor_entry;

typedef struct {
    nr_mf_section pub;
    unsigned char *owned;  /* decompressed bytes */
    tensor_entry *t;
    size_t nt;
    char **strs;           /* string sections: pointers into strbuf */
    char *strbuf;
    size_t nstr;
} rsection;

struct nr_mf_reader {
    char *name;
    unsigned char *file;   /* owned bytes (opened from a path) */
    const unsigned char *data;
    size_t n;
    char kind[5];
    uint32_t version;
    rsection *s;
    size_t ns;
};

/* ---- defined in one file, called from another ---------------------------------------------- */

/* Room for `extra` more bytes in b (-1: out of memory, b unchanged). */
int nr_mf_buf_reserve(nr_mf_buf *b, size_t extra);
/* The section with this tag, or NULL. */
const rsection *nr_mf_find_rs(const nr_mf_reader *r, const char *tag);
/* nr_mf_require_content giving the reader's own record of the section. */
int nr_mf_require_rs(const nr_mf_reader *r, const char *tag, int content, const rsection **out,
                     nlprnn_error *err);
/* "classifier", "language model", ... for a kind (4 characters); "model" for one not known. */
const char *nr_mf_kind_name(const char *k);
/* At open: index and validate a tensor section / a string-list section (s->pub is set). */
int nr_mf_parse_tensors(const nr_mf_reader *r, rsection *s, nlprnn_error *err);
int nr_mf_parse_strings(const nr_mf_reader *r, rsection *s, nlprnn_error *err);
/* "[2, 3]": a shape for messages and `nlprnn info`. */
void nr_mf_shape_text(char *out, size_t cap, int ndim, const uint64_t *shape);

#endif

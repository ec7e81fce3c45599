/* format/modelfile.h: the nlprnn model-file container (internal, not installed).
 *
 * One self-contained, versioned, checksummed file for every model kind: classifiers, language
 * models, forecasters, taggers, translators, training checkpoints (NR_KIND_* below; a tokenizer
 * file has a format of its own, tokenizer/tokenizer.c, which model files carry in a raw section).
 * docs/formats.md describes it byte by byte; in short
 * (all integers little-endian):
 *
 *   file header (40 bytes)   magic "\x89NLPRNN\n", kind ("CLSF", "LANG", "FCST", "CKPT", ...),
 *                            format version, section count, flags, total file length, CRC32
 *   section x count          header (40 bytes): tag ("CONF", "TOKN", "LABL", "WGHT", "OPTM"...),
 *                            flags (encoding: stored/zlib; content type), stored length, raw
 *                            length, CRC32 of the raw bytes, CRC32 of the stored bytes,
 *                            reserved, CRC32 of the header;
 *                            then the stored bytes, zero-padded to a multiple of 8
 *   trailer (16 bytes)       "NLPRNEND", total file length again
 *
 * Writing: build sections in memory with an nr_mf_writer, then nr_mf_writer_save() writes the
 * file atomically (temporary file, fsync, rename): a crash never leaves a broken file in place
 * of a good one.
 *
 * Reading: nr_mf_open_file() / nr_mf_open_mem() validate everything before anything is used:
 * every length against the buffer, every CRC, every reserved field, the structure of config,
 * tensor and string sections. Nothing is ever read past the buffer. The codes:
 *   NLPRNN_E_MAGIC       the bytes are not an nlprnn model file ("not an nlprnn model file")
 *   NLPRNN_E_UNSUPPORTED a model file of another kind than requested (both kinds named), or a
 *                        section encoding this build does not know
 *   NLPRNN_E_VERSION     written by a newer format version (both versions named)
 *   NLPRNN_E_CHECKSUM    a CRC32 does not match (the header or the section is named)
 *   NLPRNN_E_TRUNCATED   the file ends early (the section it ends in and the offset are named)
 *   NLPRNN_E_FORMAT      anything else malformed (bad lengths, padding, trailer, section content)
 * Section data are decompressed and checked at open; a loaded reader is immutable afterwards and
 * may be shared by threads.
 *
 * Section contents with helpers here:
 *   NR_MF_CONFIG   "key=value\n" text; typed getters fail clearly on a missing or ill-typed key
 *   NR_MF_TENSORS  named float tensors with shapes, stored as float32, float16 (IEEE half,
 *                  round-to-nearest-even) or int8 (symmetric, one float32 scale per row);
 *                  always read back as float32; a shape mismatch is an error
 *   NR_MF_STRINGS  a list of UTF-8 strings (label names, vocabularies)
 *   NR_MF_RAW      anything else (its owner parses and validates it)
 *
 * The code: format/modelfile_write.c, modelfile_read.c, conf.c, modelfile_tensors.c and
 * modelfile.c, mapped at the top of their private header, format/modelfile_impl.h.
 */
#ifndef NR_FORMAT_MODELFILE_H
#define NR_FORMAT_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "nlprnn/base.h"
#include "nlprnn/tokenizer.h"

/* ---- constants ---------------------------------------------------------------------------- */

#define NR_MF_MAGIC "\x89NLPRNN\n"     /* 8 bytes */
#define NR_MF_END_MAGIC "NLPRNEND"     /* 8 bytes */
/* Format versions: a file is written with the lowest version whose readers read it correctly:
 * 1, unless it holds something a version-1 reader would misread (then a version-1 build refuses it
 * with NLPRNN_E_VERSION, "upgrade nlprnn"). Version 2 adds: translator weights stored per part
 * with int8 matrices (TRNS, docs/formats.md). */
#define NR_MF_VERSION 2u               /* the newest format version this build reads */
#define NR_MF_VERSION_BASE 1u          /* the version a writer writes unless told otherwise */
#define NR_MF_HEADER_SIZE 40
#define NR_MF_SECTION_HEADER_SIZE 40
#define NR_MF_TRAILER_SIZE 16
#define NR_MF_MAX_SECTIONS 4096
#define NR_MF_DEFAULT_MAX_BYTES ((size_t)2 << 30) /* files larger than 2 GiB are refused */

/* Model kinds (4 ASCII characters). A tokenizer is not one: its file has its own format
 * ("NLPRNTOK", tokenizer/tokenizer.c), carried in a raw section of the models that hold one. */
#define NR_KIND_CLASSIFIER "CLSF"
#define NR_KIND_LANGMODEL "LANG"
#define NR_KIND_FORECASTER "FCST"
#define NR_KIND_CHECKPOINT "CKPT"
#define NR_KIND_TAGGER "TAGR"
#define NR_KIND_TRANSLATOR "TRNS"

/* Section encodings (flags bits 0-7). */
enum nr_mf_encoding { NR_MF_STORED = 0, NR_MF_ZLIB = 1 };

/* Section content types (flags bits 8-15). */
enum nr_mf_content {
    NR_MF_RAW = 0,      /* opaque bytes */
    NR_MF_CONFIG = 1,   /* key=value text */
    NR_MF_TENSORS = 2,  /* named tensors */
    NR_MF_STRINGS = 3   /* list of strings */
};

/* Tensor storage types. */
enum nr_dtype { NR_DTYPE_F32 = 0, NR_DTYPE_F16 = 1, NR_DTYPE_I8 = 2 };
/* "f32", "f16" or "int8": the name of a storage type in files, messages and parameters. */
const char *nr_dtype_name(int dtype);
#define NR_TENSOR_MAX_DIMS 8
#define NR_TENSOR_MAX_NAME 255

/* ---- a growable byte buffer (section payloads are built in one) ---------------------------- */

typedef struct nr_mf_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
} nr_mf_buf;

void nr_mf_buf_init(nr_mf_buf *b);
void nr_mf_buf_free(nr_mf_buf *b);
/* Append n bytes; NLPRNN_E_NOMEM on failure (b unchanged). */
int nr_mf_buf_put(nr_mf_buf *b, const void *data, size_t n, nlprnn_error *err);
/* Append printf-style text (no NUL stored). */
int nr_mf_buf_printf(nr_mf_buf *b, nlprnn_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct nr_mf_writer nr_mf_writer;

/* kind: 4 ASCII letters/digits (e.g. NR_KIND_CLASSIFIER). */
int nr_mf_writer_new(nr_mf_writer **out, const char *kind, nlprnn_error *err);
void nr_mf_writer_free(nr_mf_writer *w);
/* Add a section: tag is 4 characters from [A-Z0-9_]; content is an enum nr_mf_content; the
 * bytes are copied (and compressed with zlib when compress is 1; kept stored when compression
 * would not make them smaller). A tag used twice is NLPRNN_E_INVALID_ARG. */
int nr_mf_add(nr_mf_writer *w, const char *tag, int content, const void *data, size_t n,
              int compress, nlprnn_error *err);
/* Add a tokenizer as section `tag` (content raw: the bytes of its own file, "NLPRNTOK",
 * tokenizer/tokenizer.c, in memory; a tokenizer is never a container of its own), stored, not
 * compressed: a load then reads the tokenizer where the file's bytes lie instead of inflating it
 * first (the shipped ko.tok: 391,512 bytes, 162,582 compressed; the inflate was ~20 % of one
 * review's user time). Every model kind that carries a tokenizer writes it with this; files with
 * a compressed tokenizer section (written before) are read as before. */
int nr_mf_add_tokenizer(nr_mf_writer *w, const char *tag, const nlprnn_tokenizer *tok,
                        nlprnn_error *err);
/* The zlib level of the sections added from now on with compress = 1: -1 zlib's default (6, the
 * default of a new writer), 1 (fastest) .. 9, or 0: never compress (every section stored). */
int nr_mf_writer_set_compression(nr_mf_writer *w, int level, nlprnn_error *err);
/* The format version the file will say (NR_MF_VERSION_BASE..NR_MF_VERSION; default
 * NR_MF_VERSION_BASE): raise it when the file holds what older readers would misread. */
int nr_mf_writer_set_version(nr_mf_writer *w, uint32_t version, nlprnn_error *err);
/* Write the file atomically (nr_atomic_open/commit). The writer can be saved again. */
int nr_mf_writer_save(const nr_mf_writer *w, const char *path, nlprnn_error *err);
/* Serialize to a malloc'ed buffer (free with free()). */
int nr_mf_writer_to_mem(const nr_mf_writer *w, unsigned char **data, size_t *n,
                        nlprnn_error *err);

/* Config sections: append "key=value\n". Keys are 1..128 characters from [A-Za-z0-9_.-];
 * values are escaped (\\ \n \t \r). Floats are written with 17 significant digits (exact). */
int nr_conf_put_int(nr_mf_buf *b, const char *key, long long v, nlprnn_error *err);
int nr_conf_put_float(nr_mf_buf *b, const char *key, double v, nlprnn_error *err);
int nr_conf_put_str(nr_mf_buf *b, const char *key, const char *v, nlprnn_error *err);

/* Tensor sections: append one named tensor. data holds prod(shape) floats, row-major; ndim in
 * 0..NR_TENSOR_MAX_DIMS (0 = a scalar). For NR_DTYPE_I8 a "row" is the last dimension: each row
 * gets the scale max|x|/127 and values round(x/scale) in -127..127. Non-finite values cannot be
 * stored as int8 or float16 (NLPRNN_E_NUMERIC naming the tensor); float32 keeps them. */
int nr_tensor_put(nr_mf_buf *b, const char *name, const float *data, int ndim,
                  const size_t *shape, int dtype, nlprnn_error *err);

/* String-list sections: serialize n strings (each NUL-terminated, valid UTF-8). */
int nr_strings_put(nr_mf_buf *b, const char *const *strs, size_t n, nlprnn_error *err);

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct nr_mf_reader nr_mf_reader;

/* One section, as validated at open. */
typedef struct nr_mf_section {
    char tag[5];                /* NUL-terminated */
    int encoding;               /* enum nr_mf_encoding */
    int content;                /* enum nr_mf_content */
    uint64_t offset;            /* file offset of the section header */
    uint64_t stored_len;        /* bytes in the file */
    uint64_t raw_len;           /* bytes after decompression */
    uint32_t crc;               /* CRC32 of the raw bytes */
    const unsigned char *data;  /* (raw_len) the raw bytes, valid while the reader lives */
} nr_mf_section;

/* Open and validate a file. kind: the kind the caller needs (NULL accepts any kind). */
int nr_mf_open_file(nr_mf_reader **out, const char *path, const char *kind, nlprnn_error *err);
/* The same over memory; the n bytes are not copied and must outlive the reader. name is used in
 * messages (e.g. the path it came from). */
int nr_mf_open_mem(nr_mf_reader **out, const void *data, size_t n, const char *name,
                   const char *kind, nlprnn_error *err);
void nr_mf_close(nr_mf_reader *r);

const char *nr_mf_name(const nr_mf_reader *r);
const char *nr_mf_kind(const nr_mf_reader *r);   /* 4 characters, NUL-terminated */
uint32_t nr_mf_version(const nr_mf_reader *r);
uint64_t nr_mf_file_size(const nr_mf_reader *r);
size_t nr_mf_section_count(const nr_mf_reader *r);
const nr_mf_section *nr_mf_section_at(const nr_mf_reader *r, size_t i);
/* The section with this tag, or NULL. */
const nr_mf_section *nr_mf_find(const nr_mf_reader *r, const char *tag);
/* The section with this tag; a missing section is NLPRNN_E_FORMAT naming the file and tag. */
/* nr_mf_require, and the section must hold `content` (enum nr_mf_content): else NLPRNN_E_FORMAT
 * "section TAG is not a config section / a tensor section / a string list". */
int nr_mf_require_content(const nr_mf_reader *r, const char *tag, int content,
                          const nr_mf_section **sec, nlprnn_error *err);
int nr_mf_require(const nr_mf_reader *r, const char *tag, const nr_mf_section **sec,
                  nlprnn_error *err);

/* Ensembles in one file (translators, taggers): member 1 is the kind's usual sections (CONF,
 * WGHT, ...), then ENSM (config: members = N) and, for member k + 1 (k = 1..N-1), CFkk (its
 * configuration) and WGkk (its weights). A program that does not know ENSM reads member 1. */
/* The section tags of member k + 1 (k = 1..99): "CFkk" and "WGkk". */
void nr_mf_member_tags(int k, char conf_tag[8], char wght_tag[8]);
/* Write ENSM saying n members (n >= 2). */
int nr_mf_put_members(nr_mf_writer *w, int n, nlprnn_error *err);
/* *n = the members r holds: 1 without ENSM, else ENSM's count, which must be in [2, max]
 * (out of range or unreadable: NLPRNN_E_FORMAT naming the file and section). */
int nr_mf_get_members(const nr_mf_reader *r, int max, int *n, nlprnn_error *err);

/* Config sections. An nr_conf owns a parsed copy of the section. Parsing takes O(n log n) for
 * n keys (sorted once; duplicates are then neighbours) and a lookup O(log n). A section of more
 * than NR_CONF_MAX_KEYS lines is NLPRNN_E_FORMAT before anything is parsed (the files nlprnn
 * writes hold at most a few hundred keys: a forecaster of 256 columns has 2 per column). */
#define NR_CONF_MAX_KEYS 4096
typedef struct nr_conf_key {
    const char *key;  /* = keys[line] */
    size_t line;      /* 0-based index into keys / vals (= line - 1) */
} nr_conf_key;

typedef struct nr_conf {
    size_t n;
    char **keys;   /* (n) in file order */
    char **vals;   /* (n) unescaped values */
    nr_conf_key *sorted; /* (n) keys in strcmp order, for lookups */
    char *where;   /* "model.nrm: section CONF", for messages */
} nr_conf;

/* Parse a config section (content NR_MF_CONFIG) of r; c is initialized here. */
int nr_mf_get_conf(const nr_mf_reader *r, const char *tag, nr_conf *c, nlprnn_error *err);
/* Parse config text from memory; where names it in messages. */
int nr_conf_parse(nr_conf *c, const void *data, size_t n, const char *where, nlprnn_error *err);
void nr_conf_free(nr_conf *c);
int nr_conf_has(const nr_conf *c, const char *key);
/* Typed getters: a missing key or a value of the wrong type is NLPRNN_E_FORMAT naming the
 * section, the key and the value. get_float accepts integers; get_str points into c. */
int nr_conf_get_int(const nr_conf *c, const char *key, long long *out, nlprnn_error *err);
/* An int in [lo, hi]; out of range is NLPRNN_E_FORMAT "<where>: key=v is out of range lo..hi". */
int nr_conf_get_int_in(const nr_conf *c, const char *key, long long lo, long long hi, int *out,
                       nlprnn_error *err);
int nr_conf_get_float(const nr_conf *c, const char *key, double *out, nlprnn_error *err);
int nr_conf_get_str(const nr_conf *c, const char *key, const char **out, nlprnn_error *err);

/* Tensors. */
typedef struct nr_tensor_info {
    const char *name;                 /* NUL-terminated, valid while the reader lives */
    int dtype;                        /* enum nr_dtype: how it is stored */
    int ndim;
    size_t shape[NR_TENSOR_MAX_DIMS];
    size_t count;                     /* prod(shape) */
    size_t stored_bytes;              /* payload bytes in the section */
} nr_tensor_info;

/* Number of tensors in a tensor section (0 when the tag is missing or not a tensor section). */
size_t nr_mf_tensor_count(const nr_mf_reader *r, const char *tag);
/* Before allocating what a file's configuration asks for: NLPRNN_E_FORMAT naming the file and
 * `sizes` (e.g. "vocab 8000 embed 64 ...") when the tensors of section tag hold fewer than
 * `needed` values in all (or needed is 0: the sizes overflow), so a damaged configuration is a
 * bad file, never a huge allocation. */
int nr_mf_check_weight_count(const nr_mf_reader *r, const char *tag, size_t needed,
                             const char *sizes, nlprnn_error *err);
/* Describe tensor i of section tag (NLPRNN_E_INVALID_ARG when out of range). */
int nr_mf_tensor_at(const nr_mf_reader *r, const char *tag, size_t i, nr_tensor_info *info,
                    nlprnn_error *err);
/* Describe the tensor `name` of section tag; missing is NLPRNN_E_FORMAT naming it. */
int nr_mf_tensor_info(const nr_mf_reader *r, const char *tag, const char *name,
                      nr_tensor_info *info, nlprnn_error *err);
/* Read tensor `name` as float32 into out (prod(shape) floats), checking that its shape equals
 * the expected (ndim, shape): a mismatch is NLPRNN_E_FORMAT naming both shapes. Every value
 * must be finite: a NaN or an infinity (float32 and float16 can store them) is NLPRNN_E_FORMAT
 * naming the file, section, tensor and element, so no model of any kind (classifier, language
 * model, forecaster, checkpoint) ever computes with one. */
int nr_mf_tensor_read(const nr_mf_reader *r, const char *tag, const char *name, float *out,
                      int ndim, const size_t *shape, nlprnn_error *err);
/* The same without the check on values, for recorded numbers that may be NaN by design (a
 * forecaster's validation losses when there was no validation part), never for weights. */
int nr_mf_tensor_read_nonfinite(const nr_mf_reader *r, const char *tag, const char *name,
                                float *out, int ndim, const size_t *shape, nlprnn_error *err);

/* Read a tensor stored as float16 as its halves (no widening): out gets prod(shape) values, the
 * bits of the file; the same shape and finiteness checks and messages as nr_mf_tensor_read. A
 * tensor stored otherwise is NLPRNN_E_FORMAT (callers ask nr_mf_tensor_info first). For loaders
 * that keep float16 weights as they are (a classifier's embedding and W_hh, widened on use). */
int nr_mf_tensor_read_f16(const nr_mf_reader *r, const char *tag, const char *name, uint16_t *out,
                          int ndim, const size_t *shape, nlprnn_error *err);

/* Read a tensor stored as int8 as it is stored (no widening): q gets its rows' prod(shape) bytes
 * (row-major), scale its rows' float32 scales (a row is the last dimension; rows = prod(shape) /
 * shape[ndim-1]): the value of element k of row j is q[j*cols + k] * scale[j] (docs/formats.md).
 * The same shape check and message as nr_mf_tensor_read; a tensor stored otherwise is
 * NLPRNN_E_FORMAT. The values are not checked (nr_mf_tensor_read of the same tensor does): for
 * loaders that keep int8 weights as they are, beside their widening. */
int nr_mf_tensor_read_i8(const nr_mf_reader *r, const char *tag, const char *name, int8_t *q,
                         float *scale, int ndim, const size_t *shape, nlprnn_error *err);

/* The float16 tensor `name` where it lies in the reader's memory (the file's little-endian
 * halves, any alignment; widen with nr_f16_widen), after the checks of nr_mf_tensor_read_f16 (the
 * finiteness scan reads the halves' high bytes only). Valid while the reader lives, or after
 * nr_mf_keep_memory(r, tag) while the caller keeps what that returned. */
int nr_mf_tensor_f16_bytes(const nr_mf_reader *r, const char *tag, const char *name, int ndim,
                           const size_t *shape, const unsigned char **out, nlprnn_error *err);
/* Take over the memory that holds section tag's data (the bytes of a file opened by
 * nr_mf_open_file, or the section's inflated copy): the caller frees what is returned (free())
 * and may use pointers into that section after nr_mf_close until then. NULL when the reader does
 * not own that memory (nr_mf_open_mem: it is the caller's already) or there is no such section. */
void *nr_mf_keep_memory(nr_mf_reader *r, const char *tag);

/* String-list sections: *strs receives a malloc'ed array of n pointers into the reader's
 * memory (free the array with free(), not the strings). */
int nr_mf_get_strings(const nr_mf_reader *r, const char *tag, const char ***strs, size_t *n,
                      nlprnn_error *err);

/* ---- info --------------------------------------------------------------------------------- */

/* Append a human-readable description to out: kind, version, size, and per section its tag,
 * content, encoding, stored/raw sizes and CRC; config keys and values; every tensor's name,
 * shape and storage type; string counts. (`nlprnn info` prints this.) */
int nr_mf_describe(const nr_mf_reader *r, nr_mf_buf *out, nlprnn_error *err);
/* nr_mf_describe of the container at path (no kind's loader runs), NUL-terminated into *text
 * (free with nlprnn_free; NULL on error). */
int nr_mf_describe_file(const char *path, char **text, nlprnn_error *err);

/* ---- lookup.c ---------------------------------------------------------------------------- */

/* The file a model argument names (nlprnn_classifier_load, nlprnn_lm_load): a bare name
 * ([A-Za-z0-9_-]+) is always a shipped model (nlprnn_model_find; "ko" stands for alias_of_ko when
 * that is not NULL, e.g. "ko-lm"), never a file of that name in the current folder; anything else
 * is a path. */
int nr_model_resolve(const char *path_or_name, const char *alias_of_ko, char *buf, size_t cap,
                     nlprnn_error *err);

#endif

/* format/safetensors.h: the safetensors container (internal, not installed).
 *
 * safetensors is the file PyTorch and Hugging Face exchange weights in. Byte by byte:
 *
 *   8 bytes            N, the header's length: unsigned 64-bit little-endian
 *   N bytes            the header: UTF-8 JSON, one object (it may end in spaces, 0x20)
 *                        { "__metadata__": { "key": "value", ... },            optional
 *                          "NAME": { "dtype": "F32", "shape": [d0, d1, ...],
 *                                    "data_offsets": [BEGIN, END] }, ... }
 *   the rest           the data: each tensor's bytes, row-major, little-endian, at
 *                      [BEGIN, END) counted from the first byte after the header
 *
 * Reading (nr_st_open_file / nr_st_open_mem) validates everything before anything is used, and
 * never reads past the buffer:
 *   - N <= NR_ST_MAX_HEADER (100 MB, the limit of the reference implementation) and 8 + N <= the
 *     file's size; the header is valid UTF-8 JSON whose top level is one object, with nothing but
 *     spaces after it;
 *   - "__metadata__", when present, maps strings to strings;
 *   - every other key is a tensor with exactly the fields dtype, shape and data_offsets; dtype is
 *     one of the format's names (BOOL U8 I8 F8_E5M2 F8_E4M3 I16 U16 F16 BF16 I32 U32 F32 F64 I64
 *     U64); shape is a list of at most NR_ST_MAX_DIMS integers; END - BEGIN is exactly
 *     prod(shape) * the dtype's size;
 *   - names are unique (also "__metadata__"), 1..NR_ST_MAX_NAME bytes;
 *   - the tensors' byte ranges lie inside the data, do not overlap and leave no byte unused (the
 *     reference implementation's rule: the ranges, sorted, tile the data exactly).
 * Codes: NLPRNN_E_MAGIC (not a safetensors file: the first header byte is not '{', or the
 * header length is both over the limit and beyond the file's end, as for any other kind of
 * file), NLPRNN_E_TRUNCATED (the file ends before the header or a tensor ends), NLPRNN_E_LIMIT
 * (a header over 100 MB, a file over the size limit), NLPRNN_E_FORMAT (anything else malformed).
 * Messages name the file and, for JSON errors, the byte offset in the file (err->offset).
 *
 * Writing: an nr_st_writer collects tensors (copied, converted to F32 or F16) and metadata, and
 * saves atomically (nr_atomic_open/commit). The header lists "__metadata__" first, then the
 * tensors in the order added, and is padded with spaces to a multiple of 8 bytes, so every tensor
 * starts 8-byte aligned.
 */
#ifndef NR_FORMAT_SAFETENSORS_H
#define NR_FORMAT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "nlprnn/base.h"

#define NR_ST_MAX_HEADER ((uint64_t)100000000) /* header bytes */
#define NR_ST_MAX_DIMS 8
#define NR_ST_MAX_NAME 1024                    /* bytes of a tensor name or metadata key */
#define NR_ST_MAX_TENSORS 1000000
#define NR_ST_MAX_FILE ((size_t)4 << 30)       /* nr_st_open_file reads at most 4 GiB */

/* The format's dtypes (the order of the reference implementation). */
typedef enum nr_st_dtype {
    NR_ST_BOOL = 0, NR_ST_U8, NR_ST_I8, NR_ST_F8_E5M2, NR_ST_F8_E4M3, NR_ST_I16, NR_ST_U16,
    NR_ST_F16, NR_ST_BF16, NR_ST_I32, NR_ST_U32, NR_ST_F32, NR_ST_F64, NR_ST_I64, NR_ST_U64,
    NR_ST_NUM_DTYPES
} nr_st_dtype;

/* "F32" for NR_ST_F32 ...; NULL when out of range. */
const char *nr_st_dtype_name(int dtype);
/* Bytes per element. */
size_t nr_st_dtype_size(int dtype);

/* One tensor as validated at open. */
typedef struct nr_st_tensor {
    const char *name;                /* NUL-terminated, valid while the file is open */
    int dtype;                       /* nr_st_dtype */
    int ndim;
    size_t shape[NR_ST_MAX_DIMS];
    size_t count;                    /* prod(shape) (1 for a scalar, ndim 0) */
    uint64_t begin, end;             /* byte range in the data */
    const unsigned char *data;       /* (end - begin) bytes */
} nr_st_tensor;

/* ---- reading ------------------------------------------------------------------------------- */

typedef struct nr_st_file nr_st_file;

/* Read and validate a whole file (at most NR_ST_MAX_FILE bytes). */
int nr_st_open_file(nr_st_file **out, const char *path, nlprnn_error *err);
/* The same over memory; the n bytes are not copied and must outlive the file. name is used in
 * messages. */
int nr_st_open_mem(nr_st_file **out, const void *data, size_t n, const char *name,
                   nlprnn_error *err);
void nr_st_close(nr_st_file *f);

const char *nr_st_name(const nr_st_file *f);
/* Tensors, in the order of their data (BEGIN). */
size_t nr_st_count(const nr_st_file *f);
const nr_st_tensor *nr_st_at(const nr_st_file *f, size_t i);
/* The tensor called name, or NULL. */
const nr_st_tensor *nr_st_find(const nr_st_file *f, const char *name);
/* Metadata: the value of key (NULL when absent); the i-th pair in header order. */
const char *nr_st_meta(const nr_st_file *f, const char *key);
size_t nr_st_meta_count(const nr_st_file *f);
void nr_st_meta_at(const nr_st_file *f, size_t i, const char **key, const char **value);

/* Convert tensor t to float32 into out (t->count floats). F32, F16, BF16 and F64 convert (F64
 * rounds to nearest); other dtypes are NLPRNN_E_UNSUPPORTED naming the tensor. A value that is
 * not finite (or an F64 beyond float32's range) is NLPRNN_E_FORMAT naming the tensor and the
 * element. */
int nr_st_read_f32(const nr_st_file *f, const nr_st_tensor *t, float *out, nlprnn_error *err);

/* ---- writing ------------------------------------------------------------------------------- */

typedef struct nr_st_writer nr_st_writer;

int nr_st_writer_new(nr_st_writer **out, nlprnn_error *err);
void nr_st_writer_free(nr_st_writer *w);
/* Add a metadata pair (key unique, 1..NR_ST_MAX_NAME bytes; both valid UTF-8; copied). */
int nr_st_put_meta(nr_st_writer *w, const char *key, const char *value, nlprnn_error *err);
/* Add a tensor of prod(shape) floats (row-major, copied) stored as dtype NR_ST_F32 or NR_ST_F16
 * (round to nearest even). Names unique, 1..NR_ST_MAX_NAME bytes of UTF-8, not "__metadata__". */
int nr_st_put_f32(nr_st_writer *w, const char *name, const float *data, int ndim,
                  const size_t *shape, int dtype, nlprnn_error *err);
/* The whole file in a malloc'ed buffer (free with free()). */
int nr_st_writer_to_mem(const nr_st_writer *w, unsigned char **data, size_t *n, nlprnn_error *err);
/* Write the file atomically. */
int nr_st_writer_save(const nr_st_writer *w, const char *path, nlprnn_error *err);

#endif

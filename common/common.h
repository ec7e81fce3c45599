/* common/common.h: internal helpers shared by every stage (not installed).
 *
 *   nr_fail()        fill an nlprnn_error and return its code, printf-style
 *   nr_rng           explicit, seeded random-number state (xoshiro256**); never global
 *   nr_atomic_*      write a file so that a crash never leaves a broken file in place of a good one
 *   nr_malloc_array/...  allocation with overflow-checked sizes
 */
#ifndef NR_COMMON_H
#define NR_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nlprnn/base.h"

#if defined(__GNUC__)
#define NR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NR_PRINTF(a, b)
#endif

/* CRC-32 as zlib's crc32 (nr_crc32(0, p, n) == crc32(0, p, n); chains the same way), any length;
 * with PCLMULQDQ where the CPU has it (common/crc32.c). */
uint32_t nr_crc32(uint32_t crc, const void *data, size_t n);

/* ---- errors ------------------------------------------------------------------------------- */

/* Record (code, line, offset, message) in err (may be NULL) and return code.
 * line/offset: -1 when they do not apply. The message should start with the file name when
 * there is one, e.g. nr_fail(err, NLPRNN_E_UTF8, 3, 17, "%s:3: invalid UTF-8 at byte 17", path). */
int nr_fail(nlprnn_error *err, int code, long long line, long long offset, const char *fmt, ...)
    NR_PRINTF(5, 6);
int nr_vfail(nlprnn_error *err, int code, long long line, long long offset, const char *fmt,
             va_list ap);
/* Put a printf-style prefix in front of the message err already holds (a callee's error seen
 * by its caller: "model.nrm: section CONF: " + "3 classes ..."), set the code, and set line /
 * offset unless they are NR_KEEP. The old message is copied first, so formatting never reads
 * the buffer it writes (vsnprintf on overlapping memory is undefined). Returns code. */
#define NR_KEEP (-2LL)
int nr_fail_prefix(nlprnn_error *err, int code, long long line, long long offset,
                   const char *fmt, ...) NR_PRINTF(5, 6);

/* ---- UTF-8 (utf8.c) ---------------------------------------------------------------------- */

/* Validate UTF-8: returns the byte index of the first invalid byte, or n when s is valid. */
size_t nr_utf8_check(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s[0..n), or 0 when s[0] starts an invalid one; then *bad
 * receives the length of the maximal invalid subsequence (>= 1, Unicode 15, 3.9). */
size_t nr_utf8_seq(const unsigned char *s, size_t n, size_t *bad);
/* s as valid UTF-8 text in out (cap bytes with the NUL; cut at a character boundary when too
 * long): each byte that is not part of a valid sequence becomes the 4 characters \xHH. For file
 * names and other outside strings stored in model files (their config values must be UTF-8).
 * Returns strlen(out). */
size_t nr_utf8_escape(const char *s, char *out, size_t cap);

/* ---- memory ------------------------------------------------------------------------------- */

/* malloc/calloc of n*size bytes with overflow check; NULL on failure or overflow. */
void *nr_malloc_array(size_t n, size_t size);
void *nr_calloc_array(size_t n, size_t size);
/* realloc of n*size bytes with overflow check. */
void *nr_realloc_array(void *p, size_t n, size_t size);
/* A large buffer (model weights, a whole model file) of n*size bytes, NULL on failure or overflow;
 * freed with free(). From 2 MiB up it is aligned to 2 MiB and, on Linux, advised for transparent
 * huge pages (madvise MADV_HUGEPAGE): its first touch then costs one fault per 2 MiB instead of
 * one per 4 KiB page (loading the shipped 9 MB classifier: ~2,300 faults fewer). Smaller sizes,
 * or where huge pages are not available, are plain malloc memory. Not zeroed. */
void *nr_big_alloc(size_t n, size_t size);
/* nr_big_alloc for a block that is filled as soon as it is allocated (a model's tables at load):
 * from 256 KiB up it takes whole huge pages (the rest of the last one is resident but unused: up
 * to 2 MiB less 256 KiB per block). Every page of such a block is touched at once, and a first
 * touch is what costs: on this project's test machine (a virtual machine) one 4 KiB page ~10 us,
 * one 2 MiB huge page ~0.25 ms, so an 800 KiB block costs ~0.3 ms instead of 2-6 ms
 * (docs/benchmarks.md "Start-up, run 5"). Freed with free(); not zeroed. */
void *nr_filled_alloc(size_t n, size_t size);
/* A large zeroed block (a trainer's gradient blocks, an optimizer's moments): nr_big_alloc and
 * zeroed at once, so its first touch is one fault per 2 MiB huge page where calloc's fresh pages
 * would fault one 4 KiB page at a time during training (a 16K x 128 embedding's gradient: 2,048
 * faults a block). Freed with free(); NULL on failure or overflow. */
void *nr_big_calloc(size_t n, size_t size);
/* strdup that returns NULL for NULL. */
char *nr_strdup(const char *s);

/* ---- random numbers ----------------------------------------------------------------------- */

/* xoshiro256** seeded through splitmix64. Same seed -> same stream on every platform. */
typedef struct nr_rng { uint64_t s[4]; } nr_rng;

void nr_rng_seed(nr_rng *r, uint64_t seed);
uint64_t nr_rng_u64(nr_rng *r);
/* uniform in [0, 1) with 24 random bits */
float nr_rng_uniform(nr_rng *r);
/* uniform integer in [0, n), n > 0, without modulo bias */
uint64_t nr_rng_below(nr_rng *r, uint64_t n);
/* standard normal (Box-Muller) */
float nr_rng_normal(nr_rng *r);
/* Fisher-Yates shuffle of n elements of `size` bytes */
void nr_rng_shuffle(nr_rng *r, void *base, size_t n, size_t size);

/* ---- atomic file writing ------------------------------------------------------------------ */

/* Write path atomically: data goes to a temporary file PATH.tmp.XXXXXX in the same folder, which
 * is flushed, fsync'ed and renamed over path (and the folder fsync'ed). Until nr_atomic_commit()
 * succeeds, the old file at path (if any) is untouched; nr_atomic_abort() removes the temporary.
 * Only a regular file is replaced: a symbolic link, device, pipe, socket or folder at path is
 * NLPRNN_E_IO naming it and the rule (checked at open and again before the rename). A new file
 * gets mode 0666 minus the umask; a replaced file keeps its permission bits (and group when
 * allowed). */
typedef struct nr_atomic_file {
    FILE *fp;          /* write through this */
    char *path;        /* final path */
    char *tmp_path;    /* temporary path */
} nr_atomic_file;

int nr_atomic_open(nr_atomic_file *af, const char *path, nlprnn_error *err);
int nr_atomic_commit(nr_atomic_file *af, nlprnn_error *err);
void nr_atomic_abort(nr_atomic_file *af);
/* Convenience: write one buffer atomically. */
int nr_atomic_write_file(const char *path, const void *data, size_t n, nlprnn_error *err);

/* Before a run writes path: the rule above (NLPRNN_E_IO), and path is none of others[0..n) (the
 * run's inputs and its other outputs; NULL or "" entries are skipped), compared by device and
 * inode, or by folder and name for files that do not exist yet (NLPRNN_E_INVALID_ARG naming
 * both). nlprnn_output_check() is this function. */
int nr_output_check(const char *path, const char *const *others, size_t n, nlprnn_error *err);

/* Read a whole (small) file into a malloc'ed buffer (NUL-terminated, *n excludes the NUL).
 * A file larger than max_bytes is NLPRNN_E_LIMIT (at most max_bytes + 1 bytes are read). */
int nr_read_file(const char *path, char **data, size_t *n, size_t max_bytes, nlprnn_error *err);

/* Look at the first bytes of a file before the rest is read: head[0..got) are its first
 * min(head_n, file size) bytes. Return non-zero (a status, err filled) to refuse the file, e.g.
 * for a wrong magic; set *declared to the file size the header declares (0: none). */
typedef int (*nr_head_check)(const unsigned char *head, size_t got, const char *path,
                             uint64_t *declared, nlprnn_error *err);

/* nr_read_file for files that begin with a magic number and their own size: check() sees the
 * first head_n bytes first, so a file of another kind is refused after reading those alone (a
 * device such as /dev/zero, a multi-gigabyte text) and never more than the declared size is
 * read: a declared size above max_bytes is NLPRNN_E_LIMIT, bytes after the declared end are
 * NLPRNN_E_FORMAT ("unexpected bytes after the end"). A file shorter than declared is returned
 * as it is, for the caller's own truncation message. */
int nr_read_file_checked(const char *path, size_t head_n, nr_head_check check, char **data,
                         size_t *n, size_t max_bytes, nlprnn_error *err);

#endif

/* nlprnn/base.h: versions, export macro, status codes and the error record.
 *
 * Every public name starts with nlprnn_ (functions, types) or NLPRNN_ (macros, enum values).
 * Fallible functions return an int status: 0 (NLPRNN_OK) on success, a negative NLPRNN_E_* code
 * otherwise. The codes never change meaning; nlprnn_status_name() turns one into text. Most
 * fallible functions also take a caller-owned `nlprnn_error *err` as their last argument (NULL is
 * allowed): on failure it receives the code and a message naming the cause, with the file, the
 * line and the byte offset where they apply.
 *
 * NULL arguments (the same rule for every function of the API, tests/test_api_null.c calls each
 * one with NULLs):
 *   - free functions (nlprnn_*_free, nlprnn_free) accept NULL and do nothing;
 *   - a fallible function given NULL for a pointer it needs returns NLPRNN_E_INVALID_ARG with a
 *     message, and sets its output handle (when it has one and it is not NULL itself) to NULL;
 *     a NULL buffer with a length of 0 is an empty buffer;
 *   - a create function given a NULL object returns NULL;
 *   - a getter given a NULL object returns a neutral value: 0 for counts and sizes, NULL for
 *     pointers and strings, -1 for ids, NaN for a numeric option;
 *   - a void function given a NULL object does nothing (and sets its outputs to those values);
 *   - pointers documented as optional ("may be NULL", "optional") may always be NULL; the
 *     error record `err` is optional everywhere.
 *
 * Thread rule (for the whole library): a loaded model or tokenizer is immutable and may be shared
 * by any number of threads (a cache that a model fills on first use, such as a classifier's
 * float32 copy of its float16 embedding, is filled once under that model's own lock); anything
 * with mutable state (contexts, trainers, RNG states) belongs to one thread at a time. The
 * library keeps no global mutable state but its thread pool and what it sets up once per process
 * and then only reads (the loaded CBLAS, the kernel path, the CPU's features), plus counters and
 * switches that only tests use (docs/api.md "Threads"); it never prints and never exits the
 * process.
 */
#ifndef NLPRNN_BASE_H
#define NLPRNN_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version of the headers: changes when the API or ABI breaks. */
#define NLPRNN_VERSION_MAJOR 0
/** Minor version of the headers: new features, compatible. */
#define NLPRNN_VERSION_MINOR 2
/** Patch version of the headers: fixes only. */
#define NLPRNN_VERSION_PATCH 0
/** The headers' version as MAJOR*10000 + MINOR*100 + PATCH (compare with nlprnn_version_number()). */
#define NLPRNN_VERSION_NUMBER (NLPRNN_VERSION_MAJOR * 10000 + NLPRNN_VERSION_MINOR * 100 + NLPRNN_VERSION_PATCH)
/** The headers' version as a string (compare with nlprnn_version_string()). */
#define NLPRNN_VERSION_STRING "0.2.0"

/** Marks a function exported from the shared library (everything else is hidden). */
#if defined(NLPRNN_BUILDING) && defined(__GNUC__)
#define NLPRNN_API __attribute__((visibility("default")))
#else
#define NLPRNN_API
#endif

/** Marks a name kept for one release after it was renamed (docs/api.md, "Changes in 0.2"); the
 *  compiler warns where it is used and the message names the replacement. */
#if defined(NLPRNN_BUILDING) || defined(NLPRNN_NO_DEPRECATION_WARNINGS)
#define NLPRNN_DEPRECATED(msg)
#elif defined(__GNUC__)
#define NLPRNN_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define NLPRNN_DEPRECATED(msg)
#endif

/** 1 when the struct at p (of type T, whose first member is `size_t size`) reaches field f: the
 *  reader of a struct uses a field only when this holds (docs/api.md, "Structs"). */
#define NLPRNN_HAS_FIELD(T, p, f) \
    (offsetof(T, f) + sizeof(((const T *)0)->f) <= (p)->size)

/** Status codes. Values are fixed forever; new codes only get new numbers. */
typedef enum nlprnn_status {
    NLPRNN_OK = 0,
    NLPRNN_E_INVALID_ARG = -1,  /**< an argument or option is out of its documented range */
    NLPRNN_E_NOMEM = -2,        /**< memory allocation failed, or a size limit would be exceeded */
    NLPRNN_E_IO = -3,           /**< a file could not be opened, read, written or renamed */
    NLPRNN_E_UTF8 = -4,         /**< input text is not valid UTF-8 */
    NLPRNN_E_FORMAT = -5,       /**< a file is malformed (bad structure, bad field) */
    NLPRNN_E_VERSION = -6,      /**< a file has a format version this build does not read */
    NLPRNN_E_CHECKSUM = -7,     /**< a file section fails its CRC32 check (corrupt) */
    NLPRNN_E_TRUNCATED = -8,    /**< a file ends before its declared end */
    NLPRNN_E_MAGIC = -9,        /**< a file is not an nlprnn file of the expected kind */
    NLPRNN_E_DATA = -10,        /**< a corpus row or series value is malformed */
    NLPRNN_E_REGEX = -11,       /**< a pre-tokenization pattern does not compile */
    NLPRNN_E_LIMIT = -12,       /**< input exceeds a documented limit */
    NLPRNN_E_UNSUPPORTED = -13, /**< the request is valid but not supported (e.g. wrong model kind) */
    NLPRNN_E_INTERRUPTED = -14, /**< work stopped at the caller's request (e.g. SIGINT) */
    NLPRNN_E_NUMERIC = -15,     /**< training diverged (NaN or infinite loss) */
    NLPRNN_E_EMPTY = -16,       /**< an input is empty where content is required */
    NLPRNN_E_STATE = -17        /**< a call was made in the wrong state or order */
} nlprnn_status;

/** A caller-owned error record. Its layout is part of the ABI and will not change. */
typedef struct nlprnn_error {
    int code;           /**< NLPRNN_OK or a negative nlprnn_status */
    int reserved;       /**< always 0; keeps the layout aligned for future use */
    long long line;     /**< 1-based line in the offending file or text, or -1 */
    long long offset;   /**< 0-based byte offset in the offending file or text, or -1 */
    char message[488];  /**< NUL-terminated UTF-8 text, e.g. "reviews.tsv:12: byte 40: ..." */
} nlprnn_error;

/** The library's version as "MAJOR.MINOR.PATCH". */
NLPRNN_API const char *nlprnn_version_string(void);
/** The library's version as MAJOR*10000 + MINOR*100 + PATCH. */
NLPRNN_API int nlprnn_version_number(void);
/** A short stable name for a status code, e.g. "NLPRNN_E_UTF8"; never NULL. */
NLPRNN_API const char *nlprnn_status_name(int status);
/** A one-line English description of a status code; never NULL. */
NLPRNN_API const char *nlprnn_status_text(int status);
/** Set *err to "no error" (code 0, line and offset -1, empty message). NULL is allowed. */
NLPRNN_API void nlprnn_error_clear(nlprnn_error *err);

/** Release memory that the library allocated and handed to the caller (strings, id arrays).
 *  NULL is allowed. */
NLPRNN_API void nlprnn_free(void *p);

#ifdef __cplusplus
}
#endif
#endif

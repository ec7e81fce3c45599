/* common/mem.c: overflow-checked allocation. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "common/common.h"

void *nr_malloc_array(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    return malloc(n * size != 0 ? n * size : 1);
}

void *nr_calloc_array(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    return calloc(n != 0 ? n : 1, size != 0 ? size : 1);
}

void *nr_realloc_array(void *p, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    return realloc(p, n * size != 0 ? n * size : 1);
}

/* n*size bytes; from `from` bytes up in whole 2 MiB huge pages (aligned, MADV_HUGEPAGE) */
static void *huge_alloc(size_t n, size_t size, size_t from) {
    enum { HUGE = 2u << 20 };
    if (size && n > SIZE_MAX / size) return NULL;
    size_t bytes = n * size;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= from && bytes <= SIZE_MAX - HUGE) {
        /* whole huge pages: the last one too (aligned_alloc wants a multiple of the alignment) */
        size_t whole = (bytes + HUGE - 1) / HUGE * HUGE;
        void *p = aligned_alloc(HUGE, whole);
        if (p) {
            (void)madvise(p, whole, MADV_HUGEPAGE); /* advice only: EINVAL etc. change nothing */
            return p;
        }
    }
#else
    (void)from;
#endif
    return malloc(bytes ? bytes : 1);
}

void *nr_big_alloc(size_t n, size_t size) { return huge_alloc(n, size, (size_t)2 << 20); }

void *nr_filled_alloc(size_t n, size_t size) { return huge_alloc(n, size, (size_t)256 << 10); }

void *nr_big_calloc(size_t n, size_t size) {
    void *p = nr_big_alloc(n, size);
    if (p) memset(p, 0, n * size); /* n * size checked by nr_big_alloc */
    return p;
}

char *nr_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void nlprnn_free(void *p) { free(p); }

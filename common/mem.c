/* common/mem.c: overflow-checked allocation. */
#include <stdlib.h>
#include <string.h>

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

char *nr_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void nlprnn_free(void *p) { free(p); }

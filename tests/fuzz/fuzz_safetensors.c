/* tests/fuzz/fuzz_safetensors.c: libFuzzer target for the safetensors reader
 * (format/safetensors.c). The input is a whole file; when it validates, every tensor is read
 * back (converted to float32 when its dtype allows), every metadata pair and every name is
 * looked up, and the tensors' byte ranges must tile the data exactly. A refused input must come
 * with its code in the error record and a message. */
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nr_st_file *f = NULL;
    nlprnn_error err;
    int rc = nr_st_open_mem(&f, data, size, "fuzz.safetensors", &err);
    if (rc) {
        if (err.code != rc || !err.message[0] || f) abort();
        return 0;
    }
    uint64_t at = 0;
    for (size_t i = 0; i < nr_st_count(f); i++) {
        const nr_st_tensor *t = nr_st_at(f, i);
        if (t->begin != at || t->end < t->begin) abort();
        at = t->end;
        if (nr_st_find(f, t->name) != t) abort();
        if (t->count > (1u << 20)) continue;
        float *out = malloc((t->count ? t->count : 1) * sizeof(float));
        if (!out) abort();
        rc = nr_st_read_f32(f, t, out, &err);
        if (rc && (err.code != rc || !err.message[0])) abort();
        free(out);
    }
    for (size_t i = 0; i < nr_st_meta_count(f); i++) {
        const char *k, *v;
        nr_st_meta_at(f, i, &k, &v);
        if (!k || !v || nr_st_meta(f, k) != v) abort();
    }
    nr_st_close(f);
    return 0;
}

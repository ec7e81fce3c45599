/* tests/fuzz/fuzz_modelfile.c: libFuzzer target for the model-file loader. Opens the input as a
 * model file of any kind; when it validates, reads everything back: every config value with
 * every getter, every tensor with its own shape (refused as weights exactly when a value is NaN
 * or infinite), every string list, and the description.
 * The CRCs keep mutations from reaching the section parsers, so an input whose first byte is
 * 0-3 is instead wrapped by the writer as one section of that content type (with valid CRCs),
 * which sends the rest of the bytes straight to the config / tensor / string parsers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpora/dataset.h"
#include "tasks/classify/classifier.h"
#include "format/modelfile.h"

static void exercise(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 1 && data[0] <= NR_MF_STRINGS) {
        nr_mf_writer *w;
        nlprnn_error err;
        if (nr_mf_writer_new(&w, "CLSF", &err)) abort();
        if (nr_mf_add(w, "SECT", data[0], data + 1, size - 1, size & 1, &err)) abort();
        unsigned char *file;
        size_t n;
        if (nr_mf_writer_to_mem(w, &file, &n, &err)) abort();
        nr_mf_writer_free(w);
        exercise(file, n);
        free(file);
        return 0;
    }
    exercise(data, size);
    return 0;
}

static void exercise(const uint8_t *data, size_t size) {
    nr_mf_reader *r;
    nlprnn_error err;
    int rc = nr_mf_open_mem(&r, data, size, "fuzz.nrm", NULL, &err);
    if (rc) {
        if (err.code != rc || !err.message[0] || r) abort();
        return;
    }
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        if (s->content == NR_MF_CONFIG) {
            nr_conf c;
            if (nr_mf_get_conf(r, s->tag, &c, &err)) abort(); /* validated at open */
            for (size_t k = 0; k < c.n; k++) {
                long long v;
                double d;
                const char *str;
                nr_conf_get_int(&c, c.keys[k], &v, &err);
                nr_conf_get_float(&c, c.keys[k], &d, &err);
                if (nr_conf_get_str(&c, c.keys[k], &str, &err)) abort();
            }
            nr_conf_free(&c);
        } else if (s->content == NR_MF_TENSORS) {
            size_t n = nr_mf_tensor_count(r, s->tag);
            for (size_t k = 0; k < n; k++) {
                nr_tensor_info ti;
                if (nr_mf_tensor_at(r, s->tag, k, &ti, &err)) abort();
                if (ti.count > ((size_t)1 << 24)) continue;
                float *out = malloc((ti.count ? ti.count : 1) * sizeof *out);
                if (!out) continue;
                /* any values read back; weights only when every one is finite */
                if (nr_mf_tensor_read_nonfinite(r, s->tag, ti.name, out, ti.ndim, ti.shape, &err))
                    abort();
                int finite = 1;
                for (size_t v = 0; v < ti.count; v++) finite = finite && isfinite(out[v]);
                int rc = nr_mf_tensor_read(r, s->tag, ti.name, out, ti.ndim, ti.shape, &err);
                if (finite ? rc != 0 : rc != NLPRNN_E_FORMAT) abort();
                free(out);
            }
        } else if (s->content == NR_MF_STRINGS) {
            nr_label_map m;
            if (nr_label_map_load(&m, r, s->tag, &err) == 0) nr_label_map_free(&m);
        }
    }
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    if (nr_mf_describe(r, &b, &err)) abort();
    nr_mf_buf_free(&b);
    nr_mf_close(r);
}

/* format/modelfile.c: the model file as a whole: the description `nlprnn info` prints
 * (nr_mf_describe, nlprnn_model_file_info) and the member sections of ensembles, written and
 * read (ENSM, CFkk, WGkk). The container's other files (writer, reader, config text, tensors and
 * strings) are listed at the top of format/modelfile_impl.h; its layout: format/modelfile.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile_impl.h"
#include "nlprnn/modelfile.h"

/* ---- info --------------------------------------------------------------------------------- */

static const char *content_name(int c) {
    switch (c) {
    case NR_MF_RAW: return "raw";
    case NR_MF_CONFIG: return "config";
    case NR_MF_TENSORS: return "tensors";
    case NR_MF_STRINGS: return "strings";
    default: return "unknown";
    }
}

int nr_mf_describe(const nr_mf_reader *r, nr_mf_buf *out, nlprnn_error *err) {
    int rc = nr_mf_buf_printf(out, err,
                              "file:     %s\nkind:     %s (%s)\nformat:   version %u\n"
                              "size:     %zu bytes\nsections: %zu\n",
                              r->name, r->kind, nr_mf_kind_name(r->kind), r->version, r->n, r->ns);
    for (size_t i = 0; !rc && i < r->ns; i++) {
        const rsection *s = &r->s[i];
        rc = nr_mf_buf_printf(out, err,
                              "\nsection %s  %s, %s, %" PRIu64 " bytes stored, %" PRIu64
                              " raw, crc32 %08x\n",
                              s->pub.tag, content_name(s->pub.content),
                              s->pub.encoding == NR_MF_ZLIB ? "zlib" : "stored",
                              s->pub.stored_len, s->pub.raw_len, s->pub.crc);
        if (rc) break;
        if (s->pub.content == NR_MF_CONFIG) {
            nr_conf c;
            rc = nr_conf_parse(&c, s->pub.data, (size_t)s->pub.raw_len, s->pub.tag, err);
            for (size_t j = 0; !rc && j < c.n; j++) {
                const char *v = c.vals[j];
                size_t vl = strlen(v);
                int nl = strchr(v, '\n') != NULL;
                rc = nr_mf_buf_printf(out, err, "  %s = %.*s%s\n", c.keys[j],
                                      (int)(vl > 100 || nl ? (nl ? (int)(strchr(v, '\n') - v) : 100) : (int)vl),
                                      v, vl > 100 || nl ? " ..." : "");
            }
            if (!rc) nr_conf_free(&c);
        } else if (s->pub.content == NR_MF_TENSORS) {
            uint64_t total = 0;
            for (size_t j = 0; j < s->nt; j++) total += s->t[j].count;
            rc = nr_mf_buf_printf(out, err, "  %zu tensors, %" PRIu64 " values\n", s->nt, total);
            for (size_t j = 0; !rc && j < s->nt; j++) {
                char sh[200];
                nr_mf_shape_text(sh, sizeof sh, s->t[j].ndim, s->t[j].shape);
                rc = nr_mf_buf_printf(out, err, "  %-32s %-5s %-20s %" PRIu64 " bytes\n",
                                      s->t[j].name, nr_dtype_name(s->t[j].dtype), sh,
                                      s->t[j].payload_len);
            }
        } else if (s->pub.content == NR_MF_STRINGS) {
            rc = nr_mf_buf_printf(out, err, "  %zu strings:", s->nstr);
            for (size_t j = 0; !rc && j < s->nstr && j < 10; j++)
                rc = nr_mf_buf_printf(out, err, " \"%.40s\"", s->strs[j]);
            if (!rc) rc = nr_mf_buf_printf(out, err, "%s\n", s->nstr > 10 ? " ..." : "");
        }
    }
    return rc;
}

/* ---- ensembles: ENSM and the CFkk / WGkk sections of members 2..N ---- */

void nr_mf_member_tags(int k, char conf_tag[8], char wght_tag[8]) {
    snprintf(conf_tag, 8, "CF%02d", k % 100);
    snprintf(wght_tag, 8, "WG%02d", k % 100);
}

int nr_mf_put_members(nr_mf_writer *w, int n, nlprnn_error *err) {
    nr_mf_buf ens;
    nr_mf_buf_init(&ens);
    int rc = nr_conf_put_int(&ens, "members", n, err);
    if (!rc) rc = nr_mf_add(w, "ENSM", NR_MF_CONFIG, ens.data, ens.len, 0, err);
    nr_mf_buf_free(&ens);
    return rc;
}

int nr_mf_get_members(const nr_mf_reader *r, int max, int *n, nlprnn_error *err) {
    *n = 1;
    if (!nr_mf_find(r, "ENSM")) return NLPRNN_OK;
    nr_conf c;
    int rc = nr_mf_get_conf(r, "ENSM", &c, err);
    if (rc) return rc;
    rc = nr_conf_get_int_in(&c, "members", 2, max, n, err);
    nr_conf_free(&c);
    return rc;
}

/* Deprecated public (0.3 removes it): the container's description alone; nlprnn_model_file_describe
 * (tasks/kinds.c) is what `nlprnn info` prints. */
int nlprnn_model_file_info(const char *path, char **text, nlprnn_error *err) {
    if (!text || !path) {
        if (text) *text = NULL;
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "model file info: NULL argument");
    }
    return nr_mf_describe_file(path, text, err);
}

int nr_mf_describe_file(const char *path, char **text, nlprnn_error *err) {
    *text = NULL;
    nr_mf_reader *r;
    int rc = nr_mf_open_file(&r, path, NULL, err);
    if (rc) return rc;
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    rc = nr_mf_describe(r, &b, err);
    if (!rc) rc = nr_mf_buf_put(&b, "", 1, err); /* NUL */
    nr_mf_close(r);
    if (rc) {
        nr_mf_buf_free(&b);
        return rc;
    }
    *text = (char *)b.data;
    return NLPRNN_OK;
}

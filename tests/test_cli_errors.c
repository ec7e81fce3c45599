/* tests/test_cli_errors.c: regression tests for issue 13, defects 4, 12, 13, 16, 17, 19, 20 and
 * 21, through the nlprnn program ($NLPRNN_CLI) and files this test crafts itself:
 *    4  a write error on standard output (/dev/full, a closed stdout, RLIMIT_FSIZE) is exit 4
 *       with a message, for every command; a closed stdout never becomes a file the command opens;
 *   12  labels with a TAB or a line feed are refused: in a corpus (exit 3 naming file:line) and
 *       in a model's label section (exit 5 naming the file);
 *   13  a UTF-8 byte order mark at the start of a file or stdin is not text (classify, tokenize,
 *       fill --input);
 *   16  classify prints every result of the files before one that cannot be read;
 *   17  eval recognises fastText lines by content, and zero usable documents is exit 3 saying why;
 *   19  documented exit codes: a diverging run 3, a tokenizer file whose stored pattern does not
 *       compile 5 naming the file, an LM that asks for tied embeddings with embed != hidden 5,
 *       impossible sizes in a model file 5 (not 6), --resume with other parameters 2;
 *   20  info exits 5 for a classifier file its loader refuses (missing tensor, shape, NaN);
 *   21  the default model does not depend on the current folder (a folder or file named "ko").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "format/modelfile.h"
#include "nlprnn.h"
#include "testutil.h"

/* the program's status -> exit code table, checked entry by entry below */
#include "../cli/common.c"

static char g_dir[256];
static const char *g_cli;

static const char *P(const char *name) { /* a path in the test folder (4 rotating buffers) */
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static void write_file(const char *path, const char *data, size_t n) {
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp) return;
    CHECK_INT_EQ(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

static int count_lines(const char *s) {
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}


/* ---- crafting model files: copy src to dst, replacing one section --------------------------- */

typedef void (*section_fn)(const nr_mf_reader *r, const nr_mf_section *s, nr_mf_buf *out,
                           const void *arg);

/* Copy every section of src into dst; the section `tag` is rebuilt by fn (NULL: dropped). */
static void rewrite(const char *src, const char *dst, const char *tag, section_fn fn,
                    const void *arg) {
    nlprnn_error err;
    nr_mf_reader *r = NULL;
    CHECK_MSG(nr_mf_open_file(&r, src, NULL, &err) == 0, "%s", err.message);
    if (!r) return;
    nr_mf_writer *w = NULL;
    CHECK_INT_EQ(nr_mf_writer_new(&w, nr_mf_kind(r), &err), 0);
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        int zip = s->encoding == NR_MF_ZLIB;
        if (strcmp(s->tag, tag)) {
            CHECK_INT_EQ(nr_mf_add(w, s->tag, s->content, s->data, (size_t)s->raw_len, zip, &err), 0);
        } else if (fn) {
            nr_mf_buf b;
            nr_mf_buf_init(&b);
            fn(r, s, &b, arg);
            CHECK_INT_EQ(nr_mf_add(w, s->tag, s->content, b.data, b.len, zip, &err), 0);
            nr_mf_buf_free(&b);
        }
    }
    CHECK_MSG(nr_mf_writer_save(w, dst, &err) == 0, "%s", err.message);
    nr_mf_writer_free(w);
    nr_mf_close(r);
}

/* CONF with the pairs of arg ("key=value\nkey=value\n...") set; other keys kept. */
static void conf_set(const nr_mf_reader *r, const nr_mf_section *s, nr_mf_buf *out,
                     const void *arg) {
    nr_conf c;
    nlprnn_error err;
    CHECK_INT_EQ(nr_mf_get_conf(r, s->tag, &c, &err), 0);
    for (size_t i = 0; i < c.n; i++) {
        const char *v = c.vals[i];
        char key[200];
        snprintf(key, sizeof key, "\n%s=", c.keys[i]);
        char all[1024];
        snprintf(all, sizeof all, "\n%s", (const char *)arg);
        const char *hit = strstr(all, key);
        char val[256];
        if (hit) {
            hit += strlen(key);
            size_t k = strcspn(hit, "\n");
            snprintf(val, sizeof val, "%.*s", (int)k, hit);
            v = val;
        }
        CHECK_INT_EQ(nr_conf_put_str(out, c.keys[i], v, &err), 0);
    }
    nr_conf_free(&c);
}

/* LABL with the names of arg (a NULL-terminated array). */
static void labels_set(const nr_mf_reader *r, const nr_mf_section *s, nr_mf_buf *out,
                       const void *arg) {
    (void)r, (void)s;
    const char *const *names = arg;
    size_t n = 0;
    while (names[n]) n++;
    nlprnn_error err;
    CHECK_INT_EQ(nr_strings_put(out, names, n, &err), 0);
}

/* A tensor section with one change: "drop" leaves the last tensor out, "nan" makes the first
 * value of the first tensor NaN (stored float32), "shape" swaps the dimensions of the first
 * 2-D tensor. */
static void tensors_edit(const nr_mf_reader *r, const nr_mf_section *s, nr_mf_buf *out,
                         const void *arg) {
    const char *what = arg;
    nlprnn_error err;
    size_t nt = nr_mf_tensor_count(r, s->tag);
    int swapped = 0;
    for (size_t i = 0; i < nt; i++) {
        if (!strcmp(what, "drop") && i + 1 == nt) break;
        nr_tensor_info ti;
        CHECK_INT_EQ(nr_mf_tensor_at(r, s->tag, i, &ti, &err), 0);
        float *x = malloc((ti.count ? ti.count : 1) * sizeof(float));
        CHECK_INT_EQ(nr_mf_tensor_read(r, s->tag, ti.name, x, ti.ndim, ti.shape, &err), 0);
        int dtype = ti.dtype;
        size_t shape[NR_TENSOR_MAX_DIMS];
        memcpy(shape, ti.shape, sizeof shape);
        if (!strcmp(what, "nan") && i == 0) {
            x[0] = NAN;
            dtype = NR_DTYPE_F32;
        }
        if (!strcmp(what, "shape") && ti.ndim == 2 && !swapped && shape[0] != shape[1]) {
            shape[0] = ti.shape[1];
            shape[1] = ti.shape[0];
            swapped = 1;
        }
        CHECK_INT_EQ(nr_tensor_put(out, ti.name, x, ti.ndim, shape, dtype, &err), 0);
        free(x);
    }
}

/* A tokenizer whose stored pre-tokenization pattern does not compile: a valid file with the
 * custom pattern "[a-z]+|\S" turned into "[a-z(+|\S" (size and CRC32 made right again). */
static void bad_pattern_tokenizer(const char *corpus, const char *path) {
    nlprnn_error err;
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "pattern", "[a-z]+|\\S", &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "vocab-size", "300", &err), 0);
    const char *files[1] = {corpus};
    nlprnn_tokenizer *tok = NULL;
    CHECK_MSG(nlprnn_tokenizer_train_files(o, files, 1, &tok, &err) == 0, "%s", err.message);
    nlprnn_tokenizer_params_free(o);
    void *buf = NULL;
    size_t n = 0;
    CHECK_INT_EQ(nlprnn_tokenizer_save_memory(tok, &buf, &n, &err), 0);
    nlprnn_tokenizer_free(tok);
    unsigned char *b = buf;
    unsigned char *hit = NULL;
    for (size_t i = 0; b && i + 9 <= n && !hit; i++)
        if (!memcmp(b + i, "[a-z]+|\\S", 9)) hit = b + i;
    CHECK_MSG(hit != NULL, "the pattern is not in the saved tokenizer");
    if (hit) {
        hit[4] = '(';
        uint32_t c = (uint32_t)crc32(0L, b, (uInt)(n - 4));
        for (int i = 0; i < 4; i++) b[n - 4 + i] = (unsigned char)(c >> (8 * i));
        write_file(path, buf, n);
    }
    nlprnn_free(buf);
}

/* ---- the defects -------------------------------------------------------------------------------- */

static void exit_code_table(void) {
    static const struct {
        int status, code;
    } t[] = {{NLPRNN_OK, 0},
             {NLPRNN_E_INVALID_ARG, 2},
             {NLPRNN_E_REGEX, 2},
             {NLPRNN_E_NOMEM, 6},
             {NLPRNN_E_LIMIT, 6},
             {NLPRNN_E_IO, 4},
             {NLPRNN_E_UTF8, 3},
             {NLPRNN_E_DATA, 3},
             {NLPRNN_E_EMPTY, 3},
             {NLPRNN_E_NUMERIC, 3},
             {NLPRNN_E_FORMAT, 5},
             {NLPRNN_E_VERSION, 5},
             {NLPRNN_E_CHECKSUM, 5},
             {NLPRNN_E_TRUNCATED, 5},
             {NLPRNN_E_MAGIC, 5},
             {NLPRNN_E_UNSUPPORTED, 5},
             {NLPRNN_E_INTERRUPTED, 130},
             {NLPRNN_E_STATE, 1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_MSG(cli_exit_code(t[i].status) == t[i].code, "%s -> exit %d, documented %d",
                  nlprnn_status_name(t[i].status), cli_exit_code(t[i].status), t[i].code);
}

/* 4: every command, its output to /dev/full and to a closed stdout */
static void stdout_errors(const char *model, const char *lm, const char *tok, const char *lines) {
    char cmds[][700] = {"--help", "--version", "classify --help", "info %M", "classify -m %M --lines %L",
                        "eval -m %M %T", "tokenize --tokenizer %K 'abc def'", "tokenize --tokenizer %K -f %L",
                        "next --model %N --top 3 '영화'", "fill --model %N --top 3 '정말 ___ 영화'",
                        "generate --model %N --max-tokens 5", "lm-eval --model %N %L",
                        "gradflow --length 20 --hidden 4 --batch 2"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char cmd[2000] = "", *o = cmds[i];
        size_t k = 0;
        for (; *o && k < sizeof cmd - 600; o++) {
            const char *sub = NULL;
            if (*o == '%' && o[1]) {
                char c = *++o;
                sub = c == 'M' ? model : c == 'N' ? lm : c == 'K' ? tok : c == 'L' ? lines
                                                                            : nr_test_data_path("clf_test.tsv");
            }
            if (sub) k += (size_t)snprintf(cmd + k, sizeof cmd - k, "%s", sub);
            else cmd[k++] = *o;
        }
        cmd[k] = 0;
        char *out = NULL;
        CHECK_INT_EQ(nr_test_run(NULL, "%s %s >/dev/null 2>&1", g_cli, cmd), 0);
        int rc = nr_test_run(&out, "%s %s 2>&1 >/dev/full", g_cli, cmd);
        CHECK_MSG(rc == 4 && out && strstr(out, "cannot write to standard output: No space left"),
                  "nlprnn %s >/dev/full: exit %d: %s", cmd, rc, out ? out : "");
        free(out);
        rc = nr_test_run(&out, "%s %s 2>&1 >&-", g_cli, cmd);
        CHECK_MSG(rc == 4 && out && strstr(out, "cannot write to standard output: Bad file descriptor"),
                  "nlprnn %s >&-: exit %d: %s", cmd, rc, out ? out : "");
        free(out);
    }
    /* a file size limit (a full disk without a special device): exit 4, the output cut there */
    char *out = NULL;
    int rc = nr_test_run(&out, "trap '' XFSZ; ulimit -f 8; %s classify -m %s --lines %s %s %s %s 2>&1 >%s",
                         g_cli, model, lines, lines, lines, lines, P("limited.out"));
    CHECK_MSG(rc == 4 && out && strstr(out, "cannot write to standard output: File too large"),
              "classify over RLIMIT_FSIZE: exit %d: %s", rc, out ? out : "");
    free(out);
    /* a command that prints nothing succeeds with a closed stdout, and the descriptor it would
     * have had is not given to the model file it writes */
    CHECK_INT_EQ(nr_test_run(NULL, "%s train %s -o %s --vocab 300 --embed 8 --hidden 8 --epochs 1 "
                                   "--threads 1 -q >&-", g_cli, nr_test_data_path("clf_train.tsv"),
                             P("closed.nrm")), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "%s info %s >/dev/null", g_cli, P("closed.nrm")), 0);
}

/* 12: labels with control characters */
static void bad_labels(const char *model) {
    static const char tab_csv[] = "text,label\n\"good film\",0\n\"bad film\",\"ne\tg\"\n\"fine\",1\n";
    static const char lf_csv[] = "text,label\n\"good film\",\"po\ns\"\n\"bad film\",neg\n";
    write_file(P("tab.csv"), tab_csv, sizeof tab_csv - 1);
    write_file(P("lf.csv"), lf_csv, sizeof lf_csv - 1);
    nr_test_expect(3, MUST("tab.csv:3", "a TAB"), "%s train %s -o %s --epochs 1 --embed 8 --hidden 8 -q", g_cli,
           P("tab.csv"), P("tab.nrm"));
    nr_test_expect(3, MUST("lf.csv:2", "a line feed"), "%s train %s -o %s --epochs 1 --embed 8 --hidden 8 -q", g_cli,
           P("lf.csv"), P("lf.nrm"));
    CHECK_INT_EQ(nr_test_run(NULL, "test -e %s || test -e %s", P("tab.nrm"), P("lf.nrm")), 1);
    /* eval on such a file: the same error, not an "unknown label" with a TAB inside */
    nr_test_expect(3, MUST("tab.csv:3", "a TAB"), "%s eval -m %s %s", g_cli, model, P("tab.csv"));
    /* a model whose label section holds "ne<TAB>g" or "1<LF>": a damaged model file (5), named */
    static const char *const tab_names[] = {"ne\tg", "pos", NULL};
    rewrite(model, P("tablabel.nrm"), "LABL", labels_set, tab_names);
    nr_test_expect(5, MUST("tablabel.nrm", "LABL", "a TAB"), "printf 'good\\n' | %s classify -m %s", g_cli,
           P("tablabel.nrm"));
    nr_test_expect(5, MUST("tablabel.nrm"), "%s info %s", g_cli, P("tablabel.nrm"));
    static const char *const lf_names[] = {"0", "1\n", NULL};
    rewrite(model, P("lflabel.nrm"), "LABL", labels_set, lf_names);
    nr_test_expect(5, MUST("lflabel.nrm", "a line feed"), "printf 'good\\n' | %s classify -m %s", g_cli,
           P("lflabel.nrm"));
}

/* 13: byte order marks */
static void byte_order_marks(const char *model, const char *tok, const char *lm) {
    static const char text[] = "정말 재미있는 영화\n지루한 영화\n";
    char bom[sizeof text + 3] = "\xEF\xBB\xBF";
    memcpy(bom + 3, text, sizeof text);
    write_file(P("plain.txt"), text, sizeof text - 1);
    write_file(P("bom.txt"), bom, sizeof bom - 1);
    const char *form[] = {"%s classify -m %s %s", "%s classify -m %s --lines %s", "%s classify -m %s < %s",
                          "%s classify -m %s --format json --lines - < %s"};
    for (int i = 0; i < 4; i++) {
        char *a = NULL, *b = NULL, fa[600], fb[600];
        snprintf(fa, sizeof fa, form[i], g_cli, model, P("plain.txt"));
        snprintf(fb, sizeof fb, form[i], g_cli, model, P("bom.txt"));
        CHECK_INT_EQ(nr_test_run(&a, "%s", fa), 0);
        CHECK_INT_EQ(nr_test_run(&b, "%s", fb), 0);
        CHECK_MSG(a && b && *a && !strcmp(a, b), "with a BOM: %s\nwithout: %s", b ? b : "", a ? a : "");
        free(a);
        free(b);
    }
    char *a = NULL, *b = NULL;
    CHECK_INT_EQ(nr_test_run(&a, "%s tokenize --tokenizer %s -f %s", g_cli, tok, P("plain.txt")), 0);
    CHECK_INT_EQ(nr_test_run(&b, "%s tokenize --tokenizer %s -f %s", g_cli, tok, P("bom.txt")), 0);
    CHECK_MSG(a && b && !strcmp(a, b) && !strstr(b, "<0xEF>"), "tokenize: %s / %s", a ? a : "", b ? b : "");
    free(b);
    CHECK_INT_EQ(nr_test_run(&b, "%s tokenize --tokenizer %s - < %s", g_cli, tok, P("bom.txt")), 0);
    CHECK_MSG(a && b && !strcmp(a, b), "tokenize stdin: %s / %s", a ? a : "", b ? b : "");
    free(a);
    free(b);
    /* --offsets count the mark's 3 bytes on line 1 (they index the line as stored), not after */
    CHECK_INT_EQ(nr_test_run(&a, "%s tokenize --tokenizer %s --offsets -f %s", g_cli, tok, P("plain.txt")), 0);
    CHECK_INT_EQ(nr_test_run(&b, "%s tokenize --tokenizer %s --offsets -f %s", g_cli, tok, P("bom.txt")), 0);
    CHECK_MSG(a && !strncmp(strchr(a, '@') ? strchr(a, '@') : "", "@0:", 3) && b &&
                  !strncmp(strchr(b, '@') ? strchr(b, '@') : "", "@3:", 3),
              "offsets: %s / %s", a ? a : "", b ? b : "");
    /* line 2 has no mark: the same offsets */
    CHECK_MSG(a && b && strchr(a, '\n') && strchr(b, '\n') && !strcmp(strchr(a, '\n'), strchr(b, '\n')),
              "line 2: %s / %s", a ? a : "", b ? b : "");
    free(a);
    free(b);
    /* the corpus readers: lm-eval and tokenizer-train read the same text with and without it */
    CHECK_INT_EQ(nr_test_run(&a, "%s lm-eval --model %s %s | cut -f2-6", g_cli, lm, P("plain.txt")), 0);
    CHECK_INT_EQ(nr_test_run(&b, "%s lm-eval --model %s %s | cut -f2-6", g_cli, lm, P("bom.txt")), 0);
    CHECK_MSG(a && b && !strcmp(a, b), "lm-eval: %s / %s", a ? a : "", b ? b : "");
    free(a);
    free(b);
    CHECK_INT_EQ(nr_test_run(NULL, "%s tokenizer-train --input %s --output %s --vocab-size 280 2>/dev/null", g_cli,
                             P("plain.txt"), P("plain.tok")), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "%s tokenizer-train --input %s --output %s --vocab-size 280 2>/dev/null", g_cli,
                             P("bom.txt"), P("bom.tok")), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "cmp -s %s %s", P("plain.tok"), P("bom.tok")), 0);
    /* fill --input: one answer line per query, the same */
    write_file(P("fill-plain.txt"), "정말 ___ 영화\n", strlen("정말 ___ 영화\n"));
    write_file(P("fill-bom.txt"), "\xEF\xBB\xBF정말 ___ 영화\n", strlen("\xEF\xBB\xBF정말 ___ 영화\n"));
    CHECK_INT_EQ(nr_test_run(&a, "%s fill --model %s --top 3 --input %s", g_cli, lm, P("fill-plain.txt")), 0);
    CHECK_INT_EQ(nr_test_run(&b, "%s fill --model %s --top 3 --input %s", g_cli, lm, P("fill-bom.txt")), 0);
    CHECK_MSG(a && b && *a != '\n' && !strcmp(a, b), "fill --input: %s / %s", a ? a : "", b ? b : "");
    free(a);
    free(b);
}

/* 16: the results before an unreadable file are printed */
static void flush_before_failure(const char *model) {
    FILE *fp = fopen(P("good.txt"), "w");
    for (int i = 0; i < 1000; i++) fprintf(fp, "%s %d\n", i % 2 ? "최고의 영화" : "지루한 영화", i);
    fclose(fp);
    char *o = NULL;
    int rc = nr_test_run(&o, "%s classify -m %s --lines %s %s", g_cli, model, P("good.txt"), P("nonexistent"));
    CHECK_MSG(rc == 4 && count_lines(o) == 1000, "good + nonexistent: exit %d, %d lines", rc, count_lines(o));
    free(o);
    rc = nr_test_run(&o, "%s classify -m %s --lines %s %s", g_cli, model, P("good.txt"), g_dir);
    CHECK_MSG(rc == 4 && count_lines(o) == 1000, "good + a folder: exit %d, %d lines", rc, count_lines(o));
    free(o);
    rc = nr_test_run(&o, "%s classify -m %s %s %s %s", g_cli, model, P("good.txt"), P("good.txt"), P("nonexistent"));
    CHECK_MSG(rc == 4 && count_lines(o) == 2, "two whole files + nonexistent: exit %d, %d lines", rc,
              count_lines(o));
    free(o);
}

/* 17: fastText lines in a .txt file; nothing usable */
static void eval_formats(const char *model) {
    char *o = NULL;
    CHECK_INT_EQ(nr_test_run(NULL, "tail -n +2 %s | awk -F'\\t' '{print \"__label__\" $3 \" \" $2}' > %s",
                             nr_test_data_path("clf_test.tsv"), P("test-ft.txt")), 0);
    int rc = nr_test_run(&o, "%s eval -m %s %s", g_cli, model, P("test-ft.txt"));
    CHECK_MSG(rc == 0 && o && strstr(o, "documents: 200 (skipped 0)") && !strstr(o, "nan"),
              "eval on fastText lines named .txt: %d %s", rc, o ? o : "");
    free(o);
    /* the same as the TSV it came from */
    char *t = NULL;
    CHECK_INT_EQ(nr_test_run(&o, "%s eval -m %s --format tsv %s | grep -v '^file'", g_cli, model,
                             P("test-ft.txt")), 0);
    CHECK_INT_EQ(nr_test_run(&t, "%s eval -m %s --format tsv %s | grep -v '^file'", g_cli, model,
                             nr_test_data_path("clf_test.tsv")), 0);
    CHECK_MSG(o && t && !strcmp(o, t), "fastText vs TSV:\n%s\n%s", o ? o : "", t ? t : "");
    free(o);
    free(t);
    /* plain lines (no labels), only empty texts, only a header: exit 3 saying why */
    CHECK_INT_EQ(nr_test_run(NULL, "cut -f2 %s > %s", nr_test_data_path("clf_test.tsv"), P("lines.txt")), 0);
    nr_test_expect(3, MUST("lines.txt", "no labels"), "%s eval -m %s %s", g_cli, model, P("lines.txt"));
    write_file(P("empty-texts.tsv"), "document\tlabel\n \t0\n\t1\n", 22);
    nr_test_expect(3, MUST("no document to evaluate", "2 with an empty text"), "%s eval -m %s %s", g_cli, model,
           P("empty-texts.tsv"));
    write_file(P("header.tsv"), "document\tlabel\n", 15);
    nr_test_expect(3, MUST("header.tsv", "no document to evaluate"), "%s eval -m %s %s", g_cli, model, P("header.tsv"));
}

/* 19: exit codes of diverging runs and damaged files */
static void exit_codes(const char *model, const char *lm16) {
    /* a loss that overflows (values of 1-3e38, within the float range, no scaling): the run
     * diverges, NLPRNN_E_NUMERIC, exit 3 (values beyond +-1e150 or beyond the float range are
     * refused as data before training, also exit 3: not what this checks) */
    FILE *fp = fopen(P("huge.csv"), "w");
    fprintf(fp, "value\n");
    for (int i = 0; i < 200; i++) fprintf(fp, "%de38\n", 1 + i % 3);
    fclose(fp);
    nr_test_expect(3, MUST("loss became", "(NLPRNN_E_NUMERIC)"),
           "%s forecast train --csv %s --column value -o %s --scaler none --window 5 --epochs 2 --quiet",
           g_cli, P("huge.csv"), P("huge.nrm"));
    /* a tokenizer file whose pattern does not compile: 5, naming the file */
    bad_pattern_tokenizer(nr_test_data_path("clf_train.tsv"), P("badpat.tok"));
    nr_test_expect(5, MUST("badpat.tok", "pattern"), "%s tokenize --tokenizer %s abc", g_cli, P("badpat.tok"));
    /* an LM asking for tied embeddings with embed 8 != hidden 16: 5 (was 2) */
    rewrite(lm16, P("tied.nrm"), "CONF", conf_set, "tied=1\n");
    nr_test_expect(5, MUST("tied.nrm", "embed"), "%s next --model %s '영화'", g_cli, P("tied.nrm"));
    /* impossible sizes: 5 naming the file (was 6 after trying to allocate them): sizes within
     * the ranges training allows that the file's weights cannot hold, and sizes beyond them */
    rewrite(lm16, P("huge-lm.nrm"), "CONF", conf_set, "hidden=4096\nlayers=8\n");
    nr_test_expect(5, MUST("huge-lm.nrm", "impossible"), "%s next --model %s '영화'", g_cli, P("huge-lm.nrm"));
    rewrite(model, P("huge-clf.nrm"), "CONF", conf_set, "hidden=4096\nlayers=8\nembed=4096\n");
    nr_test_expect(5, MUST("huge-clf.nrm", "impossible"), "printf 'x\\n' | %s classify -m %s", g_cli, P("huge-clf.nrm"));
    rewrite(lm16, P("range-lm.nrm"), "CONF", conf_set, "hidden=65536\nlayers=8\n");
    nr_test_expect(5, MUST("range-lm.nrm", "out of range"), "%s next --model %s '영화'", g_cli, P("range-lm.nrm"));
    rewrite(model, P("range-clf.nrm"), "CONF", conf_set, "hidden=65536\nlayers=8\nembed=65536\n");
    nr_test_expect(5, MUST("range-clf.nrm", "out of range"), "printf 'x\\n' | %s classify -m %s", g_cli, P("range-clf.nrm"));
}

/* 20: info on classifier files the loader refuses */
static void info_validates(const char *model) {
    const char *edits[] = {"drop", "nan", "shape"};
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "weights-%s.nrm", edits[i]);
        rewrite(model, P(name), "WGHT", tensors_edit, edits[i]);
        nr_test_expect(5, MUST(name), "%s info %s", g_cli, P(name));
        nr_test_expect(5, MUST(name), "printf 'x\\n' | %s classify -m %s", g_cli, P(name));
    }
    CHECK_INT_EQ(nr_test_run(NULL, "%s info %s >/dev/null", g_cli, model), 0);
}

/* 21: a folder or file named ko in the current folder */
static void default_model(void) {
    char shipped[4096];
    nlprnn_error e;
    if (nlprnn_model_find("ko", shipped, sizeof shipped, &e)) {
        fprintf(stderr, "test_cli_errors: no shipped 'ko' model (%s): defect 21 not checked\n", e.message);
        return;
    }
    char *ref = NULL, *o = NULL;
    CHECK_INT_EQ(nr_test_run(NULL, "mkdir -p %s/cwd/ko", g_dir), 0);
    CHECK_INT_EQ(nr_test_run(&ref, "printf '정말 최고\\n' | %s classify -m %s", g_cli, shipped), 0);
    int rc = nr_test_run(&o, "cd %s/cwd && printf '정말 최고\\n' | %s classify 2>&1", g_dir, g_cli);
    CHECK_MSG(rc == 0 && o && ref && !strcmp(o, ref), "a folder 'ko': %d %s", rc, o ? o : "");
    free(o);
    nr_test_expect(0, MUST("CLSF"), "cd %s/cwd && %s info ko", g_dir, g_cli);
    CHECK_INT_EQ(nr_test_run(NULL, "rmdir %s/cwd/ko && echo garbage > %s/cwd/ko", g_dir, g_dir), 0);
    rc = nr_test_run(&o, "cd %s/cwd && printf '정말 최고\\n' | %s classify 2>&1", g_dir, g_cli);
    CHECK_MSG(rc == 0 && o && ref && !strcmp(o, ref), "a file 'ko': %d %s", rc, o ? o : "");
    free(o);
    /* the file is reached by a path */
    nr_test_expect(5, MUST("./ko"), "cd %s/cwd && printf 'x\\n' | %s classify -m ./ko", g_dir, g_cli);
    /* a bare name that is no shipped model, beside a file of that name: the hint says ./NAME */
    nr_test_expect(4, MUST("./mine"), "cd %s/cwd && cp %s mine && printf 'x\\n' | %s classify -m mine", g_dir, shipped,
           g_cli);
    free(ref);
}

int main(void) {
    exit_code_table();
    g_cli = getenv("NLPRNN_CLI");
    if (!g_cli || access(g_cli, X_OK)) {
        fprintf(stderr, "test_cli_errors: NLPRNN_CLI (the nlprnn program) is not set or not executable: "
                        "program checks skipped\n");
        return nr_test_failures ? nr_test_done("test_cli_errors") : 77;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_cli_errors_%d", (int)getpid());
    CHECK_INT_EQ(nr_test_run(NULL, "rm -rf %s && mkdir -p %s", g_dir, g_dir), 0);
    const char *train = nr_test_data_path("clf_train.tsv");
    const char *tok = nr_test_data_path("tokenizer/nsmc8k.tok");
    /* fixtures: a small classifier, a small untied language model (embed 8, hidden 16), text */
    CHECK_INT_EQ(nr_test_run(NULL, "%s train %s -o %s --vocab 300 --embed 8 --hidden 8 --epochs 1 --threads 1 "
                                   "--seed 3 -q", g_cli, train, P("m.nrm")), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "cut -f2 %s | tail -n +2 > %s", train, P("text.txt")), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "%s lm-train --tokenizer %s --input %s --output %s --embed 8 --hidden 16 "
                                   "--tied 0 --samples 16 --epochs 1 --max-lines 200 --quiet 2>/dev/null",
                             g_cli, tok, P("text.txt"), P("lm.nrm")), 0);
    char model[512];
    snprintf(model, sizeof model, "%s", P("m.nrm"));
    char lm[512];
    snprintf(lm, sizeof lm, "%s", P("lm.nrm"));
    char lines[512];
    snprintf(lines, sizeof lines, "%s", P("text.txt"));

    stdout_errors(model, lm, tok, lines);
    bad_labels(model);
    byte_order_marks(model, tok, lm);
    flush_before_failure(model);
    eval_formats(model);
    exit_codes(model, lm);
    info_validates(model);
    default_model();

    if (!nr_test_failures) nr_test_run(NULL, "rm -rf %s", g_dir);
    return nr_test_done("test_cli_errors");
}

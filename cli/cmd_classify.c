/* cli/cmd_classify.c: `nlprnn classify [--model FILE|NAME] [--lines] [--format tsv|json]
 *                       [--top-k K] [--data-labels] [FILE ...]`
 *
 * Each FILE is one document (or, with --lines, each line of it); no FILE or "-" reads stdin.
 * Output, one line per document in input order: LABEL<TAB>PROBABILITY (K pairs with --top-k K,
 * most probable first), or a JSON object (docs/classify.md has the schema). Input is streamed: a
 * document longer than --max-bytes (1 MiB) keeps its first --max-bytes (cut at a character
 * boundary) and the model keeps its first max_tokens tokens, each with a warning; the whole input
 * is still checked for UTF-8, so memory stays bounded for any input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_MAX_BYTES (1u << 20)
/* documents read before a batch call: 32 of the library's batches of 64 (256 = 4 left one of two
 * workers idle for up to a quarter of each call: the batches of a call are its documents sorted by
 * length, so they differ in length) */
#define BATCH_DOCS 2048

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn classify [--model FILE|NAME] [--lines] [--format tsv|json] [--top-k K]\n"
            "                       [--data-labels] [FILE ...]\n"
            "\n"
            "Classify documents with a classifier model; no FILE or '-' reads standard input.\n"
            "Each FILE is one document; with --lines every line is one document. A UTF-8 byte\n"
            "order mark at the start of a file or of standard input is skipped (not text).\n"
            "Reading a pipe with --lines, each line is answered as soon as no more input is\n"
            "waiting; big inputs are still classified 2,048 documents at a time.\n"
            "Output, one line per document, in input order: LABEL<TAB>PROBABILITY (with --top-k\n"
            "K: K such pairs on the line, most probable first), or with --format json one object\n"
            "a line: {\"label\":L,\"probability\":P,\"top\":[{\"label\":L,\"probability\":P},...],\n"
            "\"probabilities\":{L:P,...}} (top: K entries, all classes by default, most probable\n"
            "first; probabilities: every class in class order).\n"
            "\n"
            "options:\n"
            "  -m, --model FILE|NAME  model file, or a shipped model's name (default: ko; a\n"
            "                         NAME without '/' or '.' is never a file: write ./NAME)\n"
            "  -l, --lines            every line is one document\n"
            "  -f, --format tsv|json  output format (default tsv)\n"
            "  -k, --top-k K          the K most probable labels (default: 1 in tsv, all in json)\n"
            "      --data-labels      print the labels as in the training data (\"0\", \"1\") instead\n"
            "                         of the model's label names (\"negative\", \"positive\")\n"
            "  -t, --threads N        threads for batches (default: the cores, at most 16)\n"
            "      --skip-bad         an empty or invalid-UTF-8 document prints \"!error<TAB>CODE\"\n"
            "                         (json: {\"error\":...}) and the run goes on (exit 3 at the end)\n"
            "      --max-bytes N      bytes kept of a document (default 1048576); the rest is\n"
            "                         checked for UTF-8 and dropped, with a warning\n"
            "  -q, --quiet            no warnings about cut documents\n"
            "\n"
            "errors: an empty document or invalid UTF-8 stops with exit 3 naming the file, line\n"
            "and byte (documents before it are printed); unreadable input exits 4; a bad model 5.\n");
}

/* ---- streaming input --------------------------------------------------------------------------- */

typedef struct src {
    FILE *fp;
    const char *name;
    unsigned char buf[65536];
    size_t pos, len;
    int eof, err;
    long long line;   /* current 1-based line */
    long long offset; /* bytes consumed */
    size_t bom;       /* bytes of a byte order mark skipped at the start (0 or 3) */
} src;

/* Read more bytes after buf[0, len): what the descriptor has now, not a full buffer (fread would
 * wait for 64 KiB from a pipe); 0 at the end or on an error (s->err). */
static size_t src_fill(src *s) {
    ssize_t r;
    while ((r = read(fileno(s->fp), s->buf + s->len, sizeof s->buf - s->len)) < 0 && errno == EINTR) {
    }
    if (r < 0) s->err = errno ? errno : EIO;
    if (r <= 0) s->eof = 1;
    return r > 0 ? (size_t)r : 0;
}

static int src_getc(src *s) {
    if (s->pos == s->len) {
        if (s->eof) return EOF;
        s->pos = s->len = 0;
        s->len = src_fill(s);
        if (s->len == 0) return EOF;
    }
    s->offset++;
    return s->buf[s->pos++];
}

/* 1 when the next byte can be read without waiting (buffered, at the end, or waiting on the
 * descriptor): classify --lines answers the documents it holds before it waits for more. */
static int src_waiting(const src *s) {
    return s->pos < s->len || s->eof || cli_fd_waiting(fileno(s->fp));
}

/* Start reading a stream: a UTF-8 byte order mark at its start is not text and is skipped
 * (byte offsets in messages still count it). The first read may bring fewer than its 3 bytes
 * (a pipe): more are read while the bytes so far begin one. */
static void src_start(src *s) {
    while (!s->eof && s->len < 3 && !memcmp(s->buf, "\xEF\xBB\xBF", s->len)) s->len += src_fill(s);
    s->bom = cli_bom_length(s->buf, s->len);
    s->pos = s->bom;
    s->offset = (long long)s->bom;
}

/* One document. */
typedef struct doc {
    char *text;
    size_t len, cap;
    long long line;       /* line where it starts */
    long long bytes;      /* total bytes (before cutting) */
    long long base;       /* byte offset (in messages) of text[0]: a skipped byte order mark's
                           * length for a stream's first document, else 0 */
    long long bad;        /* offset (as base) of the first invalid UTF-8 byte, or -1 */
    long long bad_line;   /* its line */
    int kept_cut;         /* 1 when bytes were dropped */
} doc;

/* Incremental UTF-8 check (RFC 3629: no overlongs, surrogates or values above U+10FFFF; NUL is
 * left to the tokenizer, which refuses it). */
typedef struct u8check {
    int need;
    unsigned lo, hi;
    long long start;
} u8check;

static void u8_feed(u8check *u, doc *d, unsigned c, long long pos, long long line) {
    if (d->bad >= 0) return;
    if (u->need) {
        if (c >= u->lo && c <= u->hi) {
            u->need--;
            u->lo = 0x80;
            u->hi = 0xBF;
            return;
        }
        d->bad = u->start;
        d->bad_line = line;
        return;
    }
    u->start = pos;
    if (c < 0x80) return;
    u->lo = 0x80;
    u->hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) u->need = 1;
    else if (c == 0xE0) u->need = 2, u->lo = 0xA0;
    else if (c == 0xED) u->need = 2, u->hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) u->need = 2;
    else if (c == 0xF0) u->need = 3, u->lo = 0x90;
    else if (c == 0xF4) u->need = 3, u->hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) u->need = 3;
    else {
        d->bad = pos;
        d->bad_line = line;
    }
}

/* Read the next document: a whole stream, or one line with lines = 1. Returns 1 for a document,
 * 0 at the end, -1 on a read error. */
static int read_doc(src *s, int lines, size_t max_bytes, doc *d) {
    d->len = 0;
    d->bytes = 0;
    d->bad = -1;
    d->kept_cut = 0;
    d->line = s->line;
    /* positions in messages are bytes from the start of the line (or file) as stored, so the
     * first document's count from before a skipped byte order mark */
    long long base = s->offset == (long long)s->bom ? (long long)s->bom : 0;
    d->base = base;
    u8check u = {0, 0x80, 0xBF, 0};
    int c, any = 0;
    while ((c = src_getc(s)) != EOF) {
        any = 1;
        if (lines && c == '\n') {
            s->line++;
            break;
        }
        u8_feed(&u, d, (unsigned)c, base + d->bytes, s->line);
        if (c == '\n') s->line++;
        d->bytes++;
        if (d->len < max_bytes) {
            if (d->len + 1 >= d->cap) {
                size_t nc = d->cap ? d->cap * 2 : 4096;
                if (nc > max_bytes + 1) nc = max_bytes + 1;
                char *t = realloc(d->text, nc);
                if (!t) {
                    s->err = ENOMEM;
                    return -1;
                }
                d->text = t;
                d->cap = nc;
            }
            d->text[d->len++] = (char)c;
        } else {
            d->kept_cut = 1;
        }
    }
    if (s->err) return -1;
    if (u.need && d->bad < 0) {
        d->bad = u.start; /* the stream or line ends inside a character */
        d->bad_line = s->line;
    }
    if (lines && d->len && d->text[d->len - 1] == '\r') d->len--;
    if (d->kept_cut) {
        /* cut at a character boundary: drop a last character that did not fit whole */
        size_t j = d->len;
        while (j > 0 && ((unsigned char)d->text[j - 1] & 0xC0) == 0x80) j--;
        if (j > 0) {
            unsigned lead = (unsigned char)d->text[j - 1];
            size_t L = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (j - 1 + L > d->len) d->len = j - 1;
        }
    }
    if (d->text) d->text[d->len] = 0;
    if (!any) return 0;
    return 1;
}

/* ---- output ------------------------------------------------------------------------------------ */

typedef struct opts {
    int json, skip_bad, quiet, lines;
    int top_k;       /* 0: the default (1 in tsv, every class in json) */
    int data_labels; /* print nlprnn_classifier_data_label instead of nlprnn_classifier_label */
} opts;

static const char *label_of(const nlprnn_classifier *m, int k, const opts *o) {
    return o->data_labels ? nlprnn_classifier_data_label(m, k) : nlprnn_classifier_label(m, k);
}

/* The K most probable classes of p (C), most probable first; ties: the lower class id first. */
static int top_classes(const float *p, int C, int K, int *order) {
    if (K > C) K = C;
    for (int i = 0; i < K; i++) {
        int best = -1;
        for (int k = 0; k < C; k++) {
            int taken = 0;
            for (int j = 0; j < i && !taken; j++) taken = order[j] == k;
            if (!taken && (best < 0 || p[k] > p[best])) best = k;
        }
        order[i] = best;
    }
    return K;
}

static void print_result(const nlprnn_classifier *m, const float *p, const opts *o, int *order) {
    int C = nlprnn_classifier_num_classes(m);
    int K = top_classes(p, C, o->top_k ? o->top_k : o->json ? C : 1, order);
    if (!o->json) {
        for (int i = 0; i < K; i++)
            printf("%s%s\t%.4f", i ? "\t" : "", label_of(m, order[i], o), (double)p[order[i]]);
        putchar('\n');
        return;
    }
    printf("{\"label\":");
    cli_json_str(stdout, label_of(m, order[0], o));
    printf(",\"probability\":%.6f,\"top\":[", (double)p[order[0]]);
    for (int i = 0; i < K; i++) {
        printf("%s{\"label\":", i ? "," : "");
        cli_json_str(stdout, label_of(m, order[i], o));
        printf(",\"probability\":%.6f}", (double)p[order[i]]);
    }
    printf("],\"probabilities\":{");
    for (int k = 0; k < C; k++) {
        if (k) putchar(',');
        cli_json_str(stdout, label_of(m, k, o));
        printf(":%.6f", (double)p[k]);
    }
    printf("}}\n");
}

static void print_error(int code, const opts *o) {
    if (o->json)
        printf("{\"error\":\"%s\"}\n", nlprnn_status_name(code));
    else
        printf("!error\t%s\n", nlprnn_status_name(code));
}

/* A batch of documents waiting to be classified (kept in input order). */
typedef struct pending {
    char **texts;
    size_t *lens;
    char **where;   /* "file:line" for messages */
    long long *base, *line, *bad, *bad_line; /* the documents' doc.base, .line, .bad, .bad_line */
    int *status;
    nlprnn_error *errs; /* each document's record from the library (nlprnn_classify_batch_errors) */
    float *probs;
    int *order;     /* (C) scratch for print_result */
    size_t n, cap;  /* documents held, room for (the arrays grow to BATCH_DOCS) */
} pending;

/* Room for twice the documents pb has room for (16 at first, at most BATCH_DOCS): a one-document
 * run does not touch the pages of 2,048 entries. 1 done, 0 out of memory (pb unchanged). */
static int pending_grow(pending *pb, int C) {
    size_t nc = pb->cap ? pb->cap * 2 : 16;
    if (nc > BATCH_DOCS) nc = BATCH_DOCS;
#define PB_GROW(field, size)                                \
    do {                                                    \
        void *t_ = realloc(pb->field, nc * (size));         \
        if (!t_) return 0;                                  \
        pb->field = t_;                                     \
    } while (0)
    PB_GROW(texts, sizeof(char *));
    PB_GROW(lens, sizeof(size_t));
    PB_GROW(where, sizeof(char *));
    PB_GROW(base, sizeof(long long));
    PB_GROW(line, sizeof(long long));
    PB_GROW(bad, sizeof(long long));
    PB_GROW(bad_line, sizeof(long long));
    PB_GROW(status, sizeof(int));
    PB_GROW(errs, sizeof(nlprnn_error));
    PB_GROW(probs, (size_t)C * sizeof(float));
#undef PB_GROW
    pb->cap = nc;
    return 1;
}

static int flush(nlprnn_classifier_ctx *ctx, const nlprnn_classifier *m, pending *pb, const opts *o,
                 int *bad_seen) {
    int C = nlprnn_classifier_num_classes(m);
    nlprnn_error err;
    /* every document goes to the library, also those read_doc found invalid (pb->bad >= 0): their
     * status is set to NLPRNN_E_UTF8 below, with the byte read_doc found */
    char **texts = pb->texts;
    int rc = nlprnn_classify_batch_errors(ctx, (const char *const *)texts, pb->lens, pb->n,
                                          pb->probs, pb->status, pb->errs, &err);
    if (rc) return cli_report("classify", rc, &err);
    for (size_t i = 0; i < pb->n; i++) {
        int st = pb->bad[i] >= 0 ? NLPRNN_E_UTF8 : pb->status[i];
        if (st == 0) {
            print_result(m, pb->probs + i * C, o, pb->order);
        } else {
            *bad_seen = 1;
            /* where[i] is "file:line" with --lines (the byte counts from the line's start), else
             * "file" (the byte counts from the file's start, the line is named). Invalid UTF-8 is
             * read_doc's (it also sees the bytes past a cut); valid UTF-8 the tokenizer refuses
             * holds a NUL byte: the library's record gives its offset and line in the text */
            const nlprnn_error *e = &pb->errs[i];
            int nul = pb->bad[i] < 0 && st == NLPRNN_E_UTF8 && e->offset >= 0 &&
                      (size_t)e->offset < pb->lens[i] && pb->texts[i][e->offset] == '\0';
            long long at = pb->bad[i] >= 0 ? pb->bad[i] : nul ? pb->base[i] + e->offset : -1;
            long long at_line = pb->bad[i] >= 0 ? pb->bad_line[i] : pb->line[i] + e->line - 1;
            const char *what = pb->bad[i] >= 0 ? "invalid UTF-8" : "a NUL byte";
            if (st == NLPRNN_E_UTF8 && at >= 0 && o->lines)
                fprintf(stderr, "nlprnn classify: %s: byte %lld: %s (%s)\n", pb->where[i], at, what,
                        nlprnn_status_name(st));
            else if (st == NLPRNN_E_UTF8 && at >= 0)
                fprintf(stderr, "nlprnn classify: %s: line %lld: byte %lld: %s (%s)\n", pb->where[i],
                        at_line, at, what, nlprnn_status_name(st));
            else if (st == NLPRNN_E_UTF8) /* refused by the tokenizer for another reason */
                fprintf(stderr, "nlprnn classify: %s: invalid text (%s)\n", pb->where[i],
                        nlprnn_status_name(st));
            else
                fprintf(stderr, "nlprnn classify: %s: %s (%s)\n", pb->where[i],
                        st == NLPRNN_E_EMPTY ? "empty document" : nlprnn_status_text(st),
                        nlprnn_status_name(st));
            if (!o->skip_bad) {
                int w = cli_stdout_check("classify");
                return w ? w : cli_exit_code(st);
            }
            print_error(st, o);
        }
    }
    for (size_t i = 0; i < pb->n; i++) {
        free(pb->texts[i]);
        free(pb->where[i]);
    }
    pb->n = 0;
    return cli_stdout_check("classify"); /* a full disk stops the run here, exit 4 */
}

int cmd_classify(int argc, char **argv) {
    const char *model_name = "ko";
    opts o = {0, 0, 0, 0, 0, 0};
    int threads = 0; /* the cores this process may use (nlprnn_classifier_ctx_create) */
    size_t max_bytes = DEFAULT_MAX_BYTES;
    int nfiles = 0;
    char **files = calloc((size_t)argc + 1, sizeof(char *));
    if (!files) return CLI_EXIT_LIMIT;
    enum { MAX_BYTES = CLI_LONG, SKIP_BAD, DATA_LABELS };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"lines", 'l', CLI_NO_ARG, NULL},
                                      {"format", 'f', CLI_ARG, NULL},
                                      {"top-k", 'k', CLI_ARG, NULL},
                                      {"data-labels", DATA_LABELS, CLI_NO_ARG, NULL},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {"max-bytes", MAX_BYTES, CLI_ARG, NULL},
                                      {"skip-bad", SKIP_BAD, CLI_NO_ARG, NULL},
                                      {"quiet", 'q', CLI_NO_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const formats[] = {"tsv", "json", NULL};
    cli_args a;
    int c;
    long long v = 0;
    cli_args_init(&a, "classify", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); free(files); return CLI_OK;
        case 'm': model_name = a.value; break;
        case 'l': o.lines = 1; break;
        case 'f': o.json = cli_args_choice(&a, formats) == 1; break;
        case 'k': o.top_k = cli_args_int(&a, 1, 65536, &v) ? (int)v : 0; break;
        case DATA_LABELS: o.data_labels = 1; break;
        case 't': threads = cli_args_int(&a, 1, 16, &v) ? (int)v : 0; break;
        case MAX_BYTES: max_bytes = cli_args_int(&a, 16, 1LL << 30, &v) ? (size_t)v : 0; break;
        case SKIP_BAD: o.skip_bad = 1; break;
        case 'q': o.quiet = 1; break;
        case CLI_POSITIONAL: files[nfiles++] = (char *)a.value; break;
        }
    }
    if (c == CLI_ERROR) return free(files), a.rc;
    if (nfiles == 0) files[nfiles++] = "-";

    nlprnn_error err;
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load(model_name, &m, &err);
    if (rc) {
        free(files);
        return cli_report("classify", rc, &err);
    }
    nlprnn_classifier_ctx *ctx = NULL;
    rc = nlprnn_classifier_ctx_create(m, threads, &ctx, &err);
    if (rc) {
        free(files);
        nlprnn_classifier_free(m);
        return cli_report("classify", rc, &err);
    }
    int C = nlprnn_classifier_num_classes(m);
    pending pb;
    memset(&pb, 0, sizeof pb);
    pb.order = calloc((size_t)C, sizeof(int));
    int grown = pending_grow(&pb, C); /* 16 documents first, then doubled as they come */
    src *s = malloc(sizeof *s);
    int ret = CLI_OK, bad_seen = 0;
    long long warned = 0;
    size_t batch_bytes = 0;
    doc d;
    memset(&d, 0, sizeof d);
    if (!ctx || !grown || !pb.order || !s) {
        fprintf(stderr, "nlprnn classify: out of memory\n");
        ret = CLI_EXIT_LIMIT;
        goto out;
    }
    int max_tokens = nlprnn_classifier_max_tokens(m);
    for (int f = 0; f < nfiles && ret == CLI_OK; f++) {
        memset(s, 0, sizeof *s);
        int is_stdin = !strcmp(files[f], "-");
        s->fp = is_stdin ? stdin : fopen(files[f], "rb");
        s->name = is_stdin ? "<stdin>" : files[f];
        s->line = 1;
        if (!s->fp) {
            int e = errno;
            /* the results of the files before this one are printed first */
            ret = pb.n ? flush(ctx, m, &pb, &o, &bad_seen) : CLI_OK;
            if (!ret) {
                fprintf(stderr, "nlprnn classify: %s: %s (NLPRNN_E_IO)\n", files[f], strerror(e));
                ret = CLI_EXIT_IO;
            }
            break;
        }
        src_start(s);
        for (;;) {
            int r = read_doc(s, o.lines, max_bytes, &d);
            if (r < 0) {
                /* the documents read before the error are printed first */
                ret = pb.n ? flush(ctx, m, &pb, &o, &bad_seen) : CLI_OK;
                if (!ret) {
                    fprintf(stderr, "nlprnn classify: %s: %s (%s)\n", s->name, strerror(s->err),
                            s->err == ENOMEM ? "NLPRNN_E_NOMEM" : "NLPRNN_E_IO");
                    ret = s->err == ENOMEM ? CLI_EXIT_LIMIT : CLI_EXIT_IO;
                }
                break;
            }
            if (r == 0) {
                if (!o.lines) { /* an empty file is one empty document */
                    r = 1;
                    if (!d.text) d.text = calloc(1, 1);
                    d.len = 0;
                    d.bad = -1;
                    d.base = 0;
                    d.line = 1;
                } else {
                    break;
                }
            }
            char where[1200];
            if (o.lines) snprintf(where, sizeof where, "%s:%lld", s->name, d.line);
            else snprintf(where, sizeof where, "%s", s->name);
            if (d.kept_cut && !o.quiet && warned++ < 5)
                fprintf(stderr,
                        "nlprnn classify: warning: %s: document of %lld bytes cut to its first %zu "
                        "bytes\n",
                        where, d.bytes, d.len);
            /* token cut: counted by the library; warn when the text is plainly long */
            if (!d.kept_cut && !o.quiet && d.len > (size_t)max_tokens * 16 && warned++ < 5)
                fprintf(stderr,
                        "nlprnn classify: warning: %s: long document (%zu bytes): only its first %d "
                        "tokens are used\n",
                        where, d.len, max_tokens);
            if (pb.n == pb.cap && !pending_grow(&pb, C)) {
                free(d.text);
                d.text = NULL;
                d.cap = 0;
                fprintf(stderr, "nlprnn classify: out of memory\n");
                ret = CLI_EXIT_LIMIT;
                break;
            }
            size_t i = pb.n++;
            pb.texts[i] = d.text;
            pb.lens[i] = d.len;
            pb.where[i] = strdup(where);
            pb.base[i] = d.base;
            pb.line[i] = d.line;
            pb.bad[i] = d.bad;
            pb.bad_line[i] = d.bad_line;
            batch_bytes += d.len;
            d.text = NULL;
            d.cap = 0;
            if (!pb.where[i]) {
                ret = CLI_EXIT_LIMIT;
                break;
            }
            /* a full batch, or (--lines) no more input waiting right now: a producer that writes
             * a line and waits for its answer gets it (from a file the input is always waiting) */
            if (pb.n == BATCH_DOCS || batch_bytes > ((size_t)8 << 20) || (o.lines && !src_waiting(s))) {
                ret = flush(ctx, m, &pb, &o, &bad_seen);
                batch_bytes = 0;
                if (ret) break;
            }
            if (!o.lines) break;
        }
        if (!is_stdin) fclose(s->fp);
    }
    if (ret == CLI_OK && pb.n) ret = flush(ctx, m, &pb, &o, &bad_seen);
    if (ret == CLI_OK && bad_seen) ret = CLI_EXIT_DATA;
    if (warned > 5 && !o.quiet)
        fprintf(stderr, "nlprnn classify: %lld long documents were cut in all\n", warned);
out:
    for (size_t i = 0; i < pb.n; i++) {
        free(pb.texts[i]);
        free(pb.where[i]);
    }
    free(pb.texts);
    free(pb.lens);
    free(pb.where);
    free(pb.base);
    free(pb.line);
    free(pb.bad);
    free(pb.bad_line);
    free(pb.status);
    free(pb.errs);
    free(pb.probs);
    free(pb.order);
    free(d.text);
    free(s);
    free(files);
    nlprnn_classifier_ctx_free(ctx);
    nlprnn_classifier_free(m);
    return ret;
}

/* cli/cmd_translate.c: sequence-to-sequence translation (nlprnn/translate.h).
 *
 *   nlprnn translate [-m NAME|FILE ...] [--beam N | --sample] [--batch N] [--format text|json] [--plot FILE]
 *                    [TEXT... | -i FILE | -]          (several -m: an ensemble)
 *   nlprnn translate-pack -o OUT [--word-reward R ...] MODEL MODEL...  (an ensemble as one model
 *                                                    file; the decoding defaults it stores)
 *   nlprnn translate-train -o MODEL [--PARAM VALUE ...] PAIRS.tsv
 *   nlprnn translate-eval [-m NAME|FILE ...] [--beam N] PAIRS.tsv  (BLEU and chrF)
 *   nlprnn translate-eval --hyp FILE PAIRS.tsv                      (score given translations)
 *
 * Options are read with the program's one grammar (cli/args.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

/* "FILE:LINE: MESSAGE (CODE)" for a text that failed; invalid UTF-8 as FILE:LINE: byte B. */
static int text_error(const char *cmd, const char *name, long long line, int rc, const nlprnn_error *err) {
    if (rc == NLPRNN_E_UTF8 && err->offset >= 0)
        fprintf(stderr, "nlprnn %s: %s:%lld: byte %lld: invalid UTF-8 (%s)\n", cmd, name, line, err->offset,
                nlprnn_status_name(rc));
    else
        fprintf(stderr, "nlprnn %s: %s:%lld: %s (%s)\n", cmd, name, line, err->message, nlprnn_status_name(rc));
    return cli_exit_code(rc);
}

/* Search options shared by translate and translate-eval. */
enum { BEAM = CLI_LONG, LEN_ALPHA, WORD_REWARD, MIN_RATIO, MIN_FROM, MAX_RATIO, SAMPLE, TEMPERATURE, TOP_K, SEED, BATCH, COMBINE, FORMAT, HYP,
       SRC_COL, TGT_COL, PLOT };
typedef struct search_opts {
    double beam, alpha, reward, min_ratio, ratio, temperature, top_k, seed, batch, combine, min_from;
    int sample;
} search_opts;
/* the library's defaults; NAN: not given, the model's stored default stays (word reward, minimum
 * ratio and where it starts, combination rule: nlprnn_translator_get_default) */
#define SEARCH_DEFAULTS {1, 1, NAN, NAN, 3, 1, 0, 1, 1, NAN, NAN, 0}

/* The search options' entries of an option table (kept in one place for both commands). */
#define SEARCH_OPTIONS                                                                                   \
    {"beam", BEAM, CLI_ARG, NULL}, {"len-alpha", LEN_ALPHA, CLI_ARG, NULL},                              \
        {"word-reward", WORD_REWARD, CLI_ARG, NULL}, {"min-ratio", MIN_RATIO, CLI_ARG, NULL},            \
        {"min-from", MIN_FROM, CLI_ARG, NULL}, {"max-ratio", MAX_RATIO, CLI_ARG, NULL},                  \
        {"sample", SAMPLE, CLI_NO_ARG, NULL}, {"temperature", TEMPERATURE, CLI_ARG, NULL},               \
        {"top-k", TOP_K, CLI_ARG, NULL}, {"seed", SEED, CLI_ARG, NULL}, {"batch", BATCH, CLI_ARG, NULL}, \
        {"combine", COMBINE, CLI_ARG, NULL}
#define SEARCH_HELP                                                                                      \
    "      --beam N           beam width 1..64 (default 1: greedy search)\n"                              \
    "      --len-alpha A      length normalisation of the beam: logp / len^A (default 1)\n"               \
    "      --word-reward R    greedy and beam: add R to the log-probability of each token written\n"     \
    "                         (not the end) when choosing; R > 0 gives longer outputs, -5..5\n"        \
    "                         (default: the model's stored default, else 0; the shipped ko-en: 0.9)\n" \
    "      --min-ratio R      no end before floor(R * source tokens) target tokens (default: the\n"    \
    "                         model's stored default, else 0)\n"                                       \
    "      --min-from N       --min-ratio only for sources of at least N tokens; shorter ones have\n"  \
    "                         no minimum, 0..1024 (default: the model's stored default, else 0: all)\n" \
    "      --max-ratio R      at most ceil(R * source tokens) + 5 target tokens (default 3)\n"            \
    "      --sample           sample each token instead of searching (not with --beam)\n"                \
    "      --temperature T    sampling: draw from softmax(logits / T), 0.01..100 (default 1)\n"          \
    "      --top-k K          sampling: only the K most probable tokens (default 0: all)\n"               \
    "      --seed N           sampling: the seed (default 1); a text's draws start from the seed\n"       \
    "                         alone, so the same text and seed give the same output\n"                   \
    "      --batch N          translate N texts together (greedy or sampling; 1..1024, default 1):\n"   \
    "                         the same translations, faster\n"                                          \
    "      --combine logp|prob  an ensemble (several -m, or a packed file): at each step the members'\n" \
    "                         next-token distributions are combined by the mean of their log-\n"        \
    "                         probabilities (logp) or of their probabilities (prob); default: the\n"   \
    "                         model's stored rule, else logp\n"

static int set_search(nlprnn_translator_ctx *ctx, const search_opts *s, nlprnn_error *err) {
    int rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_BEAM, s->beam, err);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_LEN_ALPHA, s->alpha, err);
    if (!rc && !isnan(s->reward)) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_WORD_REWARD, s->reward, err);
    if (!rc && !isnan(s->min_ratio)) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_MIN_RATIO, s->min_ratio, err);
    if (!rc && !isnan(s->min_from)) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_MIN_FROM, s->min_from, err);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_MAX_RATIO, s->ratio, err);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_SAMPLE, s->sample, err);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_TEMPERATURE, s->temperature, err);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_TOP_K, s->top_k, err);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_SEED, s->seed, err);
    if (!rc && !isnan(s->combine)) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_COMBINE, s->combine, err);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_BATCH, s->batch, err);
    return rc;
}

/* The search options' cases of an option loop: 1 when c was one of them. */
static int search_option(cli_args *a, int c, search_opts *s) {
    switch (c) {
    case BEAM: cli_args_double(a, 1, 64, &s->beam); return 1;
    case LEN_ALPHA: cli_args_double(a, 0, 5, &s->alpha); return 1;
    case WORD_REWARD: cli_args_double(a, -5, 5, &s->reward); return 1;
    case MIN_RATIO: cli_args_double(a, 0, 100, &s->min_ratio); return 1;
    case MIN_FROM: {
        long long k = 0;
        if (cli_args_int(a, 0, 1024, &k)) s->min_from = (double)k;
        return 1;
    }
    case MAX_RATIO: cli_args_double(a, 0.1, 100, &s->ratio); return 1;
    case SAMPLE: s->sample = 1; return 1;
    case TEMPERATURE: cli_args_double(a, 0.01, 100, &s->temperature); return 1;
    case TOP_K: {
        long long k = 0;
        if (cli_args_int(a, 0, 1000000, &k)) s->top_k = (double)k;
        return 1;
    }
    case SEED: {
        long long k = 0;
        if (cli_args_int(a, 0, 9007199254740992LL, &k)) s->seed = (double)k;
        return 1;
    }
    case BATCH: {
        long long k = 0;
        if (cli_args_int(a, 1, 1024, &k)) s->batch = (double)k;
        return 1;
    }
    case COMBINE: {
        static const char *const rules[] = {"prob", "logp", NULL};
        int k = cli_args_choice(a, rules);
        if (k >= 0) s->combine = k;
        return 1;
    }
    }
    return 0;
}

/* Load the translator of -m: one model, or an ensemble of several. */
static int model_load(const cli_models *m, nlprnn_translator **t, nlprnn_error *err) {
    if (m->n == 0) return nlprnn_translator_load("ko-en", t, err);
    return nlprnn_translator_load_ensemble(m->name, (size_t)m->n, t, err);
}

/* Options that do not go together: a usage error (exit 2) or 0. */
static int search_check(const char *cmd, const search_opts *s) {
    if (s->sample && s->beam > 1) return cli_usage_error(cmd, "--sample and --beam N > 1 do not go together");
    return 0;
}

/* ---- translate --------------------------------------------------------------------------------- */

static void translate_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn translate [-m NAME|FILE ...] [--beam N | --sample] [--batch N] [--format text|json]\n"
            "                        [--plot FILE] [TEXT... | -i FILE | -]\n"
            "\n"
            "Translate text with an encoder-decoder model (nlprnn translate-train). Each line of the\n"
            "input is one text; each line of output is its translation, in order. TEXT is a text given\n"
            "on the command line; -i FILE reads a file; '-' or nothing reads standard input. A UTF-8\n"
            "byte order mark at the start of a file is skipped.\n"
            "\n"
            "options:\n"
            "  -m, --model NAME|FILE  translator file, or a shipped model's name (default ko-en); given\n"
            "                         more than once, an ensemble of the models (same tokenizers)\n"
            SEARCH_HELP
            "      --format text|json text (default), or one JSON object a line: {\"text\":...,\n"
            "                         \"logprob\":..., \"src\":[source pieces], \"tgt\":[target pieces],\n"
            "                         \"attention\":[one row per target piece and the end: the weights\n"
            "                         over the source pieces; an ensemble's: the members' mean]}; one\n"
            "                         text at a time (not --batch)\n"
            "  -i, --input FILE       read FILE, plain or gzip ('-': standard input; old spelling:\n"
            "                         -f, --file)\n"
            "      --plot FILE        draw the first text's attention as a heat map (.svg or .png;\n"
            "                         rows: the target pieces and the end, columns: the source pieces)\n"
            "\n"
            "errors: invalid UTF-8 stops with exit 3 naming FILE:LINE: byte B (B counts bytes from the\n"
            "start of the line); the lines before it are printed. Unreadable input exits 4, a bad model 5.\n");
}

static void print_json(nlprnn_translator_ctx *ctx) {
    size_t len = 0, S = nlprnn_translate_src_len(ctx), T = nlprnn_translate_tgt_len(ctx);
    const char *out = nlprnn_translate_text(ctx, &len);
    printf("{\"text\":");
    cli_json_text(stdout, out, len);
    printf(",\"logprob\":%.6g,\"src\":[", nlprnn_translate_logprob(ctx));
    for (size_t i = 0; i < S; i++) {
        const char *p = nlprnn_translate_piece(ctx, 0, i);
        if (i) putchar(',');
        cli_json_str(stdout, p);
    }
    printf("],\"tgt\":[");
    for (size_t i = 0; i < T; i++) {
        const char *p = nlprnn_translate_piece(ctx, 1, i);
        if (i) putchar(',');
        cli_json_str(stdout, p);
    }
    printf("],\"attention\":[");
    const float *a = nlprnn_translate_attention(ctx);
    for (size_t j = 0; a && j <= T; j++) {
        printf("%s[", j ? "," : "");
        for (size_t i = 0; i < S; i++) printf("%s%.4f", i ? "," : "", (double)a[j * S + i]);
        putchar(']');
    }
    printf("]}\n");
}

/* n cut to at most max bytes without splitting a UTF-8 sequence. */
static int utf8_prefix(const char *s, size_t n, size_t max) {
    if (n <= max) return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return (int)max;
}

/* The attention of the last translation as a heat map at path: a row per target piece and one
 * for the end, a column per source piece. */
static int plot_attention(nlprnn_translator_ctx *ctx, const char *path, const char *text, size_t len) {
    size_t S = nlprnn_translate_src_len(ctx), T = nlprnn_translate_tgt_len(ctx), n = 0;
    const float *a = nlprnn_translate_attention(ctx);
    if (!a || !S) {
        fprintf(stderr, "nlprnn translate: %s: the text has no source pieces to plot\n", path);
        return CLI_EXIT_DATA;
    }
    const char **rows = malloc((T + 1) * sizeof *rows), **cols = malloc(S * sizeof *cols);
    const char *out = nlprnn_translate_text(ctx, &n);
    char title[512];
    snprintf(title, sizeof title, "%.*s → %.*s", utf8_prefix(text, len, 200), text,
             utf8_prefix(out, n, 200), out);
    int ret = CLI_OK;
    if (!rows || !cols) {
        ret = cli_report("translate", NLPRNN_E_NOMEM, NULL);
    } else {
        for (size_t j = 0; j < T; j++) rows[j] = nlprnn_translate_piece(ctx, 1, j);
        rows[T] = "(end)";
        for (size_t i = 0; i < S; i++) cols[i] = nlprnn_translate_piece(ctx, 0, i);
        plot_heatmap_spec h = {path, title, "source pieces", "target pieces", a, T + 1, S, rows, cols, 0, 1};
        char msg[512];
        if (plot_heatmap(&h, msg, sizeof msg)) {
            fprintf(stderr, "nlprnn translate: %s\n", msg);
            ret = CLI_EXIT_IO;
        }
    }
    free(rows);
    free(cols);
    return ret;
}

/* Translate one text and print it (and plot its attention when *plot is set, then clear it);
 * name:line for messages. */
static int translate_one(nlprnn_translator_ctx *ctx, const char *text, size_t len, const char *name,
                         long long line, int json, const char **plot) {
    nlprnn_error err;
    int rc = nlprnn_translate(ctx, text, len, &err);
    if (rc) return text_error("translate", name, line, rc, &err);
    if (*plot) {
        int prc = plot_attention(ctx, *plot, text, len);
        *plot = NULL;
        if (prc) return prc;
    }
    if (json) {
        print_json(ctx);
    } else {
        size_t n = 0;
        const char *out = nlprnn_translate_text(ctx, &n);
        fwrite(out, 1, n, stdout);
        putchar('\n');
    }
    return cli_stdout_check("translate");
}

/* Texts waiting to be translated together (copies), with their lines for messages. */
typedef struct pending {
    char **text;
    size_t *len;
    long long *line;
    size_t n, cap;
} pending;

static int pending_add(pending *q, const char *s, size_t l, long long line) {
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        char **t = realloc(q->text, cap * sizeof *t);
        if (t) q->text = t;
        size_t *n = realloc(q->len, cap * sizeof *n);
        if (n) q->len = n;
        long long *li = realloc(q->line, cap * sizeof *li);
        if (li) q->line = li;
        if (!t || !n || !li) return cli_report("translate", NLPRNN_E_NOMEM, NULL);
        q->cap = cap;
    }
    char *c = malloc(l + 1);
    if (!c) return cli_report("translate", NLPRNN_E_NOMEM, NULL);
    memcpy(c, s, l), c[l] = 0;
    q->text[q->n] = c, q->len[q->n] = l, q->line[q->n] = line, q->n++;
    return CLI_OK;
}

/* Translate and print the pending texts, together; a text that fails is reported after the
 * translations of the texts before it are printed (as one at a time would). */
static int pending_flush(pending *q, nlprnn_translator_ctx *ctx, const char *name) {
    nlprnn_error err;
    int ret = CLI_OK;
    const char *noplot = NULL; /* --plot goes with one text at a time */
    if (q->n > 1 && nlprnn_translate_batch(ctx, (const char *const *)q->text, q->len, q->n, &err) == 0) {
        for (size_t i = 0; i < q->n; i++) {
            size_t n = 0;
            const char *out = nlprnn_translate_batch_text(ctx, i, &n);
            fwrite(out, 1, n, stdout);
            putchar('\n');
        }
        ret = cli_stdout_check("translate");
    } else {
        for (size_t i = 0; i < q->n && !ret; i++) ret = translate_one(ctx, q->text[i], q->len[i], name, q->line[i], 0, &noplot);
    }
    for (size_t i = 0; i < q->n; i++) free(q->text[i]);
    q->n = 0;
    return ret;
}

int cmd_translate(int argc, char **argv) {
    const char *file = NULL, *plot = NULL;
    cli_models models = {{NULL}, 0};
    int json = 0, ntexts = 0;
    search_opts so = SEARCH_DEFAULTS;
    char **texts = calloc((size_t)argc + 1, sizeof *texts);
    if (!texts) return cli_report("translate", NLPRNN_E_NOMEM, NULL);
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      SEARCH_OPTIONS,
                                      {"format", FORMAT, CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, "-f --file"},
                                      {"plot", PLOT, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const formats[] = {"text", "json", NULL};
    cli_args a;
    int c;
    cli_args_init(&a, "translate", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        if (search_option(&a, c, &so)) continue;
        switch (c) {
        case CLI_HELP:
            translate_usage(stdout);
            free(texts);
            return CLI_OK;
        case 'm': cli_models_add(&a, &models); break;
        case FORMAT: json = cli_args_choice(&a, formats) == 1; break;
        case PLOT: plot = a.value; break;
        case 'i':
            if (file) cli_args_fail(&a, "one input file only ('%s' and '%s')", file, a.value);
            file = a.value;
            break;
        case CLI_POSITIONAL:
            if (!strcmp(a.value, "-")) {
                if (file) cli_args_fail(&a, "one input file only ('%s' and '-')", file);
                file = "-";
            } else {
                texts[ntexts++] = (char *)a.value;
            }
            break;
        }
    }
    int ret = c == CLI_ERROR ? a.rc : CLI_OK;
    if (!ret && ntexts && file) ret = cli_usage_error("translate", "give TEXT or a file (-i FILE, -), not both");
    if (!ret) ret = search_check("translate", &so);
    if (!ret && json && so.batch > 1)
        ret = cli_usage_error("translate", "--format json shows one text's attention: not with --batch");
    if (!ret && plot && so.batch > 1) ret = cli_usage_error("translate", "--plot draws one text's attention: not with --batch");
    if (ret) {
        free(texts);
        return ret;
    }
    if (!ntexts && !file) file = "-";
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    nlprnn_translator_ctx *ctx = NULL;
    int rc = model_load(&models, &t, &err);
    if (!rc) rc = nlprnn_translator_ctx_create(t, &ctx, &err);
    if (!rc) rc = set_search(ctx, &so, &err);
    if (rc) {
        free(texts);
        nlprnn_translator_ctx_free(ctx);
        nlprnn_translator_free(t);
        return cli_report("translate", rc, &err);
    }
    size_t batch = (size_t)so.batch;
    pending q;
    memset(&q, 0, sizeof q);
    for (int i = 0; i < ntexts && !ret; i++) {
        if (batch == 1) {
            ret = translate_one(ctx, texts[i], strlen(texts[i]), "argument", i + 1, json, &plot);
            continue;
        }
        ret = pending_add(&q, texts[i], strlen(texts[i]), i + 1);
        if (!ret && (q.n == batch || i + 1 == ntexts)) ret = pending_flush(&q, ctx, "argument");
    }
    if (file && !ret) {
        cli_lines in;
        ret = cli_lines_open(&in, "translate", file);
        while (!ret) {
            char *s;
            size_t l;
            int r = cli_lines_next(&in, &s, &l);
            if (r == 0) break;
            if (r < 0) {
                fprintf(stderr, "nlprnn translate: %s: %s (NLPRNN_E_IO)\n", in.name, cli_lines_error(&in));
                ret = CLI_EXIT_IO;
                break;
            }
            if (batch == 1) {
                ret = translate_one(ctx, s, l, in.name, in.line, json, &plot);
                continue;
            }
            ret = pending_add(&q, s, l, in.line);
            /* a full batch, or no more input waiting right now: each line is answered before
             * the producer's next one (cli_input_waiting) */
            if (!ret && (q.n == batch || !cli_lines_waiting(&in))) ret = pending_flush(&q, ctx, in.name);
        }
        if (!ret && q.n) ret = pending_flush(&q, ctx, in.name);
        cli_lines_close(&in);
    }
    for (size_t i = 0; i < q.n; i++) free(q.text[i]);
    free(q.text), free(q.len), free(q.line);
    nlprnn_translator_ctx_free(ctx);
    nlprnn_translator_free(t);
    free(texts);
    return ret;
}

/* ---- translate-train ----------------------------------------------------------------------------- */

/* The translator's parameters that are not --NAME options: "threads" (-t, --threads, listed with
 * the options). */
static const char *const TRANSLATOR_OWN[] = {"threads", NULL, NULL};

static void train_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn translate-train -o MODEL [-q] [--resume] [--PARAM VALUE ...] PAIRS.tsv\n"
            "\n"
            "Train an encoder-decoder translator with attention on sentence pairs: a TSV file whose\n"
            "header line names the columns (--src-col, --tgt-col pick them; other columns are ignored).\n"
            "The project's subword tokenizer is trained on each side first (or one joint vocabulary),\n"
            "unless --src-tokenizer/--tgt-tokenizer give them; --src-lm/--tgt-lm initialise the encoder\n"
            "and the decoder from language models (nlprnn lm-train; docs/translate.md, \"Language-model\n"
            "pretraining\").\n"
            "PAIRS.tsv may be gzip-compressed; '-' is standard input. The model file is written atomically.\n"
            "Ctrl-C writes the checkpoint (with --checkpoint FILE) and exits 130; --resume continues.\n"
            "\n"
            "options:\n"
            "  -o, --output MODEL   the model file to write (required)\n"
            "  -i, --input FILE     the pairs (or give it as PAIRS.tsv)\n"
            "      --resume         continue from the checkpoint\n"
            "  -q, --quiet          no progress output\n"
            "  -t, --threads N      workers per batch (default 1)\n"
            "\n"
            "parameters (--NAME VALUE or --NAME=VALUE; default, range):\n");
    cli_param_usage(fp, nlprnn_translator_param_info, TRANSLATOR_OWN);
}

/* Progress of translate-train on standard error, as space-train's (cli/cmd_space.c): after each
 * epoch "epoch N: training loss L, validation loss V per target token (S steps, U tokens/s)" (U:
 * source and target pieces); on a terminal also a status line redrawn at most 5 times a second
 * and what is being done. */
static int train_progress(void *user, const nlprnn_translator_progress *p) {
    cli_progress *o = user;
    if (p->phase == 0) {
        if (o->tty && !o->quiet) cli_progress_status(o, "%s ...", p->message);
    } else if (p->phase == 2) {
        cli_progress_line(o, "epoch %d: training loss %.4f, validation loss %.4f per target token (%lld steps, %.0f tokens/s)",
                          p->epoch, p->loss, p->valid_loss, p->steps, p->tokens_per_sec);
    } else if (o->tty && cli_progress_due(o, p->batch == p->batches)) {
        char eta[32], bar[32];
        cli_fmt_time(eta, sizeof eta, p->eta);
        cli_fmt_bar(bar, p->batch, p->batches);
        cli_progress_status(o, "epoch %d/%d [%s] %lld/%lld step %lld loss %.4f %.0f tokens/s ETA %s", p->epoch,
                            p->epochs, bar, p->batch, p->batches, p->steps, p->loss, p->tokens_per_sec, eta);
    }
    return 0;
}

int cmd_translate_train(int argc, char **argv) {
    const char *output = NULL, *file = NULL;
    int quiet = 0, resume = 0;
    nlprnn_error err;
    nlprnn_translator_params *p = NULL;
    int prc = nlprnn_translator_params_create(&p, &err);
    if (prc) return cli_report("translate-train", prc, &err);
    enum { RESUME = CLI_LONG };
    static const cli_opt options[] = {{"output", 'o', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, NULL},
                                      {"resume", RESUME, CLI_NO_ARG, NULL},
                                      {"quiet", 'q', CLI_NO_ARG, NULL},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    const char *names[64];
    cli_param_names(nlprnn_translator_param_info, TRANSLATOR_OWN, names, sizeof names / sizeof *names);
    cli_args a;
    int c;
    cli_args_init(&a, "translate-train", argc, argv, options, names);
    while ((c = cli_args_next(&a)) > CLI_END) {
        const char *name = NULL;
        switch (c) {
        case CLI_HELP:
            train_usage(stdout);
            nlprnn_translator_params_free(p);
            return CLI_OK;
        case 'o': output = a.value; break;
        case 'q': quiet = 1; break;
        case RESUME: resume = 1; break;
        case 't': name = "threads"; break;
        case 'i':
        case CLI_POSITIONAL:
            if (file) cli_args_fail(&a, "one PAIRS file only ('%s' and '%s')", file, a.value);
            file = a.value;
            break;
        default: name = names[c - CLI_PARAM]; break;
        }
        if (name && nlprnn_translator_params_set(p, name, a.value, &err)) cli_args_fail(&a, "%s", err.message);
    }
    int ret = c == CLI_ERROR ? a.rc : CLI_OK;
    if (!ret && (!output || !file)) ret = cli_usage_error("translate-train", "-o MODEL and PAIRS.tsv are required");
    if (ret) {
        nlprnn_translator_params_free(p);
        return ret;
    }
    /* before the work: the model is a regular file (or absent), not the input nor the
     * checkpoint; the checkpoint is not the input */
    char ckpt[1100] = "";
    nlprnn_translator_params_get(p, "checkpoint", ckpt, sizeof ckpt, NULL);
    const char *ins[2] = {file, ckpt};
    int rc = nlprnn_output_check(output, ins, ckpt[0] ? 2 : 1, &err);
    if (!rc && ckpt[0]) rc = nlprnn_output_check(ckpt, ins, 1, &err);
    nlprnn_train_ctl *ctl = NULL;
    nlprnn_translator *t = NULL;
    if (!rc) rc = nlprnn_train_ctl_create(&ctl, &err);
    if (!rc) {
        nlprnn_train_ctl_set_stop(ctl, cli_catch_stop_signals());
        nlprnn_train_ctl_set_resume(ctl, resume);
        cli_progress pr;
        cli_progress_init(&pr, "", 0, quiet);
        rc = nlprnn_translator_train_ctl(file, p, ctl, train_progress, &pr, &t, &err);
        cli_progress_end(&pr);
    }
    if (!rc) rc = nlprnn_translator_save(t, output, &err);
    if (!rc && !quiet) fprintf(stderr, "translate-train: wrote %s: %s\n", output, nlprnn_translator_summary(t));
    nlprnn_translator_free(t);
    nlprnn_train_ctl_free(ctl);
    nlprnn_translator_params_free(p);
    return rc ? cli_report("translate-train", rc, &err) : CLI_OK;
}

/* ---- translate-eval ------------------------------------------------------------------------------ */

static void eval_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn translate-eval [-m NAME|FILE ...] [--beam N | --sample] [--batch N] [-o OUT] PAIRS.tsv\n"
            "       nlprnn translate-eval --hyp FILE [--tgt-col NAME] PAIRS.tsv\n"
            "\n"
            "Translate the source column of a TSV file of pairs (header line naming the columns;\n"
            "plain or gzip) and score the translations against the target\n"
            "column with BLEU and chrF, computed as sacrebleu does by default (BLEU: 13a tokenizer,\n"
            "exp smoothing, cased; chrF: character n-grams 1-6, beta 2). With --hyp, score the\n"
            "translations of FILE (one a line, in the order of the pairs) instead.\n"
            "\n"
            "options:\n"
            "  -m, --model NAME|FILE  translator file, or a shipped model's name (default ko-en); given\n"
            "                         more than once, an ensemble of the models (same tokenizers)\n"
            SEARCH_HELP
            "      --src-col NAME     the source column (default: the model's)\n"
            "      --tgt-col NAME     the reference column (default: the model's; with --hyp: en)\n"
            "      --hyp FILE         score these translations (no model)\n"
            "  -o, --output FILE      also write the translations, one a line\n"
            "\n"
            "output: BLEU, its n-gram precisions, brevity penalty and lengths; chrF; pairs; sentences\n"
            "per second of translation. Errors: a bad pair file exits 3 naming FILE:LINE, invalid UTF-8\n"
            "3, unreadable input 4, a bad model 5.\n");
}

/* Field k of a tab-separated line (NUL-terminated copy), or NULL when it has fewer fields. */
static char *field(const char *s, int k) {
    for (int i = 0; i < k; i++) {
        s = strchr(s, '\t');
        if (!s) return NULL;
        s++;
    }
    size_t n = strcspn(s, "\t");
    char *f = malloc(n + 1);
    if (f) memcpy(f, s, n), f[n] = 0;
    return f;
}

static int column(const char *header, const char *name) {
    for (int k = 0;; k++) {
        char *f = field(header, k);
        if (!f) return -1;
        int eq = !strcmp(f, name);
        free(f);
        if (eq) return k;
    }
}

int cmd_translate_eval(int argc, char **argv) {
    cli_models models = {{NULL}, 0};
    const char *file = NULL, *hypf = NULL, *outf = NULL, *scol = NULL, *tcol = NULL;
    search_opts so = SEARCH_DEFAULTS;
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      SEARCH_OPTIONS,
                                      {"hyp", HYP, CLI_ARG, NULL},
                                      {"src-col", SRC_COL, CLI_ARG, NULL},
                                      {"tgt-col", TGT_COL, CLI_ARG, NULL},
                                      {"output", 'o', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, "translate-eval", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        if (search_option(&a, c, &so)) continue;
        switch (c) {
        case CLI_HELP: eval_usage(stdout); return CLI_OK;
        case 'm': cli_models_add(&a, &models); break;
        case HYP: hypf = a.value; break;
        case SRC_COL: scol = a.value; break;
        case TGT_COL: tcol = a.value; break;
        case 'o': outf = a.value; break;
        case 'i':
        case CLI_POSITIONAL:
            if (file) cli_args_fail(&a, "one PAIRS file only ('%s' and '%s')", file, a.value);
            file = a.value;
            break;
        }
    }
    int ret = c == CLI_ERROR ? a.rc : CLI_OK;
    if (!ret && !file) ret = cli_usage_error("translate-eval", "PAIRS.tsv is required");
    if (!ret) ret = search_check("translate-eval", &so);
    if (ret) return ret;
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    nlprnn_translator_ctx *ctx = NULL;
    int rc = 0;
    if (!hypf) {
        rc = model_load(&models, &t, &err);
        if (!rc) rc = nlprnn_translator_ctx_create(t, &ctx, &err);
        if (!rc) rc = set_search(ctx, &so, &err);
        if (rc) {
            nlprnn_translator_ctx_free(ctx);
            nlprnn_translator_free(t);
            return cli_report("translate-eval", rc, &err);
        }
        if (!scol) scol = nlprnn_translator_column(t, 0);
        if (!tcol) tcol = nlprnn_translator_column(t, 1);
    } else if (!tcol) {
        tcol = "en";
    }
    /* the pairs: the source and reference of each */
    cli_lines in, hin;
    memset(&hin, 0, sizeof hin);
    FILE *out = NULL;
    char **hyps = NULL, **refs = NULL, **srcs = NULL;
    long long *lines = NULL;
    size_t n = 0, cap = 0;
    double secs = 0;
    ret = cli_lines_open(&in, "translate-eval", file); /* .gz or plain (zlib), or '-' */
    if (!ret && outf) {
        out = fopen(outf, "w");
        if (!out) {
            fprintf(stderr, "nlprnn translate-eval: %s: %s (NLPRNN_E_IO)\n", outf, strerror(errno));
            ret = CLI_EXIT_IO;
        }
    }
    if (!ret && hypf) ret = cli_lines_open(&hin, "translate-eval", hypf);
    int cs = -1, ct = -1;
    while (!ret) {
        char *s;
        size_t l;
        int r = cli_lines_next(&in, &s, &l);
        if (r < 0) {
            fprintf(stderr, "nlprnn translate-eval: %s: %s (NLPRNN_E_IO)\n", in.name, cli_lines_error(&in));
            ret = CLI_EXIT_IO;
        }
        if (r != 1) break;
        if (in.line == 1) {
            cs = scol ? column(s, scol) : -2, ct = column(s, tcol);
            if (cs == -1 || ct < 0) {
                fprintf(stderr, "nlprnn translate-eval: %s:1: the header line has no column '%s' (NLPRNN_E_DATA)\n",
                        in.name, ct < 0 ? tcol : scol);
                ret = CLI_EXIT_DATA;
            }
            continue;
        }
        if (!l) continue;
        char *ref = field(s, ct), *src = cs >= 0 ? field(s, cs) : NULL;
        if (!ref || (cs >= 0 && !src)) {
            free(ref), free(src);
            fprintf(stderr, "nlprnn translate-eval: %s:%lld: fewer columns than the header line (NLPRNN_E_DATA)\n",
                    in.name, in.line);
            ret = CLI_EXIT_DATA;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **h2 = realloc(hyps, cap * sizeof *h2);
            if (h2) hyps = h2;
            char **r2 = realloc(refs, cap * sizeof *r2);
            if (r2) refs = r2;
            char **s2 = realloc(srcs, cap * sizeof *s2);
            if (s2) srcs = s2;
            long long *l2 = realloc(lines, cap * sizeof *l2);
            if (l2) lines = l2;
            if (!h2 || !r2 || !s2 || !l2) {
                free(ref), free(src);
                ret = cli_report("translate-eval", NLPRNN_E_NOMEM, NULL);
                break;
            }
        }
        char *hyp = NULL;
        if (hypf) {
            char *h;
            size_t hl;
            int hr = cli_lines_next(&hin, &h, &hl);
            if (hr != 1) {
                fprintf(stderr, "nlprnn translate-eval: %s: %s at line %lld (pair %zu) (NLPRNN_E_DATA)\n", hin.name,
                        hr < 0 ? strerror(errno) : "ends early", hin.line + 1, n + 1);
                ret = hr < 0 ? CLI_EXIT_IO : CLI_EXIT_DATA;
            } else {
                hyp = malloc(hl + 1);
                if (hyp) memcpy(hyp, h, hl + 1);
            }
        }
        if (!ret && hypf && !hyp) ret = cli_report("translate-eval", NLPRNN_E_NOMEM, NULL);
        if (ret) {
            free(ref), free(hyp), free(src);
            break;
        }
        hyps[n] = hyp, refs[n] = ref, srcs[n] = src, lines[n] = in.line, n++;
    }
    /* translate the sources (timed: the translation only): one at a time, or with --batch N all in
     * one nlprnn_translate_batch, which orders them by length and decodes N at a time */
    size_t per = so.batch > 1 && n > 1 ? n : 1, *lens = NULL;
    if (!ret && !hypf && n && !(lens = malloc(per * sizeof *lens))) ret = cli_report("translate-eval", NLPRNN_E_NOMEM, NULL);
    for (size_t i = 0; !ret && !hypf && i < n; i += per) {
        size_t m = n - i < per ? n - i : per;
        for (size_t j = 0; j < m; j++) lens[j] = strlen(srcs[i + j]);
        double t0 = cli_now();
        if (m == 1) rc = nlprnn_translate(ctx, srcs[i], lens[0], &err);
        else rc = nlprnn_translate_batch(ctx, (const char *const *)srcs + i, lens, m, &err);
        secs += cli_now() - t0;
        if (rc) {
            ret = text_error("translate-eval", in.name, lines[i + (m == 1 ? 0 : (size_t)err.line - 1)], rc, &err);
            break;
        }
        for (size_t j = 0; j < m && !ret; j++) {
            size_t hl;
            const char *h = m == 1 ? nlprnn_translate_text(ctx, &hl) : nlprnn_translate_batch_text(ctx, j, &hl);
            char *hyp = malloc(hl + 1);
            if (!hyp) ret = cli_report("translate-eval", NLPRNN_E_NOMEM, NULL);
            else memcpy(hyp, h, hl + 1), hyps[i + j] = hyp;
            if (hyp && out) fprintf(out, "%s\n", hyp);
        }
    }
    free(lens);
    cli_lines_close(&in);
    if (hypf) cli_lines_close(&hin);
    if (out && fclose(out) && !ret) {
        fprintf(stderr, "nlprnn translate-eval: %s: %s (NLPRNN_E_IO)\n", outf, strerror(errno));
        ret = CLI_EXIT_IO;
    }
    if (!ret) {
        double bleu = 0, chrf = 0, d[8];
        rc = nlprnn_bleu((const char *const *)hyps, (const char *const *)refs, n, &bleu, d, &err);
        if (!rc) rc = nlprnn_chrf((const char *const *)hyps, (const char *const *)refs, n, &chrf, &err);
        if (rc) {
            ret = cli_report("translate-eval", rc, &err);
        } else {
            printf("pairs\t%zu\n", n);
            printf("BLEU\t%.2f\t%.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %.0f ref_len = %.0f)\n", bleu,
                   d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
            printf("chrF\t%.2f\n", chrf);
            if (!hypf) printf("sentences/s\t%.1f\n", secs > 0 ? (double)n / secs : 0.0);
            ret = cli_stdout_check("translate-eval");
        }
    }
    for (size_t i = 0; i < n; i++) free(hyps[i]), free(refs[i]), free(srcs[i]);
    free(hyps), free(refs), free(srcs), free(lines);
    nlprnn_translator_ctx_free(ctx);
    nlprnn_translator_free(t);
    return ret;
}

/* ---- translate-pack -------------------------------------------------------------------------------- */

static void pack_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn translate-pack -o OUT [--store keep|f32|f16|int8] [--word-reward R] [--min-ratio R]\n"
            "                             [--min-from N] [--combine logp|prob] MODEL [MODEL...]\n"
            "\n"
            "Write the translators MODEL... (files or shipped names, with the same source and target\n"
            "tokenizers) as ONE model file that holds them all as an ensemble: nlprnn translate -m OUT\n"
            "then translates as nlprnn translate -m MODEL -m MODEL... does (the members' next-token\n"
            "distributions combined at each step, --combine). The tokenizers are stored once, each\n"
            "member's weights as --store says; a MODEL that is itself an ensemble adds all its members\n"
            "(at most 32). One MODEL with --store converts it; one MODEL with the options below gives it\n"
            "new decoding defaults (its weights kept as they are). The file is written atomically.\n"
            "\n"
            "options:\n"
            "  -o, --output OUT       the ensemble's model file\n"
            "      --store S          keep (default: each member as it was stored), f32, f16 (half the\n"
            "                         size, rounded) or int8 (about a quarter: each matrix row with its\n"
            "                         own scale, vectors f32; builds before it refuse the file)\n"
            "decoding defaults stored in OUT (what nlprnn translate uses when its own options do not say;\n"
            "not given: the first MODEL's stored defaults; a file without any: word reward 0, min-ratio 0,\n"
            "min-from 0, logp):\n"
            "      --word-reward R    greedy and beam search add R to the log-probability of each token\n"
            "                         written, -5..5 (translate --word-reward)\n"
            "      --min-ratio R      no end before floor(R * source tokens) target tokens, 0..100\n"
            "      --min-from N       --min-ratio only for sources of at least N tokens, 0..1024 (0: all)\n"
            "      --combine logp|prob  how the members' next-token distributions are combined\n"
            "\n"
            "The summary line printed names the stored defaults; nlprnn info OUT shows them (section DECO).\n"
            "errors: models with different tokenizers exit 5 naming the file that differs; a bad model\n"
            "file 5, an unwritable OUT 4.\n");
}

/* translate-pack's decoding defaults: the search options' own cases (search_option) */
static int pack_option(cli_args *a, int c, void *user) {
    return (c == WORD_REWARD || c == MIN_RATIO || c == MIN_FROM || c == COMBINE) && search_option(a, c, user);
}

int cmd_translate_pack(int argc, char **argv) {
    static const char *const stores[] = {"keep", "f32", "f16", "int8", NULL};
    static const cli_opt deco_opts[] = {{"word-reward", WORD_REWARD, CLI_ARG, NULL},
                                        {"min-ratio", MIN_RATIO, CLI_ARG, NULL},
                                        {"min-from", MIN_FROM, CLI_ARG, NULL},
                                        {"combine", COMBINE, CLI_ARG, NULL},
                                        {NULL, 0, 0, NULL}};
    search_opts so = SEARCH_DEFAULTS;
    const cli_pack_more more = {deco_opts, pack_option, &so};
    const char *output, *store;
    cli_models models;
    int help;
    int ret = cli_pack_args("translate-pack", argc, argv, pack_usage, stores, &more, &store, &output, &models, &help);
    if (ret || help) return ret;
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    int rc = nlprnn_output_check(output, models.name, (size_t)models.n, &err);
    if (!rc) rc = nlprnn_translator_load_ensemble(models.name, (size_t)models.n, &t, &err);
    if (!rc && !isnan(so.reward)) rc = nlprnn_translator_set_default(t, NLPRNN_TRANSLATE_WORD_REWARD, so.reward, &err);
    if (!rc && !isnan(so.min_ratio)) rc = nlprnn_translator_set_default(t, NLPRNN_TRANSLATE_MIN_RATIO, so.min_ratio, &err);
    if (!rc && !isnan(so.min_from)) rc = nlprnn_translator_set_default(t, NLPRNN_TRANSLATE_MIN_FROM, so.min_from, &err);
    if (!rc && !isnan(so.combine)) rc = nlprnn_translator_set_default(t, NLPRNN_TRANSLATE_COMBINE, so.combine, &err);
    if (!rc) rc = nlprnn_translator_save_stored(t, output, store, &err);
    if (!rc) fprintf(stderr, "translate-pack: wrote %s: %s\n", output, nlprnn_translator_summary(t));
    nlprnn_translator_free(t);
    return rc ? cli_report("translate-pack", rc, &err) : CLI_OK;
}

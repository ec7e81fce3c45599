/* cli/cmd_space.c: word spacing and sequence tagging (nlprnn/tagger.h).
 *
 *   nlprnn space [-m NAME|FILE]... [-k] [--format text|json] [-t N] [TEXT... | -i FILE... | -]
 *   nlprnn space-pack -o OUT [--store S] MODEL MODEL...         (an ensemble as one model file)
 *   nlprnn space-train -o MODEL [--PARAM VALUE ...] FILE...      (well-spaced text lines)
 *   nlprnn tag -m FILE... [FILE | -i FILE | -]        (token lines -> TOKEN<TAB>LABEL<TAB>PROBABILITY)
 *   nlprnn tag-train -o MODEL [--PARAM VALUE ...] FILE...         (token<TAB>label lines)
 *
 * Options are read with the program's one grammar (cli/args.h). Input of space is streamed line
 * by line (a line is one text), in batches of BATCH_LINES lines; the lines held are spaced and
 * printed as soon as no more input is waiting (cli_input_waiting), so a line read from a pipe is
 * answered before the next one arrives.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BATCH_LINES 256

/* The next line (cli_lines_next) as a malloc'ed copy: the batches below keep lines across reads. */
static int next_line(cli_lines *in, char **out, size_t *len) {
    char *v;
    int r = cli_lines_next(in, &v, len);
    if (r != 1) return r;
    if (!(*out = malloc(*len + 1))) return -1;
    memcpy(*out, v, *len + 1);
    return 1;
}

/* The models as one name for messages: the first, or "A + B + ..." (into buf). */
static const char *model_names(const cli_models *m, char *buf, size_t cap) {
    buf[0] = 0;
    for (int i = 0; i < m->n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", i ? " + " : "", m->name[i]);
    }
    return buf;
}

/* ---- space ----------------------------------------------------------------------------------------- */

static void space_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn space [-m NAME|FILE]... [-k] [--format text|json] [-t N] [TEXT... | -i FILE... | -]\n"
            "\n"
            "Restore the word spacing of Korean text with a spacing model. Each line of the input is one\n"
            "text; every line of output is the input line respaced, in order. TEXT is a text given on the\n"
            "command line; -i FILE reads a file (repeatable); '-' or nothing reads standard input.\n"
            "A UTF-8 byte order mark at the start of a file is skipped. The output is in NFC with white\n"
            "space removed and single spaces where the model puts them.\n"
            "\n"
            "options:\n"
            "  -m, --model NAME|FILE  spacing model file, or a shipped model's name (default ko = ko-space);\n"
            "                         more than once, an ensemble of the models (same units): the\n"
            "                         mean of their probabilities of a space decides (and is \"p\")\n"
            "  -k, --keep-spaces      keep the input's spaces (each run of white space becomes one) and\n"
            "                         give them to the model as hints: it only adds missing spaces;\n"
            "                         default: remove all white space first\n"
            "      --format text|json text (default), or one JSON object a line:\n"
            "                         {\"text\":...,\"spaces\":[byte offsets of the spaces in text],\n"
            "                          \"p\":[probability of a space after each character]}\n"
            "  -t, --threads N        threads per batch of lines (default 1; 0: the cores)\n"
            "  -i, --input FILE       read FILE, plain or gzip ('-': standard input; old spelling:\n"
            "                         -f, --file)\n"
            "\n"
            "errors: invalid UTF-8 (or a NUL byte) stops with exit 3 naming FILE:LINE: byte B (B counts\n"
            "bytes from the start of the line); the lines before it are printed. Unreadable input exits\n"
            "4, a bad model 5.\n");
}

typedef struct space_out {
    int json;
} space_out;

/* Space and print n lines; on a bad line print the ones before it and report it. */
static int space_flush(nlprnn_tagger_ctx *ctx, char **lines, size_t *lens, long long *lineno, size_t n,
                       const char *name, unsigned flags, const space_out *o) {
    if (!n) return CLI_OK;
    int *st = calloc(n, sizeof *st);
    if (!st) return cli_report("space", NLPRNN_E_NOMEM, NULL);
    nlprnn_error err;
    int rc = nlprnn_space_batch(ctx, (const char *const *)lines, lens, n, flags, st, &err);
    if (rc) {
        free(st);
        return cli_report("space", rc, &err);
    }
    int ret = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        if (st[i]) {
            int w = cli_stdout_check("space");
            if (w) {
                ret = w;
                break;
            }
            /* the same text alone gives the byte of the error */
            int r2 = nlprnn_space(ctx, lines[i], lens[i], flags, &err);
            fprintf(stderr, "nlprnn space: %s:%lld: %s (%s)\n", name, lineno[i],
                    r2 ? err.message : "invalid text", nlprnn_status_name(st[i]));
            ret = cli_exit_code(st[i]);
            break;
        }
        size_t len = 0;
        const char *out = nlprnn_space_text(ctx, i, &len);
        if (!o->json) {
            fwrite(out, 1, len, stdout);
            putchar('\n');
            continue;
        }
        printf("{\"text\":");
        cli_json_text(stdout, out, len);
        printf(",\"spaces\":[");
        size_t nu = nlprnn_space_units(ctx, i);
        int first = 1;
        for (size_t j = 0; j < nu; j++) {
            size_t end;
            float p;
            int sp;
            nlprnn_space_unit(ctx, i, j, &end, &p, &sp, NULL);
            if (sp) printf("%s%zu", first ? "" : ",", end), first = 0;
        }
        printf("],\"p\":[");
        for (size_t j = 0; j < nu; j++) {
            float p;
            nlprnn_space_unit(ctx, i, j, NULL, &p, NULL, NULL);
            printf("%s%.4f", j ? "," : "", (double)p);
        }
        printf("]}\n");
    }
    free(st);
    if (!ret) ret = cli_stdout_check("space");
    return ret;
}

int cmd_space(int argc, char **argv) {
    cli_models models = {{NULL}, 0};
    int threads = 1, nfiles = 0, ntexts = 0;
    unsigned flags = 0;
    space_out o = {0};
    char **files = calloc((size_t)argc + 1, sizeof *files);
    char **texts = calloc((size_t)argc + 1, sizeof *texts);
    if (!files || !texts) {
        free(files);
        free(texts);
        return cli_report("space", NLPRNN_E_NOMEM, NULL);
    }
    enum { FORMAT = CLI_LONG };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"keep-spaces", 'k', CLI_NO_ARG, NULL},
                                      {"format", FORMAT, CLI_ARG, NULL},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, "-f --file"},
                                      {NULL, 0, 0, NULL}};
    static const char *const formats[] = {"text", "json", NULL};
    cli_args a;
    int c;
    long long v;
    cli_args_init(&a, "space", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP:
            space_usage(stdout);
            free(files);
            free(texts);
            return CLI_OK;
        case 'm': cli_models_add(&a, &models); break;
        case 'k': flags |= NLPRNN_SPACE_KEEP; break;
        case FORMAT: o.json = cli_args_choice(&a, formats) == 1; break;
        case 't':
            if (cli_args_int(&a, 0, 16, &v)) threads = (int)v;
            break;
        case 'i': files[nfiles++] = (char *)a.value; break;
        case CLI_POSITIONAL:
            if (!strcmp(a.value, "-")) files[nfiles++] = "-";
            else texts[ntexts++] = (char *)a.value;
            break;
        }
    }
    int ret = c == CLI_ERROR ? a.rc : CLI_OK;
    if (!ret && ntexts && nfiles) ret = cli_usage_error("space", "give TEXT or files (-i FILE, -), not both");
    if (ret) {
        free(files);
        free(texts);
        return ret;
    }
    if (!ntexts && !nfiles) files[nfiles++] = "-";

    if (!models.n) models.name[models.n++] = "ko";
    char model[1024];
    model_names(&models, model, sizeof model);
    nlprnn_error err;
    nlprnn_tagger *t = NULL;
    nlprnn_tagger_ctx *ctx = NULL;
    int rc = nlprnn_tagger_load_ensemble(models.name, (size_t)models.n, &t, &err);
    if (!rc && !nlprnn_tagger_is_spacing(t)) {
        fprintf(stderr, "nlprnn space: %s: a token tagger, not a spacing model (use nlprnn tag) "
                "(NLPRNN_E_UNSUPPORTED)\n", model);
        nlprnn_tagger_free(t);
        free(files);
        free(texts);
        return cli_exit_code(NLPRNN_E_UNSUPPORTED);
    }
    if (!rc) rc = nlprnn_tagger_ctx_create(t, threads, &ctx, &err);
    if (rc) {
        free(files);
        free(texts);
        nlprnn_tagger_free(t);
        return cli_report("space", rc, &err);
    }
    char *lines[BATCH_LINES];
    size_t lens[BATCH_LINES];
    long long lineno[BATCH_LINES];
    size_t n = 0;
    if (ntexts) {
        for (int i = 0; i < ntexts && !ret; i++) {
            lines[0] = texts[i];
            lens[0] = strlen(texts[i]);
            lineno[0] = i + 1;
            ret = space_flush(ctx, lines, lens, lineno, 1, "argument", flags, &o);
        }
    }
    for (int f = 0; f < nfiles && !ret; f++) {
        cli_lines in;
        if ((ret = cli_lines_open(&in, "space", files[f]))) break;
        for (;;) {
            char *s;
            size_t l;
            int r = next_line(&in, &s, &l);
            if (r == 1) {
                lines[n] = s;
                lens[n] = l;
                lineno[n] = in.line;
                n++;
            }
            /* a full batch, the end, or no more input waiting right now (cli_input_waiting) */
            if (n == BATCH_LINES || (r != 1 && n) || (n && !cli_lines_waiting(&in))) {
                ret = space_flush(ctx, lines, lens, lineno, n, in.name, flags, &o);
                for (size_t i = 0; i < n; i++) free(lines[i]);
                n = 0;
                if (ret) break;
            }
            if (r < 0) {
                fprintf(stderr, "nlprnn space: %s: %s (NLPRNN_E_IO)\n", in.name, cli_lines_error(&in));
                ret = CLI_EXIT_IO;
            }
            if (r != 1) break;
        }
        cli_lines_close(&in);
    }
    nlprnn_tagger_ctx_free(ctx);
    nlprnn_tagger_free(t);
    free(files);
    free(texts);
    return ret;
}

/* ---- space-train, tag-train ------------------------------------------------------------------------- */

/* The tagger's parameters that are not --NAME options: "format" (the command says it) and
 * "threads" (-t, --threads, listed with the options). */
static const char *const TAGGER_OWN[] = {"format", NULL, "threads", NULL, NULL};

static void train_usage(FILE *fp, const char *cmd, int spacing) {
    fprintf(fp,
            "usage: nlprnn %s -o MODEL [-q] [--resume] [--PARAM VALUE ...] FILE...\n"
            "\n"
            "%s\n"
            "FILEs may be gzip-compressed; '-' is standard input. The model file is written atomically.\n"
            "Ctrl-C writes the checkpoint (with --checkpoint FILE) and exits 130; --resume continues.\n"
            "\n"
            "options:\n"
            "  -o, --output MODEL   the model file to write (required)\n"
            "  -i, --input FILE     a training file (repeatable; or give them as FILE...)\n"
            "      --resume         continue from the checkpoint\n"
            "  -q, --quiet          no progress output\n"
            "  -t, --threads N      workers per batch (default 1)\n"
            "\n"
            "parameters (--NAME VALUE or --NAME=VALUE; default, range):\n",
            cmd,
            spacing ? "Train a spacing model from well-spaced text, one sentence (or paragraph) a line: the\n"
                      "label of each character is whether a space follows it. Some training sentences keep\n"
                      "part of their spaces as hints (--hints, --drop, --noise), so the model also fixes\n"
                      "partly spaced text (nlprnn space --keep-spaces)."
                    : "Train a sequence tagger (part of speech, named entities, ...) from token<TAB>label\n"
                      "lines with a blank line between sentences; the label set comes from the data.");
    cli_param_usage(fp, nlprnn_tagger_param_info, TAGGER_OWN);
}

/* Progress of space-train / tag-train on standard error. At the end of each epoch, always:
 * "epoch N: training loss L, validation accuracy A (S steps, U chars/s)" (tokens/s for tag-train;
 * S counts the optimizer steps since the start). On a terminal also a status line redrawn at most
 * 5 times a second while an epoch runs (bar, batch, step, running loss and accuracy, speed, time
 * left) and what is being done ("validating ..."); elsewhere (a log) nothing more. */
typedef struct tg_cli_progress {
    cli_progress out;
    const char *units; /* "chars" or "tokens" */
} tg_cli_progress;

static int train_progress(void *user, const nlprnn_tagger_progress *p) {
    tg_cli_progress *c = user;
    cli_progress *o = &c->out;
    if (p->phase == 0) {
        if (o->tty && !o->quiet) cli_progress_status(o, "%s ...", p->message);
    } else if (p->phase == 2) {
        cli_progress_line(o, "epoch %d: training loss %.4f, validation accuracy %.4f (%lld steps, %.0f %s/s)", p->epoch,
                          p->loss, p->valid_accuracy, p->steps, p->units_per_sec, c->units);
    } else if (o->tty && cli_progress_due(o, p->batch == p->batches)) {
        char eta[32], bar[32];
        cli_fmt_time(eta, sizeof eta, p->eta);
        cli_fmt_bar(bar, p->batch, p->batches);
        cli_progress_status(o, "epoch %d/%d [%s] %lld/%lld step %lld loss %.4f acc %.4f %.0f %s/s ETA %s", p->epoch,
                            p->epochs, bar, p->batch, p->batches, p->steps, p->loss, p->accuracy, p->units_per_sec,
                            c->units, eta);
    }
    return 0;
}


static int tagger_train_cmd(int argc, char **argv, const char *cmd, int spacing) {
    const char *output = NULL;
    int quiet = 0, resume = 0, nfiles = 0;
    nlprnn_error err;
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!p || !files) {
        nlprnn_tagger_params_free(p);
        free(files);
        return cli_report(cmd, NLPRNN_E_NOMEM, NULL);
    }
    nlprnn_tagger_params_set(p, "format", spacing ? "spacing" : "tagged", NULL);
    enum { RESUME = CLI_LONG, FORMAT };
    static const cli_opt options[] = {{"output", 'o', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, NULL},
                                      {"resume", RESUME, CLI_NO_ARG, NULL},
                                      {"quiet", 'q', CLI_NO_ARG, NULL},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {"format", FORMAT, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    const char *param_names[64];
    cli_param_names(nlprnn_tagger_param_info, TAGGER_OWN, param_names, sizeof param_names / sizeof *param_names);
    cli_args a;
    int c;
    cli_args_init(&a, cmd, argc, argv, options, param_names);
    while ((c = cli_args_next(&a)) > CLI_END) {
        const char *name = NULL; /* a training parameter to set */
        switch (c) {
        case CLI_HELP:
            train_usage(stdout, cmd, spacing);
            nlprnn_tagger_params_free(p);
            free(files);
            return CLI_OK;
        case 'o': output = a.value; break;
        case 'q': quiet = 1; break;
        case RESUME: resume = 1; break;
        case 't': name = "threads"; break;
        case FORMAT: cli_args_fail(&a, "--format: use %s", spacing ? "tag-train" : "space-train"); break;
        case 'i':
        case CLI_POSITIONAL: files[nfiles++] = a.value; break;
        default: name = param_names[c - CLI_PARAM]; break;
        }
        if (name && nlprnn_tagger_params_set(p, name, a.value, &err)) cli_args_fail(&a, "%s", err.message);
    }
    int ret = c == CLI_ERROR ? a.rc : CLI_OK;
    if (!ret && (!output || !nfiles)) ret = cli_usage_error(cmd, "-o MODEL and at least one FILE are required");
    if (ret) {
        nlprnn_tagger_params_free(p);
        free(files);
        return ret;
    }
    /* before the work: the model is a regular file (or absent), none of the inputs and not the
     * checkpoint; the checkpoint is none of the inputs */
    char ckpt[1100] = "";
    nlprnn_tagger_params_get(p, "checkpoint", ckpt, sizeof ckpt, NULL);
    files[nfiles] = ckpt;
    int rc = nlprnn_output_check(output, files, (size_t)nfiles + 1, &err);
    if (!rc && ckpt[0]) rc = nlprnn_output_check(ckpt, files, (size_t)nfiles, &err);
    files[nfiles] = NULL;
    nlprnn_train_ctl *ctl = NULL;
    nlprnn_tagger *t = NULL;
    if (!rc) rc = nlprnn_train_ctl_create(&ctl, &err);
    if (!rc) {
        nlprnn_train_ctl_set_stop(ctl, cli_catch_stop_signals());
        nlprnn_train_ctl_set_resume(ctl, resume);
        tg_cli_progress pr;
        cli_progress_init(&pr.out, "", 0, quiet);
        pr.units = spacing ? "chars" : "tokens";
        rc = nlprnn_tagger_train_ctl(files, nfiles, p, ctl, train_progress, &pr, &t, &err);
        cli_progress_end(&pr.out);
    }
    if (!rc) rc = nlprnn_tagger_save(t, output, &err);
    if (!rc && !quiet) fprintf(stderr, "%s: wrote %s: %s\n", cmd, output, nlprnn_tagger_summary(t));
    nlprnn_tagger_free(t);
    nlprnn_train_ctl_free(ctl);
    nlprnn_tagger_params_free(p);
    free(files);
    return rc ? cli_report(cmd, rc, &err) : CLI_OK;
}

int cmd_space_train(int argc, char **argv) { return tagger_train_cmd(argc, argv, "space-train", 1); }
int cmd_tag_train(int argc, char **argv) { return tagger_train_cmd(argc, argv, "tag-train", 0); }

/* ---- tag ------------------------------------------------------------------------------------------- */

static void tag_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn tag -m FILE... [FILE | -i FILE | -]\n"
            "\n"
            "Tag sentences with a tagger made by nlprnn tag-train. Input: one token a line (anything\n"
            "after a TAB is ignored, so a tagged file can be read), a blank line between sentences.\n"
            "Output: TOKEN<TAB>LABEL<TAB>PROBABILITY lines, a blank line after each sentence. Tokens\n"
            "are looked up byte for byte; a token the model does not know is its unknown unit.\n"
            "\n"
            "options:\n"
            "  -m, --model FILE   the tagger (required); more than once, an ensemble of the taggers\n"
            "                     (same units and labels): the mean of their label probabilities\n"
            "                     decides, PROBABILITY is that mean\n"
            "  -i, --input FILE   read FILE, plain or gzip ('-' or nothing: standard input; old\n"
            "                     spelling: -f, --file)\n"
            "\n"
            "errors: unreadable input exits 4; a bad model 5.\n");
}

static int tag_flush(nlprnn_tagger_ctx *ctx, const nlprnn_tagger *t, char **tok, size_t n) {
    if (!n) return CLI_OK;
    int *lab = calloc(n, sizeof *lab);
    float *pr = calloc(n, sizeof *pr);
    nlprnn_error err;
    int rc = lab && pr ? nlprnn_tag(ctx, (const char *const *)tok, n, lab, pr, &err) : NLPRNN_E_NOMEM;
    for (size_t i = 0; !rc && i < n; i++)
        printf("%s\t%s\t%.4f\n", tok[i], nlprnn_tagger_label(t, lab[i]), (double)pr[i]);
    if (!rc) putchar('\n');
    free(lab);
    free(pr);
    if (rc) return cli_report("tag", rc, rc == NLPRNN_E_NOMEM ? NULL : &err);
    return cli_stdout_check("tag");
}

int cmd_tag(int argc, char **argv) {
    const char *file = NULL;
    cli_models models = {{NULL}, 0};
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, "-f --file"},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, "tag", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: tag_usage(stdout); return CLI_OK;
        case 'm': cli_models_add(&a, &models); break;
        case 'i':
        case CLI_POSITIONAL:
            if (file) cli_args_fail(&a, "one input only ('%s' and '%s')", file, a.value);
            file = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!file) file = "-";
    if (!models.n) return cli_usage_error("tag", "--model is required");
    char model[1024];
    model_names(&models, model, sizeof model);
    nlprnn_error err;
    nlprnn_tagger *t = NULL;
    nlprnn_tagger_ctx *ctx = NULL;
    int rc = nlprnn_tagger_load_ensemble(models.name, (size_t)models.n, &t, &err);
    if (!rc && nlprnn_tagger_is_spacing(t)) {
        nlprnn_tagger_free(t);
        fprintf(stderr, "nlprnn tag: %s: a spacing model (use nlprnn space) (NLPRNN_E_UNSUPPORTED)\n", model);
        return cli_exit_code(NLPRNN_E_UNSUPPORTED);
    }
    if (!rc) rc = nlprnn_tagger_ctx_create(t, 1, &ctx, &err);
    if (rc) {
        nlprnn_tagger_free(t);
        return cli_report("tag", rc, &err);
    }
    cli_lines in;
    int ret = cli_lines_open(&in, "tag", file);
    char **tok = NULL;
    size_t n = 0, cap = 0;
    while (!ret) {
        char *s;
        size_t l;
        int r = next_line(&in, &s, &l);
        if (r < 0) {
            fprintf(stderr, "nlprnn tag: %s: %s (NLPRNN_E_IO)\n", in.name, cli_lines_error(&in));
            ret = CLI_EXIT_IO;
            break;
        }
        if (r == 1) {
            char *tab = strchr(s, '\t');
            if (tab) *tab = 0, l = (size_t)(tab - s);
            size_t k = 0;
            while (k < l && (s[k] == ' ' || s[k] == '\t')) k++;
            if (k < l) {
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    char **nt = realloc(tok, nc * sizeof *nt);
                    if (!nt) {
                        free(s);
                        ret = cli_report("tag", NLPRNN_E_NOMEM, NULL);
                        break;
                    }
                    tok = nt;
                    cap = nc;
                }
                tok[n++] = s;
                continue;
            }
            free(s);
        }
        ret = tag_flush(ctx, t, tok, n);
        for (size_t i = 0; i < n; i++) free(tok[i]);
        n = 0;
        if (r == 0) break;
    }
    for (size_t i = 0; i < n; i++) free(tok[i]);
    free(tok);
    cli_lines_close(&in);
    nlprnn_tagger_ctx_free(ctx);
    nlprnn_tagger_free(t);
    return ret;
}

/* ---- space-pack ------------------------------------------------------------------------------------ */

static void pack_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn space-pack -o OUT [--store keep|f32|f16] MODEL [MODEL...]\n"
            "\n"
            "Write the spacing models (or token taggers) MODEL... (files or shipped names, of one kind\n"
            "with the same units and labels) as ONE model file that holds them all as an ensemble:\n"
            "nlprnn space -m OUT then spaces as nlprnn space -m MODEL -m MODEL... does (the mean of the\n"
            "members' probabilities for each character). The units and labels are stored once, each\n"
            "member's settings as they were and its weights as --store says; a MODEL that is itself an\n"
            "ensemble adds all its members (at most 32). One MODEL with --store converts it. The file is\n"
            "written atomically.\n"
            "\n"
            "options:\n"
            "  -o, --output OUT       the ensemble's model file\n"
            "      --store S          keep (default: each member as it was stored), f32 or f16 (half the\n"
            "                         size, rounded; builds before it refuse the file). No int8 for taggers\n"
            "\n"
            "errors: models with other units or labels exit 5 naming the file that differs; a bad model\n"
            "file 5, an unwritable OUT 4.\n");
}

int cmd_space_pack(int argc, char **argv) {
    static const char *const stores[] = {"keep", "f32", "f16", NULL};
    const char *output, *store;
    cli_models models;
    int help;
    int ret = cli_pack_args("space-pack", argc, argv, pack_usage, stores, NULL, &store, &output, &models, &help);
    if (ret || help) return ret;
    nlprnn_error err;
    nlprnn_tagger *t = NULL;
    int rc = nlprnn_output_check(output, models.name, (size_t)models.n, &err);
    if (!rc) rc = nlprnn_tagger_load_ensemble(models.name, (size_t)models.n, &t, &err);
    if (!rc) rc = nlprnn_tagger_save_stored(t, output, store, &err);
    if (!rc) fprintf(stderr, "space-pack: wrote %s: %s\n", output, nlprnn_tagger_summary(t));
    nlprnn_tagger_free(t);
    return rc ? cli_report("space-pack", rc, &err) : CLI_OK;
}

/* cli/args.c: the one command-line grammar of the nlprnn program (getopt_long underneath).
 *
 * Every command describes its options in a table (cli_opt) and reads them with cli_args_next():
 *   --name VALUE  --name=VALUE  -n VALUE  -nVALUE   an option with a value
 *   -ql                                             short options bundled (-q -l)
 *   --                                              the end of the options: what follows is
 *                                                   an argument even when it starts with '-'
 *   -                                               an argument (standard input)
 * Options and arguments may come in any order; arguments are returned in the order given.
 * Long names are matched exactly (getopt_long's abbreviations are refused, so that a new option
 * never changes what an old command line means). An unknown option, a missing value and an
 * option given a value it does not take are usage errors (exit 2) naming the option.
 * Every command accepts -h/--help. Old spellings stay accepted as aliases of the canonical name
 * (the table's `aliases`), so existing scripts keep working; --help shows the canonical one.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Count the options of a table plus their aliases (long and short). */
static void count_opts(const cli_opt *t, size_t *nlong, size_t *nshort) {
    for (; t && t->name; t++) {
        (*nlong)++;
        if (t->key > 0 && t->key < 128) (*nshort)++;
        for (const char *s = t->aliases; s && *s;) {
            while (*s == ' ') s++;
            if (!*s) break;
            if (s[0] == '-' && s[1] == '-') (*nlong)++;
            else (*nshort)++;
            while (*s && *s != ' ') s++;
        }
    }
}

int cli_args_init(cli_args *a, const char *cmd, int argc, char **argv, const cli_opt *opts,
                  const char *const *params) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    a->opts = opts;
    a->params = params;
    size_t nlong = 1, nshort = 1, nparams = 0; /* + --help, -h */
    count_opts(opts, &nlong, &nshort);
    while (params && params[nparams]) nparams++;
    nlong += nparams;
    a->longopts = calloc(nlong + 1, sizeof(struct option));
    a->shorts = calloc(3 + 2 * nshort + 1, 1);
    /* alias names live in one buffer (they are cut out of the space-separated lists) */
    size_t chars = 0;
    for (const cli_opt *t = opts; t && t->name; t++) chars += t->aliases ? strlen(t->aliases) + 1 : 0;
    a->names = malloc(chars + 1);
    if (!a->longopts || !a->shorts || !a->names) {
        cli_args_free(a);
        a->rc = cli_report(cmd, NLPRNN_E_NOMEM, NULL); /* cli_args_next returns CLI_ERROR */
        return a->rc;
    }
    struct option *lo = a->longopts;
    char *so = a->shorts, *nb = a->names;
    *so++ = '-'; /* arguments come back in order (code 1), whatever POSIXLY_CORRECT says */
    *so++ = ':'; /* a missing value is ':' (not '?') and getopt prints nothing itself */
    *so++ = 'h';
    *lo++ = (struct option){"help", no_argument, NULL, 'h'};
    for (const cli_opt *t = opts; t && t->name; t++) {
        int has = t->has_arg ? required_argument : no_argument;
        *lo++ = (struct option){t->name, has, NULL, t->key};
        if (t->key > 0 && t->key < 128) {
            *so++ = (char)t->key;
            if (has) *so++ = ':';
        }
        for (const char *s = t->aliases; s && *s;) {
            while (*s == ' ') s++;
            if (!*s) break;
            size_t n = strcspn(s, " ");
            if (s[0] == '-' && s[1] == '-') {
                memcpy(nb, s + 2, n - 2);
                nb[n - 2] = 0;
                *lo++ = (struct option){nb, has, NULL, t->key};
                nb += n - 1;
            } else if (n == 2 && s[0] == '-') {
                *so++ = s[1];
                if (has) *so++ = ':';
                a->short_alias[(unsigned char)s[1] & 127] = t->key;
            }
            s += n;
        }
    }
    for (size_t i = 0; i < nparams; i++)
        *lo++ = (struct option){params[i], required_argument, NULL, CLI_PARAM + (int)i};
    optind = 0; /* a fresh scan (glibc: reinitialize) */
    opterr = 0;
    return CLI_OK;
}

void cli_args_free(cli_args *a) {
    free(a->longopts);
    free(a->shorts);
    free(a->names);
    a->longopts = NULL;
    a->shorts = NULL;
    a->names = NULL;
}

/* The option name of an argument "--name" or "--name=value" (into a->spelled_buf). */
static const char *long_name(cli_args *a, const char *arg) {
    size_t n = strcspn(arg, "=");
    if (n >= sizeof a->spelled_buf) n = sizeof a->spelled_buf - 1;
    memcpy(a->spelled_buf, arg, n);
    a->spelled_buf[n] = 0;
    return a->spelled_buf;
}

static int is_long_option(const char *s) { return s && s[0] == '-' && s[1] == '-' && s[2]; }

/* 1 when name (without "--") is exactly one of the long options. */
static int known_long(const cli_args *a, const char *name, size_t n) {
    for (const struct option *o = a->longopts; o && o->name; o++)
        if (strlen(o->name) == n && !strncmp(o->name, name, n)) return 1;
    return 0;
}

static int next(cli_args *a);

int cli_args_next(cli_args *a) {
    int c = a->rc ? CLI_ERROR : next(a);
    if (c == CLI_END || c == CLI_ERROR || c == CLI_HELP) cli_args_free(a);
    return c;
}

static int next(cli_args *a) {
    a->value = NULL;
    a->spelled = NULL;
    if (a->rest) { /* after "--": every remaining word is an argument */
        if (optind >= a->argc) return CLI_END;
        a->value = a->argv[optind++];
        return CLI_POSITIONAL;
    }
    int at = optind ? optind : 1;
    const char *word = at < a->argc ? a->argv[at] : NULL;
    /* exact long names only: getopt_long would take "--val" for "--valid-split" */
    if (is_long_option(word) && !known_long(a, word + 2, strcspn(word + 2, "="))) {
        a->rc = cli_usage_error(a->cmd, "unknown option '%s'", long_name(a, word));
        return CLI_ERROR;
    }
    int c = getopt_long(a->argc, a->argv, a->shorts, a->longopts, NULL);
    if (c == -1) {
        if (optind < a->argc) { /* stopped after "--" */
            a->rest = 1;
            return next(a);
        }
        return CLI_END;
    }
    if (c == 1) {
        a->value = optarg;
        return CLI_POSITIONAL;
    }
    if (c == '?' || c == ':') {
        char sb[3] = {'-', (char)optopt, 0};
        const char *what = is_long_option(word) ? long_name(a, word)
                           : optopt > 0 && optopt < 128 ? sb
                           : word ? word : "?";
        if (c == ':')
            a->rc = cli_usage_error(a->cmd, "option '%s' needs a value", what);
        else if (is_long_option(word) && strchr(word, '='))
            a->rc = cli_usage_error(a->cmd, "option '%s' takes no value", what);
        else
            a->rc = cli_usage_error(a->cmd, "unknown option '%s'", what);
        return CLI_ERROR;
    }
    if (is_long_option(word)) {
        a->spelled = long_name(a, word);
    } else {
        a->spelled_buf[0] = '-';
        a->spelled_buf[1] = (char)c;
        a->spelled_buf[2] = 0;
        a->spelled = a->spelled_buf;
        if (c > 0 && c < 128 && a->short_alias[c]) c = a->short_alias[c];
    }
    a->value = optarg;
    return c;
}

int cli_args_int(cli_args *a, long long lo, long long hi, long long *out) {
    const char *v = a->value ? a->value : "";
    char *e;
    long long x = strtoll(v, &e, 10);
    if (e == v || *e || x < lo || x > hi) {
        a->rc = cli_usage_error(a->cmd, "bad value '%s' for %s: an integer in %lld..%lld", v,
                                a->spelled ? a->spelled : "?", lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

int cli_args_u64(cli_args *a, unsigned long long *out) {
    const char *v = a->value ? a->value : "";
    char *e;
    unsigned long long x = strtoull(v, &e, 10);
    if (e == v || *e || *v == '-') {
        a->rc = cli_usage_error(a->cmd, "bad value '%s' for %s: a non-negative integer", v,
                                a->spelled ? a->spelled : "?");
        return 0;
    }
    *out = x;
    return 1;
}

int cli_args_double(cli_args *a, double lo, double hi, double *out) {
    const char *v = a->value ? a->value : "";
    char *e;
    double x = strtod(v, &e);
    if (e == v || *e || !isfinite(x) || !(x >= lo && x <= hi)) {
        a->rc = cli_usage_error(a->cmd, "bad value '%s' for %s: a number in [%g, %g]", v,
                                a->spelled ? a->spelled : "?", lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

int cli_args_choice(cli_args *a, const char *const *choices) {
    const char *v = a->value ? a->value : "";
    char list[256];
    size_t n = 0;
    list[0] = 0;
    for (int i = 0; choices[i]; i++) {
        if (!strcmp(v, choices[i])) return i;
        n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", i ? ", " : "",
                              choices[i]);
        if (n >= sizeof list) n = sizeof list - 1;
    }
    a->rc = cli_usage_error(a->cmd, "bad value '%s' for %s: one of %s", v,
                            a->spelled ? a->spelled : "?", list);
    return -1;
}

int cli_args_fail(cli_args *a, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!a->rc) a->rc = cli_usage_error(a->cmd, "%s", msg);
    return a->rc;
}

void cli_models_add(cli_args *a, cli_models *m) {
    if (m->n == CLI_MAX_MODELS) cli_args_fail(a, "at most %d models", CLI_MAX_MODELS);
    else m->name[m->n++] = a->value;
}

int cli_pack_args(const char *cmd, int argc, char **argv, void (*usage)(FILE *), const char *const *stores,
                  const cli_pack_more *more, const char **store, const char **output, cli_models *models,
                  int *help) {
    cli_opt opts[CLI_PACK_MAX_MORE + 3] = {{"output", 'o', CLI_ARG, NULL}};
    int no = 1, c, i;
    if (stores) opts[no++] = (cli_opt){"store", CLI_LONG, CLI_ARG, NULL};
    for (i = 0; more && more->opts[i].name && i < CLI_PACK_MAX_MORE; i++) opts[no++] = more->opts[i];
    opts[no] = (cli_opt){NULL, 0, 0, NULL};
    cli_args a;
    *output = NULL;
    *help = 0;
    models->n = 0;
    if (store) *store = stores ? stores[0] : NULL;
    cli_args_init(&a, cmd, argc, argv, opts, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        if (more && more->option(&a, c, more->user)) continue;
        switch (c) {
        case CLI_HELP: usage(stdout); *help = 1; return CLI_OK;
        case 'o': *output = a.value; break;
        case CLI_LONG:
            if ((i = cli_args_choice(&a, stores)) >= 0) *store = stores[i];
            break;
        case CLI_POSITIONAL: cli_models_add(&a, models); break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!*output || models->n < 1) return cli_usage_error(cmd, "-o OUT and a MODEL are required");
    return CLI_OK;
}

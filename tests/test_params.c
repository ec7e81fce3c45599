/* tests/test_params.c: the classifier's and the language model's training parameters are nr_param
 * tables (common/params.h), through the public API only (and the forecaster's, whose --help is
 * made from its table since). Checked, for each:
 *   - the defaults are the ones these parameters had before the tables (listed here, by name,
 *     as recorded from nlprnn_train_params_new / nlprnn_lm_params_new of ad10913): a default
 *     that moves fails here;
 *   - every row of *_param_info has a name, a help line and a range, its default is accepted by
 *     *_params_set and is what a new parameter object holds (the default is written once);
 *   - choices read back by name (the language model's cell, directions, softmax are indices into
 *     their own lists), bad values are refused naming the parameter and the accepted range;
 *   - `nlprnn train --help`, `nlprnn lm-train --help` and `nlprnn forecast --help` list every
 *     parameter with its default and range from the table (with the option spellings of their
 *     own: --vocab-size, -t ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "testutil.h"

typedef int (*info_fn)(int i, const char **name, const char **def, const char **help, char *range, size_t cap,
                       nlprnn_error *err);

typedef struct task {
    const char *what, *cmd;
    void *(*create)(void);
    void (*destroy)(void *);
    int (*set)(void *, const char *, const char *, nlprnn_error *);
    int (*get)(const void *, const char *, char *, size_t, nlprnn_error *);
    info_fn info;
} task;

static void *clf_create(void) {
    nlprnn_classifier_params *p = NULL;
    return nlprnn_classifier_params_create(&p, NULL) ? NULL : p;
}
static void clf_free(void *p) { nlprnn_classifier_params_free(p); }
static int clf_set(void *p, const char *n, const char *v, nlprnn_error *e) { return nlprnn_classifier_params_set(p, n, v, e); }
static int clf_get(const void *p, const char *n, char *b, size_t c, nlprnn_error *e) {
    return nlprnn_classifier_params_get(p, n, b, c, e);
}
static void *fc_create(void) {
    nlprnn_forecaster_params *p = NULL;
    return nlprnn_forecaster_params_create(&p, NULL) ? NULL : p;
}
static void fc_free(void *p) { nlprnn_forecaster_params_free(p); }
static int fc_set(void *p, const char *n, const char *v, nlprnn_error *e) { return nlprnn_forecaster_params_set(p, n, v, e); }
static int fc_get(const void *p, const char *n, char *b, size_t c, nlprnn_error *e) {
    return nlprnn_forecaster_params_get(p, n, b, c, e);
}
static void *lm_create(void) {
    nlprnn_lm_params *p = NULL;
    return nlprnn_lm_params_create(&p, NULL) ? NULL : p;
}
static void lm_free(void *p) { nlprnn_lm_params_free(p); }
static int lm_set(void *p, const char *n, const char *v, nlprnn_error *e) { return nlprnn_lm_params_set(p, n, v, e); }
static int lm_get(const void *p, const char *n, char *b, size_t c, nlprnn_error *e) { return nlprnn_lm_params_get(p, n, b, c, e); }

/* The defaults before the tables: name, value (numbers compared as numbers). */
static const char *const CLF_DEFAULTS[][2] = {
    {"tokenizer", ""}, {"vectors", ""}, {"init-from", ""}, {"text-column", ""}, {"label-column", ""},
    {"soft-column", ""}, {"temperature", "1"}, {"checkpoint", ""}, {"label-names", ""}, {"vocab", "16000"}, {"embed", "128"}, {"cell", "lstm"},
    {"layers", "1"}, {"bidirectional", "1"}, {"hidden", "128"}, {"pool", "max"}, {"dropout", "0.2"},
    {"optimizer", "adam"}, {"lr", "0.002"}, {"lr-schedule", "linear"}, {"lr-layer-decay", "1"}, {"unfreeze", "0"},
    {"clip", "5"}, {"ema", "0"}, {"weight-decay", "0"},
    {"epochs", "5"}, {"batch", "64"}, {"seed", "1"}, {"threads", "0"}, {"valid", "0.05"}, {"patience", "2"},
    {"max-tokens", "256"}, {"max-examples", "0"}, {"storage", "f16"}, {"skip-bad", "0"},
    {"checkpoint-every", "0"}, {"dist-check-every", "100"}, {NULL, NULL}};
static const char *const LM_DEFAULTS[][2] = {
    {"tokenizer", ""}, {"init", ""}, {"cell", "lstm"}, {"layers", "1"}, {"embed", "256"}, {"hidden", "256"},
    {"tied", "1"}, {"directions", "both"}, {"softmax", "sampled"}, {"samples", "1024"}, {"embed-update", "dense"}, {"batch", "64"},
    {"max-len", "64"}, {"bptt", "0"}, {"bptt-reset", "none"}, {"optimizer", "adam"}, {"threads", "0"}, {"epochs", "1"}, {"lr", "0.003"}, {"clip", "1"},
    {"dropout", "0"}, {"max-lines", "0"}, {"seed", "1"}, {"time-limit", "0"}, {"parallel", "0"},
    {"storage", "f16"}, {"valid-lines", "2000"}, {"checkpoint", ""}, {"checkpoint-every", "0"}, {NULL, NULL}};
/* the forecaster's (its table came earlier, its --help is made from it since the others'); "ma"
 * reads as the effective length: the window's */
static const char *const FC_DEFAULTS[][2] = {
    {"cell", "lstm"}, {"hidden", "32"}, {"layers", "1"}, {"window", "30"}, {"horizon", "1"}, {"target", "0"},
    {"scaler", "minmax"}, {"relative", "0"}, {"train", "0.7"}, {"valid", "0.15"}, {"epochs", "30"}, {"batch", "32"},
    {"lr", "0.005"}, {"clip", "1"}, {"ma", "30"}, {"patience", "0"}, {"threads", "1"}, {"seed", "1"},
    {"checkpoint", ""}, {"checkpoint-every", "0"}, {NULL, NULL}};

/* a and b are the same value: the same text, or numbers that read as the same double */
static int same_value(const char *a, const char *b) {
    if (!strcmp(a, b)) return 1;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return *a && *b && !*ea && !*eb && x == y;
}

static char *run_help(const char *cli, const char *cmd) {
    char line[600];
    snprintf(line, sizeof line, "'%s' %s --help", cli, cmd);
    FILE *fp = popen(line, "r");
    if (!fp) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *out = calloc(cap, 1);
    size_t k;
    while (out && (k = fread(out + n, 1, cap - 1 - n, fp)) > 0) n += k;
    int rc = pclose(fp);
    CHECK_MSG(rc == 0, "%s --help: exit %d", cmd, rc);
    return out;
}

static void check_task(const task *t, const char *const (*defaults)[2], const char *const *own) {
    void *p = t->create(), *q = t->create();
    CHECK(p && q);
    if (!p || !q) return;
    char buf[1200], buf2[1200];
    nlprnn_error e;
    /* the defaults of before */
    int n_def = 0;
    for (; defaults[n_def][0]; n_def++) {
        CHECK_MSG(t->get(p, defaults[n_def][0], buf, sizeof buf, &e) == 0, "%s %s: %s", t->what, defaults[n_def][0],
                  e.message);
        CHECK_MSG(same_value(buf, defaults[n_def][1]), "%s %s: default %s, was %s", t->what, defaults[n_def][0], buf,
                  defaults[n_def][1]);
    }
    /* every row: documented, its default accepted and the one a new object holds */
    int rows = 0;
    for (;; rows++) {
        const char *name = NULL, *def = NULL, *help = NULL;
        char range[200] = "";
        if (t->info(rows, &name, &def, &help, range, sizeof range, NULL)) break;
        CHECK_MSG(name && *name && help && *help && def && range[0], "%s row %d", t->what, rows);
        CHECK_MSG(t->set(q, name, def, &e) == 0, "%s %s: its default '%s' is refused: %s", t->what, name, def, e.message);
        CHECK(t->get(p, name, buf, sizeof buf, NULL) == 0 && t->get(q, name, buf2, sizeof buf2, NULL) == 0);
        CHECK_MSG(!strcmp(buf, buf2), "%s %s: a new object holds %s, the table's default gives %s", t->what, name, buf,
                  buf2);
        int listed = 0;
        for (int i = 0; defaults[i][0]; i++) listed |= !strcmp(defaults[i][0], name);
        CHECK_MSG(listed, "%s %s: a parameter this test does not know (add its default above)", t->what, name);
    }
    CHECK_MSG(rows == n_def, "%s: %d rows in the table, %d parameters before", t->what, rows, n_def);
    CHECK_INT_EQ(t->info(rows, NULL, NULL, NULL, NULL, 0, &e), NLPRNN_E_INVALID_ARG);
    /* choices by name; refusals name the parameter and the range */
    CHECK_INT_EQ(t->set(p, "cell", "gru", NULL), 0);
    CHECK(t->get(p, "cell", buf, sizeof buf, NULL) == 0 && !strcmp(buf, "gru"));
    CHECK_INT_EQ(t->set(p, "hidden", "0", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "hidden") && strstr(e.message, "1..4096"), "%s", e.message);
    CHECK_INT_EQ(t->set(p, "cell", "transformer", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "cell") && strstr(e.message, "lstm | gru"), "%s", e.message);
    CHECK_INT_EQ(t->set(p, "no-such", "1", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "no-such"), "%s", e.message);
    CHECK_INT_EQ(t->set(p, "lr", "nan", &e), NLPRNN_E_INVALID_ARG);
    /* --help: every parameter with its default and range, from the table */
    const char *cli = getenv("NLPRNN_CLI");
    if (cli && access(cli, X_OK) == 0) {
        char *h = run_help(cli, t->cmd);
        for (int i = 0; h; i++) {
            const char *name, *def, *help;
            char range[200], want[1600], opt[80];
            if (t->info(i, &name, &def, &help, range, sizeof range, NULL)) break;
            snprintf(opt, sizeof opt, "--%s", name);
            int listed = 1;
            for (int k = 0; own[k]; k += 2)
                if (!strcmp(own[k], name)) {
                    listed = own[k + 1] != NULL;
                    if (listed) snprintf(opt, sizeof opt, "%s", own[k + 1]);
                }
            if (!listed) continue; /* an option of the command's own (forecast --target NAME) */
            snprintf(want, sizeof want, "  %-19s %s (default %s; %s)\n", opt, help, def[0] ? def : "\"\"", range);
            CHECK_MSG(strstr(h, want), "%s --help lacks the line: %s", t->cmd, want);
        }
        free(h);
    } else {
        printf("note: NLPRNN_CLI not set: --help not checked\n");
    }
    t->destroy(p);
    t->destroy(q);
}

int main(void) {
    const task clf = {"classifier", "train", clf_create, clf_free, clf_set, clf_get, nlprnn_classifier_param_info};
    static const char *const clf_own[] = {"vocab", "--vocab-size", "threads", "-t, --threads", "valid", "--valid-split",
                                          NULL};
    check_task(&clf, CLF_DEFAULTS, clf_own);
    const task lm = {"language model", "lm-train", lm_create, lm_free, lm_set, lm_get, nlprnn_lm_param_info};
    static const char *const lm_own[] = {"init", "--init-from", "threads", "-t, --threads", NULL};
    check_task(&lm, LM_DEFAULTS, lm_own);
    const task fc = {"forecaster", "forecast", fc_create, fc_free, fc_set, fc_get, nlprnn_forecaster_param_info};
    static const char *const fc_own[] = {"target", NULL, "train", "--train-split", "valid", "--valid-split", "threads",
                                         "-t, --threads", NULL};
    check_task(&fc, FC_DEFAULTS, fc_own);

    /* the language model's choices are indices into their own lists: they read back by name */
    nlprnn_lm_params *p = NULL;
    char buf[64];
    CHECK_INT_EQ(nlprnn_lm_params_create(&p, NULL), 0);
    static const char *const pairs[][2] = {{"cell", "gru"},          {"cell", "lstm"},     {"directions", "forward"},
                                           {"directions", "backward"}, {"softmax", "full"}, {"seed", "18446744073709551615"}};
    for (size_t i = 0; p && i < sizeof pairs / sizeof *pairs; i++) {
        CHECK_INT_EQ(nlprnn_lm_params_set(p, pairs[i][0], pairs[i][1], NULL), 0);
        CHECK(nlprnn_lm_params_get(p, pairs[i][0], buf, sizeof buf, NULL) == 0 && !strcmp(buf, pairs[i][1]));
    }
    CHECK_INT_EQ(nlprnn_lm_params_set(p, "cell", "rnn", NULL), NLPRNN_E_INVALID_ARG); /* lstm | gru only */
    nlprnn_lm_params_free(p);
    return nr_test_done("test_params");
}

/* cli/cmd_eval.c: `nlprnn eval [--model FILE|NAME] FILE` — accuracy, per-class precision, recall
 * and F1, the confusion matrix and the log loss of a classifier on a labelled corpus. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn eval [--model FILE|NAME] [OPTIONS] FILE\n"
            "\n"
            "Evaluate a classifier on a labelled corpus (TSV/CSV with a header, or fastText\n"
            "__label__ lines; .gz is fine): accuracy, per-class precision/recall/F1, the\n"
            "confusion matrix (rows = true class, columns = predicted) and the log loss.\n"
            "\n"
            "  -m, --model FILE|NAME   model file or shipped name (default: ko)\n"
            "      --text-column NAME  --label-column NAME   (defaults: document/text/..., label)\n"
            "  -t, --threads N         threads (default: the cores this process may use, at most 16)\n"
            "  -f, --format text|tsv|json  tsv: one 'key<TAB>value' line per figure; json: one object,\n"
            "                          {\"model\":M,\"file\":F,\"documents\":N,\"skipped\":S,\"accuracy\":A,\n"
            "                          \"log_loss\":L,\"macro_f1\":F1,\"classes\":[{\"label\":C,\"precision\":P,\n"
            "                          \"recall\":R,\"f1\":F,\"support\":N},...],\"confusion\":[[N,...],...]}\n"
            "                          (confusion rows = true class, columns = predicted, in the\n"
            "                          order of classes) (default text)\n"
            "\n"
            "Evaluation files may label documents with the model's data labels (\"0\") or its label\n"
            "names (\"negative\"). A file that gives no document to evaluate is an error (exit 3).\n");
}

/* Precision, recall and F1 of class k from the confusion matrix cm (C,C; rows = true). */
static void class_scores(const long long *cm, int C, int k, double *pr, double *rcl, double *f1,
                         long long *sup) {
    long long tp = cm[(size_t)k * C + k], pred = 0;
    *sup = 0;
    for (int j = 0; j < C; j++) {
        pred += cm[(size_t)j * C + k];
        *sup += cm[(size_t)k * C + j];
    }
    *pr = pred ? (double)tp / (double)pred : 0;
    *rcl = *sup ? (double)tp / (double)*sup : 0;
    *f1 = *pr + *rcl > 0 ? 2 * *pr * *rcl / (*pr + *rcl) : 0;
}

static void print_json(const nlprnn_classifier *m, const char *path, const long long *cm, int C,
                       long long n, long long skipped, double acc, double logloss) {
    double macro = 0;
    printf("{\"model\":");
    cli_json_str(stdout, nlprnn_classifier_path(m));
    printf(",\"file\":");
    cli_json_str(stdout, path);
    printf(",\"documents\":%lld,\"skipped\":%lld,\"accuracy\":", n, skipped);
    cli_json_num(stdout, acc, 6);
    printf(",\"log_loss\":");
    cli_json_num(stdout, logloss, 6);
    for (int k = 0; k < C; k++) {
        double pr, rcl, f1;
        long long sup;
        class_scores(cm, C, k, &pr, &rcl, &f1, &sup);
        macro += f1 / C;
    }
    printf(",\"macro_f1\":");
    cli_json_num(stdout, macro, 6);
    printf(",\"classes\":[");
    for (int k = 0; k < C; k++) {
        double pr, rcl, f1;
        long long sup;
        class_scores(cm, C, k, &pr, &rcl, &f1, &sup);
        printf("%s{\"label\":", k ? "," : "");
        cli_json_str(stdout, nlprnn_classifier_label(m, k));
        printf(",\"precision\":%.6f,\"recall\":%.6f,\"f1\":%.6f,\"support\":%lld}", pr, rcl, f1, sup);
    }
    printf("],\"confusion\":[");
    for (int k = 0; k < C; k++) {
        printf("%s[", k ? "," : "");
        for (int j = 0; j < C; j++) printf("%s%lld", j ? "," : "", cm[(size_t)k * C + j]);
        putchar(']');
    }
    printf("]}\n");
}

int cmd_eval(int argc, char **argv) {
    const char *model = "ko", *path = NULL, *tcol = NULL, *lcol = NULL;
    int threads = 0, tsv = 0, json = 0; /* threads 0: the cores (nlprnn_classifier_evaluate) */
    enum { TEXT_COLUMN = CLI_LONG, LABEL_COLUMN };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"text-column", TEXT_COLUMN, CLI_ARG, NULL},
                                      {"label-column", LABEL_COLUMN, CLI_ARG, NULL},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {"format", 'f', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const formats[] = {"text", "tsv", "json", NULL};
    cli_args a;
    long long v = 0;
    int c;
    cli_args_init(&a, "eval", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case 'm': model = a.value; break;
        case TEXT_COLUMN: tcol = a.value; break;
        case LABEL_COLUMN: lcol = a.value; break;
        case 't': threads = cli_args_int(&a, 1, 16, &v) ? (int)v : 0; break;
        case 'f': {
            int k = cli_args_choice(&a, formats);
            tsv = k == 1;
            json = k == 2;
            break;
        }
        case CLI_POSITIONAL:
            if (path) cli_args_fail(&a, "one FILE only ('%s' and '%s')", path, a.value);
            path = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!path) return cli_usage_error("eval", "needs a labelled FILE");
    nlprnn_error err;
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load(model, &m, &err);
    if (rc) return cli_report("eval", rc, &err);
    nlprnn_classifier_eval ev = {.size = sizeof ev};
    rc = nlprnn_classifier_evaluate(m, path, tcol, lcol, threads, &ev, &err);
    if (rc) {
        nlprnn_classifier_free(m);
        return cli_report("eval", rc, &err);
    }
    int C = ev.classes;
    long long *cm = ev.confusion, n = ev.documents, skipped = ev.skipped;
    double acc = n ? ev.accuracy : NAN, logloss = ev.log_loss;
    if (json) {
        print_json(m, path, cm, C, n, skipped, acc, logloss);
    } else if (tsv) {
        printf("documents\t%lld\nskipped\t%lld\naccuracy\t%.6f\nlog_loss\t%.6f\n", n, skipped, acc,
               logloss);
    } else {
        printf("model: %s\nfile: %s\ndocuments: %lld (skipped %lld)\naccuracy: %.4f\nlog loss: %.4f\n\n",
               nlprnn_classifier_path(m), path, n, skipped, acc, logloss);
        printf("%-12s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "support");
    }
    for (int k = 0; k < C && !json; k++) {
        double pr, rcl, f1;
        long long sup;
        class_scores(cm, C, k, &pr, &rcl, &f1, &sup);
        if (tsv)
            printf("precision.%s\t%.6f\nrecall.%s\t%.6f\nf1.%s\t%.6f\nsupport.%s\t%lld\n",
                   nlprnn_classifier_label(m, k), pr, nlprnn_classifier_label(m, k), rcl,
                   nlprnn_classifier_label(m, k), f1, nlprnn_classifier_label(m, k), sup);
        else
            printf("%-12s %9.4f %9.4f %9.4f %9lld\n", nlprnn_classifier_label(m, k), pr, rcl, f1, sup);
    }
    if (tsv) {
        printf("macro_f1\t%.6f\n", ev.macro_f1);
        for (int k = 0; k < C; k++)
            for (int j = 0; j < C; j++)
                printf("confusion.%s.%s\t%lld\n", nlprnn_classifier_label(m, k), nlprnn_classifier_label(m, j),
                       cm[(size_t)k * C + j]);
    } else if (!json) {
        printf("%-12s %9s %9s %9.4f\n\nconfusion (rows = true, columns = predicted):\n%-12s", "macro",
               "", "", ev.macro_f1, "");
        for (int j = 0; j < C; j++) printf(" %9s", nlprnn_classifier_label(m, j));
        printf("\n");
        for (int k = 0; k < C; k++) {
            printf("%-12s", nlprnn_classifier_label(m, k));
            for (int j = 0; j < C; j++) printf(" %9lld", cm[(size_t)k * C + j]);
            printf("\n");
        }
    }
    nlprnn_free(cm);
    nlprnn_classifier_free(m);
    return CLI_OK;
}

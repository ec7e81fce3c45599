/* cli/cmd_lm.c: `nlprnn lm-train` (train a forward + backward language model) and `nlprnn lm-eval`
 * (perplexity per piece and bits per character of a text file). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_lm_train(int argc, char **argv);
int cmd_lm_eval(int argc, char **argv);

static void lm_train_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn lm-train (--tokenizer TOK | --init MODEL) --input FILE --output MODEL.nrm\n"
            "                       [--valid FILE] [--PARAM VALUE ...] [--quiet]\n\n"
            "Train a recurrent language model (forward and backward networks) on a text file, one\n"
            "text a line (.gz read too), and save it as a LANG model file.\n\n"
            "parameters (--name value; defaults in brackets):\n"
            "  --cell lstm|gru [lstm]    --layers N [1]      --embed E [256]     --hidden H [256]\n"
            "  --tied 0|1 [1]            --directions forward|both [both]\n"
            "  --softmax full|sampled [sampled]              --samples S [1024]\n"
            "  --batch B [64]            --max-len T [64]    --lr X [0.003]      --clip X [1]\n"
            "  --optimizer sgd|adam|adamw [adam]             --dropout X [0]     --epochs N [1]\n"
            "  --time-limit SECONDS [0: none] (per direction) --max-lines N [0: all]\n"
            "  --threads N [1]           --seed N [1]        --storage f32|f16|int8 [f16]\n"
            "  --parallel 0|1 [0]        train both directions at the same time (one thread each)\n"
            "  --valid-lines N [2000]    lines of --valid scored after training\n"
            "  --init MODEL              continue training MODEL (a LANG file or shipped name): its\n"
            "                            architecture and tokenizer are used, --tokenizer may be left out\n\n"
            "Ctrl-C stops after the current batch, leaves MODEL.nrm as it was and saves what was\n"
            "trained to MODEL.nrm.partial (exit 130).\n\n"
            "Data-parallel: mpirun -np N nlprnn lm-train ... runs N ranks; rank r keeps the lines\n"
            "i with i %% N == r, --batch is per rank, gradients are averaged with MPI_Allreduce,\n"
            "directions run one after the other, rank 0 alone prints and saves (docs/scaling.md).\n\n"
            "example: nlprnn lm-train --tokenizer pretrained/ko.tok \\\n"
            "           --input ../shared/corpora/nsmc/lm_train.txt.gz --output ko-lm.nrm --time-limit 600\n");
}

static volatile int lm_stop_flag; /* written by the signal handler */

static void lm_on_signal(int sig) {
    (void)sig;
    lm_stop_flag = 1;
}

static int lm_progress(void *user, const nlprnn_lm_progress *p) {
    if (*(int *)user) return 0;
    const char *dir = p->direction ? "backward" : "forward";
    if (p->phase == 0)
        fprintf(stderr, "lm-train: %s\n", p->message);
    else if (p->phase == 1)
        fprintf(stderr, "lm-train: %s epoch %d step %lld loss %.4f (ppl %.1f) %.0f pieces/s %.0f s\n", dir,
                p->epoch, p->step, p->loss, exp(p->loss), p->tokens_per_sec, p->elapsed);
    else
        fprintf(stderr, "lm-train: %s done: %lld steps in %.0f s, validation perplexity %.2f\n", dir,
                p->step, p->elapsed, p->valid_ppl);
    return 0;
}

int cmd_lm_train(int argc, char **argv) {
    const char *cmd = "lm-train";
    const char *input = NULL, *output = NULL, *valid = NULL;
    int quiet = 0;
    nlprnn_error err;
    nlprnn_lm_params *p = nlprnn_lm_params_new();
    if (!p) return cli_report(cmd, NLPRNN_E_NOMEM, NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            lm_train_usage(stdout);
            nlprnn_lm_params_free(p);
            return CLI_OK;
        }
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (strncmp(a, "--", 2) || i + 1 >= argc) {
            nlprnn_lm_params_free(p);
            return cli_usage_error(cmd, i + 1 >= argc && !strncmp(a, "--", 2) ? "option %s needs a value"
                                                                               : "unexpected argument '%s'", a);
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--input")) input = v;
        else if (!strcmp(a, "--output")) output = v;
        else if (!strcmp(a, "--valid")) valid = v;
        else if (nlprnn_lm_params_set(p, a + 2, v, &err)) {
            nlprnn_lm_params_free(p);
            return cli_usage_error(cmd, "%s", err.message);
        }
    }
    if (!input || !output) {
        nlprnn_lm_params_free(p);
        return cli_usage_error(cmd, "--input and --output are required");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lm_on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char name[64];
    int ec = cli_dist_begin(cmd, name, sizeof name);
    if (ec) {
        nlprnn_lm_params_free(p);
        return ec;
    }
    if (nlprnn_dist_rank() != 0) quiet = 1; /* rank 0 alone shows progress */
    int rc = nlprnn_lm_train(p, input, valid, output, &lm_stop_flag, lm_progress, &quiet, &err);
    nlprnn_lm_params_free(p);
    /* interrupted: the message names the .partial file; the output is left as it was */
    if (rc) return cli_dist_end(name, rc, &err);
    if (!quiet) fprintf(stderr, "lm-train: wrote %s\n", output);
    return cli_dist_end(name, 0, &err);
}

static void lm_eval_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn lm-eval [--model FILE|NAME] [--direction forward|backward] [--max-lines N]\n"
            "                      FILE...\n\n"
            "Score every non-empty line of each FILE (.gz read too) with a language model and print\n"
            "per file: lines, predicted pieces (tokens + one <eos> a line), characters (+1 a line),\n"
            "perplexity per piece and bits per character (comparable across tokenizers).\n\n"
            "options:\n"
            "  --model FILE|NAME   language model (default: the shipped \"ko\")\n"
            "  --direction D       forward (default) or backward\n"
            "  --max-lines N       only the first N lines of each file\n\n"
            "example: nlprnn lm-eval ../shared/corpora/nsmc/lm_valid.txt.gz\n");
}

int cmd_lm_eval(int argc, char **argv) {
    const char *cmd = "lm-eval";
    const char *model = "ko";
    int dir = NLPRNN_LM_FORWARD;
    long long max_lines = 0;
    const char *files[64];
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            lm_eval_usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--model") || !strcmp(a, "--direction") || !strcmp(a, "--max-lines")) {
            if (i + 1 >= argc) return cli_usage_error(cmd, "option %s needs a value", a);
            const char *v = argv[++i];
            if (a[2] == 'm' && a[3] == 'o') model = v;
            else if (a[2] == 'd') {
                if (!strcmp(v, "forward")) dir = NLPRNN_LM_FORWARD;
                else if (!strcmp(v, "backward")) dir = NLPRNN_LM_BACKWARD;
                else return cli_usage_error(cmd, "--direction must be forward or backward");
            } else {
                char *e;
                max_lines = strtoll(v, &e, 10);
                if (*e || max_lines < 0) return cli_usage_error(cmd, "bad --max-lines '%s'", v);
            }
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_usage_error(cmd, "unknown option '%s'", a);
        } else {
            if (nf == 64) return cli_usage_error(cmd, "at most 64 files");
            files[nf++] = a;
        }
    }
    if (!nf) return cli_usage_error(cmd, "no file to evaluate");
    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    int rc = nlprnn_lm_load(model, &lm, &err);
    if (rc) return cli_report(cmd, rc, &err);
    printf("file\tlines\tpieces\tchars\tppl\tbpc\tseconds\n");
    for (int f = 0; f < nf && !rc; f++) {
        nlprnn_lm_eval ev;
        memset(&ev, 0, sizeof ev);
        ev.size = sizeof ev;
        rc = nlprnn_lm_evaluate(lm, files[f], dir, max_lines, &ev, &err);
        if (rc) break;
        printf("%s\t%lld\t%lld\t%lld\t%.3f\t%.4f\t%.1f\n", files[f], ev.lines, ev.pieces, ev.chars, ev.ppl,
               ev.bpc, ev.seconds);
        if (cli_stdout_check(cmd)) { /* each file's line is out before the next is scored */
            nlprnn_lm_free(lm);
            return CLI_EXIT_IO;
        }
    }
    nlprnn_lm_free(lm);
    return rc ? cli_report(cmd, rc, &err) : CLI_OK;
}

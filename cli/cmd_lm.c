/* cli/cmd_lm.c: `nlprnn lm-train` (train a forward + backward language model) and `nlprnn lm-eval`
 * (perplexity per piece and bits per character of a text file). */
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_lm_train(int argc, char **argv);
int cmd_lm_eval(int argc, char **argv);

/* The language model's parameters that have options of their own (the rest are --NAME VALUE). */
static const char *const LM_OWN[] = {"init", "--init-from", "threads", "-t, --threads", NULL};

static void lm_train_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn lm-train (--tokenizer TOK | --init-from MODEL) -i FILE -o MODEL.nrm\n"
            "                       [--valid FILE] [--PARAM VALUE ...] [-q]\n\n"
            "Train a recurrent language model (forward and backward networks) on a text file, one\n"
            "text a line (.gz read too), and save it as a LANG model file.\n\n"
            "  -i, --input FILE          the training text (or give it as FILE)\n"
            "  -o, --output MODEL.nrm    the model file to write\n"
            "      --valid FILE          validation text, scored after training\n"
            "      --resume              continue from the checkpoints (MODEL.nrm.ckpt.fwd/.bwd or\n"
            "                            --checkpoint's) with the same options\n"
            "  -q, --quiet               no progress output\n\n"
            "parameters (--NAME VALUE or --NAME=VALUE; default, range; old spelling of --init-from:\n"
            "--init):\n");
    cli_param_usage(fp, nlprnn_lm_param_info, LM_OWN);
    fprintf(fp,
            "\n"
            "Ctrl-C stops after the current batch, saves the checkpoint, leaves MODEL.nrm as it was\n"
            "and saves what was trained to MODEL.nrm.partial (exit 130); --resume with the same\n"
            "options then gives the same model as an uninterrupted run.\n\n"
            "Data-parallel: mpirun -np N nlprnn lm-train ... runs N ranks; rank r keeps the lines\n"
            "i with i %% N == r, --batch is per rank, gradients are averaged with MPI_Allreduce,\n"
            "directions run one after the other, rank 0 alone prints and saves (docs/scaling.md).\n\n"
            "example: nlprnn lm-train --tokenizer pretrained/ko.tok \\\n"
            "           -i ../shared/corpora/nsmc/lm_train.txt.gz -o ko-lm.nrm --time-limit 600\n");
}

static int lm_progress(void *user, const nlprnn_lm_progress *p) {
    cli_progress *pr = user;
    const char *dir = p->direction ? "backward" : "forward";
    if (p->phase == 0)
        cli_progress_line(pr, "lm-train: %s", p->message);
    else if (p->phase == 1)
        cli_progress_status(pr, "lm-train: %s epoch %d step %lld loss %.4f (ppl %.1f) %.0f pieces/s %.0f s",
                            dir, p->epoch, p->step, p->loss, exp(p->loss), p->tokens_per_sec, p->elapsed);
    else
        cli_progress_line(pr, "lm-train: %s done: %lld steps in %.0f s, validation perplexity %.2f", dir,
                          p->step, p->elapsed, p->valid_ppl);
    return 0;
}

int cmd_lm_train(int argc, char **argv) {
    const char *cmd = "lm-train";
    const char *input = NULL, *output = NULL, *valid = NULL;
    int quiet = 0, resume = 0;
    nlprnn_error err;
    nlprnn_lm_params *p = NULL;
    int prc = nlprnn_lm_params_create(&p, &err);
    if (prc) return cli_report(cmd, prc, &err);
    enum { VALID = CLI_LONG, INIT, RESUME };
    static const cli_opt options[] = {{"input", 'i', CLI_ARG, NULL},
                                      {"resume", RESUME, CLI_NO_ARG, NULL},
                                      {"output", 'o', CLI_ARG, NULL},
                                      {"valid", VALID, CLI_ARG, NULL},
                                      {"quiet", 'q', CLI_NO_ARG, NULL},
                                      {"init-from", INIT, CLI_ARG, "--init"},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    const char *lm_param_names[64];
    cli_param_names(nlprnn_lm_param_info, LM_OWN, lm_param_names, sizeof lm_param_names / sizeof *lm_param_names);
    cli_args a;
    int c;
    cli_args_init(&a, cmd, argc, argv, options, lm_param_names);
    while ((c = cli_args_next(&a)) > CLI_END) {
        const char *name = NULL;
        switch (c) {
        case CLI_HELP:
            lm_train_usage(stdout);
            nlprnn_lm_params_free(p);
            return CLI_OK;
        case 'i':
        case CLI_POSITIONAL:
            if (input) cli_args_fail(&a, "one training file only ('%s' and '%s')", input, a.value);
            input = a.value;
            break;
        case 'o': output = a.value; break;
        case VALID: valid = a.value; break;
        case 'q': quiet = 1; break;
        case RESUME: resume = 1; break;
        case INIT: name = "init"; break;
        case 't': name = "threads"; break;
        default: name = lm_param_names[c - CLI_PARAM]; break;
        }
        if (name && nlprnn_lm_params_set(p, name, a.value, &err)) cli_args_fail(&a, "%s", err.message);
    }
    if (c == CLI_ERROR) {
        nlprnn_lm_params_free(p);
        return a.rc;
    }
    if (!input || !output) {
        nlprnn_lm_params_free(p);
        return cli_usage_error(cmd, "--input and --output are required");
    }
    const volatile int *stop = cli_catch_stop_signals();
    char name[64];
    nlprnn_comm *comm = NULL;
    int ec = cli_dist_begin(cmd, name, sizeof name, &comm);
    if (ec) {
        nlprnn_lm_params_free(p);
        return ec;
    }
    cli_progress pr;
    cli_progress_init(&pr, "", 0, quiet || nlprnn_comm_rank(comm) != 0); /* rank 0 alone shows progress */
    nlprnn_train_ctl *ctl = NULL;
    int rc = nlprnn_train_ctl_create(&ctl, &err);
    if (!rc) {
        nlprnn_train_ctl_set_stop(ctl, stop);
        nlprnn_train_ctl_set_comm(ctl, comm);
        nlprnn_train_ctl_set_resume(ctl, resume);
        rc = nlprnn_lm_train_ctl(p, input, valid, output, ctl, lm_progress, &pr, &err);
    }
    nlprnn_train_ctl_free(ctl);
    nlprnn_lm_params_free(p);
    cli_progress_end(&pr);
    /* interrupted: the message names the .partial file; the output is left as it was */
    if (rc) return cli_dist_end(name, comm, rc, &err);
    if (!pr.quiet) fprintf(stderr, "lm-train: wrote %s\n", output);
    return cli_dist_end(name, comm, 0, &err);
}

static void lm_eval_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn lm-eval [-m FILE|NAME] [--direction forward|backward] [--max-lines N]\n"
            "                      FILE...\n\n"
            "Score every non-empty line of each FILE (.gz read too) with a language model and print\n"
            "per file: lines, predicted pieces (tokens + one <eos> a line), characters (+1 a line),\n"
            "perplexity per piece and bits per character (comparable across tokenizers).\n\n"
            "options:\n"
            "  -m, --model FILE|NAME   language model (default: the shipped \"ko\")\n"
            "      --direction D       forward (default) or backward\n"
            "      --max-lines N       only the first N lines of each file\n\n"
            "example: nlprnn lm-eval ../shared/corpora/nsmc/lm_valid.txt.gz\n");
}

int cmd_lm_eval(int argc, char **argv) {
    const char *cmd = "lm-eval";
    const char *model = "ko";
    int dir = NLPRNN_LM_FORWARD;
    long long max_lines = 0;
    const char *files[64];
    int nf = 0;
    enum { DIRECTION = CLI_LONG, MAX_LINES };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"direction", DIRECTION, CLI_ARG, NULL},
                                      {"max-lines", MAX_LINES, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const dirs[] = {"forward", "backward", NULL};
    cli_args a;
    int c;
    cli_args_init(&a, cmd, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: lm_eval_usage(stdout); return CLI_OK;
        case 'm': model = a.value; break;
        case DIRECTION: dir = cli_args_choice(&a, dirs) == 1 ? NLPRNN_LM_BACKWARD : NLPRNN_LM_FORWARD; break;
        case MAX_LINES: cli_args_int(&a, 0, LLONG_MAX, &max_lines); break;
        case CLI_POSITIONAL:
            if (nf == 64) cli_args_fail(&a, "at most 64 files");
            else files[nf++] = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
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

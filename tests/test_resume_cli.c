/* tests/test_resume_cli.c: Ctrl-C and --resume through the program, for the tasks that train with
 * the one trainer (train/trainer.h): `forecast train`, `lm-train` (and `train`, in
 * test_cli_classify.sh).
 *
 * For each: an uninterrupted run writes model A; the same run is started again, gets SIGINT once
 * its checkpoint exists, and must exit 130 leaving the checkpoint (and no model); --resume then
 * finishes it and the model must be byte-identical to A, and the checkpoint gone. lm-train trains
 * its two directions one after the other, each with its own checkpoint (.fwd, .bwd): it is
 * stopped once in the forward direction and once in the backward one; the same in stream mode
 * (--bptt), whose checkpoints hold every stream's state, and with --bptt-reset bos (a resume
 * without it, and the option without --bptt, exit 2). Bad --bptt values exit 2. Needs the
 * program ($NLPRNN_CLI). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char dir[256];
static const char *cli;

static int run(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && OPENBLAS_NUM_THREADS=1 exec '%s' %s >out.txt 2>&1", dir, cli, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *output(void) {
    static char buf[8192];
    char p[512];
    snprintf(p, sizeof p, "%s/out.txt", dir);
    FILE *fp = fopen(p, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp) fclose(fp);
    buf[n] = '\0';
    return buf;
}

static int exists(const char *name) {
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && st.st_size > 0;
}

static unsigned char *slurp(const char *name, long *n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "rb");
    *n = -1;
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    *n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n + 1);
    if (!b || fread(b, 1, (size_t)*n, fp) != (size_t)*n) *n = -1;
    fclose(fp);
    return b;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Start `nlprnn ARGS` in dir, send SIGINT once dir/ckpt exists, return its exit status. */
static int run_interrupted(const char *args, const char *ckpt) {
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "cd '%s' && OPENBLAS_NUM_THREADS=1 exec '%s' %s >out.txt 2>&1", dir, cli, args);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) return -1;
    double t0 = now();
    while (!exists(ckpt) && now() - t0 < 120) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) return -2; /* ended before its first checkpoint */
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Uninterrupted vs interrupted + resumed: the same model file, byte for byte. ckpt: the file
 * whose appearance triggers SIGINT; gone: the checkpoints that must be gone at the end. */
static void check_resume2(const char *what, const char *args, const char *model, const char *ckpt,
                          const char *const *gone);
static void check_resume(const char *what, const char *args, const char *model, const char *ckpt) {
    const char *gone[] = {ckpt, NULL};
    check_resume2(what, args, model, ckpt, gone);
}

static void check_resume2(const char *what, const char *args, const char *model, const char *ckpt,
                          const char *const *gone) {
    char a[4096], once[128];
    snprintf(once, sizeof once, "once-%s", model);
    snprintf(a, sizeof a, "%s -o %s", args, once);
    int rc = run(a);
    CHECK_MSG(rc == 0, "%s: uninterrupted run: exit %d: %s", what, rc, output());
    snprintf(a, sizeof a, "%s -o %s", args, model);
    rc = run_interrupted(a, ckpt);
    CHECK_MSG(rc == 130, "%s: SIGINT: exit %d (want 130): %s", what, rc, output());
    CHECK_MSG(exists(ckpt) && !exists(model), "%s: after SIGINT: checkpoint %d, model %d", what, exists(ckpt),
              exists(model));
    CHECK_MSG(strstr(output(), "--resume"), "%s: the message should say how to continue: %s", what, output());
    snprintf(a, sizeof a, "%s -o %s --resume", args, model);
    rc = run(a);
    CHECK_MSG(rc == 0, "%s: --resume: exit %d: %s", what, rc, output());
    long na = 0, nb = 0;
    unsigned char *x = slurp(once, &na), *y = slurp(model, &nb);
    CHECK_MSG(na > 0 && na == nb && x && y && !memcmp(x, y, (size_t)na),
              "%s: the resumed model differs from the uninterrupted one (%ld vs %ld bytes)", what, na, nb);
    for (int i = 0; gone[i]; i++)
        CHECK_MSG(!exists(gone[i]), "%s: %s should be gone after the run completed", what, gone[i]);
    free(x);
    free(y);
}

int main(void) {
    cli = getenv("NLPRNN_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        printf("SKIP: the nlprnn program is not built (NLPRNN_CLI=%s)\n", cli ? cli : "unset");
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/nlprnn-test-resume-XXXXXX");
    if (!mkdtemp(dir)) return 1;

    /* forecast train: 30 epochs of a few ms each; the checkpoint appears after the first */
    CHECK_INT_EQ(run("forecast sine -o s.csv --length 3000 --period 25 --noise 0.05"), 0);
    check_resume("forecast train",
                 "forecast train --csv s.csv --column value --window 20 --hidden 16 --epochs 30 --quiet",
                 "fc.nrm", "fc.nrm.ckpt");
    /* --resume without a checkpoint: an I/O error naming it */
    int rc = run("forecast train --csv s.csv --column value --epochs 2 -o none.nrm --resume");
    CHECK_MSG(rc == 4 && strstr(output(), "none.nrm.ckpt"), "exit %d: %s", rc, output());

    /* lm-train: a week of day names a line (as in test_lm_cli), both directions, sampled softmax
     * and dropout (the random draws of a step), a checkpoint every 5 batches */
    char path[512];
    snprintf(path, sizeof path, "%s/week.txt", dir);
    FILE *fp = fopen(path, "w");
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    unsigned s = 12345;
    for (int i = 0; fp && i < 400; i++) {
        s = s * 1103515245u + 12345u;
        int st = (int)((s >> 16) % 7), len = 3 + (int)((s >> 8) % 5);
        for (int j = 0; j < len; j++) fprintf(fp, "%s%s", j ? " " : "", days[(st + j) % 7]);
        fputc('\n', fp);
    }
    CHECK(fp && fclose(fp) == 0);
    rc = run("tokenizer-train -i week.txt -o week.tok --model word --vocab-size 300 --min-count 1");
    CHECK_MSG(rc == 0, "tokenizer-train: exit %d: %s", rc, output());
    const char *lm = "lm-train --tokenizer week.tok -i week.txt --embed 16 --hidden 16 --batch 16 --epochs 30 "
                     "--samples 4 --dropout 0.1 --storage f32 --seed 5 -t 1 --checkpoint-every 5 -q";
    const char *gone[] = {"lm.nrm.ckpt.fwd", "lm.nrm.ckpt.bwd", NULL};
    check_resume2("lm-train, stopped in the forward direction", lm, "lm.nrm", "lm.nrm.ckpt.fwd", gone);
    const char *gone_b[] = {"lmb.nrm.ckpt.fwd", "lmb.nrm.ckpt.bwd", NULL};
    check_resume2("lm-train, stopped in the backward direction", lm, "lmb.nrm", "lmb.nrm.ckpt.bwd", gone_b);
    /* stream mode (bptt: every stream's state is in the checkpoint inside an epoch), stopped in
     * each direction; 2-layer LSTM, so that every layer's h and c are carried */
    char ls[1200];
    snprintf(ls, sizeof ls, "%s --bptt 6 --layers 2", lm);
    const char *gone_s[] = {"lms.nrm.ckpt.fwd", "lms.nrm.ckpt.bwd", NULL};
    check_resume2("lm-train --bptt 6, stopped in the forward direction", ls, "lms.nrm", "lms.nrm.ckpt.fwd", gone_s);
    const char *gone_sb[] = {"lmsb.nrm.ckpt.fwd", "lmsb.nrm.ckpt.bwd", NULL};
    check_resume2("lm-train --bptt 6, stopped in the backward direction", ls, "lmsb.nrm", "lmsb.nrm.ckpt.bwd", gone_sb);
    /* stream mode with each review's state zeroed at its <bos> (bptt-reset bos), stopped in the
     * forward direction; a resume without the option is refused naming it (exit 2), and so is the
     * option without stream mode */
    snprintf(ls, sizeof ls, "%s --bptt 6 --layers 2 --bptt-reset bos", lm);
    const char *gone_r[] = {"lmr.nrm.ckpt.fwd", "lmr.nrm.ckpt.bwd", NULL};
    check_resume2("lm-train --bptt 6 --bptt-reset bos, stopped in the forward direction", ls, "lmr.nrm",
                  "lmr.nrm.ckpt.fwd", gone_r);
    rc = run("info lmr.nrm");
    CHECK_MSG(rc == 0 && strstr(output(), "train.bptt_reset = bos"), "info: the CONF lacks train.bptt_reset: %s",
              output());
    {
        char a2[1400];
        snprintf(a2, sizeof a2, "%s --bptt 6 --layers 2 --bptt-reset bos -o lmr2.nrm --checkpoint-every 1", lm);
        CHECK_INT_EQ(run_interrupted(a2, "lmr2.nrm.ckpt.fwd"), 130);
        snprintf(a2, sizeof a2, "%s --bptt 6 --layers 2 -o lmr2.nrm --checkpoint-every 1 --resume", lm);
        rc = run(a2);
        CHECK_MSG(rc == 2 && strstr(output(), "bptt-reset=bos"), "resume without --bptt-reset: exit %d: %s", rc,
                  output());
        snprintf(a2, sizeof a2, "%s -o bad.nrm --bptt-reset bos", lm);
        rc = run(a2);
        CHECK_MSG(rc == 2 && strstr(output(), "bptt-reset") && strstr(output(), "stream mode"),
                  "--bptt-reset bos without --bptt: exit %d: %s", rc, output());
    }
    /* bad values: exit 2 naming the option */
    static const char *const bad[] = {"-1", "5000", "six"};
    for (int i = 0; i < 3; i++) {
        char a2[1200];
        snprintf(a2, sizeof a2, "%s -o bad.nrm --bptt %s", lm, bad[i]);
        rc = run(a2);
        CHECK_MSG(rc == 2 && strstr(output(), "bptt"), "--bptt %s: exit %d: %s", bad[i], rc, output());
    }
    /* more streams than the text can fill: exit 2 naming bptt and the batch */
    snprintf(ls, sizeof ls, "%s -o bad.nrm --bptt 6 --batch 4096", lm);
    rc = run(ls);
    CHECK_MSG(rc == 2 && strstr(output(), "bptt") && strstr(output(), "batch 4096"), "--batch 4096: exit %d: %s", rc,
              output());
    /* --resume with another parameter: exit 2 naming it; without a checkpoint: exit 4 naming it */
    char a[1024];
    snprintf(a, sizeof a, "%s -o lm2.nrm --checkpoint-every 1", lm);
    CHECK_INT_EQ(run_interrupted(a, "lm2.nrm.ckpt.fwd"), 130);
    snprintf(a, sizeof a, "%s -o lm2.nrm --seed 6 --resume", lm);
    rc = run(a);
    CHECK_MSG(rc == 2 && strstr(output(), "seed=5"), "lm-train --resume --seed 6: exit %d: %s", rc, output());
    snprintf(a, sizeof a, "%s -o none.nrm --resume", lm);
    rc = run(a);
    CHECK_MSG(rc == 4 && strstr(output(), "none.nrm.ckpt.fwd"), "exit %d: %s", rc, output());

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return nr_test_done("test_resume_cli");
}

/* tests/test_cli_grammar.c: the one command-line grammar of the nlprnn program (cli/args.c),
 * through the program ($NLPRNN_CLI) and the shipped models (pretrained/):
 *   - --opt=value means --opt value; short options bundle (-lq = -l -q); "--" ends the options
 *     (a file named "-x.txt" after it is a file);
 *   - the old spellings are aliases of the canonical names: same output (--top = -k = --top-k,
 *     --tokenizer = -m, tokenize -f = -i, tokenizer-train --model = --model-type and --vocab =
 *     --vocab-size, gradflow --csv = -o, forecast --csv = -i and eval --out = -o), and --help
 *     names both;
 *   - every command: -h and --help exit 0; an unknown option (long or short, also inside a
 *     bundle), an abbreviation of a long name, a missing value and a value given to an option
 *     that takes none are exit 2 with a message naming the option;
 *   - space -i = -f = --file, bundled -kt1 with --format=json = the long spellings; space,
 *     space-train, tag and tag-train name a bad value, a parameter out of range, --format of the
 *     other trainer and a second input;
 *   - tokenize -m takes a tokenizer file, a model file or a shipped name;
 *   - SIGTERM during lm-train: the shared stop flag, exit 130 and "interrupted".
 */
#define _DEFAULT_SOURCE /* realpath */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char g_dir[256];
static const char *g_cli;

/* Run "CLI ARGS" (printf-style) in the test folder with stderr joined to stdout; *out (may be
 * NULL) gets the output. Returns the exit status. */
static int cli(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli(char **out, const char *fmt, ...) {
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return nr_test_run(out, "cd %s && %s %s 2>&1", g_dir, g_cli, args);
}

/* Two command lines give the same output (and exit 0). */
static void same(const char *a, const char *b) {
    char *oa = NULL, *ob = NULL;
    int ra = cli(&oa, "%s", a), rb = cli(&ob, "%s", b);
    CHECK_MSG(ra == 0 && rb == 0 && oa && ob && !strcmp(oa, ob) && *oa,
              "'%s' (exit %d) and '%s' (exit %d) differ:\n%s\n---\n%s", a, ra, b, rb, oa ? oa : "",
              ob ? ob : "");
    free(oa);
    free(ob);
}

/* A command line is a usage error (exit 2) whose message holds every string of must. */
static void usage_error(const char *args, const char *must1, const char *must2) {
    char *o = NULL;
    int rc = cli(&o, "%s", args);
    CHECK_MSG(rc == 2 && o && strstr(o, must1) && (!must2 || strstr(o, must2)),
              "'%s': exit %d (expected 2), output: %s", args, rc, o ? o : "");
    free(o);
}

static void write_file(const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *fp = fopen(p, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

static int file_has(const char *name, const char *what) {
    char p[512], buf[16384];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *fp = fopen(p, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp) fclose(fp);
    buf[n] = 0;
    return strstr(buf, what) != NULL;
}

/* lm-train gets SIGTERM once it trains: the program's one stop flag, exit 130. */
static void lm_train_sigterm(void) {
    CHECK_INT_EQ(nr_test_run(NULL, "cut -f2 %s | tail -n +2 > %s/lm.txt", nr_test_data_path("clf_train.tsv"),
                             g_dir), 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && exec %s lm-train --tokenizer pretrained/ko.tok -i lm.txt -o lm.nrm --embed=8 "
             "--hidden=8 --softmax=full --epochs=100000 --batch=4 --directions=forward >lm.log 2>&1",
             g_dir, g_cli);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    if (pid <= 0) return;
    /* wait until it trains (at most 120 s), then a moment more */
    int training = 0;
    for (int i = 0; i < 1200 && !training; i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        training = file_has("lm.log", "training the forward model");
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            CHECK_MSG(0, "lm-train ended before the signal");
            return;
        }
    }
    CHECK_MSG(training, "lm-train did not start training within 120 s");
    struct timespec ts = {0, 500000000};
    nanosleep(&ts, NULL);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 130, "lm-train after SIGTERM: %s %d",
              WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    CHECK_MSG(file_has("lm.log", "interrupted"), "lm-train after SIGTERM says nothing of it");
}

int main(void) {
    g_cli = getenv("NLPRNN_CLI");
    if (!g_cli || access(g_cli, X_OK)) {
        fprintf(stderr, "test_cli_grammar: NLPRNN_CLI (the nlprnn program) is not set or not executable: skipped\n");
        return 77;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_cli_grammar_%d", (int)getpid());
    CHECK_INT_EQ(nr_test_run(NULL, "rm -rf %s && mkdir -p %s", g_dir, g_dir), 0);
    /* pretrained/ and data/ in the test folder are the repository's */
    char root[1024];
    CHECK(realpath(nr_test_data_path("../.."), root) != NULL);
    CHECK_INT_EQ(nr_test_run(NULL, "ln -s %s/pretrained %s/pretrained && ln -s %s/tests/data %s/data", root, g_dir,
                             root, g_dir), 0);
    write_file("docs.txt", "정말 재미있는 영화\n시간 낭비였다\n");
    write_file("-x.txt", "정말 재미있는 영화\n");

    /* ---- --opt=value, bundling, "--" ---------------------------------------------------------- */
    same("classify -m ko --lines --format json docs.txt", "classify --model=ko --lines --format=json docs.txt");
    same("classify -m ko --lines --format json docs.txt", "classify -lqfjson -mko docs.txt");
    same("classify -m ko --lines docs.txt", "classify docs.txt --lines -m ko"); /* options after arguments */
    usage_error("classify -m ko -x.txt", "unknown option '-x'", NULL);
    same("classify -m ko --lines ./-x.txt", "classify -m ko --lines -- -x.txt");
    same("eval -m ko --format tsv data/clf_test.tsv", "eval -mko -ftsv -- data/clf_test.tsv");

    /* ---- aliases: the old spellings still work, with the same result --------------------------- */
    same("next -m ko -k 3 '이 영화 정말'", "next --model ko --top 3 '이 영화 정말'");
    same("next -m ko -k 3 '이 영화 정말'", "next --model=ko --top-k=3 '이 영화 정말'");
    same("fill -m ko -k 2 '정말 ___ 영화'", "fill --model ko --top 2 '정말 ___ 영화'");
    same("generate -m ko -p '이 영화는' -k 5 --seed 3 --max-tokens 8",
         "generate --model ko --prompt '이 영화는' --top-k 5 --seed 3 --max-length 8");
    same("tokenize -m pretrained/ko.tok -i docs.txt", "tokenize --tokenizer pretrained/ko.tok -f docs.txt");
    /* --model takes a tokenizer file, a model file or a shipped name: the same tokenizer here */
    same("tokenize -m pretrained/ko.tok --ids '극장에서 봤어요'", "tokenize -m ko --ids '극장에서 봤어요'");
    same("tokenize -m pretrained/ko.tok --ids '극장에서 봤어요'", "tokenize -m pretrained/ko.nrm --ids '극장에서 봤어요'");
    CHECK_INT_EQ(cli(NULL, "tokenizer-train -i docs.txt -o a.tok --model-type word --vocab-size 300 --min-count 1 -q"), 0);
    CHECK_INT_EQ(cli(NULL, "tokenizer-train --input docs.txt --output b.tok --model word --vocab 300 --min-count 1"), 0);
    CHECK_INT_EQ(cli(NULL, "tokenizer-train -o c.tok --model-type=word --vocab-size=300 --min-count=1 -q docs.txt"), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "cmp -s %s/a.tok %s/b.tok && cmp -s %s/a.tok %s/c.tok", g_dir, g_dir, g_dir, g_dir), 0);
    CHECK_INT_EQ(cli(NULL, "gradflow --length 20 --hidden 4 --batch 2 -o g1.csv"), 0);
    CHECK_INT_EQ(cli(NULL, "gradflow --length 20 --hidden 4 --batch 2 --csv g2.csv"), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "cmp -s %s/g1.csv %s/g2.csv", g_dir, g_dir), 0);
    CHECK_INT_EQ(cli(NULL, "forecast sine -o s.csv --length 200 --period 20"), 0);
    CHECK_INT_EQ(cli(NULL, "forecast train -i s.csv --column value -o s.nrm --window 8 --hidden 4 --epochs 2 -q "
                           "--train-split 0.6 --valid-split 0.2"), 0);
    CHECK_INT_EQ(cli(NULL, "forecast train --csv s.csv --columns value -o t.nrm --window 8 --hidden 4 --epochs 2 "
                           "--quiet --train 0.6 --valid 0.2"), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "cmp -s %s/s.nrm %s/t.nrm", g_dir, g_dir), 0);
    same("forecast eval s.nrm -i s.csv -o p1.csv", "forecast eval --csv s.csv --out p1.csv -m s.nrm");
    same("forecast predict -m s.nrm -i s.csv --steps 3", "forecast predict s.nrm --csv=s.csv --steps=3");
    /* space: -i FILE (old spelling -f, --file), bundled -kt1, --format=json; tag: -i = FILE */
    write_file("ko.txt", "아버지가방에들어가신다\n그는 학교에가지않았다\n");
    same("space -i ko.txt", "space -f ko.txt");
    same("space -i ko.txt", "space --file=ko.txt");
    same("space --keep-spaces -t 1 --format json -i ko.txt", "space -kt1 --format=json - < ko.txt");
    usage_error("space -i ko.txt 아버지가방에", "give TEXT or files", NULL);
    usage_error("space --format xml 아버지가방에", "bad value 'xml' for --format", "text, json");
    usage_error("space -t 99 아버지가방에", "bad value '99' for -t", "0..16");
    usage_error("space-train -o x.nrm --hidden=0 ko.txt", "hidden", NULL);
    usage_error("space-train -o x.nrm --format tagged ko.txt", "--format: use tag-train", NULL);
    usage_error("tag-train -o x.nrm --no-such-parameter 3 ko.txt", "unknown option '--no-such-parameter'", NULL);
    usage_error("tag -m x.nrm a.txt b.txt", "one input only", NULL);

    /* --help shows the canonical name and the old spelling */
    char *o = NULL;
    CHECK_INT_EQ(cli(&o, "next --help"), 0);
    CHECK_MSG(o && strstr(o, "-k, --top-k") && strstr(o, "old spelling: --top"), "next --help: %s", o ? o : "");
    free(o);
    CHECK_INT_EQ(cli(&o, "train --help"), 0);
    CHECK_MSG(o && strstr(o, "--vocab-size") && strstr(o, "--vocab)"), "train --help: %s", o ? o : "");
    free(o);

    /* ---- every command: help, unknown options, missing values ---------------------------------- */
    static const char *const cmds[] = {"classify", "eval", "export", "fill", "forecast sine",
                                       "forecast windows", "forecast train", "forecast eval",
                                       "forecast predict", "generate", "gradflow", "import", "info",
                                       "lm-eval", "lm-train", "next", "space", "space-train", "tag",
                                       "tag-train", "tokenize", "tokenizer-train", "train", NULL};
    for (int i = 0; cmds[i]; i++) {
        char a[256];
        CHECK_MSG(cli(NULL, "%s -h >/dev/null", cmds[i]) == 0, "%s -h", cmds[i]);
        CHECK_MSG(cli(NULL, "%s --help >/dev/null", cmds[i]) == 0, "%s --help", cmds[i]);
        snprintf(a, sizeof a, "%s --no-such-option", cmds[i]);
        usage_error(a, "unknown option '--no-such-option'", "--help");
        snprintf(a, sizeof a, "%s --no-such-option=3", cmds[i]);
        usage_error(a, "unknown option '--no-such-option'", NULL);
        snprintf(a, sizeof a, "%s -Z", cmds[i]);
        usage_error(a, "unknown option '-Z'", NULL);
        snprintf(a, sizeof a, "%s --help=1", cmds[i]);
        usage_error(a, "option '--help' takes no value", NULL);
    }
    usage_error("classify -lZ", "unknown option '-Z'", NULL);            /* inside a bundle */
    usage_error("classify --form json", "unknown option '--form'", NULL);  /* no abbreviations */
    usage_error("classify --model", "option '--model' needs a value", NULL);
    usage_error("classify -m", "option '-m' needs a value", NULL);
    usage_error("next -k 0 '이 영화'", "bad value '0' for -k", "1..100");
    usage_error("next --top=1000 '이 영화'", "bad value '1000' for --top", NULL);
    usage_error("classify --format xml", "bad value 'xml' for --format", "tsv, json");
    usage_error("export ko --format=onnx -o x", "bad value 'onnx' for --format", "safetensors, vec");
    usage_error("import x.safetensors --set layers -o y.nrm --tokenizer ko", "--set needs KEY=VALUE", NULL);
    usage_error("import x.safetensors --kind=cnn", "bad value 'cnn' for --kind", "classifier, lm");
    usage_error("train --no-such-parameter 3 x.tsv -o m.nrm", "unknown option '--no-such-parameter'", NULL);
    usage_error("train --hidden 0 x.tsv -o m.nrm", "hidden", NULL);
    usage_error("lm-train --cell rnn -i x.txt -o m.nrm", "cell", NULL);
    usage_error("forecast train --window=0 -i s.csv --column value -o x.nrm", "window", NULL);
    CHECK_INT_EQ(cli(NULL, "forecast nosuch"), 2);

    lm_train_sigterm();

    if (!nr_test_failures) nr_test_run(NULL, "rm -rf %s", g_dir);
    return nr_test_done("test_cli_grammar");
}

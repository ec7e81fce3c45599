/* tests/test_stream_cli.c: every command that reads '-' line by line answers a line before the
 * next one arrives (issue 15; docs/cli.md "Streamed input"). A producer that writes one line and
 * waits for its answer (a coprocess, a pipeline that talks line by line) must get it: the command
 * runs with a pipe on its standard input and output, the test writes one line, waits for the
 * answer line (with a timeout: never a hang), writes a second line, reads its answer, closes the
 * input and checks the exit status. The answers must be those of the same lines read from a file
 * (big batches): streaming changes when a line is answered, never what.
 * Commands: classify --lines (2,048 documents a batch), space (256 lines a batch), translate with
 * and without --batch, tokenize (its input read through zlib before: 16 KiB at a time), fill -i.
 * (tag answers a sentence at its blank line, as before.) */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static const char *g_cli;

/* Seconds for the first answer (the model is loaded first; a sanitizer build is slow) and for
 * the second. */
#define FIRST_WAIT 20
#define NEXT_WAIT 10

typedef struct coproc {
    pid_t pid;
    int in, out; /* its standard input (we write), its standard output (we read) */
    char buf[1 << 16];
    size_t len;
} coproc;

static int coproc_start(coproc *c, const char *cmd) {
    int to[2], from[2];
    memset(c, 0, sizeof *c);
    if (pipe(to) || pipe(from)) return -1;
    c->pid = fork();
    if (c->pid < 0) return -1;
    if (c->pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(to[0]), close(from[1]);
    c->in = to[1];
    c->out = from[0];
    return 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Read until the output holds `lines` more lines than `start` bytes, waiting at most `seconds`:
 * 1 when they came, 0 on timeout or the end of the output. */
static int coproc_wait_lines(coproc *c, size_t start, int lines, double seconds) {
    double end = now() + seconds;
    for (;;) {
        int have = 0;
        for (size_t i = start; i < c->len; i++) have += c->buf[i] == '\n';
        if (have >= lines) return 1;
        double left = end - now();
        if (left <= 0 || c->len + 1 >= sizeof c->buf) return 0;
        struct pollfd p = {c->out, POLLIN, 0};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        ssize_t k = read(c->out, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (k <= 0) return 0;
        c->len += (size_t)k;
        c->buf[c->len] = 0;
    }
}

/* Close its input, read the rest of its output (a bounded wait) and return its exit status (-1:
 * it did not end and was killed). */
static int coproc_finish(coproc *c) {
    close(c->in);
    double end = now() + NEXT_WAIT;
    while (now() < end) {
        struct pollfd p = {c->out, POLLIN, 0};
        int r = poll(&p, 1, 200);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t k = read(c->out, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (k <= 0) break;
        c->len += (size_t)k;
        c->buf[c->len] = 0;
    }
    close(c->out);
    int st = 0;
    for (;;) {
        pid_t w = waitpid(c->pid, &st, WNOHANG);
        if (w == c->pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (now() > end + NEXT_WAIT) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            return -1;
        }
        struct timespec d = {0, 20 * 1000000L};
        nanosleep(&d, NULL);
    }
}

/* Talk to `nlprnn ARGS` line by line: each of the two lines is answered (answer_lines lines of
 * output each) before the next is written; the output equals that of the same input read from a
 * file. */
static void talk(const char *args, const char *line1, const char *line2, int answer_lines) {
    char cmd[2048], file[512];
    snprintf(cmd, sizeof cmd, "exec %s %s", g_cli, args);
    coproc c;
    if (coproc_start(&c, cmd)) {
        CHECK_MSG(0, "%s: cannot start", args);
        return;
    }
    CHECK_INT_EQ(write(c.in, line1, strlen(line1)), (long long)strlen(line1));
    int ok1 = coproc_wait_lines(&c, 0, answer_lines, FIRST_WAIT);
    CHECK_MSG(ok1, "%s: no answer to line 1 (\"%.*s\") before line 2: %zu bytes out so far \"%s\"", args,
              (int)strcspn(line1, "\n"), line1, c.len, c.buf);
    size_t first = c.len;
    CHECK_INT_EQ(write(c.in, line2, strlen(line2)), (long long)strlen(line2));
    int ok2 = ok1 && coproc_wait_lines(&c, first, answer_lines, NEXT_WAIT);
    CHECK_MSG(!ok1 || ok2, "%s: no answer to line 2 before the input ended: \"%s\"", args, c.buf);
    int rc = coproc_finish(&c);
    CHECK_MSG(rc == 0, "%s: exit status %d", args, rc);
    /* the same lines from a file */
    snprintf(file, sizeof file, "%s", nr_test_scratch("two.txt"));
    FILE *fp = fopen(file, "wb");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(line1, fp);
    fputs(line2, fp);
    fclose(fp);
    char *o = NULL;
    CHECK_INT_EQ(nr_test_run(&o, "%s %s < %s", g_cli, args, file), 0);
    CHECK_MSG(o && !strcmp(o, c.buf), "%s: streamed \"%s\", from a file \"%s\"", args, c.buf, o ? o : "");
    free(o);
    if (ok2) printf("%-44s answered each line before the next\n", args);
}

int main(void) {
    g_cli = getenv("NLPRNN_CLI");
    if (!g_cli || access(g_cli, X_OK)) {
        fprintf(stderr, "test_stream_cli: NLPRNN_CLI (the nlprnn program) is not set or not executable: skipped\n");
        return 77;
    }
    signal(SIGPIPE, SIG_IGN); /* a command that died early must fail a check, not kill the test */
    nr_test_scratch_make("stream_cli");
    const char *a = "이 영화 정말 재미있어요\n", *b = "시간 낭비였다 최악\n";
    talk("classify --lines -", a, b, 1);
    talk("classify --lines --format json --threads 2 -", a, b, 1);
    talk("space -", "아버지가방에들어가신다\n", "오늘은날씨가좋다\n", 1);
    talk("translate -", "안녕하세요\n", "감사합니다\n", 1);
    talk("translate --batch 8 -", "안녕하세요\n", "감사합니다\n", 1);
    talk("tokenize -", a, b, 1);
    talk("tokenize --ids --offsets", "\xEF\xBB\xBF" "극장에서 봤어요\n", "\n", 1); /* a BOM, an empty line */
    talk("fill --format json -i -", "오늘 ___ 보러 갔다\n", "이 영화 ___ 재미있다\n", 1);
    nr_test_scratch_remove();
    return nr_test_done("test_stream_cli");
}

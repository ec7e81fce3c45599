/* tests/test_cli_interop.c: `nlprnn export` and `nlprnn import` through the program
 * ($NLPRNN_CLI): a round trip of the shipped classifier and language model gives the same
 * answers, .vec output, and the exit codes and messages of what is refused. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char dir[256];
static const char *cli;

static const char *P(const char *name) {
    static char buf[16][512];
    static int k;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}


static char *output(const char *fmt, const char *a, const char *b) {
    char *o = NULL;
    int rc = nr_test_run(&o, fmt, cli, a, b);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, o ? o : "");
    return o;
}

int main(void) {
    cli = getenv("NLPRNN_CLI");
    if (!cli || access(cli, X_OK)) {
        printf("SKIP: $NLPRNN_CLI (the nlprnn program) is not set\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/nlprnn-cli-interop-XXXXXX");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    const char *review = "../examples/review.txt";

    /* classifier: export, import with the exported tokenizer, same output (stored as float16
     * like the shipped file: the same halves, so the same bits through the same kernels) */
    nr_test_expect(0, MUST("wrote"), "%s export ko -o %s --tokenizer-out %s", cli, P("ko.safetensors"),
           P("ko.tok"));
    nr_test_expect(0, MUST("a classifier"), "%s import %s --tokenizer %s -o %s --storage f16", cli,
           P("ko.safetensors"), P("ko.tok"), P("ko2.nrm"));
    char *a = output("%s classify -m %s %s", "ko", review);
    char *b = output("%s classify -m %s %s", P("ko2.nrm"), review);
    CHECK_MSG(a && b && !strcmp(a, b), "ko: %s / imported: %s", a, b);
    free(a);
    free(b);
    /* the tokenizer may also come from a model or a shipped name */
    nr_test_expect(0, MUST("a classifier"), "%s import %s --tokenizer ko -o %s", cli, P("ko.safetensors"),
           P("ko3.nrm"));
    nr_test_expect(0, MUST("storage = f32", "import.file = ko.safetensors"), "%s info %s", cli, P("ko3.nrm"));

    /* language model: --kind lm picks the shipped ko-lm; the import is found by its tensors */
    nr_test_expect(0, MUST("language model"), "%s export ko --kind lm -o %s", cli, P("lm.safetensors"));
    nr_test_expect(0, MUST("a language model"), "%s import %s --tokenizer ko-lm -o %s", cli,
           P("lm.safetensors"), P("lm.nrm"));
    const char *sent = "'난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다.'";
    a = output("%s fill --model %s --top 3 %s", "ko", sent);
    b = output("%s fill --model %s --top 3 %s", P("lm.nrm"), sent);
    CHECK_MSG(a && b && !strcmp(a, b), "ko-lm: %s / imported: %s", a, b);
    free(a);
    free(b);

    /* .vec: a header "V E" and one line per piece */
    nr_test_expect(0, MUST("as .vec"), "%s export ko -f vec -o %s", cli, P("ko.vec"));
    char *o = NULL;
    CHECK(nr_test_run(&o, "head -1 %s; wc -l < %s", P("ko.vec"), P("ko.vec")) == 0);
    CHECK_MSG(o && !strcmp(o, "16000 128\n16001\n"), "%s", o ? o : "");
    free(o);

    /* refusals: usage 2, I/O 4, not a model / not a fit 5 */
    nr_test_expect(2, MUST("needs -o OUT"), "%s export ko", cli);
    nr_test_expect(2, MUST("bad value 'onnx' for -f", "safetensors, vec"), "%s export ko -o %s -f onnx", cli, P("x"));
    nr_test_expect(4, MUST("nosuch.nrm"), "%s export ./nosuch.nrm -o %s", cli, P("x"));
    nr_test_expect(2, MUST("needs --tokenizer"), "%s import %s -o %s", cli, P("ko.safetensors"), P("x.nrm"));
    nr_test_expect(2, MUST("unknown key"), "%s import %s --tokenizer ko -o %s --set pooling=max", cli,
           P("ko.safetensors"), P("x.nrm"));
    nr_test_expect(2, MUST("tokenizer has"), "%s import %s --tokenizer %s -o %s", cli, P("ko.safetensors"),
           "../tests/data/tokenizer/nsmc8k.tok", P("x.nrm"));
    nr_test_expect(5, MUST("not a safetensors file"), "%s import ../pretrained/ko.nrm --tokenizer ko -o %s",
           cli, P("x.nrm"));
    nr_test_expect(5, MUST("says kind=lm, not classifier"), "%s import %s --tokenizer ko -o %s --kind classifier",
           cli, P("lm.safetensors"), P("x.nrm"));
    nr_test_expect(2, MUST("last, mean, max or concat"), "%s import %s --tokenizer ko -o %s --pool median", cli,
           P("ko.safetensors"), P("x.nrm"));
    CHECK_MSG(access(P("x.nrm"), F_OK) != 0, "a refused import left %s behind", P("x.nrm"));

    nr_test_run(NULL, "rm -rf '%s'", dir);
    return nr_test_done("test_cli_interop");
}

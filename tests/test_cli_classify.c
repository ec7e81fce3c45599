/* tests/test_cli_classify.c: runs tests/test_cli_classify.sh (the nlprnn program end to end:
 * train, classify, eval, info, exit codes, SIGINT + --resume) with $NLPRNN_CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

int main(void) {
    if (!getenv("NLPRNN_CLI")) {
        printf("SKIP: NLPRNN_CLI is not set (run through ctest)\n");
        return 77;
    }
    int rc = system("sh ./test_cli_classify.sh");
    if (rc == -1 || !WIFEXITED(rc)) return 1;
    return WEXITSTATUS(rc);
}

/* tests/test_python.c: runs tests/python/test_nlprnn.py, the Python module's test (python/nlprnn
 * over the library this build made: $NLPRNN_CLI's folder holds libnlprnn.so). Skipped (77) only
 * when python3 is not installed. In a sanitizer build the library needs the sanitizer runtimes
 * loaded first: the ones this test program runs with (found in /proc/self/maps) are preloaded into
 * python3, with leak detection off (the interpreter's own allocations are not the library's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* Paths of the sanitizer runtimes mapped into this process, separated by ':' (or ""). */
static void sanitizer_runtimes(char *out, size_t cap) {
    out[0] = 0;
    FILE *fp = fopen("/proc/self/maps", "r");
    if (!fp) return;
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        char *p = strchr(line, '/');
        if (!p) continue;
        p[strcspn(p, "\n")] = 0;
        const char *base = strrchr(p, '/') + 1;
        if (strncmp(base, "libasan.so", 10) && strncmp(base, "libubsan.so", 11)) continue;
        if (strstr(out, p)) continue;
        size_t n = strlen(out);
        if (!strncmp(base, "libasan.so", 10) && n) { /* ASan's runtime must come first */
            size_t pl = strlen(p);
            if (pl + 1 + n + 1 > cap) continue;
            memmove(out + pl + 1, out, n + 1);
            memcpy(out, p, pl);
            out[pl] = ':';
        } else {
            snprintf(out + n, cap - n, "%s%s", n ? ":" : "", p);
        }
    }
    fclose(fp);
}

int main(void) {
    if (nr_test_run(NULL, "command -v python3 >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_python: python3 is not installed: skipped\n");
        return 77;
    }
    const char *cli = getenv("NLPRNN_CLI");
    if (!cli || access(cli, X_OK)) {
        fprintf(stderr, "test_python: NLPRNN_CLI (the nlprnn program) is not set: skipped\n");
        return 77;
    }
    char lib[1024];
    snprintf(lib, sizeof lib, "%s", cli);
    char *slash = strrchr(lib, '/');
    snprintf(slash ? slash + 1 : lib, sizeof lib - (size_t)(slash ? slash + 1 - lib : 0), "libnlprnn.so");
    CHECK_MSG(access(lib, R_OK) == 0, "%s not found", lib);
    char pre[2048];
    sanitizer_runtimes(pre, sizeof pre);
    /* the test runs from tests/ (CTest's working folder): the module is ../python */
    char *out = NULL;
    int rc = nr_test_run(&out,
                         "%s%s%s NLPRNN_LIBRARY='%s' PYTHONPATH=../python PYTHONDONTWRITEBYTECODE=1 "
                         "ASAN_OPTIONS=detect_leaks=0 python3 python/test_nlprnn.py 2>&1",
                         pre[0] ? "LD_PRELOAD='" : "", pre, pre[0] ? "'" : "", lib);
    printf("%s", out ? out : "");
    CHECK_MSG(rc == 0, "tests/python/test_nlprnn.py exited %d", rc);
    CHECK(out && strstr(out, " 0 failed"));
    free(out);
    return nr_test_done("test_python");
}

/* tests/test_install_lookup.c: shipped models are found relative to where nlprnn is installed
 * (issue 17). `cmake --install` of this build into a temporary prefix P, then P/bin/nlprnn, with
 * no NLPRNN_MODEL_DIR, must load P/share/nlprnn/models/ko.nrm (not the source tree's
 * pretrained/, which comes later in the search), also after P is moved elsewhere (the path is
 * computed at run time, not configured); $XDG_DATA_HOME/nlprnn/models is searched too; a
 * missing name lists the folders searched. Skipped (77) when cmake is not on PATH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

int main(void) {
    const char *cli = getenv("NLPRNN_CLI");
    if (!cli || access(cli, X_OK)) {
        fprintf(stderr, "test_install_lookup: NLPRNN_CLI (the nlprnn program) is not set: skipped\n");
        return 77;
    }
    if (nr_test_run(NULL, "command -v cmake >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_install_lookup: cmake is not on PATH: skipped\n");
        return 77;
    }
    char build[1024], dir[256];
    snprintf(build, sizeof build, "%s", cli);
    char *slash = strrchr(build, '/');
    if (slash) *slash = 0;
    snprintf(dir, sizeof dir, "/tmp/nlprnn_test_install_%d", (int)getpid());
    CHECK_INT_EQ(nr_test_run(NULL, "rm -rf %s && mkdir -p %s/xdg/nlprnn/models", dir, dir), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "cmake --install '%s' --prefix %s/p >/dev/null 2>&1", build, dir), 0);
    const char *env = "env -u NLPRNN_MODEL_DIR -u XDG_DATA_HOME HOME=/nonexistent";
    char *o = NULL;
    char want[600];
    /* the installed program finds the installed model */
    CHECK_INT_EQ(nr_test_run(&o, "%s %s/p/bin/nlprnn info ko 2>&1 | head -1", env, dir), 0);
    snprintf(want, sizeof want, "file:     %s/p/share/nlprnn/models/ko.nrm\n", dir);
    CHECK_MSG(o && !strcmp(o, want), "installed: '%s', expected '%s'", o ? o : "", want);
    free(o);
    CHECK_INT_EQ(nr_test_run(&o, "echo '정말 지루하고 돈 아까운 영화' | %s %s/p/bin/nlprnn classify --lines", env, dir), 0);
    CHECK_MSG(o && !strncmp(o, "negative\t", 9), "installed classify: '%s'", o ? o : "");
    free(o);
    /* moved to another folder: still its own models (found at run time, not configured) */
    CHECK_INT_EQ(nr_test_run(NULL, "mv %s/p %s/moved", dir, dir), 0);
    CHECK_INT_EQ(nr_test_run(&o, "%s %s/moved/bin/nlprnn info ko 2>&1 | head -1", env, dir), 0);
    snprintf(want, sizeof want, "file:     %s/moved/share/nlprnn/models/ko.nrm\n", dir);
    CHECK_MSG(o && !strcmp(o, want), "moved: '%s', expected '%s'", o ? o : "", want);
    free(o);
    /* ... also when the program is found on PATH (argv[0] has no folder) */
    CHECK_INT_EQ(nr_test_run(&o, "cd %s && PATH=%s/moved/bin:$PATH %s nlprnn info ko 2>&1 | head -1", dir, dir, env), 0);
    CHECK_MSG(o && !strcmp(o, want), "moved, run from PATH: '%s', expected '%s'", o ? o : "", want);
    free(o);
    /* $XDG_DATA_HOME/nlprnn/models: a model of the user's own, by name */
    CHECK_INT_EQ(nr_test_run(NULL, "cp %s/moved/share/nlprnn/models/en.nrm %s/xdg/nlprnn/models/mine.nrm", dir, dir), 0);
    CHECK_INT_EQ(nr_test_run(&o, "env -u NLPRNN_MODEL_DIR XDG_DATA_HOME=%s/xdg %s/moved/bin/nlprnn info mine 2>&1 | head -1",
                             dir, dir), 0);
    snprintf(want, sizeof want, "file:     %s/xdg/nlprnn/models/mine.nrm\n", dir);
    CHECK_MSG(o && !strcmp(o, want), "xdg: '%s', expected '%s'", o ? o : "", want);
    free(o);
    /* a name found nowhere: exit 4, every folder named */
    CHECK_INT_EQ(nr_test_run(&o, "env -u NLPRNN_MODEL_DIR XDG_DATA_HOME=%s/xdg %s/moved/bin/nlprnn info nosuchmodel 2>&1",
                             dir, dir), 4);
    snprintf(want, sizeof want, "%s/moved/share/nlprnn/models", dir);
    CHECK_MSG(o && strstr(o, want) && strstr(o, "/xdg/nlprnn/models"), "missing model message: '%s'",
              o ? o : "");
    free(o);
    nr_test_run(NULL, "rm -rf %s", dir);
    return nr_test_done("test_install_lookup");
}

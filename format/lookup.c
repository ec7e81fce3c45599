/* format/lookup.c: model files by name. A bare name ([A-Za-z0-9_-]+) is a shipped model, looked
 * for as <name>.nrm in $NLPRNN_MODEL_DIR, PREFIX/share/nlprnn/models of where the library was
 * loaded from, the build's pretrained/, $XDG_DATA_HOME/nlprnn/models and the configured prefix;
 * every kind's loader resolves its argument here (nr_model_resolve). */
#define _GNU_SOURCE /* dladdr: where this library was loaded from (nlprnn_model_find) */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "nlprnn/modelfile.h"

static int is_bare_name(const char *s) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* The folders shipped models are searched in, in order (nlprnn_model_find): dirs[] gets up to 6
 * paths built in store (each NUL-terminated). */
static int model_dirs(char store[6][4096], const char **dirs) {
    int n = 0;
    const char *env = getenv("NLPRNN_MODEL_DIR");
    if (env && *env) snprintf(store[n], 4096, "%s", env), dirs[n] = store[n], n++;
    /* relative to where this code was loaded from: PREFIX/lib/libnlprnn.so (or
     * PREFIX/lib/<multiarch>/, or a program in PREFIX/bin linked statically) ->
     * PREFIX/share/nlprnn/models; so an install to any prefix finds its models without a
     * variable, and the path is never baked in */
    Dl_info info;
    const char *self = NULL;
    char exe[4096];
    if (dladdr((void *)&model_dirs, &info) && info.dli_fname && strchr(info.dli_fname, '/'))
        self = info.dli_fname;
    else {
        /* code linked into the program itself: dladdr names it as argv[0], which has no folder
         * when the program was found on PATH (`nlprnn classify ...`); the kernel knows the file */
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k > 0) exe[k] = 0, self = exe;
    }
    if (self) {
        /* the third: a build folder, which CMake makes look like a prefix (BUILD/share/nlprnn/models
         * is a link to the source tree's pretrained/) for the library and the program in BUILD/ */
        static const char *const rel[3] = {"../share/nlprnn/models", "../../share/nlprnn/models",
                                           "share/nlprnn/models"};
        for (int r = 0; r < 3; r++) {
            char real[4096];
            const char *at = realpath(self, real) ? real : self;
            const char *slash = strrchr(at, '/');
            snprintf(store[n], 4096, "%.*s/%s", (int)(slash - at), at, rel[r]);
            if (access(store[n], F_OK) == 0) {
                char norm[4096]; /* PREFIX/share/..., not PREFIX/lib/../share/... */
                if (realpath(store[n], norm)) snprintf(store[n], 4096, "%s", norm);
                dirs[n] = store[n];
                n++;
                break;
            }
        }
    }
    /* the user's own data folder (XDG base directories) */
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg == '/') snprintf(store[n], 4096, "%s/nlprnn/models", xdg), dirs[n] = store[n], n++;
    else if (home && *home) snprintf(store[n], 4096, "%s/.local/share/nlprnn/models", home), dirs[n] = store[n], n++;
    dirs[n++] = NLPRNN_MODEL_DIR_INSTALL; /* the prefix configured at build time */
    return n;
}

int nlprnn_model_find(const char *name, char *buf, size_t cap, nlprnn_error *err) {
    if (!buf) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "model find: NULL buffer");
    if (!name || !is_bare_name(name) || strlen(name) > 200)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "model name '%s' is not a bare name ([A-Za-z0-9_-]+)", name ? name : "(null)");
    char store[6][4096];
    const char *dirs[6];
    int nd = model_dirs(store, dirs);
    char tried[1200] = "";
    for (int i = 0; i < nd; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s.nrm", dirs[i], name);
        FILE *fp = fopen(p, "rb");
        if (fp) {
            fclose(fp);
            if (strlen(p) + 1 > cap)
                return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "model path %s is too long", p);
            memcpy(buf, p, strlen(p) + 1);
            return NLPRNN_OK;
        }
        size_t tl = strlen(tried);
        snprintf(tried + tl, sizeof tried - tl, "%s%s", tl ? ", " : "", dirs[i]);
    }
    return nr_fail(err, NLPRNN_E_IO, -1, -1,
                   "no shipped model named '%s' (looked for %s.nrm in: %.900s)", name, name, tried);
}

int nr_model_resolve(const char *path_or_name, const char *alias_of_ko, char *buf, size_t cap,
                     nlprnn_error *err) {
    if (!path_or_name || !*path_or_name)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "no model path or name given");
    if (is_bare_name(path_or_name)) {
        /* a bare name is always a shipped model, never a file or folder of that name in the
         * current folder: the default model must not depend on where a command runs */
        char name[256];
        snprintf(name, sizeof name, "%s",
                 alias_of_ko && !strcmp(path_or_name, "ko") ? alias_of_ko : path_or_name);
        int rc = nlprnn_model_find(name, buf, cap, err);
        if (rc == NLPRNN_E_IO && access(path_or_name, F_OK) == 0) {
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err ? err->message : "");
            rc = nr_fail(err, NLPRNN_E_IO, -1, -1,
                         "%.300s; a name without '/' or '.' is a shipped model: for the file "
                         "'%.200s' in the current folder write ./%.200s",
                         why, path_or_name, path_or_name);
        }
        return rc;
    }
    if (strlen(path_or_name) + 1 > cap)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "model path is too long");
    memcpy(buf, path_or_name, strlen(path_or_name) + 1);
    return NLPRNN_OK;
}

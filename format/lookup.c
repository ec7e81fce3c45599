/* format/lookup.c: model files by name. A bare name ([A-Za-z0-9_-]+) is a shipped model, looked
 * for as <name>.nrm in $NLPRNN_MODEL_DIR, the build's pretrained/ and the installed models folder;
 * every kind's loader resolves its argument here (nr_model_resolve). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "nlprnn/classifier.h"

static int is_bare_name(const char *s) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int nlprnn_model_find(const char *name, char *buf, size_t cap, nlprnn_error *err) {
    if (!buf) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "model find: NULL buffer");
    if (!name || !is_bare_name(name) || strlen(name) > 200)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "model name '%s' is not a bare name ([A-Za-z0-9_-]+)", name ? name : "(null)");
    const char *env = getenv("NLPRNN_MODEL_DIR");
    const char *dirs[3] = {env && *env ? env : NULL, NLPRNN_MODEL_DIR_BUILD, NLPRNN_MODEL_DIR_INSTALL};
    char tried[400] = "";
    for (int i = 0; i < 3; i++) {
        if (!dirs[i]) continue;
        char p[4096];
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
                   "no shipped model named '%s' (looked for %s.nrm in $NLPRNN_MODEL_DIR and: %s)", name,
                   name, tried);
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

/* cli/plugin.c: load one of the program's optional parts (cli.h, cli_plugin_open).
 *
 * The paths are relative to the program's own file (/proc/self/exe), so an install to any prefix
 * finds its plugins without a path compiled in: NLPRNN_CLI_LIBDIR_REL is LIBDIR relative to
 * BINDIR of the configured install (e.g. "../lib/x86_64-linux-gnu"), set by CMakeLists.txt. The
 * build tree keeps the plugins beside the program. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef NLPRNN_CLI_LIBDIR_REL
#define NLPRNN_CLI_LIBDIR_REL "../lib"
#endif

/* The program's folder into dir (no trailing '/'); 0, or -1 when /proc/self/exe is unreadable. */
static int exe_dir(char *dir, size_t cap) {
    ssize_t k = readlink("/proc/self/exe", dir, cap - 1);
    if (k <= 0) return -1;
    dir[k] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash) return -1;
    *slash = '\0';
    return 0;
}

void *cli_plugin_open(const char *file, const char *subdir, int search_default, int global, char *msg,
                      size_t cap) {
    char dir[4096], paths[3][4096 + 512];
    int n = 0;
    if (exe_dir(dir, sizeof dir) == 0) {
        snprintf(paths[n++], sizeof paths[0], "%s/%s%s%s/%s", dir, NLPRNN_CLI_LIBDIR_REL, subdir ? "/" : "",
                 subdir ? subdir : "", file);
        snprintf(paths[n++], sizeof paths[0], "%s/%s", dir, file);
    }
    if (search_default) snprintf(paths[n++], sizeof paths[0], "%s", file);
    int mode = RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL);
    char reason[1024] = "";
    for (int i = 0; i < n; i++) {
        /* a path that is not there is skipped quietly; a file that is there but does not load
         * (a missing dependency, another architecture) is the reason reported */
        if (strchr(paths[i], '/') && access(paths[i], F_OK) != 0) continue;
        void *h = dlopen(paths[i], mode);
        if (h) return h;
        const char *e = dlerror();
        if (!reason[0]) snprintf(reason, sizeof reason, "%s", e ? e : "unknown error");
    }
    int len = snprintf(msg, cap, "cannot load %s (", file);
    for (int i = 0; i < n && len >= 0 && (size_t)len < cap; i++)
        len += snprintf(msg + len, cap - (size_t)len, "%s%s", i ? ", " : "looked for ", paths[i]);
    if (len >= 0 && (size_t)len < cap)
        snprintf(msg + len, cap - (size_t)len, "): %s", reason[0] ? reason : "not found");
    return NULL;
}

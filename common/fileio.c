/* common/fileio.c: atomic file writing (temporary file, fsync, rename), the rules for output
 * paths (only a regular file is replaced; an output is none of the run's other files), and
 * small-file reading. The public nlprnn_output_* functions (nlprnn/files.h) wrap the same code. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "nlprnn/files.h"

/* What a non-regular file is, for messages. */
static const char *file_kind(mode_t m) {
    if (S_ISLNK(m)) return "a symbolic link";
    if (S_ISDIR(m)) return "a folder";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a named pipe (FIFO)";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

/* The rule for every output path: it does not exist yet, or it is a regular file (not followed
 * through a symbolic link). *st receives lstat()'s answer; *exists whether there is a file. */
static int output_kind_ok(const char *path, struct stat *st, int *exists, nlprnn_error *err) {
    *exists = 0;
    if (lstat(path, st) != 0) {
        if (errno == ENOENT) return NLPRNN_OK;
        return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: %s", path, strerror(errno));
    }
    *exists = 1;
    if (S_ISREG(st->st_mode)) return NLPRNN_OK;
    return nr_fail(err, NLPRNN_E_IO, -1, -1,
                   "%s: is %s; nlprnn writes an output to a new file and renames it over the old "
                   "one, so it replaces only a regular file (never a link, device, pipe, socket or "
                   "folder): choose another path",
                   path, file_kind(st->st_mode));
}

/* 1 when a and b name the same file: the same device and inode when both exist; the same folder
 * (device and inode) and the same last name when neither exists yet. */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea || eb) return ea && eb && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char *ca = nr_strdup(a), *cb = nr_strdup(b), *da = nr_strdup(a), *db = nr_strdup(b);
    int same = 0;
    if (ca && cb && da && db && !strcmp(basename(ca), basename(cb)) &&
        stat(dirname(da), &sa) == 0 && stat(dirname(db), &sb) == 0)
        same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    free(ca), free(cb), free(da), free(db);
    return same;
}

int nr_output_check(const char *path, const char *const *others, size_t n, nlprnn_error *err) {
    struct stat st;
    int exists;
    int rc = output_kind_ok(path, &st, &exists, err);
    for (size_t i = 0; i < n && !rc; i++)
        if (others[i] && others[i][0] && same_file(path, others[i]))
            rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                         "%s and %s are the same file: an output must not be a file the same run "
                         "reads or writes (compared by device and inode): choose another path",
                         path, others[i]);
    return rc;
}

int nr_atomic_open(nr_atomic_file *af, const char *path, nlprnn_error *err) {
    memset(af, 0, sizeof *af);
    struct stat st;
    int exists;
    int rc = output_kind_ok(path, &st, &exists, err);
    if (rc) return rc;
    size_t n = strlen(path);
    af->path = nr_strdup(path);
    af->tmp_path = malloc(n + 16);
    if (!af->path || !af->tmp_path) {
        nr_atomic_abort(af);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    /* PATH.tmp.XXXXXX, created exclusively: a new output gets 0666 minus the umask (the kernel
     * applies it), a replaced one keeps its permission bits (and its group where we may) */
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    nr_rng r;
    nr_rng_seed(&r, (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 12) ^
                        (uint64_t)(uintptr_t)af);
    int fd = -1;
    for (int attempt = 0; attempt < 1000 && fd < 0; attempt++) {
        memcpy(af->tmp_path, path, n);
        memcpy(af->tmp_path + n, ".tmp.", 5);
        for (int k = 0; k < 6; k++) af->tmp_path[n + 5 + k] = digits[nr_rng_below(&r, sizeof digits - 1)];
        af->tmp_path[n + 11] = '\0';
        fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exists ? 0600 : 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        nr_atomic_abort(af);
        return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: cannot create temporary file: %s", path,
                       strerror(e));
    }
    if (exists) {
        if (st.st_gid != getegid() && fchown(fd, (uid_t)-1, st.st_gid) != 0) {
            /* not a member of that group: the file gets ours (as with cp) */
        }
        if (fchmod(fd, st.st_mode & 0777) != 0) {
            int e = errno;
            close(fd);
            nr_atomic_abort(af);
            return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: cannot set the mode of the temporary file: %s",
                           path, strerror(e));
        }
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        nr_atomic_abort(af);
        return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: %s", path, strerror(e));
    }
    return NLPRNN_OK;
}

int nr_atomic_commit(nr_atomic_file *af, nlprnn_error *err) {
    int e = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp)) e = errno ? errno : EIO;
#ifndef NR_ATOMIC_NO_FSYNC /* the fuzz build only (tests/fuzz/CMakeLists.txt) */
    if (!e && fsync(fileno(af->fp)) != 0) e = errno;
#endif
    if (fclose(af->fp) != 0 && !e) e = errno;
    af->fp = NULL;
    if (e) {
        int rc = nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: write failed: %s", af->path, strerror(e));
        nr_atomic_abort(af);
        return rc;
    }
    /* what is at the path may have changed since nr_atomic_open: the same rule again */
    struct stat st;
    int exists;
    int rc = output_kind_ok(af->path, &st, &exists, err);
    if (rc) {
        nr_atomic_abort(af);
        return rc;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        rc = nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: write failed: %s", af->path, strerror(errno));
        nr_atomic_abort(af);
        return rc;
    }
    /* make the rename itself durable */
#ifdef NR_ATOMIC_NO_FSYNC
    char *dir = NULL;
#else
    char *dir = nr_strdup(af->path);
#endif
    if (dir) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(af->tmp_path);
    free(af->path);
    af->tmp_path = af->path = NULL;
    return NLPRNN_OK;
}

void nr_atomic_abort(nr_atomic_file *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
}

int nr_atomic_write_file(const char *path, const void *data, size_t n, nlprnn_error *err) {
    nr_atomic_file af;
    int rc = nr_atomic_open(&af, path, err);
    if (rc) return rc;
    if (n && fwrite(data, 1, n, af.fp) != n) {
        rc = nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: write failed: %s", path, strerror(errno));
        nr_atomic_abort(&af);
        return rc;
    }
    return nr_atomic_commit(&af, err);
}

/* Read fp to its end into a malloc'ed buffer, the first `len` bytes of which are given in head;
 * at most max_bytes + 1 bytes in all (one byte past the limit proves the file is too large). */
static int read_rest(FILE *fp, const char *path, const unsigned char *head, size_t len,
                     size_t max_bytes, int past_declared, char **data, size_t *n,
                     nlprnn_error *err);

int nr_read_file(const char *path, char **data, size_t *n, size_t max_bytes, nlprnn_error *err) {
    return nr_read_file_checked(path, 0, NULL, data, n, max_bytes, err);
}

int nr_read_file_checked(const char *path, size_t head_n, nr_head_check check, char **data,
                         size_t *n, size_t max_bytes, nlprnn_error *err) {
    *data = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: %s", path, strerror(errno));
    unsigned char head[64];
    size_t got = 0;
    int declared_limit = 0;
    if (check) {
        if (head_n > sizeof head) head_n = sizeof head;
        got = fread(head, 1, head_n, fp);
        if (got < head_n && ferror(fp)) {
            fclose(fp);
            return nr_fail(err, NLPRNN_E_IO, -1, (long long)got, "%s: read error", path);
        }
        uint64_t declared = 0;
        int rc = check(head, got, path, &declared, err);
        if (rc) {
            fclose(fp);
            return rc;
        }
        if (declared > max_bytes) {
            fclose(fp);
            return nr_fail(err, NLPRNN_E_LIMIT, -1, -1,
                           "%s: the header declares %llu bytes, more than the limit of %zu", path,
                           (unsigned long long)declared, max_bytes);
        }
        if (declared >= got) { /* never read past the declared end (but one byte, as proof) */
            max_bytes = (size_t)declared;
            declared_limit = 1;
        }
    }
    return read_rest(fp, path, head, got, max_bytes, declared_limit, data, n, err);
}

static int read_rest(FILE *fp, const char *path, const unsigned char *head, size_t len,
                     size_t max_bytes, int past_declared, char **data, size_t *n,
                     nlprnn_error *err) {
    /* A regular file's size sizes the buffer at once (one allocation, huge pages for a large
     * model file: nr_big_alloc), with room for the byte that proves it did not grow; else (a
     * pipe, a file that grows) the buffer doubles as it fills. */
    size_t cap = (size_t)1 << 16;
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uintmax_t)st.st_size < SIZE_MAX - 2)
        cap = (size_t)st.st_size + 1;
    if (max_bytes < SIZE_MAX - 1 && cap > max_bytes + 1) cap = max_bytes + 1;
    if (cap < len) cap = len;
    char *buf = nr_big_alloc(cap + 1, 1);
    if (!buf) {
        fclose(fp);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    if (len) memcpy(buf, head, len);
    for (;;) {
        if (len > max_bytes) {
            free(buf);
            fclose(fp);
            if (past_declared)
                return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)max_bytes,
                               "%s: unexpected bytes after the end at byte %zu (the size its "
                               "header declares)",
                               path, max_bytes);
            return nr_fail(err, NLPRNN_E_LIMIT, -1, (long long)max_bytes,
                           "%s: larger than the limit of %zu bytes", path, max_bytes);
        }
        if (len == cap) {
            size_t ncap = cap * 2;
            if (ncap > max_bytes + 1) ncap = max_bytes + 1;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return nr_fail(err, NLPRNN_E_IO, -1, (long long)len, "%s: read error", path);
    }
    buf[len] = '\0';
    *data = buf;
    *n = len;
    return NLPRNN_OK;
}

/* ---- public API (nlprnn/files.h) ------------------------------------------------------------ */

struct nlprnn_output {
    nr_atomic_file af;
};

int nlprnn_output_check(const char *path, const char *const *others, size_t n_others,
                        nlprnn_error *err) {
    if (!path || (n_others && !others))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_output_check: NULL argument");
    return nr_output_check(path, others, n_others, err);
}

int nlprnn_output_open(const char *path, nlprnn_output **out, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_output_open: NULL argument");
    nlprnn_output *o = malloc(sizeof *o);
    if (!o) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    int rc = nr_atomic_open(&o->af, path, err);
    if (rc) {
        free(o);
        return rc;
    }
    *out = o;
    return NLPRNN_OK;
}

FILE *nlprnn_output_stream(nlprnn_output *o) { return o ? o->af.fp : NULL; }

int nlprnn_output_commit(nlprnn_output *o, nlprnn_error *err) {
    if (!o) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_output_commit: NULL argument");
    int rc = nr_atomic_commit(&o->af, err);
    free(o);
    return rc;
}

void nlprnn_output_abort(nlprnn_output *o) {
    if (!o) return;
    nr_atomic_abort(&o->af);
    free(o);
}

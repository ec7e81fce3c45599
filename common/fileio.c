/* common/fileio.c: atomic file writing (temporary file, fsync, rename) and small-file reading. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

int nr_atomic_open(nr_atomic_file *af, const char *path, nlprnn_error *err) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = nr_strdup(path);
    af->tmp_path = malloc(n + 16);
    if (!af->path || !af->tmp_path) {
        nr_atomic_abort(af);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        nr_atomic_abort(af);
        return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: cannot create temporary file: %s", path,
                       strerror(e));
    }
    fchmod(fd, 0644);
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
    if (!e && fsync(fileno(af->fp)) != 0) e = errno;
    if (fclose(af->fp) != 0 && !e) e = errno;
    af->fp = NULL;
    if (!e && rename(af->tmp_path, af->path) != 0) e = errno;
    if (e) {
        int rc = nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: write failed: %s", af->path, strerror(e));
        nr_atomic_abort(af);
        return rc;
    }
    /* make the rename itself durable */
    char *dir = nr_strdup(af->path);
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

int nr_read_file(const char *path, char **data, size_t *n, size_t max_bytes, nlprnn_error *err) {
    *data = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: %s", path, strerror(errno));
    /* read at most max_bytes + 1 bytes: one byte past the limit proves the file is too large */
    size_t cap = (size_t)1 << 16, len = 0;
    if (max_bytes < SIZE_MAX - 1 && cap > max_bytes + 1) cap = max_bytes + 1;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(fp);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    for (;;) {
        if (len > max_bytes) {
            free(buf);
            fclose(fp);
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

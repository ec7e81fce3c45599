/* tests/test_common.c: status names, error records, RNG determinism, atomic writes. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "common/common.h"
#include "nlprnn.h"
#include "testutil.h"

static void test_status(void) {
    CHECK_STR_EQ(nlprnn_status_name(NLPRNN_OK), "NLPRNN_OK");
    CHECK_STR_EQ(nlprnn_status_name(NLPRNN_E_UTF8), "NLPRNN_E_UTF8");
    CHECK_STR_EQ(nlprnn_status_name(12345), "NLPRNN_E_UNKNOWN");
    CHECK_INT_EQ(NLPRNN_E_CHECKSUM, -7); /* codes are fixed forever */
    CHECK_INT_EQ(NLPRNN_E_STATE, -17);
    CHECK_STR_EQ(nlprnn_version_string(), NLPRNN_VERSION_STRING);
    CHECK_INT_EQ(nlprnn_version_number(), NLPRNN_VERSION_NUMBER);
    nlprnn_error e;
    nlprnn_error_clear(&e);
    CHECK_INT_EQ(e.code, 0);
    int rc = nr_fail(&e, NLPRNN_E_UTF8, 3, 17, "%s:%d: invalid UTF-8 at byte %d", "x.txt", 3, 17);
    CHECK_INT_EQ(rc, NLPRNN_E_UTF8);
    CHECK_INT_EQ(e.line, 3);
    CHECK_INT_EQ(e.offset, 17);
    CHECK_STR_EQ(e.message, "x.txt:3: invalid UTF-8 at byte 17");
    CHECK_INT_EQ(nr_fail(NULL, NLPRNN_E_IO, -1, -1, "ignored"), NLPRNN_E_IO);
}

static void test_rng(void) {
    nr_rng a, b;
    nr_rng_seed(&a, 42);
    nr_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++) CHECK(nr_rng_u64(&a) == nr_rng_u64(&b));
    nr_rng_seed(&b, 43);
    CHECK(nr_rng_u64(&a) != nr_rng_u64(&b));
    double sum = 0, sq = 0;
    for (int i = 0; i < 100000; i++) {
        float u = nr_rng_uniform(&a);
        CHECK(u >= 0.0f && u < 1.0f);
        float z = nr_rng_normal(&a);
        sum += z;
        sq += (double)z * z;
    }
    CHECK_NEAR(sum / 100000, 0.0, 0.02);
    CHECK_NEAR(sq / 100000, 1.0, 0.03);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) counts[nr_rng_below(&a, 7)]++;
    for (int i = 0; i < 7; i++) CHECK(counts[i] > 9400 && counts[i] < 10600);
    int v[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, seen = 0;
    nr_rng_shuffle(&a, v, 10, sizeof v[0]);
    for (int i = 0; i < 10; i++) seen |= 1 << v[i];
    CHECK_INT_EQ(seen, 1023);
}

static void test_atomic(void) {
    char dir[] = "/tmp/nlprnn_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/file.bin", dir);
    nlprnn_error e;
    CHECK_INT_EQ(nr_atomic_write_file(path, "hello", 5, &e), 0);
    char *data;
    size_t n;
    CHECK_INT_EQ(nr_read_file(path, &data, &n, 1 << 20, &e), 0);
    CHECK_INT_EQ(n, 5);
    CHECK(memcmp(data, "hello", 5) == 0);
    free(data);
    /* an aborted write leaves the old content and no temporary behind */
    nr_atomic_file af;
    CHECK_INT_EQ(nr_atomic_open(&af, path, &e), 0);
    fputs("partial", af.fp);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s", af.tmp_path);
    nr_atomic_abort(&af);
    CHECK(access(tmp, F_OK) != 0);
    CHECK_INT_EQ(nr_read_file(path, &data, &n, 1 << 20, &e), 0);
    CHECK(n == 5 && memcmp(data, "hello", 5) == 0);
    free(data);
    /* size limit and missing files are errors with codes */
    CHECK_INT_EQ(nr_read_file(path, &data, &n, 2, &e), NLPRNN_E_LIMIT);
    CHECK_INT_EQ(nr_read_file("/nonexistent/x", &data, &n, 10, &e), NLPRNN_E_IO);
    CHECK(strstr(e.message, "/nonexistent/x") != NULL);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/nodir/file", dir);
    CHECK_INT_EQ(nr_atomic_write_file(bad, "x", 1, &e), NLPRNN_E_IO);
    unlink(path);
    rmdir(dir);
}

/* nr_big_alloc: large buffers 2 MiB-aligned (Linux), usable to the last byte, freed by free();
 * small ones plain; overflowing sizes refused. nr_read_file sizes its buffer from the file: a
 * file of 3 MiB (the big-buffer path) reads back whole, at the limit exactly and one byte over. */
static void test_big(void) {
    size_t n = (3u << 20) + 5;
    unsigned char *p = nr_big_alloc(n, 1);
    CHECK(p != NULL);
#if defined(__linux__)
    CHECK_MSG(((uintptr_t)p & ((2u << 20) - 1)) == 0, "%p is not 2 MiB-aligned", (void *)p);
#endif
    if (p) {
        for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7);
        CHECK(p[0] == 0 && p[n - 1] == (unsigned char)((n - 1) * 7));
    }
    free(p);
    float *q = nr_big_alloc(3, sizeof(float));
    CHECK(q != NULL);
    if (q) q[2] = 1.0f;
    free(q);
    CHECK(nr_big_alloc(SIZE_MAX / 2, 4) == NULL);

    char dir[] = "/tmp/nlprnn_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    nlprnn_error e;
    unsigned char *w = malloc(n);
    CHECK(w != NULL);
    if (!w) return;
    for (size_t i = 0; i < n; i++) w[i] = (unsigned char)(i * 13 + (i >> 12));
    CHECK_INT_EQ(nr_atomic_write_file(path, w, n, &e), 0);
    char *data;
    size_t got;
    CHECK_INT_EQ(nr_read_file(path, &data, &got, n, &e), 0); /* the limit exactly */
    CHECK_INT_EQ(got, n);
    CHECK(data && memcmp(data, w, n) == 0 && data[n] == '\0');
    free(data);
    CHECK_INT_EQ(nr_read_file(path, &data, &got, n - 1, &e), NLPRNN_E_LIMIT);
    free(w);
    unlink(path);
    rmdir(dir);
}

/* nr_crc32 equals zlib's crc32: every length 0-1100 at 16 alignments (the folded path from 64
 * bytes, the tail through zlib), a 3 MB buffer, a chain of pieces, a non-zero start. */
static void test_crc32(void) {
    size_t N = 3u << 20;
    unsigned char *b = malloc(N + 16);
    CHECK(b != NULL);
    if (!b) return;
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < N + 16; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (unsigned char)x;
    }
    int bad = 0;
    for (size_t off = 0; off < 16; off++)
        for (size_t n = 0; n <= 1100; n++)
            if (nr_crc32(0, b + off, n) != (uint32_t)crc32(0L, b + off, (uInt)n) && bad++ < 3)
                CHECK_MSG(0, "nr_crc32 of %zu bytes at offset %zu differs from zlib's", n, off);
    CHECK_INT_EQ(bad, 0);
    CHECK(nr_crc32(0, b, N) == (uint32_t)crc32(0L, b, (uInt)N));
    CHECK(nr_crc32(0xdeadbeef, b + 3, N - 3) == (uint32_t)crc32(0xdeadbeefL, b + 3, (uInt)(N - 3)));
    uint32_t c = 0;
    for (size_t at = 0, k = 1; at < N; at += k, k = k * 3 % 9973 + 1)
        c = nr_crc32(c, b + at, at + k > N ? N - at : k);
    CHECK(c == (uint32_t)crc32(0L, b, (uInt)N));
    free(b);
}

int main(void) {
    test_big();
    test_status();
    test_rng();
    test_atomic();
    test_crc32();
    return nr_test_done("test_common");
}

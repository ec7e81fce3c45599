/* tests/test_modelfile.c: the model-file container: float16/int8 conversions, round trips,
 * config getters, and every kind of damage (truncation at every byte, flipped bits in every
 * byte, wrong magic/kind/version, trailing bytes), each with its documented status code. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/common.h"
#include "corpora/dataset.h"
#include "tasks/classify/classifier.h"
#include "format/modelfile.h"
#include "models/gemv_f16.h"
#include "models/kernels/kernels.h"
#include "models/quant.h"
#include "nlprnn/modelfile.h"
#include "testutil.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Reference float32 -> float16 by search over all finite halves (ties to the even code). */
static uint16_t ref_f16(float x) {
    uint16_t sign = x < 0 || (x == 0 && signbit(x)) ? 0x8000 : 0;
    double a = fabs((double)x);
    if (a >= 65520.0) return sign | 0x7C00; /* halfway between 65504 and 2^16 rounds to inf */
    int lo = 0, hi = 0x7BFF;                 /* largest code with value <= a */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if ((double)nr_f16_to_f32((uint16_t)mid) <= a) lo = mid;
        else hi = mid - 1;
    }
    if (lo == 0x7BFF) return sign | 0x7BFF;
    double d0 = a - nr_f16_to_f32((uint16_t)lo), d1 = nr_f16_to_f32((uint16_t)(lo + 1)) - a;
    int c = d0 < d1 ? lo : d1 < d0 ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
    return (uint16_t)(sign | c);
}

static void test_f16(void) {
    /* every half survives half -> float -> half (NaNs stay NaN) */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = nr_f16_to_f32((uint16_t)h);
        uint16_t back = nr_f32_to_f16(f);
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) bad += !isnan(f) || (back & 0x7C00) != 0x7C00 || !(back & 0x3FF);
        else bad += back != h;
    }
    CHECK_INT_EQ(bad, 0);
    CHECK_INT_EQ(nr_f32_to_f16(1.0f), 0x3C00);
    CHECK_INT_EQ(nr_f32_to_f16(-2.0f), 0xC000);
    CHECK_INT_EQ(nr_f32_to_f16(65504.0f), 0x7BFF);
    CHECK_INT_EQ(nr_f32_to_f16(65519.0f), 0x7BFF);
    CHECK_INT_EQ(nr_f32_to_f16(65520.0f), 0x7C00);
    CHECK_INT_EQ(nr_f32_to_f16(1.0f + 1.0f / 2048), 0x3C00);     /* tie -> even */
    CHECK_INT_EQ(nr_f32_to_f16(1.0f + 3.0f / 2048), 0x3C02);     /* tie -> even (up) */
    CHECK_INT_EQ(nr_f32_to_f16(ldexpf(1.0f, -24)), 0x0001);      /* smallest subnormal */
    CHECK_INT_EQ(nr_f32_to_f16(ldexpf(1.0f, -25)), 0x0000);      /* tie -> even (zero) */
    CHECK_INT_EQ(nr_f32_to_f16(ldexpf(3.0f, -26)), 0x0001);
    CHECK_INT_EQ(nr_f32_to_f16(ldexpf(1023.5f, -24)), 0x0400);   /* carries into normal */
    CHECK_INT_EQ(nr_f32_to_f16(-0.0f), 0x8000);
    CHECK_INT_EQ(nr_f32_to_f16(INFINITY), 0x7C00);
    CHECK(isnan(nr_f16_to_f32(nr_f32_to_f16(NAN))));
    /* random floats against the reference */
    nr_rng g;
    nr_rng_seed(&g, 3);
    bad = 0;
    for (int i = 0; i < 200000; i++) {
        float x;
        if (i % 2) x = from_bits((uint32_t)nr_rng_u64(&g)); /* any bit pattern */
        else x = ldexpf(nr_rng_uniform(&g) * 2 - 1, (int)nr_rng_below(&g, 44) - 28);
        if (isnan(x)) continue;
        uint16_t got = nr_f32_to_f16(x), want = ref_f16(x);
        if (got != want) {
            if (bad < 5) fprintf(stderr, "f16(%a = %08x) = %04x, want %04x\n", x, bits(x), got, want);
            bad++;
        }
    }
    CHECK_INT_EQ(bad, 0);
}

static void test_i8(void) {
    float x[100], y[100], scale;
    int8_t q[100];
    nr_rng g;
    nr_rng_seed(&g, 5);
    for (int i = 0; i < 100; i++) x[i] = nr_rng_normal(&g) * 3;
    nr_quant_i8_row(q, &scale, x, 100);
    nr_dequant_i8_row(y, q, scale, 100);
    float amax = 0, emax = 0;
    for (int i = 0; i < 100; i++) {
        amax = fmaxf(amax, fabsf(x[i]));
        emax = fmaxf(emax, fabsf(x[i] - y[i]));
    }
    CHECK_NEAR(scale, amax / 127, 1e-7);
    CHECK(emax <= scale * 0.5f * 1.0001f);
    int has127 = 0;
    for (int i = 0; i < 100; i++) has127 |= q[i] == 127 || q[i] == -127;
    CHECK(has127);
    /* nr_dequant_i8_row_same: the widened row itself, and not a row one bit away (any element) */
    CHECK(nr_dequant_i8_row_same(y, q, scale, 100));
    for (int i = 0; i < 100; i += 33) {
        float keep = y[i];
        y[i] = nextafterf(y[i], INFINITY);
        CHECK(!nr_dequant_i8_row_same(y, q, scale, 100));
        y[i] = keep;
    }
    y[99] = -0.0f, q[99] = 0; /* +0.0f (0 * scale) is not -0.0f */
    CHECK(!nr_dequant_i8_row_same(y, q, scale, 100));
    float z[3] = {0, 0, 0};
    nr_quant_i8_row(q, &scale, z, 3);
    CHECK(scale == 0 && q[0] == 0);
}

/* ---- a small model used by the round-trip and damage tests -------------------------------- */

static float W[6 * 40], B[40], E[3 * 5];

static nr_mf_writer *small_model(const char *kind) {
    nr_rng g;
    nr_rng_seed(&g, 11);
    for (int i = 0; i < 6 * 40; i++) W[i] = nr_rng_normal(&g);
    for (int i = 0; i < 40; i++) B[i] = nr_rng_uniform(&g) - 0.5f;
    for (int i = 0; i < 15; i++) E[i] = (float)i * 0.25f - 1;
    nlprnn_error err;
    nr_mf_writer *w;
    CHECK_INT_EQ(nr_mf_writer_new(&w, kind, &err), 0);
    nr_mf_buf c;
    nr_mf_buf_init(&c);
    CHECK_INT_EQ(nr_conf_put_int(&c, "hidden", 40, &err), 0);
    CHECK_INT_EQ(nr_conf_put_float(&c, "lr", 0.001, &err), 0);
    CHECK_INT_EQ(nr_conf_put_str(&c, "cell", "lstm", &err), 0);
    CHECK_INT_EQ(nr_conf_put_str(&c, "note", "two\nlines \\ and\ttab", &err), 0);
    CHECK_INT_EQ(nr_conf_put_int(&c, "big", -9000000000LL, &err), 0);
    CHECK_INT_EQ(nr_mf_add(w, "CONF", NR_MF_CONFIG, c.data, c.len, 1, &err), 0);
    nr_mf_buf_free(&c);
    char tok[300];
    for (int i = 0; i < 300; i++) tok[i] = (char)('a' + i % 7);
    CHECK_INT_EQ(nr_mf_add(w, "TOKN", NR_MF_RAW, tok, sizeof tok, 1, &err), 0);
    nr_label_map m;
    nr_label_map_init(&m);
    nr_label_map_add(&m, "부정", strlen("부정"), &err);
    nr_label_map_add(&m, "pos", 3, &err);
    CHECK_INT_EQ(nr_label_map_save(&m, w, "LABL", &err), 0);
    nr_label_map_free(&m);
    nr_mf_buf t;
    nr_mf_buf_init(&t);
    size_t sw[2] = {6, 40}, sb[1] = {40}, se[2] = {3, 5}, s0[2] = {0, 5};
    CHECK_INT_EQ(nr_tensor_put(&t, "enc.W", W, 2, sw, NR_DTYPE_F16, &err), 0);
    CHECK_INT_EQ(nr_tensor_put(&t, "enc.b", B, 1, sb, NR_DTYPE_F32, &err), 0);
    CHECK_INT_EQ(nr_tensor_put(&t, "emb", E, 2, se, NR_DTYPE_I8, &err), 0);
    CHECK_INT_EQ(nr_tensor_put(&t, "empty", NULL, 2, s0, NR_DTYPE_I8, &err), 0);
    CHECK_INT_EQ(nr_tensor_put(&t, "scalar", B, 0, NULL, NR_DTYPE_F32, &err), 0);
    CHECK_INT_EQ(nr_mf_add(w, "WGHT", NR_MF_TENSORS, t.data, t.len, 0, &err), 0);
    nr_mf_buf_free(&t);
    CHECK_INT_EQ(nr_mf_add(w, "OPTM", NR_MF_RAW, "", 0, 0, &err), 0);
    return w;
}

static void test_roundtrip(void) {
    nlprnn_error err;
    nr_mf_writer *w = small_model(NR_KIND_CLASSIFIER);
    /* writer argument checks */
    CHECK_INT_EQ(nr_mf_add(w, "CONF", NR_MF_RAW, "x", 1, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nr_mf_add(w, "bad!", NR_MF_RAW, "x", 1, 0, &err), NLPRNN_E_INVALID_ARG);
    nr_mf_buf t;
    nr_mf_buf_init(&t);
    float inf = INFINITY;
    size_t one = 1;
    CHECK_INT_EQ(nr_tensor_put(&t, "x", &inf, 1, &one, NR_DTYPE_F16, &err), NLPRNN_E_NUMERIC);
    CHECK_INT_EQ(nr_tensor_put(&t, "x", &inf, 1, &one, NR_DTYPE_F32, &err), 0);
    CHECK_INT_EQ(nr_conf_put_int(&t, "bad key", 1, &err), NLPRNN_E_INVALID_ARG);
    nr_mf_buf_free(&t);

    unsigned char *mem;
    size_t n;
    CHECK_INT_EQ(nr_mf_writer_to_mem(w, &mem, &n, &err), 0);
    CHECK_INT_EQ(n % 8, 0);
    char path[] = "/tmp/nlprnn_test_modelfile_XXXXXX";
    CHECK(mkdtemp(path) != NULL);
    char file[256];
    snprintf(file, sizeof file, "%s/m.nrm", path);
    CHECK_INT_EQ(nr_mf_writer_save(w, file, &err), 0);
    CHECK_INT_EQ(nr_mf_writer_save(w, file, &err), 0); /* over an existing file */
    char *disk;
    size_t dn;
    CHECK_INT_EQ(nr_read_file(file, &disk, &dn, 1 << 20, &err), 0);
    CHECK(dn == n && memcmp(disk, mem, n) == 0);
    free(disk);
    /* only m.nrm is left in the folder (no temporary files) */
    DIR *d = opendir(path);
    int files = 0;
    for (struct dirent *de; d && (de = readdir(d));) files += de->d_name[0] != '.';
    if (d) closedir(d);
    CHECK_INT_EQ(files, 1);
    CHECK_INT_EQ(nr_mf_writer_save(w, "/nonexistent/dir/m.nrm", &err), NLPRNN_E_IO);

    nr_mf_reader *r;
    CHECK_INT_EQ(nr_mf_open_file(&r, file, NR_KIND_CLASSIFIER, &err), 0);
    if (!r) return;
    CHECK_STR_EQ(nr_mf_kind(r), "CLSF");
    CHECK_INT_EQ(nr_mf_version(r), 1);
    CHECK_INT_EQ(nr_mf_section_count(r), 5);
    CHECK_INT_EQ(nr_mf_file_size(r), n);
    const nr_mf_section *s = nr_mf_find(r, "TOKN");
    CHECK(s && s->encoding == NR_MF_ZLIB && s->raw_len == 300 && s->stored_len < 300);
    CHECK(s && s->data[7] == 'a' && s->data[299] == 'a' + 299 % 7);
    s = nr_mf_find(r, "OPTM");
    CHECK(s && s->raw_len == 0);
    CHECK(nr_mf_find(r, "NOPE") == NULL);
    CHECK_INT_EQ(nr_mf_require(r, "NOPE", &s, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "no section NOPE") != NULL);

    nr_conf c;
    CHECK_INT_EQ(nr_mf_get_conf(r, "CONF", &c, &err), 0);
    long long h = 0;
    double lr = 0;
    const char *str = NULL;
    CHECK_INT_EQ(nr_conf_get_int(&c, "hidden", &h, &err), 0);
    CHECK_INT_EQ(h, 40);
    CHECK_INT_EQ(nr_conf_get_int(&c, "big", &h, &err), 0);
    CHECK_INT_EQ(h, -9000000000LL);
    CHECK_INT_EQ(nr_conf_get_float(&c, "lr", &lr, &err), 0);
    CHECK(lr == 0.001);
    CHECK_INT_EQ(nr_conf_get_float(&c, "hidden", &lr, &err), 0);
    CHECK(lr == 40.0);
    CHECK_INT_EQ(nr_conf_get_str(&c, "note", &str, &err), 0);
    CHECK_STR_EQ(str, "two\nlines \\ and\ttab");
    CHECK_INT_EQ(nr_conf_get_int(&c, "cell", &h, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "section CONF: key \"cell\" = \"lstm\" is not an integer") != NULL);
    CHECK(strstr(err.message, file) == err.message);
    CHECK_INT_EQ(nr_conf_get_int(&c, "lr", &h, &err), NLPRNN_E_FORMAT);
    CHECK_INT_EQ(nr_conf_get_float(&c, "cell", &lr, &err), NLPRNN_E_FORMAT);
    CHECK_INT_EQ(nr_conf_get_int(&c, "layers", &h, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "missing key \"layers\"") != NULL);
    CHECK(!nr_conf_has(&c, "layers") && nr_conf_has(&c, "cell"));
    nr_conf_free(&c);
    CHECK_INT_EQ(nr_mf_get_conf(r, "TOKN", &c, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "section TOKN is not a config section") != NULL);
    /* a section of another content, or none, for each kind of getter: one message each */
    const char **strs = NULL;
    size_t nstrs = 0;
    CHECK_INT_EQ(nr_mf_get_strings(r, "WGHT", &strs, &nstrs, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "section WGHT is not a string list") != NULL && !strs && nstrs == 0);
    nr_tensor_info tn;
    CHECK_INT_EQ(nr_mf_tensor_at(r, "CONF", 0, &tn, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "section CONF is not a tensor section") != NULL);
    CHECK_INT_EQ(nr_mf_tensor_at(r, "ZZZZ", 0, &tn, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "no section ZZZZ in this") != NULL);
    const nr_mf_section *sec = NULL;
    CHECK_INT_EQ(nr_mf_require_content(r, "CONF", NR_MF_CONFIG, &sec, &err), 0);
    CHECK(sec && !memcmp(sec->tag, "CONF", 4));
    CHECK_INT_EQ(nr_mf_require_content(r, "WGHT", NR_MF_CONFIG, &sec, &err), NLPRNN_E_FORMAT);
    CHECK(sec == NULL);

    nr_label_map m;
    CHECK_INT_EQ(nr_label_map_load(&m, r, "LABL", &err), 0);
    CHECK_INT_EQ(m.n, 2);
    CHECK_STR_EQ(nr_label_map_name(&m, 0), "부정");
    CHECK_INT_EQ(nr_label_map_find(&m, "pos", 3), 1);
    nr_label_map_free(&m);
    CHECK_INT_EQ(nr_label_map_load(&m, r, "TOKN", &err), NLPRNN_E_FORMAT);

    CHECK_INT_EQ(nr_mf_tensor_count(r, "WGHT"), 5);
    nr_tensor_info ti;
    CHECK_INT_EQ(nr_mf_tensor_info(r, "WGHT", "emb", &ti, &err), 0);
    CHECK(ti.dtype == NR_DTYPE_I8 && ti.ndim == 2 && ti.shape[0] == 3 && ti.shape[1] == 5 &&
          ti.count == 15 && ti.stored_bytes == 3 * 4 + 15);
    CHECK_INT_EQ(nr_mf_tensor_at(r, "WGHT", 0, &ti, &err), 0);
    CHECK_STR_EQ(ti.name, "enc.W");
    CHECK_INT_EQ(nr_mf_tensor_at(r, "WGHT", 5, &ti, &err), NLPRNN_E_INVALID_ARG);
    float w2[6 * 40], b2[40], e2[15], sc;
    size_t sw[2] = {6, 40}, sb[1] = {40}, se[2] = {3, 5}, bad[2] = {40, 6}, s0[2] = {0, 5};
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "enc.W", w2, 2, sw, &err), 0);
    double emax = 0;
    for (int i = 0; i < 240; i++) emax = fmax(emax, fabs(w2[i] - W[i]) / fmax(fabs(W[i]), 6.1e-5));
    CHECK_MSG(emax <= 1.0 / 2048 + 1e-9, "f16 relative error %g", emax); /* half an ulp */
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "enc.b", b2, 1, sb, &err), 0);
    CHECK(memcmp(b2, B, sizeof B) == 0);
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "emb", e2, 2, se, &err), 0);
    for (int row = 0; row < 3; row++) {
        float amax = 0;
        for (int j = 0; j < 5; j++) amax = fmaxf(amax, fabsf(E[row * 5 + j]));
        for (int j = 0; j < 5; j++)
            CHECK(fabsf(e2[row * 5 + j] - E[row * 5 + j]) <= amax / 127 / 2 * 1.0001f);
    }
    /* the same tensor as stored: its bytes and scales, which widen to e2 bit for bit */
    int8_t q2[15];
    float s2[3];
    CHECK_INT_EQ(nr_mf_tensor_read_i8(r, "WGHT", "emb", q2, s2, 2, se, &err), 0);
    for (int row = 0; row < 3; row++) CHECK(nr_dequant_i8_row_same(e2 + row * 5, q2 + row * 5, s2[row], 5));
    CHECK_INT_EQ(nr_mf_tensor_read_i8(r, "WGHT", "emb", q2, s2, 2, bad, &err), NLPRNN_E_FORMAT);
    CHECK_INT_EQ(nr_mf_tensor_read_i8(r, "WGHT", "enc.b", q2, s2, 1, sb, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "tensor \"enc.b\" is not stored as int8") != NULL);
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "scalar", &sc, 0, NULL, &err), 0);
    CHECK(sc == B[0]);
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "empty", e2, 2, s0, &err), 0);
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "enc.W", w2, 2, bad, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "tensor \"enc.W\" has shape [6, 40], expected [40, 6]") != NULL);
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "enc.W", w2, 1, sw, &err), NLPRNN_E_FORMAT);
    CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "nope", w2, 1, sw, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "no tensor \"nope\"") != NULL);
    CHECK_INT_EQ(nr_mf_tensor_read(r, "CONF", "enc.W", w2, 2, sw, &err), NLPRNN_E_FORMAT);

    nr_mf_buf out;
    nr_mf_buf_init(&out);
    CHECK_INT_EQ(nr_mf_describe(r, &out, &err), 0);
    nr_mf_buf_put(&out, "", 1, &err);
    const char *txt = (const char *)out.data;
    CHECK(strstr(txt, "kind:     CLSF (classifier)") != NULL);
    CHECK(strstr(txt, "section TOKN  raw, zlib, ") != NULL);
    CHECK(strstr(txt, "hidden = 40") != NULL);
    CHECK(strstr(txt, "enc.W") && strstr(txt, "f16") && strstr(txt, "[6, 40]"));
    CHECK(strstr(txt, "2 strings: \"부정\" \"pos\"") != NULL);
    CHECK(strstr(txt, "section WGHT  tensors, stored") != NULL);
    nr_mf_buf_free(&out);
    nr_mf_close(r);

    /* open from memory, any kind; wrong kind names both */
    CHECK_INT_EQ(nr_mf_open_mem(&r, mem, n, "m.nrm", NULL, &err), 0);
    nr_mf_close(r);
    CHECK_INT_EQ(nr_mf_open_mem(&r, mem, n, "m.nrm", NR_KIND_LANGMODEL, &err), NLPRNN_E_UNSUPPORTED);
    CHECK(r == NULL);
    CHECK_STR_EQ(err.message, "m.nrm: this is a classifier file (CLSF), not a language model (LANG)");
    free(mem);
    unlink(file);
    rmdir(path);
    nr_mf_writer_free(w);
}

/* Region of byte i in a file: 0 magic, 1 file header, 2 section header, 3 section data,
 * 4 padding, 5 trailer. */
static int region_of(const unsigned char *p, size_t n, size_t i) {
    if (i < 8) return 0;
    if (i < NR_MF_HEADER_SIZE) return 1;
    if (i >= n - NR_MF_TRAILER_SIZE) return 5;
    size_t pos = NR_MF_HEADER_SIZE;
    for (;;) {
        uint64_t sl = 0;
        for (int k = 0; k < 8; k++) sl |= (uint64_t)p[pos + 8 + k] << (8 * k);
        if (i < pos + NR_MF_SECTION_HEADER_SIZE) return 2;
        if (i < pos + NR_MF_SECTION_HEADER_SIZE + sl) return 3;
        size_t end = pos + NR_MF_SECTION_HEADER_SIZE + sl + ((8 - sl % 8) % 8);
        if (i < end) return 4;
        pos = end;
    }
}

/* small_model(NR_KIND_CLASSIFIER) as file bytes: *n of them (free()) */
static unsigned char *small_model_bytes(size_t *n) {
    nlprnn_error err;
    nr_mf_writer *w = small_model(NR_KIND_CLASSIFIER);
    unsigned char *mem = NULL;
    CHECK_INT_EQ(nr_mf_writer_to_mem(w, &mem, n, &err), 0);
    nr_mf_writer_free(w);
    return mem;
}

static void test_damage(void) {
    nlprnn_error err;
    size_t n;
    unsigned char *mem = small_model_bytes(&n);
    nr_mf_reader *r;

    /* truncation at every byte: NLPRNN_E_TRUNCATED, offset = the length */
    int bad = 0;
    for (size_t len = 0; len < n; len++) {
        unsigned char *cut = malloc(len ? len : 1); /* exact size: ASan sees any overread */
        memcpy(cut, mem, len);
        int rc = nr_mf_open_mem(&r, cut, len, "cut.nrm", NR_KIND_CLASSIFIER, &err);
        if (rc != NLPRNN_E_TRUNCATED || err.offset != (long long)len || r) {
            if (bad++ < 5) fprintf(stderr, "truncated at %zu: %s (%s)\n", len, nlprnn_status_name(rc), err.message);
        }
        free(cut);
    }
    CHECK_INT_EQ(bad, 0);

    /* truncation at every section boundary names the section that is cut */
    size_t pos = NR_MF_HEADER_SIZE;
    const char *tags[] = {"CONF", "TOKN", "LABL", "WGHT", "OPTM"};
    for (int s = 0; s < 5; s++) {
        uint64_t sl = 0;
        for (int k = 0; k < 8; k++) sl |= (uint64_t)mem[pos + 8 + k] << (8 * k);
        /* cut right at the start of the section: its header is missing */
        CHECK_INT_EQ(nr_mf_open_mem(&r, mem, pos, "cut.nrm", NULL, &err), NLPRNN_E_TRUNCATED);
        char want[64];
        snprintf(want, sizeof want, "in the header of section %d of 5", s + 1);
        CHECK_MSG(strstr(err.message, want) != NULL, "%s", err.message);
        /* cut right after the header: the data are missing */
        if (sl) {
            CHECK_INT_EQ(nr_mf_open_mem(&r, mem, pos + NR_MF_SECTION_HEADER_SIZE, "cut.nrm", NULL,
                                        &err), NLPRNN_E_TRUNCATED);
            snprintf(want, sizeof want, "inside section %s (%d of 5)", tags[s], s + 1);
            CHECK_MSG(strstr(err.message, want) != NULL, "%s", err.message);
        }
        pos += NR_MF_SECTION_HEADER_SIZE + sl + (8 - sl % 8) % 8;
    }
    CHECK_INT_EQ(pos, n - NR_MF_TRAILER_SIZE);
    CHECK_INT_EQ(nr_mf_open_mem(&r, mem, pos, "cut.nrm", NULL, &err), NLPRNN_E_TRUNCATED);
    CHECK(strstr(err.message, "in the trailer") != NULL);

    /* every byte flipped (all 8 bits, then each single bit): the code depends on the region */
    const int want_code[6] = {NLPRNN_E_MAGIC, NLPRNN_E_CHECKSUM, NLPRNN_E_CHECKSUM,
                              NLPRNN_E_CHECKSUM, NLPRNN_E_FORMAT, NLPRNN_E_FORMAT};
    unsigned char *copy = malloc(n);
    bad = 0;
    int seen[6] = {0};
    for (size_t i = 0; i < n; i++) {
        int reg = region_of(mem, n, i);
        seen[reg]++;
        for (int f = 0; f < 9; f++) {
            memcpy(copy, mem, n);
            copy[i] ^= f == 8 ? 0xFF : (unsigned char)(1u << f);
            int rc = nr_mf_open_mem(&r, copy, n, "flip.nrm", NR_KIND_CLASSIFIER, &err);
            if (rc != want_code[reg] || r) {
                if (bad++ < 5)
                    fprintf(stderr, "flip byte %zu (region %d) mask %d: %s (%s)\n", i, reg, f,
                            nlprnn_status_name(rc), err.message);
                nr_mf_close(r);
            }
        }
    }
    CHECK_INT_EQ(bad, 0);
    for (int reg = 0; reg < 6; reg++) CHECK_MSG(seen[reg] > 0, "region %d not exercised", reg);

    /* wrong magic: a text file, an empty file */
    CHECK_INT_EQ(nr_mf_open_mem(&r, "hello world, not a model\n", 25, "t.txt", NULL, &err),
                 NLPRNN_E_MAGIC);
    CHECK_STR_EQ(err.message, "t.txt: not an nlprnn model file");
    CHECK_INT_EQ(nr_mf_open_mem(&r, "", 0, "e.nrm", NULL, &err), NLPRNN_E_TRUNCATED);

    /* a newer format version (header CRC fixed up) and version 0; version 2 (the newest this
     * build reads) opens */
    memcpy(copy, mem, n);
    copy[12] = 3;
    uint32_t crc = (uint32_t)crc32(0, copy, 36);
    for (int k = 0; k < 4; k++) copy[36 + k] = (unsigned char)(crc >> (8 * k));
    CHECK_INT_EQ(nr_mf_open_mem(&r, copy, n, "v3.nrm", NR_KIND_CLASSIFIER, &err), NLPRNN_E_VERSION);
    CHECK(strstr(err.message, "format version 3 is newer than this build reads (2)") != NULL);
    copy[12] = 2;
    crc = (uint32_t)crc32(0, copy, 36);
    for (int k = 0; k < 4; k++) copy[36 + k] = (unsigned char)(crc >> (8 * k));
    CHECK_INT_EQ(nr_mf_open_mem(&r, copy, n, "v2.nrm", NR_KIND_CLASSIFIER, &err), 0);
    CHECK_INT_EQ(nr_mf_version(r), 2);
    nr_mf_close(r);
    r = NULL;
    /* a writer told to write version 2 does; versions outside 1..2 are refused */
    nr_mf_writer *w2 = small_model(NR_KIND_TRANSLATOR);
    CHECK_INT_EQ(nr_mf_writer_set_version(w2, 3, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nr_mf_writer_set_version(w2, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nr_mf_writer_set_version(w2, 2, &err), 0);
    unsigned char *m2 = NULL;
    size_t n2 = 0;
    CHECK_INT_EQ(nr_mf_writer_to_mem(w2, &m2, &n2, &err), 0);
    CHECK(m2 && m2[12] == 2);
    CHECK_INT_EQ(nr_mf_open_mem(&r, m2, n2, "w2.nrm", NR_KIND_TRANSLATOR, &err), 0);
    CHECK_INT_EQ(nr_mf_version(r), 2);
    nr_mf_close(r);
    r = NULL;
    free(m2);
    nr_mf_writer_free(w2);
    copy[12] = 0;
    crc = (uint32_t)crc32(0, copy, 36);
    for (int k = 0; k < 4; k++) copy[36 + k] = (unsigned char)(crc >> (8 * k));
    CHECK_INT_EQ(nr_mf_open_mem(&r, copy, n, "v0.nrm", NULL, &err), NLPRNN_E_FORMAT);

    /* another kind (a valid forecaster file opened as a classifier) */
    nr_mf_writer *w = small_model(NR_KIND_FORECASTER);
    unsigned char *fm;
    size_t fn;
    CHECK_INT_EQ(nr_mf_writer_to_mem(w, &fm, &fn, &err), 0);
    nr_mf_writer_free(w);
    CHECK_INT_EQ(nr_mf_open_mem(&r, fm, fn, "f.nrm", NR_KIND_CLASSIFIER, &err),
                 NLPRNN_E_UNSUPPORTED);
    CHECK(strstr(err.message, "forecaster file (FCST), not a classifier (CLSF)") != NULL);
    free(fm);

    /* bytes after the end */
    unsigned char *longer = malloc(n + 8);
    memcpy(longer, mem, n);
    memset(longer + n, 0, 8);
    CHECK_INT_EQ(nr_mf_open_mem(&r, longer, n + 8, "l.nrm", NULL, &err), NLPRNN_E_FORMAT);
    CHECK(strstr(err.message, "8 unexpected bytes after the end") != NULL);
    free(longer);

    /* a file that is not there */
    CHECK_INT_EQ(nr_mf_open_file(&r, "/nonexistent.nrm", NULL, &err), NLPRNN_E_IO);
    free(copy);
    free(mem);
}

/* nr_f16_first_nonfinite (the scan nr_mf_tensor_f16_bytes makes) on every kernel path this CPU
 * runs (AVX2: 32 halves a step; portable: 4 a word): for lengths around the steps, at an odd
 * address, each position holding +inf or a NaN (alone, or with a later one) gives its index, and
 * the largest finite halves and all-finite data give n. */
static void test_f16_scan(void) {
    static const size_t ns[] = {0, 1, 3, 4, 5, 31, 32, 33, 63, 64, 65, 75, 200};
    unsigned char buf[2 * 200 + 1];
    int bad = 0, cases = 0;
    for (int p = 0; p < NR_KPATH_COUNT; p++) {
        if (!nr_kpath_usable(p)) continue;
        nr_kpath_set(p);
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
            size_t n = ns[ni];
            unsigned char *h = buf + 1; /* odd address */
            for (long at = -1; at < (long)n; at++)
                for (int kind = 0; kind < (at < 0 ? 1 : 3); kind++) {
                    for (size_t i = 0; i < n; i++) { /* 0x7BFF / 0xFBFF (finite) and small values */
                        uint16_t v = i % 3 == 0 ? 0x7BFF : i % 3 == 1 ? 0xFBFF : (uint16_t)(i * 37);
                        h[2 * i] = (unsigned char)v, h[2 * i + 1] = (unsigned char)(v >> 8);
                    }
                    if (at >= 0) { /* +inf, a NaN, or a NaN here and +inf at the end */
                        uint16_t v = kind == 0 ? 0x7C00 : 0xFE01;
                        h[2 * at] = (unsigned char)v, h[2 * at + 1] = (unsigned char)(v >> 8);
                        if (kind == 2) h[2 * (n - 1)] = 0x00, h[2 * (n - 1) + 1] = 0x7C;
                    }
                    size_t got = nr_f16_first_nonfinite(h, n), want = at < 0 ? n : (size_t)at;
                    bad += got != want;
                    cases++;
                }
        }
    }
    nr_kpath_set(-1);
    CHECK_MSG(bad == 0, "nr_f16_first_nonfinite: %d of %d cases wrong", bad, cases);
}

/* nr_mf_tensor_f16_bytes / nr_mf_tensor_read_f16: the stored halves as they are (no widening);
 * a NaN or an infinity anywhere (each of the 4 halves of a scanned word, and the tail past the
 * last whole word) is refused naming its element; the largest finite halves pass; a tensor
 * stored as float32 is not read as halves. */
static void test_f16_bytes(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/nlprnn_mf_f16_%d.nrm", (int)getpid());
    enum { N = 11 }; /* 2 words of 4 halves and a tail of 3 */
    const size_t shape[1] = {N};
    float x[N];
    for (int i = 0; i < N; i++) x[i] = (float)(i - 5) * 0.25f;
    x[3] = 65504.0f, x[4] = -65504.0f; /* 0x7BFF, 0xFBFF: finite */
    for (int bad = -1; bad < N; bad++)
        for (int nan = 0; nan < (bad < 0 ? 1 : 2); nan++) {
            nlprnn_error e;
            nr_mf_buf b;
            nr_mf_buf_init(&b);
            CHECK_INT_EQ(nr_tensor_put(&b, "h", x, 1, shape, NR_DTYPE_F16, &e), 0);
            CHECK_INT_EQ(nr_tensor_put(&b, "f", x, 1, shape, NR_DTYPE_F32, &e), 0);
            size_t head = 2 + 1 + 2 + 4; /* name length, "h", dtype and ndim, one dimension */
            if (bad >= 0) {
                uint16_t h = nan ? 0xFE01 : 0x7C00; /* a negative NaN with a low payload; +inf */
                b.data[head + 2 * bad] = (unsigned char)h;
                b.data[head + 2 * bad + 1] = (unsigned char)(h >> 8);
            }
            nr_mf_writer *w = NULL;
            nr_mf_reader *r = NULL;
            CHECK_INT_EQ(nr_mf_writer_new(&w, "CLSF", &e), 0);
            CHECK_INT_EQ(nr_mf_add(w, "WGHT", NR_MF_TENSORS, b.data, b.len, 0, &e), 0);
            CHECK_INT_EQ(nr_mf_writer_save(w, path, &e), 0);
            nr_mf_writer_free(w);
            nr_mf_buf_free(&b);
            if (nr_mf_open_file(&r, path, NULL, &e)) {
                CHECK_MSG(0, "open: %s", e.message);
                continue;
            }
            const unsigned char *p = NULL;
            uint16_t out[N];
            int rc = nr_mf_tensor_f16_bytes(r, "WGHT", "h", 1, shape, &p, &e);
            int rc2 = nr_mf_tensor_read_f16(r, "WGHT", "h", out, 1, shape, NULL);
            if (bad < 0) {
                CHECK_MSG(rc == 0 && rc2 == 0 && p, "finite halves refused: %s", e.message);
                for (int i = 0; rc2 == 0 && i < N; i++) {
                    CHECK_INT_EQ(out[i], nr_f32_to_f16(x[i]));
                    CHECK_INT_EQ(p[2 * i] | p[2 * i + 1] << 8, nr_f32_to_f16(x[i]));
                }
            } else {
                char want[64];
                snprintf(want, sizeof want, "element %d is %s", bad, nan ? "NaN" : "infinite");
                CHECK_MSG(rc == NLPRNN_E_FORMAT && rc2 == NLPRNN_E_FORMAT && !p && strstr(e.message, want),
                          "half %d %s: rc %d/%d: %s", bad, nan ? "NaN" : "inf", rc, rc2, e.message);
            }
            CHECK(nr_mf_tensor_f16_bytes(r, "WGHT", "f", 1, shape, &p, &e) == NLPRNN_E_FORMAT &&
                  strstr(e.message, "not stored as float16"));
            /* the section's memory taken over outlives the reader */
            if (bad < 0) {
                const unsigned char *q = NULL;
                CHECK_INT_EQ(nr_mf_tensor_f16_bytes(r, "WGHT", "h", 1, shape, &q, &e), 0);
                void *mem = nr_mf_keep_memory(r, "WGHT");
                CHECK(mem != NULL && nr_mf_keep_memory(r, "WGHT") == NULL);
                nr_mf_close(r);
                r = NULL;
                for (int i = 0; q && i < N; i++) CHECK_INT_EQ(q[2 * i] | q[2 * i + 1] << 8, nr_f32_to_f16(x[i]));
                free(mem);
            }
            nr_mf_close(r);
        }
    unlink(path);
}

/* nr_mf_tensor_read of float32 tensors (one copy, then a scan of the exponent bits): every value
 * comes back bit for bit (signed zeros, subnormals, the largest finite float, whose exponent is
 * one short of all ones); a NaN (negative, quiet, signalling with one low bit) or an infinity of
 * either sign at any element is refused naming that element; _nonfinite reads it as stored. */
static void test_f32_read(void) {
    enum { N = 37 }; /* several vector widths and a tail */
    const size_t shape[1] = {N};
    const uint32_t special[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x807FFFFFu,
                                0x7F7FFFFFu, 0xFF7FFFFFu, 0x3F800000u, 0x00800000u};
    const uint32_t bad_bits[] = {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00001u, 0x7F800001u};
    float x[N];
    for (int i = 0; i < N; i++)
        x[i] = i < (int)(sizeof special / 4) ? from_bits(special[i]) : (float)(i - 20) * 0.37f;
    for (int bad = -1; bad < N; bad++)
        for (int k = 0; k < (bad < 0 ? 1 : (int)(sizeof bad_bits / 4)); k++) {
            nlprnn_error e;
            float y[N];
            memcpy(y, x, sizeof y);
            if (bad >= 0) y[bad] = from_bits(bad_bits[k]);
            nr_mf_buf b;
            nr_mf_buf_init(&b);
            CHECK_INT_EQ(nr_tensor_put(&b, "w", y, 1, shape, NR_DTYPE_F32, &e), 0);
            nr_mf_writer *w = NULL;
            unsigned char *mem = NULL;
            size_t n = 0;
            CHECK_INT_EQ(nr_mf_writer_new(&w, NR_KIND_CHECKPOINT, &e), 0);
            CHECK_INT_EQ(nr_mf_add(w, "WGHT", NR_MF_TENSORS, b.data, b.len, 0, &e), 0);
            CHECK_INT_EQ(nr_mf_writer_to_mem(w, &mem, &n, &e), 0);
            nr_mf_reader *r = NULL;
            CHECK_INT_EQ(nr_mf_open_mem(&r, mem, n, "f.nrm", NULL, &e), 0);
            float out[N], raw[N];
            int rc = r ? nr_mf_tensor_read(r, "WGHT", "w", out, 1, shape, &e) : -1;
            int rc2 = r ? nr_mf_tensor_read_nonfinite(r, "WGHT", "w", raw, 1, shape, NULL) : -1;
            CHECK_INT_EQ(rc2, 0);
            for (int i = 0; rc2 == 0 && i < N; i++) CHECK_INT_EQ(bits(raw[i]), bits(y[i]));
            if (bad < 0) {
                CHECK_MSG(rc == 0, "finite floats refused: %s", e.message);
                for (int i = 0; rc == 0 && i < N; i++) CHECK_INT_EQ(bits(out[i]), bits(x[i]));
            } else {
                char want[64];
                snprintf(want, sizeof want, "\"w\": element %d is %s", bad,
                         (bad_bits[k] & 0x7FFFFFu) ? "NaN" : "infinite");
                CHECK_MSG(rc == NLPRNN_E_FORMAT && strstr(e.message, want),
                          "float %d bits %08x: rc %d: %s", bad, bad_bits[k], rc, e.message);
            }
            nr_mf_close(r);
            free(mem);
            nr_mf_writer_free(w);
            nr_mf_buf_free(&b);
        }
}

/* A stored section's two CRC fields (of its raw and of its stored bytes) cover the same bytes: the
 * reader computes the CRC once (format/modelfile_read.c), and a raw CRC field that differs from
 * the stored one (the header's own CRC fixed up, so only that field is wrong) is still the
 * checksum error naming the section, at the section's data. */
static void test_stored_crc(void) {
    nlprnn_error err;
    size_t n;
    unsigned char *mem = small_model_bytes(&n);
    nr_mf_reader *r;
    CHECK_INT_EQ(nr_mf_open_mem(&r, mem, n, "ok.nrm", NULL, &err), 0);
    int stored = 0;
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        if (s->encoding != NR_MF_STORED || !s->raw_len) continue;
        stored++;
        unsigned char *copy = malloc(n);
        memcpy(copy, mem, n);
        unsigned char *h = copy + s->offset;
        h[24] ^= 0x01; /* the raw bytes' CRC field */
        uint32_t crc = (uint32_t)crc32(0, h, 36);
        for (int k = 0; k < 4; k++) h[36 + k] = (unsigned char)(crc >> (8 * k));
        nr_mf_reader *r2;
        CHECK_INT_EQ(nr_mf_open_mem(&r2, copy, n, "raw-crc.nrm", NULL, &err), NLPRNN_E_CHECKSUM);
        char want[96];
        snprintf(want, sizeof want, "raw-crc.nrm: section %s fails its CRC32 check (corrupt file)", s->tag);
        CHECK_STR_EQ(err.message, want);
        CHECK_INT_EQ(err.offset, (long long)s->offset + NR_MF_SECTION_HEADER_SIZE);
        CHECK(r2 == NULL);
        free(copy);
    }
    CHECK_MSG(stored >= 2, "%d stored sections", stored);
    nr_mf_close(r);
    free(mem);
}

/* nr_mf_writer_set_compression: level 0 stores a section added with compress = 1 (what checkpoints
 * use), 1..9 and -1 compress it, other levels are refused; the bytes read back are the same. */
static void test_compression_level(void) {
    nlprnn_error err;
    unsigned char data[4096];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i % 13);
    const int levels[3] = {0, 1, -1};
    const int want[3] = {NR_MF_STORED, NR_MF_ZLIB, NR_MF_ZLIB};
    for (int k = 0; k < 3; k++) {
        nr_mf_writer *w = NULL;
        CHECK_INT_EQ(nr_mf_writer_new(&w, NR_KIND_CHECKPOINT, &err), 0);
        if (!w) return;
        CHECK_INT_EQ(nr_mf_writer_set_compression(w, -2, &err), NLPRNN_E_INVALID_ARG);
        CHECK_INT_EQ(nr_mf_writer_set_compression(w, 10, &err), NLPRNN_E_INVALID_ARG);
        CHECK_INT_EQ(nr_mf_writer_set_compression(w, levels[k], &err), 0);
        CHECK_INT_EQ(nr_mf_add(w, "WGHT", NR_MF_RAW, data, sizeof data, 1, &err), 0);
        unsigned char *mem = NULL;
        size_t n = 0;
        CHECK_INT_EQ(nr_mf_writer_to_mem(w, &mem, &n, &err), 0);
        nr_mf_reader *r = NULL;
        CHECK_INT_EQ(nr_mf_open_mem(&r, mem, n, "mem", NR_KIND_CHECKPOINT, &err), 0);
        const nr_mf_section *s = r ? nr_mf_find(r, "WGHT") : NULL;
        CHECK_MSG(s && s->encoding == want[k], "level %d: encoding %d", levels[k], s ? s->encoding : -1);
        CHECK(s && s->raw_len == sizeof data && !memcmp(s->data, data, sizeof data));
        nr_mf_close(r);
        free(mem);
        nr_mf_writer_free(w);
    }
}

int main(void) {
    test_f32_read();
    test_f16();
    test_f16_scan();
    test_f16_bytes();
    test_i8();
    test_roundtrip();
    test_compression_level();
    test_damage();
    test_stored_crc();
    return nr_test_done("test_modelfile");
}

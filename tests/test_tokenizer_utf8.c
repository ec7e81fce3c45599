/* tests/test_tokenizer_utf8.c: invalid UTF-8 -> NLPRNN_E_UTF8 with the right byte offset and
 * line (truncated sequences, overlong forms, surrogates, stray continuation bytes, NUL, bytes
 * above U+10FFFF), in encode, normalize and training (file:line:byte); the replace policy
 * (one U+FFFD per maximal subpart, offsets on the bad bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nlprnn.h"
#include "testutil.h"

static nlprnn_tokenizer *train(const char *invalid) {
    static const char *texts[] = {"가나다 abc", "hello world 123", "극장에 갔다"};
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    nlprnn_error err;
    CHECK(nlprnn_tokenizer_params_set(o, "invalid-utf8", invalid, &err) == 0);
    CHECK(nlprnn_tokenizer_params_set(o, "vocab-size", "300", &err) == 0);
    nlprnn_tokenizer *tok = NULL;
    int rc = nlprnn_tokenizer_train_texts(o, texts, NULL, 3, &tok, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    nlprnn_tokenizer_params_free(o);
    return tok;
}

static const struct {
    const char *text;
    size_t len;
    long long offset, line;
    const char *reason;
} bad[] = {
    {"abc\xC3", 4, 3, 1, "truncated"},
    {"ab\xE2\x82", 4, 2, 1, "truncated"},
    {"\xF0\x9F\x98", 3, 0, 1, "truncated"},
    {"x\xE2\x82y", 4, 1, 1, "missing continuation"},
    {"a\xC0\xAF", 3, 1, 1, "overlong"},
    {"xy\xE0\x80\xAF", 5, 2, 1, "overlong"},
    {"\xF0\x80\x80\xAF", 4, 0, 1, "overlong"},
    {"ok\xED\xA0\x80", 5, 2, 1, "surrogate"},
    {"\xED\xBF\xBF", 3, 0, 1, "surrogate"},
    {"a\x80", 2, 1, 1, "stray continuation"},
    {"\xea\xb0\x80\xBF", 4, 3, 1, "stray continuation"},
    {"ab\0cd", 5, 2, 1, "NUL"},
    {"\xF4\x90\x80\x80", 4, 0, 1, "above U+10FFFF"},
    {"\xFF", 1, 0, 1, "never appears"},
    {"line1\nline2 \xC3(", 14, 12, 2, "missing continuation"},
    {"one\ntwo\nthree\xF5", 14, 13, 3, "never appears"},
};

int main(void) {
    nlprnn_tokenizer *tok = train("error");
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    nlprnn_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nlprnn_error_clear(&err);
        int rc = nlprnn_tokenizer_encode(tok, bad[i].text, bad[i].len, enc, &err);
        CHECK_MSG(rc == NLPRNN_E_UTF8, "case %zu: rc %d", i, rc);
        CHECK_MSG(err.code == NLPRNN_E_UTF8 && err.offset == bad[i].offset && err.line == bad[i].line,
                  "case %zu: offset %lld line %lld, expected %lld %lld (%s)", i, err.offset,
                  err.line, bad[i].offset, bad[i].line, err.message);
        CHECK_MSG(strstr(err.message, bad[i].reason) != NULL, "case %zu: message '%s' lacks '%s'",
                  i, err.message, bad[i].reason);
        CHECK(nlprnn_encoding_size(enc) == 0);
        char *norm = NULL;
        nlprnn_error_clear(&err);
        CHECK(nlprnn_tokenizer_normalize(tok, bad[i].text, bad[i].len, &norm, NULL, &err) ==
              NLPRNN_E_UTF8);
        CHECK(err.offset == bad[i].offset);
        nlprnn_free(norm);
    }
    /* valid edge cases pass */
    static const char *good[] = {"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
                                 "\xEE\x80\x80", "\xEF\xBF\xBD", "\xF0\x90\x80\x80",
                                 "\xF4\x8F\xBF\xBF"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_MSG(nlprnn_tokenizer_encode(tok, good[i], strlen(good[i]), enc, &err) == 0,
                  "good case %zu: %s", i, err.message);

    /* the replace policy: one U+FFFD per maximal subpart, offsets on the bad bytes */
    nlprnn_tokenizer *rep = train("replace");
    static const struct { const char *in; size_t len; const char *out; } repl[] = {
        {"a\xC0\xAF" "b", 4, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b"},
        {"a\xE2\x82" "b", 4, "a\xEF\xBF\xBD" "b"},
        {"\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"x\0y", 3, "x\xEF\xBF\xBDy"},
        {"\xF0\x9F\x98", 3, "\xEF\xBF\xBD"},
    };
    for (size_t i = 0; i < sizeof repl / sizeof repl[0]; i++) {
        char *norm = NULL;
        size_t nl = 0;
        int rc = nlprnn_tokenizer_normalize(rep, repl[i].in, repl[i].len, &norm, &nl, &err);
        CHECK_MSG(rc == 0, "replace case %zu: %s", i, err.message);
        if (!rc) CHECK_STR_EQ(norm, repl[i].out);
        nlprnn_free(norm);
    }
    CHECK(nlprnn_tokenizer_encode(rep, "a\xC0" "b", 3, enc, &err) == 0);
    {
        /* "▁a" + U+FFFD (bytes of a char outside the alphabet, or one piece) + "b": the
         * replacement's pieces point at byte 1..2 of the input */
        size_t n = nlprnn_encoding_size(enc);
        const size_t *off = nlprnn_encoding_offsets(enc);
        int found = 0;
        for (size_t i = 0; i < n; i++)
            if (off[2 * i] == 1 && off[2 * i + 1] == 2) found = 1;
        CHECK_MSG(found, "no piece covers the replaced byte 1..2");
    }

    /* training from a file names file:line:byte; gzip and plain both work */
    char path[] = "/tmp/nlprnn_utf8_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char body[] = "good line\nanother good line\nbad \xC3( here\n";
    CHECK(write(fd, body, sizeof body - 1) == (ssize_t)(sizeof body - 1));
    close(fd);
    const char *paths[1] = {path};
    nlprnn_tokenizer *t2 = NULL;
    nlprnn_error_clear(&err);
    int rc = nlprnn_tokenizer_train_files(NULL, paths, 1, &t2, &err);
    CHECK(rc == NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.line, 3);
    CHECK_INT_EQ(err.offset, 32);
    char want[256];
    snprintf(want, sizeof want, "%s:3: byte 32: invalid UTF-8", path);
    CHECK_MSG(strncmp(err.message, want, strlen(want)) == 0, "message '%s'", err.message);
    nlprnn_tokenizer_free(t2);
    char gzpath[300];
    snprintf(gzpath, sizeof gzpath, "%s.gz", path);
    gzFile gz = gzopen(gzpath, "wb");
    CHECK(gz != NULL);
    gzwrite(gz, body, sizeof body - 1);
    gzclose(gz);
    paths[0] = gzpath;
    nlprnn_error_clear(&err);
    CHECK(nlprnn_tokenizer_train_files(NULL, paths, 1, &t2, &err) == NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.line, 3);
    CHECK_INT_EQ(err.offset, 32);
    paths[0] = "/nonexistent/corpus.txt.gz";
    CHECK(nlprnn_tokenizer_train_files(NULL, paths, 1, &t2, &err) == NLPRNN_E_IO);
    CHECK(strstr(err.message, "/nonexistent/corpus.txt.gz") != NULL);
    unlink(path);
    unlink(gzpath);

    nlprnn_encoding_free(enc);
    nlprnn_tokenizer_free(tok);
    nlprnn_tokenizer_free(rep);
    return nr_test_done("test_tokenizer_utf8");
}

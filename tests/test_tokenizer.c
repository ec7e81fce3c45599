/* tests/test_tokenizer.c: the tokenizer on tests/data/tokenizer/nsmc8k.tok, a BPE tokenizer
 * (8000 ids) trained by
 *   nlprnn tokenizer-train --input ../shared/corpora/nsmc/lm_train.txt.gz \
 *       --output tests/data/tokenizer/nsmc8k.tok --vocab-size 8000
 * Exact expected pieces and offsets for Korean, English, mixed, emoji, digits, compatibility
 * forms, blank markers, empty and whitespace-only input; decode round trips; the decode buffer
 * protocol; save/load (file and memory) byte identity; damaged files; accessors; two threads
 * sharing one tokenizer; a loaded tokenizer's tables in one block, and growing out of it; BPE
 * dropout (nlprnn_tokenizer_encode_sample): dropout 0 = plain, 1 = characters, samples decode to
 * the text, are repeatable by seed, drop a merge with the asked probability, bad arguments. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nlprnn.h"
#include "testutil.h"
#include "tokenizer/internal.h"

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static nlprnn_tokenizer *tok;

/* "pieces" joined by spaces, each with @begin:end when with_offsets */
static void render(nlprnn_encoding *enc, int with_offsets, char *out, size_t cap) {
    size_t n = nlprnn_encoding_size(enc), w = 0;
    const int32_t *ids = nlprnn_encoding_ids(enc);
    const size_t *off = nlprnn_encoding_offsets(enc);
    out[0] = '\0';
    for (size_t i = 0; i < n && w < cap; i++) {
        const char *p = nlprnn_tokenizer_piece(tok, ids[i]);
        if (with_offsets)
            w += (size_t)snprintf(out + w, cap - w, "%s%s@%zu:%zu", i ? " " : "", p, off[2 * i],
                                  off[2 * i + 1]);
        else
            w += (size_t)snprintf(out + w, cap - w, "%s%s", i ? " " : "", p);
    }
}

static const struct {
    const char *text;
    const char *pieces;
} cases[] = {
    /* Korean: particles split off frequent nouns */
    {"극장에 갔다", "▁극장@0:6 에@6:9 ▁갔@10:13 다@13:16"},
    {"이 영화 정말 재밌어요!!", "▁이@0:3 ▁영화@4:10 ▁정말@11:17 ▁재밌어요@18:30 !!@30:32"},
    /* English (rare in the training corpus: short pieces) */
    {"This movie was great, I loved it.",
     "▁T@0:1 h@1:2 is@2:4 ▁m@5:6 ovie@6:10 ▁w@11:12 as@12:14 ▁g@15:16 re@16:18 at@18:20 ,@20:21 "
     "▁I@22:23 ▁l@24:25 ove@25:28 d@28:29 ▁i@30:31 t@31:32 .@32:33"},
    /* mixed scripts, digits one by one, Hangul compatibility jamo -> conjoining (NFKC) */
    {"아이폰15로 찍은 iPhone 영상 최고ㅋㅋ",
     "▁아이@0:6 폰@6:9 1@9:10 5@10:11 로@11:14 ▁찍은@15:21 ▁i@22:23 P@23:24 h@24:25 on@25:27 "
     "e@27:28 ▁영상@29:35 ▁최고@36:42 ᄏᄏ@42:48"},
    {"2024년 12월 25일 3,000원",
     "▁2@0:1 0@1:2 2@2:3 4@3:4 년@4:7 ▁1@8:9 2@9:10 월@10:13 ▁2@14:15 5@15:16 일@16:19 ▁3@20:21 "
     ",@21:22 0@22:23 0@23:24 0@24:25 원@25:28"},
    /* emoji outside the alphabet: byte pieces, all carrying the emoji's byte range */
    {"😀 이모지 👍🏽",
     "▁@0:0 <0xF0>@0:4 <0x9F>@0:4 <0x98>@0:4 <0x80>@0:4 ▁이@5:8 모@8:11 지@11:14 ▁@15:15 "
     "<0xF0>@15:19 <0x9F>@15:19 <0x91>@15:19 <0x8D>@15:19 <0xF0>@19:23 <0x9F>@19:23 "
     "<0x8F>@19:23 <0xBD>@19:23"},
    /* NFKC: fullwidth Latin, ideographic space, ligature; offsets stay on the original bytes */
    {"Ｈｅｌｌｏ　세계", "▁H@0:3 e@3:6 ll@6:12 o@12:15 ▁세계@18:24"},
    {"① ﬁ", "▁1@0:3 ▁f@4:7 i@4:7"},
    /* whitespace: trimmed and collapsed; tab/CR act as spaces */
    {"  앞뒤   공백  ", "▁앞@2:5 뒤@5:8 ▁공@11:14 백@14:17"},
    {"탭\t문자\r", "▁@0:0 탭@0:3 ▁문@4:7 자@7:10"},
    /* blank markers: one <mask> each */
    {"배우들 연기가 ___ 좋았다", "▁배우들@0:9 ▁연기가@10:19 <mask>@20:23 ▁좋았다@24:33"},
    {"a__b [MASK] 끝", "▁a@0:1 <mask>@1:3 b@3:4 <mask>@5:11 ▁끝@12:15"},
    /* empty and whitespace-only */
    {"", ""},
    {"   ", ""},
    {" \t\r\n\xe3\x80\x80 ", ""},
};

static void test_cases(void) {
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    nlprnn_error err;
    char got[4096];
    for (int round = 0; round < 2; round++) { /* the second round is served by the cache */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int rc = nlprnn_tokenizer_encode(tok, cases[i].text, strlen(cases[i].text), enc, &err);
            CHECK_MSG(rc == 0, "case %zu: %s", i, err.message);
            render(enc, 1, got, sizeof got);
            CHECK_STR_EQ(got, cases[i].pieces);
            /* round trip: decode(encode(x)) == normalize(x) except where a blank marker is */
            if (!strstr(cases[i].text, "__") && !strstr(cases[i].text, "[MASK]")) {
                char *norm = NULL, *dec = NULL;
                CHECK(nlprnn_tokenizer_normalize(tok, cases[i].text, strlen(cases[i].text), &norm,
                                                 NULL, &err) == 0);
                CHECK(nlprnn_tokenizer_decode_alloc(tok, nlprnn_encoding_ids(enc),
                                                    nlprnn_encoding_size(enc), &dec, NULL,
                                                    &err) == 0);
                CHECK_STR_EQ(dec, norm);
                nlprnn_free(norm);
                nlprnn_free(dec);
            }
        }
    }
    /* ids of the first case, and the normalized text the round trip reproduces */
    CHECK(nlprnn_tokenizer_encode(tok, "극장에 갔다", strlen("극장에 갔다"), enc, &err) == 0);
    CHECK_INT_EQ(nlprnn_encoding_size(enc), 4);
    CHECK_INT_EQ(nlprnn_encoding_ids(enc)[0], nlprnn_tokenizer_piece_id(tok, "▁극장"));
    CHECK_INT_EQ(nlprnn_encoding_ids(enc)[1], nlprnn_tokenizer_piece_id(tok, "에"));
    char *norm = NULL;
    size_t nl = 0;
    CHECK(nlprnn_tokenizer_normalize(tok, "  Ｈｅｌｌｏ　　세계 ", strlen("  Ｈｅｌｌｏ　　세계 "),
                                     &norm, &nl, &err) == 0);
    CHECK_STR_EQ(norm, "Hello 세계");
    CHECK_INT_EQ(nl, strlen("Hello 세계"));
    nlprnn_free(norm);
    /* BOS/EOS flags */
    CHECK(nlprnn_tokenizer_encode_flags(tok, "영화", 6, NLPRNN_ENCODE_BOS | NLPRNN_ENCODE_EOS, enc,
                                        &err) == 0);
    render(enc, 1, got, sizeof got);
    CHECK_STR_EQ(got, "<bos>@0:0 ▁영화@0:6 <eos>@6:6");
    /* text need not be NUL-terminated: only len bytes are read */
    CHECK(nlprnn_tokenizer_encode(tok, "영화관", 6, enc, &err) == 0);
    render(enc, 0, got, sizeof got);
    CHECK_STR_EQ(got, "▁영화");
    nlprnn_encoding_free(enc);
}

static void test_decode(void) {
    nlprnn_error err;
    int32_t ids[8];
    ids[0] = NLPRNN_ID_BOS;
    ids[1] = nlprnn_tokenizer_piece_id(tok, "▁극장");
    ids[2] = nlprnn_tokenizer_piece_id(tok, "에");
    ids[3] = NLPRNN_ID_MASK;
    ids[4] = nlprnn_tokenizer_piece_id(tok, "<0xF0>");
    ids[5] = nlprnn_tokenizer_piece_id(tok, "<0x9F>"); /* an incomplete sequence -> U+FFFD */
    ids[6] = nlprnn_tokenizer_piece_id(tok, "▁영화");
    ids[7] = NLPRNN_ID_EOS;
    size_t need = 0;
    CHECK(nlprnn_tokenizer_decode(tok, ids, 8, NULL, 0, &need, &err) == NLPRNN_E_LIMIT);
    const char *want = "극장에___\xEF\xBF\xBD 영화";
    CHECK_INT_EQ(need, strlen(want));
    char buf[64];
    CHECK(nlprnn_tokenizer_decode(tok, ids, 8, buf, need, &need, &err) == NLPRNN_E_LIMIT);
    CHECK(nlprnn_tokenizer_decode(tok, ids, 8, buf, need + 1, &need, &err) == 0);
    CHECK_STR_EQ(buf, want);
    int32_t badid[2] = {ids[1], 8000};
    CHECK(nlprnn_tokenizer_decode(tok, badid, 2, buf, sizeof buf, &need, &err) ==
          NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(err.offset, 1);
    /* a long run of byte pieces (300 emoji = 1200 bytes) decodes whole; "▁" in the input
     * counts as a space */
    {
        char text[2000] = "";
        for (int i = 0; i < 300; i++) strcat(text, "\xf0\x9f\x98\x80");
        strcat(text, "\xe2\x96\x81x");
        nlprnn_encoding *enc = NULL;
        nlprnn_encoding_create(&enc, NULL);
        CHECK(nlprnn_tokenizer_encode(tok, text, strlen(text), enc, &err) == 0);
        CHECK(nlprnn_encoding_size(enc) > 1200);
        char *d = NULL;
        CHECK(nlprnn_tokenizer_decode_alloc(tok, nlprnn_encoding_ids(enc), nlprnn_encoding_size(enc),
                                            &d, NULL, &err) == 0);
        text[1200] = ' ';
        memmove(text + 1201, text + 1203, 2);
        CHECK_STR_EQ(d, text);
        nlprnn_free(d);
        nlprnn_encoding_free(enc);
    }
    char *s = NULL;
    CHECK(nlprnn_tokenizer_decode_alloc(tok, ids, 0, &s, NULL, &err) == 0);
    CHECK_STR_EQ(s, "");
    nlprnn_free(s);
}

static void test_accessors(void) {
    CHECK_INT_EQ(nlprnn_tokenizer_vocab_size(tok), 8000);
    CHECK_STR_EQ(nlprnn_tokenizer_piece(tok, NLPRNN_ID_PAD), "<pad>");
    CHECK_STR_EQ(nlprnn_tokenizer_piece(tok, NLPRNN_ID_UNK), "<unk>");
    CHECK_STR_EQ(nlprnn_tokenizer_piece(tok, NLPRNN_ID_BOS), "<bos>");
    CHECK_STR_EQ(nlprnn_tokenizer_piece(tok, NLPRNN_ID_EOS), "<eos>");
    CHECK_STR_EQ(nlprnn_tokenizer_piece(tok, NLPRNN_ID_MASK), "<mask>");
    CHECK_STR_EQ(nlprnn_tokenizer_piece(tok, 5), "<0x00>");
    CHECK(nlprnn_tokenizer_piece(tok, -1) == NULL);
    CHECK(nlprnn_tokenizer_piece(tok, 8000) == NULL);
    CHECK_INT_EQ(nlprnn_tokenizer_piece_id(tok, "<mask>"), NLPRNN_ID_MASK);
    CHECK_INT_EQ(nlprnn_tokenizer_piece_id(tok, "no such piece"), -1);
    int32_t w = nlprnn_tokenizer_piece_id(tok, "▁영화"), p = nlprnn_tokenizer_piece_id(tok, "에");
    CHECK(w > 260 && p > 260);
    CHECK(nlprnn_tokenizer_piece_is_word_start(tok, w) == 1);
    CHECK(nlprnn_tokenizer_piece_is_word_start(tok, p) == 0);
    CHECK(nlprnn_tokenizer_piece_is_word_start(tok, NLPRNN_ID_MASK) == 0);
    CHECK(nlprnn_tokenizer_piece_is_word_start(tok, 9999) == 0);
    CHECK(nlprnn_tokenizer_piece_is_special(tok, NLPRNN_ID_MASK) == 1);
    CHECK(nlprnn_tokenizer_piece_is_special(tok, w) == 0);
    CHECK(nlprnn_tokenizer_piece_is_byte(tok, 5) == 1 && nlprnn_tokenizer_piece_is_byte(tok, w) == 0);
    CHECK_STR_EQ(nlprnn_tokenizer_model_name(tok), "bpe");
    CHECK(strstr(nlprnn_tokenizer_describe(tok), "normalization=nfkc") != NULL);
}

static void test_files(void) {
    nlprnn_error err;
    void *buf = NULL;
    size_t n = 0;
    CHECK(nlprnn_tokenizer_save_memory(tok, &buf, &n, &err) == 0);
    /* the saved bytes equal the fixture file */
    char *orig = NULL;
    size_t on = 0;
    FILE *fp = fopen(nr_test_data_path("tokenizer/nsmc8k.tok"), "rb");
    CHECK(fp != NULL);
    if (fp) {
        fseek(fp, 0, SEEK_END);
        on = (size_t)ftell(fp);
        fseek(fp, 0, SEEK_SET);
        orig = malloc(on);
        CHECK(fread(orig, 1, on, fp) == on);
        fclose(fp);
    }
    CHECK(on == n && orig && memcmp(orig, buf, n) == 0);
    free(orig);
    nlprnn_tokenizer *t2 = NULL;
    CHECK(nlprnn_tokenizer_load_memory(buf, n, &t2, &err) == 0);
    CHECK(t2 && nlprnn_tokenizer_vocab_size(t2) == 8000);
    nlprnn_tokenizer_free(t2);
    char path[] = "/tmp/nlprnn_tok_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(nlprnn_tokenizer_save(tok, path, &err) == 0);
    CHECK(nlprnn_tokenizer_load(path, &t2, &err) == 0);
    nlprnn_tokenizer_free(t2);
    unlink(path);
    /* damage: magic, version, checksum, truncation, trailing bytes */
    unsigned char *d = malloc(n + 1);
    memcpy(d, buf, n);
    d[0] = 'X';
    CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == NLPRNN_E_MAGIC);
    memcpy(d, buf, n);
    d[8] = 9;
    CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == NLPRNN_E_VERSION);
    memcpy(d, buf, n);
    d[n / 2] ^= 0x40;
    CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == NLPRNN_E_CHECKSUM);
    memcpy(d, buf, n);
    CHECK(nlprnn_tokenizer_load_memory(d, n - 1, &t2, &err) == NLPRNN_E_TRUNCATED);
    CHECK(nlprnn_tokenizer_load_memory(d, 20, &t2, &err) == NLPRNN_E_TRUNCATED);
    d[n] = 0;
    CHECK(nlprnn_tokenizer_load_memory(d, n + 1, &t2, &err) == NLPRNN_E_FORMAT);
    memcpy(d, buf, n);
    d[40] ^= 1; /* inside the header text: only the checksum notices */
    CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == NLPRNN_E_CHECKSUM);
    /* an edited header with a valid checksum: the settings parse, but the text must be exactly
     * what the writer produces for them */
    memcpy(d, buf, n);
    CHECK(memcmp(d + 24, "nlprnn tokenizer\n", 17) == 0);
    d[24 + 15] = 'R'; /* "nlprnn tokenizeR" */
    {
        uint32_t c = (uint32_t)crc32(0L, d, (uInt)(n - 4));
        for (int i = 0; i < 4; i++) d[n - 4 + i] = (unsigned char)(c >> (8 * i));
        CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == NLPRNN_E_FORMAT);
        CHECK(strstr(err.message, "header") != NULL);
    }
    /* a piece that repeats an earlier one (of the same length), with a valid checksum: refused
     * as a duplicate (the loader adds each piece with one probe of the table, nr_vocab_add_new) */
    memcpy(d, buf, n);
    {
        size_t at = 20, first = 0, len0 = 0, dup = 0;
        uint32_t hl = rd32(d + at);
        at += 4 + hl;
        uint32_t pl = rd32(d + at);
        at += 4 + pl;
        uint32_t np = rd32(d + at);
        at += 4;
        for (uint32_t i = 0; i < np && !dup; i++) {
            uint32_t len = rd32(d + at + 1);
            if (d[at] == 0 && i > 300) { /* normal pieces after the fixed ones */
                if (first && len == len0) dup = at;
                else if (!first) first = at, len0 = len;
            }
            at += 5 + len;
        }
        CHECK(first && dup);
        if (first && dup) {
            memcpy(d + dup + 5, d + first + 5, len0);
            uint32_t c = (uint32_t)crc32(0L, d, (uInt)(n - 4));
            for (int i = 0; i < 4; i++) d[n - 4 + i] = (unsigned char)(c >> (8 * i));
            CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == NLPRNN_E_FORMAT);
            CHECK_MSG(strstr(err.message, "duplicate") != NULL, "%s", err.message);
        }
    }
    /* a merge that repeats the pair of the one before, with a valid checksum: refused (the loader
     * adds each merge with one probe of the table, nr_merges_add_new) */
    memcpy(d, buf, n);
    {
        size_t at = 20;
        at += 4 + rd32(d + at);
        at += 4 + rd32(d + at);
        uint32_t np = rd32(d + at);
        at += 4;
        for (uint32_t i = 0; i < np; i++) at += 5 + rd32(d + at + 1);
        uint32_t nm = rd32(d + at);
        at += 4;
        CHECK(nm > 2);
        if (nm > 2) {
            memcpy(d + at + 24, d + at + 12, 12); /* merge 2 := merge 1 */
            uint32_t c = (uint32_t)crc32(0L, d, (uInt)(n - 4));
            for (int i = 0; i < 4; i++) d[n - 4 + i] = (unsigned char)(c >> (8 * i));
            CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == NLPRNN_E_FORMAT);
            CHECK_MSG(strstr(err.message, "merge 2 is malformed") != NULL, "%s", err.message);
            /* the original loads (the walk above found the merges) */
            memcpy(d, buf, n);
            CHECK(nlprnn_tokenizer_load_memory(d, n, &t2, &err) == 0);
            nlprnn_tokenizer_free(t2);
            t2 = NULL;
        }
    }
    CHECK(nlprnn_tokenizer_load("/nonexistent/x.tok", &t2, &err) == NLPRNN_E_IO);
    CHECK(strstr(err.message, "/nonexistent/x.tok") != NULL);
    free(d);
    nlprnn_free(buf);
}

/* two threads share the tokenizer, each with its own encoding */
typedef struct job {
    char out[8192];
} job;

static void *encode_all(void *arg) {
    job *j = arg;
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    size_t w = 0;
    for (int rep = 0; rep < 20; rep++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (nlprnn_tokenizer_encode(tok, cases[i].text, strlen(cases[i].text), enc, NULL)) continue;
            if (rep == 19) {
                size_t n = nlprnn_encoding_size(enc);
                for (size_t k = 0; k < n && w + 12 < sizeof j->out; k++)
                    w += (size_t)snprintf(j->out + w, sizeof j->out - w, "%d ", nlprnn_encoding_ids(enc)[k]);
            }
        }
    nlprnn_encoding_free(enc);
    return NULL;
}

static void test_threads(void) {
    static job a, b, c;
    pthread_t t1, t2;
    encode_all(&c);
    CHECK(pthread_create(&t1, NULL, encode_all, &a) == 0);
    CHECK(pthread_create(&t2, NULL, encode_all, &b) == 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(strlen(c.out) > 100);
    CHECK_STR_EQ(a.out, c.out);
    CHECK_STR_EQ(b.out, c.out);
}

static int in_tables(const nlprnn_tokenizer *t, const void *p) {
    const char *b = t->tables;
    return b && (const char *)p >= b && (const char *)p < b + t->vocab.block_len;
}

/* A loaded tokenizer keeps its vocabulary and merge tables in one block (nr_tok_tables): every
 * array inside it, every piece and merge found through the tables, and the same encodings as the
 * fixture's tokenizer. The arrays can still grow (vocab_grow, vocab_rehash, merges_grow,
 * merges_rehash leave the block for copies of their own): the old and the new pieces and merges
 * are all found after that, and freeing frees each once (ASan). */
static void test_tables_block(void) {
    nlprnn_error err;
    void *buf = NULL;
    size_t n = 0;
    CHECK(nlprnn_tokenizer_save_memory(tok, &buf, &n, &err) == 0);
    nlprnn_tokenizer *t = NULL;
    CHECK(nlprnn_tokenizer_load_memory(buf, n, &t, &err) == 0);
    free(buf);
    if (!t) return;
    nr_vocab *v = &t->vocab;
    nr_merges *m = &t->merges;
    CHECK(t->tables != NULL && v->block == t->tables && m->block == t->tables);
    CHECK(in_tables(t, v->piece) && in_tables(t, v->len) && in_tables(t, v->kind) &&
          in_tables(t, v->slots) && in_tables(t, v->arena) && in_tables(t, m->rule) &&
          in_tables(t, m->slots));
    CHECK_MSG(v->n == 8000 && m->n > 5000, "%d pieces, %d merges", (int)v->n, (int)m->n);
    int bad = 0;
    for (int32_t i = 0; i < v->n; i++) bad += nr_vocab_find(v, v->piece[i], v->len[i]) != i || !in_tables(t, v->piece[i]);
    for (int32_t r = 0; r < m->n; r++) {
        int32_t res = -1;
        bad += nr_merges_find(m, m->rule[3 * r], m->rule[3 * r + 1], &res) != r || res != m->rule[3 * r + 2];
    }
    CHECK_INT_EQ(bad, 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nlprnn_encoding *a = NULL, *b = NULL;
        CHECK(nlprnn_encoding_create(&a, &err) == 0 && nlprnn_encoding_create(&b, &err) == 0);
        CHECK(nlprnn_tokenizer_encode(tok, cases[c].text, strlen(cases[c].text), a, &err) == 0);
        CHECK(nlprnn_tokenizer_encode(t, cases[c].text, strlen(cases[c].text), b, &err) == 0);
        size_t na = nlprnn_encoding_size(a); /* 0 for the empty cases: ids may be NULL then */
        CHECK(na == nlprnn_encoding_size(b) &&
              (!na || !memcmp(nlprnn_encoding_ids(a), nlprnn_encoding_ids(b), na * sizeof(int32_t))));
        nlprnn_encoding_free(a);
        nlprnn_encoding_free(b);
    }
    /* grow past the block's room: 9,000 more pieces (the arrays and the table double), 9,000 more
     * merges (pairs of new pieces, never merges of the file) */
    int32_t n0 = v->n, m0 = m->n;
    for (int i = 0; i < 9000; i++) {
        char p[32];
        snprintf(p, sizeof p, "grown%d", i);
        CHECK_INT_EQ(nr_vocab_add_new(v, p, strlen(p), NR_PIECE_NORMAL), n0 + i);
    }
    for (int i = 0; i + 1 < 9000; i += 1)
        CHECK_INT_EQ(nr_merges_add(m, n0 + i, n0 + i + 1, n0 + i), 0);
    CHECK(!in_tables(t, v->piece) && !in_tables(t, v->len) && !in_tables(t, v->kind) &&
          !in_tables(t, v->slots) && !in_tables(t, m->rule) && !in_tables(t, m->slots));
    bad = 0;
    for (int32_t i = 0; i < v->n; i++) bad += nr_vocab_find(v, v->piece[i], v->len[i]) != i;
    for (int32_t r = 0; r < m->n; r++) {
        int32_t res = -1;
        bad += nr_merges_find(m, m->rule[3 * r], m->rule[3 * r + 1], &res) != r || res != m->rule[3 * r + 2];
    }
    CHECK_INT_EQ(bad, 0);
    CHECK(v->n == n0 + 9000 && m->n == m0 + 8999);
    CHECK(nr_vocab_find(v, "grown8999", 9) == n0 + 8999 && nr_vocab_find(v, "grown9000", 9) < 0);
    nlprnn_tokenizer_free(t);
}

/* BPE dropout (nlprnn_tokenizer_encode_sample). */
static int only_chars(nlprnn_encoding *enc) { /* every piece "▁", one character, a byte or special */
    const int32_t *ids = nlprnn_encoding_ids(enc);
    for (size_t i = 0; i < nlprnn_encoding_size(enc); i++) {
        const char *p = nlprnn_tokenizer_piece(tok, ids[i]);
        if (nlprnn_tokenizer_piece_is_byte(tok, ids[i]) || nlprnn_tokenizer_piece_is_special(tok, ids[i])) continue;
        if (!strcmp(p, NLPRNN_WORD_START)) continue;
        size_t n = strlen(p), k = (unsigned char)p[0] < 0x80 ? 1 : (unsigned char)p[0] < 0xE0 ? 2
                                                            : (unsigned char)p[0] < 0xF0 ? 3 : 4;
        if (n != k) return 0;
    }
    return 1;
}

static void test_sample(void) {
    nlprnn_encoding *enc = NULL, *plain = NULL;
    nlprnn_encoding_create(&enc, NULL);
    nlprnn_encoding_create(&plain, NULL);
    nlprnn_error err;
    char got[4096], want[4096];
    const size_t nc = sizeof cases / sizeof cases[0];
    /* dropout 0 is the plain encoding, ids and offsets, whatever the seed (with BOS/EOS too) */
    for (size_t i = 0; i < nc; i++) {
        const char *t = cases[i].text;
        CHECK(nlprnn_tokenizer_encode_sample(tok, t, strlen(t), 0, 0.0, 1234 + i, enc, &err) == 0);
        render(enc, 1, got, sizeof got);
        CHECK_STR_EQ(got, cases[i].pieces);
        CHECK(nlprnn_tokenizer_encode_sample(tok, t, strlen(t), NLPRNN_ENCODE_BOS | NLPRNN_ENCODE_EOS, 0.0, 7, enc,
                                             &err) == 0);
        CHECK(nlprnn_tokenizer_encode_flags(tok, t, strlen(t), NLPRNN_ENCODE_BOS | NLPRNN_ENCODE_EOS, plain, &err) ==
              0);
        CHECK_INT_EQ(nlprnn_encoding_size(enc), nlprnn_encoding_size(plain));
        CHECK(memcmp(nlprnn_encoding_ids(enc), nlprnn_encoding_ids(plain), nlprnn_encoding_size(enc) * 4) == 0);
    }
    /* dropout 1: the characters ("▁", one piece a character of the alphabet, bytes otherwise) */
    const char *ko = "극장에 갔다";
    CHECK(nlprnn_tokenizer_encode_sample(tok, ko, strlen(ko), 0, 1.0, 5, enc, &err) == 0);
    render(enc, 1, got, sizeof got);
    CHECK_STR_EQ(got, "▁@0:0 극@0:3 장@3:6 에@6:9 ▁@10:10 갔@10:13 다@13:16");
    for (size_t i = 0; i < nc; i++) {
        const char *t = cases[i].text;
        CHECK(nlprnn_tokenizer_encode_sample(tok, t, strlen(t), 0, 1.0, 99, enc, &err) == 0);
        CHECK_MSG(only_chars(enc), "case %zu: dropout 1 left a merged piece", i);
    }
    /* every sample decodes to the text (the normalized form, as the plain encoding), and its
     * offsets go forward within the text; the same seed gives the same sample */
    double ps[] = {0.05, 0.1, 0.3, 0.5, 0.9};
    int differ = 0;
    for (size_t pi = 0; pi < sizeof ps / sizeof ps[0]; pi++)
        for (size_t i = 0; i < nc; i++) {
            const char *t = cases[i].text;
            if (strstr(t, "__") || strstr(t, "[MASK]")) continue;
            char *norm = NULL;
            CHECK(nlprnn_tokenizer_normalize(tok, t, strlen(t), &norm, NULL, &err) == 0);
            CHECK(nlprnn_tokenizer_encode(tok, t, strlen(t), plain, &err) == 0);
            render(plain, 1, want, sizeof want);
            for (uint64_t seed = 1; seed <= 40; seed++) {
                CHECK(nlprnn_tokenizer_encode_sample(tok, t, strlen(t), 0, ps[pi], seed, enc, &err) == 0);
                char *dec = NULL;
                CHECK(nlprnn_tokenizer_decode_alloc(tok, nlprnn_encoding_ids(enc), nlprnn_encoding_size(enc), &dec,
                                                    NULL, &err) == 0);
                CHECK_MSG(dec && !strcmp(dec, norm), "case %zu p %g seed %llu: decodes to \"%s\", not \"%s\"", i,
                          ps[pi], (unsigned long long)seed, dec ? dec : "", norm);
                nlprnn_free(dec);
                CHECK(nlprnn_encoding_size(enc) >= nlprnn_encoding_size(plain));
                const size_t *o = nlprnn_encoding_offsets(enc);
                for (size_t j = 0; j < nlprnn_encoding_size(enc); j++) {
                    CHECK(o[2 * j] <= o[2 * j + 1] && o[2 * j + 1] <= strlen(t));
                    if (j) CHECK(o[2 * j] >= o[2 * j - 2]);
                }
                render(enc, 1, got, sizeof got);
                differ += strcmp(got, want) != 0;
                CHECK(nlprnn_tokenizer_encode_sample(tok, t, strlen(t), 0, ps[pi], seed, enc, &err) == 0);
                char again[4096];
                render(enc, 1, again, sizeof again);
                CHECK_STR_EQ(again, got);
            }
            nlprnn_free(norm);
        }
    CHECK(differ > 100); /* dropout does change segmentations */
    /* statistics: "!!" after "재밌어요" is one merge of "!" "!": it survives with probability 1 - p
     * (a segment ends when no pair survives a step); and more dropout, more pieces on average */
    const char *ex = "재밌어요!!";
    int32_t bang2 = nlprnn_tokenizer_piece_id(tok, "!!");
    CHECK(bang2 >= 0);
    const int N = 4000;
    int merged = 0;
    for (int s = 0; s < N; s++) {
        CHECK(nlprnn_tokenizer_encode_sample(tok, ex, strlen(ex), 0, 0.3, (uint64_t)s, enc, &err) == 0);
        merged += nlprnn_encoding_ids(enc)[nlprnn_encoding_size(enc) - 1] == bang2;
    }
    /* binomial(4000, 0.7): sd 0.0072; the seeds are fixed, so the test is deterministic */
    CHECK_NEAR((double)merged / N, 0.7, 0.03);
    const char *sent = "이 영화 정말 재밌어요!! 배우들 연기가 좋았다";
    double prev = 0;
    double pv[] = {0.0, 0.1, 0.3, 0.6, 1.0};
    for (size_t pi = 0; pi < sizeof pv / sizeof pv[0]; pi++) {
        double mean = 0;
        for (int s = 0; s < 300; s++) {
            CHECK(nlprnn_tokenizer_encode_sample(tok, sent, strlen(sent), 0, pv[pi], (uint64_t)s, enc, &err) == 0);
            mean += (double)nlprnn_encoding_size(enc) / 300;
        }
        if (pi) CHECK_MSG(mean > prev + 0.5, "dropout %g: %.2f pieces on average, %.2f with less", pv[pi], mean, prev);
        prev = mean;
    }
    /* the chunk cache of the plain encoding neither serves nor keeps samples */
    CHECK(nlprnn_tokenizer_encode(tok, ko, strlen(ko), enc, &err) == 0);
    render(enc, 1, want, sizeof want);
    CHECK(nlprnn_tokenizer_encode_sample(tok, ko, strlen(ko), 0, 1.0, 3, enc, &err) == 0);
    CHECK_INT_EQ(nlprnn_encoding_size(enc), 7);
    CHECK(nlprnn_tokenizer_encode(tok, ko, strlen(ko), enc, &err) == 0);
    render(enc, 1, got, sizeof got);
    CHECK_STR_EQ(got, want);
    /* bad input */
    double bad[] = {-0.1, 1.5, 0.0 / 0.0};
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT_EQ(nlprnn_tokenizer_encode_sample(tok, ko, strlen(ko), 0, bad[i], 1, enc, &err),
                     NLPRNN_E_INVALID_ARG);
        CHECK(strstr(err.message, "dropout") != NULL);
        CHECK_INT_EQ(nlprnn_encoding_size(enc), 0);
    }
    CHECK_INT_EQ(nlprnn_tokenizer_encode_sample(tok, "a\xff", 2, 0, 0.5, 1, enc, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.offset, 1);
    CHECK_INT_EQ(nlprnn_tokenizer_encode_sample(NULL, ko, strlen(ko), 0, 0.5, 1, enc, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_tokenizer_encode_sample(tok, ko, strlen(ko), 0, 0.5, 1, NULL, &err), NLPRNN_E_INVALID_ARG);
    /* a word-level tokenizer has no merges to drop: dropout > 0 is refused, 0 is the plain encoding */
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer *wt = NULL;
    CHECK(nlprnn_tokenizer_params_create(&o, &err) == 0);
    CHECK(nlprnn_tokenizer_params_set(o, "model-type", "word", &err) == 0);
    CHECK(nlprnn_tokenizer_params_set(o, "vocab-size", "300", &err) == 0);
    const char *texts[] = {"극장에 갔다", "극장에 갔다", "영화 좋다", "영화 좋다"};
    CHECK(nlprnn_tokenizer_train_texts(o, texts, NULL, 4, &wt, &err) == 0);
    if (wt) {
        CHECK_INT_EQ(nlprnn_tokenizer_encode_sample(wt, ko, strlen(ko), 0, 0.1, 1, enc, &err), NLPRNN_E_INVALID_ARG);
        CHECK(strstr(err.message, "word") != NULL);
        CHECK(nlprnn_tokenizer_encode_sample(wt, ko, strlen(ko), 0, 0.0, 1, enc, &err) == 0);
        CHECK(nlprnn_tokenizer_encode(wt, ko, strlen(ko), plain, &err) == 0);
        CHECK_INT_EQ(nlprnn_encoding_size(enc), nlprnn_encoding_size(plain));
    }
    nlprnn_tokenizer_free(wt);
    nlprnn_tokenizer_params_free(o);
    nlprnn_encoding_free(enc);
    nlprnn_encoding_free(plain);
}

int main(void) {
    nlprnn_error err;
    int rc = nlprnn_tokenizer_load(nr_test_data_path("tokenizer/nsmc8k.tok"), &tok, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (rc) return nr_test_done("test_tokenizer");
    test_cases();
    test_decode();
    test_accessors();
    test_files();
    test_threads();
    test_tables_block();
    test_sample();
    nlprnn_tokenizer_free(tok);
    return nr_test_done("test_tokenizer");
}

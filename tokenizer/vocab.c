/* tokenizer/vocab.c: stage 4a, the vocabulary (pieces <-> ids) and the BPE merge table, both
 * open-addressing hash tables over flat arrays. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

/* p lies in a loader's block of tables (nr_tok_tables): not freed or reallocated alone. Its end
 * counts too: an array of no elements at the end of the block (the piece kinds of a table of 0
 * pieces and no text) points just past it, and freeing that pointer crashed the loader of a
 * damaged file (found by fuzz_tokenizer_load). No allocation of its own starts there. */
static int in_block(const char *block, size_t block_len, const void *p) {
    return block && (uintptr_t)p >= (uintptr_t)block && (uintptr_t)p <= (uintptr_t)block + block_len;
}

static void free_unless_in(const char *block, size_t block_len, void *p) {
    if (!in_block(block, block_len, p)) free(p);
}

/* nr_realloc_array for an array of old_n elements that may lie in a block (then a copy) */
static void *regrow(const char *block, size_t block_len, void *p, size_t old_n, size_t n,
                    size_t size) {
    if (!in_block(block, block_len, p)) return nr_realloc_array(p, n, size);
    void *q = nr_malloc_array(n, size);
    if (q) memcpy(q, p, (old_n < n ? old_n : n) * size);
    return q;
}

static inline uint64_t hash_bytes(const void *p, size_t n) {
    /* 8 bytes a step (a multiply and a fold), the last 0-7 bytes as one word, the length mixed
     * in first, then a final avalanche (splitmix64 finalizer). Each step is a bijection of the
     * state, so two keys of one length up to 8 bytes never collide in 64 bits. The values depend
     * on the byte order: only in-memory tables and caches use them, never a file. (FNV-1a, a byte a
     * step, took ~4 cycles a byte; with it nr_hash_bytes was 3.7 % of a one-review run's samples,
     * inlined in vocab_put another part of its 4.2 %.) */
    const unsigned char *s = p;
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h = 0xcbf29ce484222325ULL ^ ((uint64_t)n * k);
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    if (n) { /* 1-7 bytes as one word: two 4-byte loads that overlap, or bytes 0, n/2, n-1 */
        uint64_t w;
        if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, s, 4);
            memcpy(&b, s + n - 4, 4);
            w = (uint64_t)a << 32 | b;
        } else {
            w = (uint64_t)s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
        }
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

uint64_t nr_hash_bytes(const void *p, size_t n) { return hash_bytes(p, n); }

int nr_vocab_init(nr_vocab *v) {
    memset(v, 0, sizeof *v);
    v->nslots = 1024;
    v->slots = malloc(v->nslots * sizeof *v->slots);
    if (!v->slots) return -1;
    memset(v->slots, 0xff, v->nslots * sizeof *v->slots);
    return 0;
}

void nr_vocab_free(nr_vocab *v) {
    if (!v) return;
    uintptr_t a0 = (uintptr_t)v->arena, a1 = a0 + v->arena_cap;
    for (int32_t i = 0; i < v->n; i++)
        if (!v->arena || (uintptr_t)v->piece[i] < a0 || (uintptr_t)v->piece[i] >= a1) free(v->piece[i]);
    free_unless_in(v->block, v->block_len, v->arena);
    free_unless_in(v->block, v->block_len, v->piece);
    free_unless_in(v->block, v->block_len, v->len);
    free_unless_in(v->block, v->block_len, v->kind);
    free_unless_in(v->block, v->block_len, v->slots);
    memset(v, 0, sizeof *v);
}

static void vocab_insert_slot(int32_t *slots, uint32_t nslots, const nr_vocab *v, int32_t id) {
    uint32_t m = nslots - 1, h = (uint32_t)hash_bytes(v->piece[id], v->len[id]) & m;
    while (slots[h] >= 0) h = (h + 1) & m;
    slots[h] = id;
}

/* arrays of cap pieces */
static int vocab_grow(nr_vocab *v, int32_t cap) {
    size_t old = (size_t)v->cap;
    char **p = regrow(v->block, v->block_len, v->piece, old, (size_t)cap, sizeof *p);
    if (!p) return -1;
    v->piece = p;
    uint32_t *l = regrow(v->block, v->block_len, v->len, old, (size_t)cap, sizeof *l);
    if (!l) return -1;
    v->len = l;
    uint8_t *k = regrow(v->block, v->block_len, v->kind, old, (size_t)cap, 1);
    if (!k) return -1;
    v->kind = k;
    v->cap = cap;
    return 0;
}

/* a hash table of ns slots (a power of two) holding the pieces so far */
static int vocab_rehash(nr_vocab *v, uint32_t ns) {
    int32_t *sl = malloc((size_t)ns * sizeof *sl);
    if (!sl) return -1;
    memset(sl, 0xff, (size_t)ns * sizeof *sl);
    for (int32_t i = 0; i < v->n; i++) vocab_insert_slot(sl, ns, v, i);
    free_unless_in(v->block, v->block_len, v->slots);
    v->slots = sl;
    v->nslots = ns;
    return 0;
}

/* Add s (its id), or with unique = 1 return -2 when it is already there; -1: no memory. One hash,
 * one probe. */
static int32_t vocab_put(nr_vocab *v, const char *s, size_t len, int kind, int unique) {
    if (len > UINT32_MAX / 2) return -1;
    if (v->n == v->cap) {
        int32_t cap = v->cap ? v->cap * 2 : 512;
        if (vocab_grow(v, cap)) return -1;
    }
    if ((uint32_t)(v->n + 1) * 2 > v->nslots && vocab_rehash(v, v->nslots * 2)) return -1;
    uint32_t m = v->nslots - 1, h = (uint32_t)hash_bytes(s, len) & m;
    for (; v->slots[h] >= 0; h = (h + 1) & m) {
        int32_t id = v->slots[h];
        if (unique && v->len[id] == len && memcmp(v->piece[id], s, len) == 0) return -2;
    }
    char *c;
    if (v->arena && v->arena_cap - v->arena_used >= len + 1) {
        c = v->arena + v->arena_used;
        v->arena_used += len + 1;
    } else if (!(c = malloc(len + 1))) {
        return -1;
    }
    memcpy(c, s, len);
    c[len] = '\0';
    int32_t id = v->n++;
    v->piece[id] = c;
    v->len[id] = (uint32_t)len;
    v->kind[id] = (uint8_t)kind;
    v->slots[h] = id;
    return id;
}

int32_t nr_vocab_add(nr_vocab *v, const char *s, size_t len, int kind) {
    return vocab_put(v, s, len, kind, 0);
}

int32_t nr_vocab_add_new(nr_vocab *v, const char *s, size_t len, int kind) {
    return vocab_put(v, s, len, kind, 1);
}

int32_t nr_vocab_find(const nr_vocab *v, const char *s, size_t len) {
    uint32_t m = v->nslots - 1, h = (uint32_t)hash_bytes(s, len) & m;
    for (;;) {
        int32_t id = v->slots[h];
        if (id < 0) return -1;
        if (v->len[id] == len && memcmp(v->piece[id], s, len) == 0) return id;
        h = (h + 1) & m;
    }
}

int nr_fixed_piece(int i, char name[8]) {
    static const char *const special[NLPRNN_NUM_SPECIAL_IDS] = {"<pad>", "<unk>", "<bos>",
                                                                "<eos>", "<mask>"};
    if (i < NLPRNN_NUM_SPECIAL_IDS) {
        snprintf(name, 8, "%s", special[i]);
        return NR_PIECE_SPECIAL;
    }
    snprintf(name, 8, "<0x%02X>", (unsigned)(i - NLPRNN_NUM_SPECIAL_IDS) & 0xFFu);
    return NR_PIECE_BYTE;
}

int nr_vocab_add_fixed(nr_vocab *v, int byte_fallback) {
    int nfixed = NLPRNN_NUM_SPECIAL_IDS + (byte_fallback ? 256 : 0);
    for (int i = 0; i < nfixed; i++) {
        char name[8];
        int kind = nr_fixed_piece(i, name);
        if (nr_vocab_add(v, name, strlen(name), kind) != i) return -1;
    }
    return 0;
}

/* ---- merges ------------------------------------------------------------------------------- */

static uint32_t pair_hash(int32_t a, int32_t b) {
    uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (uint32_t)k;
}

static void merges_insert_slot(int32_t *slots, uint32_t nslots, const int32_t *rule, int32_t r) {
    uint32_t m = nslots - 1, h = pair_hash(rule[3 * r], rule[3 * r + 1]) & m;
    while (slots[h] >= 0) h = (h + 1) & m;
    slots[h] = r;
}

static int merges_grow(nr_merges *m, int32_t cap) {
    int32_t *r = regrow(m->block, m->block_len, m->rule, (size_t)m->cap * 3, (size_t)cap * 3, sizeof *r);
    if (!r) return -1;
    m->rule = r;
    m->cap = cap;
    return 0;
}

static int merges_rehash(nr_merges *m, uint32_t ns) {
    int32_t *sl = malloc((size_t)ns * sizeof *sl);
    if (!sl) return -1;
    memset(sl, 0xff, (size_t)ns * sizeof *sl);
    for (int32_t i = 0; i < m->n; i++) merges_insert_slot(sl, ns, m->rule, i);
    free_unless_in(m->block, m->block_len, m->slots);
    m->slots = sl;
    m->nslots = ns;
    return 0;
}

/* Add the rule, or with unique = 1 return -2 when (left, right) is already there; -1: no memory.
 * One hash, one probe. */
static int merges_put(nr_merges *m, int32_t left, int32_t right, int32_t result, int unique) {
    if (m->n == m->cap && merges_grow(m, m->cap ? m->cap * 2 : 1024)) return -1;
    if ((uint32_t)(m->n + 1) * 2 > m->nslots && merges_rehash(m, m->nslots ? m->nslots * 2 : 2048))
        return -1;
    uint32_t mask = m->nslots - 1, h = pair_hash(left, right) & mask;
    for (; m->slots[h] >= 0; h = (h + 1) & mask) {
        int32_t q = m->slots[h];
        if (unique && m->rule[3 * q] == left && m->rule[3 * q + 1] == right) return -2;
    }
    int32_t r = m->n++;
    m->rule[3 * r] = left;
    m->rule[3 * r + 1] = right;
    m->rule[3 * r + 2] = result;
    m->slots[h] = r;
    return 0;
}

int nr_merges_add(nr_merges *m, int32_t left, int32_t right, int32_t result) {
    return merges_put(m, left, right, result, 0);
}

int nr_merges_add_new(nr_merges *m, int32_t left, int32_t right, int32_t result) {
    return merges_put(m, left, right, result, 1);
}

int32_t nr_merges_find(const nr_merges *m, int32_t left, int32_t right, int32_t *result) {
    if (!m->nslots) return -1;
    uint32_t mask = m->nslots - 1, h = pair_hash(left, right) & mask;
    for (;;) {
        int32_t r = m->slots[h];
        if (r < 0) return -1;
        if (m->rule[3 * r] == left && m->rule[3 * r + 1] == right) {
            *result = m->rule[3 * r + 2];
            return r;
        }
        h = (h + 1) & mask;
    }
}

void nr_merges_free(nr_merges *m) {
    if (!m) return;
    free_unless_in(m->block, m->block_len, m->rule);
    free_unless_in(m->block, m->block_len, m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- one block for a loader ------------------------------------------------------------------ */

/* the slots of a table that holds n entries at most half full, at least `least` */
static uint32_t table_slots(int32_t n, uint32_t least) {
    uint32_t ns = least;
    while ((uint64_t)n * 2 > ns) ns *= 2;
    return ns;
}

static size_t up8(size_t n) { return (n + 7) & ~(size_t)7; }

void *nr_tok_tables(nr_vocab *v, nr_merges *m, int32_t n, size_t text_bytes, int32_t nm) {
    if (n < 0 || n > INT32_MAX / 2 || nm < 0 || nm > INT32_MAX / 2 || v->n || m->n ||
        text_bytes > SIZE_MAX / 4)
        return NULL;
    uint32_t nsv = table_slots(n, v->nslots > 1024 ? v->nslots : 1024), nsm = table_slots(nm, 2048);
    /* offsets of: piece, len, vocab slots, rules, merge slots, kind, texts (8-byte aligned) */
    size_t at[8];
    at[0] = 0;
    at[1] = at[0] + up8((size_t)n * sizeof(char *));
    at[2] = at[1] + up8((size_t)n * sizeof(uint32_t));
    at[3] = at[2] + (size_t)nsv * sizeof(int32_t);
    at[4] = at[3] + up8((size_t)nm * 3 * sizeof(int32_t));
    at[5] = at[4] + (size_t)nsm * sizeof(int32_t);
    at[6] = at[5] + up8((size_t)n);
    at[7] = at[6] + up8(text_bytes);
    char *b = nr_filled_alloc(at[7], 1);
    if (!b) return NULL;
    free(v->piece);
    free(v->len);
    free(v->kind);
    free(v->slots);
    free(m->rule);
    free(m->slots);
    v->piece = (char **)(void *)(b + at[0]);
    v->len = (uint32_t *)(void *)(b + at[1]);
    v->slots = (int32_t *)(void *)(b + at[2]);
    v->nslots = nsv;
    memset(v->slots, 0xff, (size_t)nsv * sizeof(int32_t));
    v->kind = (uint8_t *)(b + at[5]);
    v->cap = n;
    v->arena = text_bytes ? b + at[6] : NULL;
    v->arena_cap = text_bytes;
    v->arena_used = 0;
    m->rule = (int32_t *)(void *)(b + at[3]);
    m->cap = nm;
    m->slots = (int32_t *)(void *)(b + at[4]);
    m->nslots = nsm;
    memset(m->slots, 0xff, (size_t)nsm * sizeof(int32_t));
    v->block = m->block = b;
    v->block_len = m->block_len = at[7];
    return b;
}

/* tokenizer/internal.h: the stages of the tokenizer, shared between its source files.
 *
 *   utf8.c        strict UTF-8 decoding (Unicode Table 3-7), error offsets
 *   normalize.c   NFKC/NFC/NFKC_CF/none + whitespace + control characters + Hangul jamo, with
 *                 an alignment from every normalized byte back to the original byte range
 *   pretokenize.c whitespace chunks -> blank markers + PCRE2 segments
 *   vocab.c       pieces <-> ids (hash table), merge table
 *   bpe.c         BPE encoding of one segment
 *   word.c        word-level encoding of one segment
 *   trainer.c     counting + BPE / word-level training
 *   tokenizer.c   glue: options, encode with cache and offsets, decode, file format
 */
#ifndef NR_TOKENIZER_INTERNAL_H
#define NR_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "nlprnn/tokenizer.h"

/* Longest segment handed to the subword model, in bytes; longer letter runs are cut (at a
 * character boundary) so BPE stays linear in the input length. */
#define NR_MAX_SEGMENT_BYTES 256

/* ---- utf8.c ------------------------------------------------------------------------------- */

/* Decode one code point at s[0..n) (n >= 1). Returns its length (1..4) and sets *cp, or returns
 * -k when s starts with an ill-formed sequence whose maximal subpart is k bytes (k >= 1).
 * NUL is well-formed here; callers decide about it. */
int nr_utf8_decode(const unsigned char *s, size_t n, int32_t *cp);
/* Encode cp (valid scalar value) into out (4 bytes room); returns the length. */
int nr_utf8_encode(int32_t cp, char *out);
/* 1-based line of byte offset off in s (counts '\n' before it). */
long long nr_line_of(const char *s, size_t off);
/* Check that s[0..n) is valid UTF-8 (NUL allowed); returns the offset of the first bad byte or
 * (size_t)-1 when valid. */
size_t nr_utf8_first_invalid(const char *s, size_t n);

/* ---- normalize.c -------------------------------------------------------------------------- */

/* The stored values of the string-valued settings: the index of their names (tokenizer.c), which
 * the file's header holds. The deprecated NLPRNN_NORM_* and NLPRNN_TOKMODEL_* name the same values;
 * the library uses these, so that 0.3 can remove those. */
enum { NR_NORM_NFKC = 0, NR_NORM_NFC = 1, NR_NORM_NFKC_CF = 2, NR_NORM_NONE = 3 };
enum { NR_MODEL_BPE = 0, NR_MODEL_WORD = 1 };
enum { NR_CTRL_REMOVE = 0, NR_CTRL_SPACE = 1, NR_CTRL_KEEP = 2 };
enum { NR_INVALID_ERROR = 0, NR_INVALID_REPLACE = 1 };

typedef struct nr_normcfg {
    int form;      /* NR_NORM_* */
    int control;   /* NR_CTRL_* */
    int jamo;      /* decompose Hangul syllables into conjoining jamo */
    int invalid;   /* NR_INVALID_* */
} nr_normcfg;

/* Normalized text plus, when tracked, the original byte range of every normalized byte. */
typedef struct nr_normbuf {
    char *text;       /* normalized bytes (not NUL-terminated) */
    size_t len, cap;
    size_t *obeg;     /* (len) original begin of the byte's source, or NULL when untracked */
    size_t *oend;     /* (len) original end */
    size_t ocap;
    int32_t *chunk;   /* scratch: code points of the current normalization chunk */
    size_t chunk_cap;
} nr_normbuf;

void nr_normbuf_free(nr_normbuf *nb);
/* Normalize s[0..n) into nb (replacing its content). jamo overrides cfg->jamo (so the public
 * normalize can produce the syllable form). track != 0 fills obeg/oend. The result has no
 * leading/trailing whitespace and single spaces (U+0020) between words; it contains no other
 * whitespace. Errors: NLPRNN_E_UTF8 with offset/line of the first bad byte (message
 * "line L: byte B: ..."), NLPRNN_E_NOMEM. */
int nr_normalize(const nr_normcfg *cfg, int jamo, const char *s, size_t n, nr_normbuf *nb,
                 int track, nlprnn_error *err);
/* nr_normalize of s[from..n) only. Offsets (obeg/oend, the error offset and line) stay
 * relative to s, so a long text can be normalized window by window: cut at ASCII whitespace,
 * the windows give exactly the chunks of the whole text (no normalization crosses a space). */
int nr_normalize_range(const nr_normcfg *cfg, int jamo, const char *s, size_t from, size_t n,
                       nr_normbuf *nb, int track, nlprnn_error *err);
/* 1 when s[0..n) may be cut before byte p inside a whitespace-free run: the code points on
 * both sides are plain letters, digits or ASCII symbols (not '_') that no normalization form
 * changes or joins, and p is not inside "[MASK]". Normalizing both sides apart then gives the
 * normalized whole, with the cut between two non-space characters. */
int nr_can_cut(const char *s, size_t n, size_t p);
/* Compose conjoining jamo back into syllables in place (for decode); returns the new length. */
size_t nr_compose_jamo(char *s, size_t n);

/* ---- pretokenize.c ------------------------------------------------------------------------ */

extern const char nr_default_pattern[];

typedef struct nr_pretok {
    pcre2_code *code;
    char *pattern;  /* the source pattern ("" = default) */
} nr_pretok;

typedef struct nr_segment {
    uint32_t begin, end; /* byte range in the normalized chunk */
    uint8_t word_start;  /* preceded by whitespace or the start of the text */
    uint8_t is_mask;     /* a blank marker */
} nr_segment;

typedef struct nr_segvec {
    nr_segment *v;
    size_t n, cap;
} nr_segvec;

/* Compile pattern (NULL or "" = default) with UTF+UCP and JIT. NLPRNN_E_REGEX names the
 * PCRE2 error and offset. */
int nr_pretok_init(nr_pretok *pt, const char *pattern, nlprnn_error *err);
void nr_pretok_free(nr_pretok *pt);
/* Split one whitespace-free chunk s[0..n) into segments (appended to out). word_start: the
 * chunk follows whitespace or starts the text. md: match data from the same pattern (per
 * thread). Segments longer than NR_MAX_SEGMENT_BYTES are cut. */
int nr_pretokenize_chunk(const nr_pretok *pt, pcre2_match_data *md, const char *s, size_t n,
                         int word_start, nr_segvec *out);

/* ---- vocab.c ------------------------------------------------------------------------------ */

enum { NR_PIECE_NORMAL = 0, NR_PIECE_SPECIAL = 1, NR_PIECE_BYTE = 2 };

typedef struct nr_vocab {
    int32_t n, cap;
    char **piece;       /* (n) NUL-terminated piece text */
    uint32_t *len;      /* (n) byte length */
    uint8_t *kind;      /* (n) NR_PIECE_* */
    int32_t *slots;     /* open-addressing table of ids, -1 = empty */
    uint32_t nslots;    /* power of two */
    char *arena;        /* texts of the pieces a loader added (nr_tok_tables), one array */
    size_t arena_used, arena_cap;
    const char *block;  /* arrays in [block, block + block_len) are a loader's (nr_tok_tables) */
    size_t block_len;
} nr_vocab;

int nr_vocab_init(nr_vocab *v);
void nr_vocab_free(nr_vocab *v);
/* nr_vocab_add for a piece that must be new: its id, -2 if it is already there (nothing added),
 * -1 (no memory); one hash and one probe. */
int32_t nr_vocab_add_new(nr_vocab *v, const char *s, size_t len, int kind);
/* Append a piece; returns its id, or -1 on out of memory. Does not check for duplicates. */
int32_t nr_vocab_add(nr_vocab *v, const char *s, size_t len, int kind);
int32_t nr_vocab_find(const nr_vocab *v, const char *s, size_t len);
/* Add the five special pieces and, when byte_fallback, the 256 byte pieces. */
int nr_vocab_add_fixed(nr_vocab *v, int byte_fallback);
/* The text (NUL-terminated) and kind (NR_PIECE_SPECIAL or NR_PIECE_BYTE) of fixed piece i, 0 <=
 * i < NLPRNN_NUM_SPECIAL_IDS + 256: the ids every vocabulary starts with. */
int nr_fixed_piece(int i, char name[8]);
uint64_t nr_hash_bytes(const void *p, size_t n);

/* BPE merge table: (left, right) -> (rank, result). */
typedef struct nr_merges {
    int32_t n, cap;
    int32_t *rule;      /* (n,3) left, right, result */
    int32_t *slots;     /* open addressing of rule indices, -1 = empty */
    uint32_t nslots;
    const char *block;  /* as nr_vocab's */
    size_t block_len;
} nr_merges;

int nr_merges_add(nr_merges *m, int32_t left, int32_t right, int32_t result);
/* nr_merges_add for a pair that must be new: 0, -2 if (left, right) is already there (nothing
 * added), -1 (no memory); one hash and one probe. */
int nr_merges_add_new(nr_merges *m, int32_t left, int32_t right, int32_t result);
/* Rank of merge (left,right) or -1; *result receives the merged id. */
int32_t nr_merges_find(const nr_merges *m, int32_t left, int32_t right, int32_t *result);
void nr_merges_free(nr_merges *m);
/* For a loader that knows every count: room for n pieces whose texts take text_bytes (NULs
 * included) and nm merges without growing (no chain of doublings, each a new block whose pages
 * fault in), the tables at most half full, every array and both hash tables in one block (nr_filled_alloc: one huge page instead of ~200 pages, each a
 * fault, for the shipped tokenizers). v and m are empty (nr_vocab_init, zeroed). Returns the block,
 * which the caller frees (free()) after nr_vocab_free and nr_merges_free, or NULL (no memory; v and
 * m unchanged). The arrays may still grow: a growing array leaves the block for its own copy. */
void *nr_tok_tables(nr_vocab *v, nr_merges *m, int32_t n, size_t text_bytes, int32_t nm);

/* ---- the tokenizer ------------------------------------------------------------------------ */

struct nlprnn_tokenizer {
    int model;              /* NR_MODEL_* */
    nr_normcfg norm;
    int byte_fallback;
    int max_piece_chars;
    nr_pretok pt;
    nr_vocab vocab;
    nr_merges merges;
    void *tables;           /* the block holding vocab's and merges' arrays (nr_tok_tables), or NULL */
    int32_t ws_id;          /* id of "▁" */
    uint64_t fingerprint;   /* identifies the vocabulary for encoding caches */
    /* training record, kept in the file for the reader's benefit */
    long long trained_vocab_size, min_count, seed, sample_lines, char_coverage_ppm;
    char describe[256];
};

/* Encode one segment (normalized bytes s[0..n), word_start) into ids; piece i covers
 * segment bytes [starts[i], ends[i]). Arrays grow as needed. Returns the count or -1 (no
 * memory). */
typedef struct nr_symbuf {
    int32_t *id;
    uint32_t *start, *end;
    size_t n, cap;
} nr_symbuf;

int nr_symbuf_reserve(nr_symbuf *sb, size_t cap);
void nr_symbuf_free(nr_symbuf *sb);
/* Append the character-level symbols of s[0..n) (after "▁" when word_start): alphabet ids, or
 * byte pieces / <unk> for characters outside the alphabet. */
int nr_chars_to_symbols(const nlprnn_tokenizer *tok, const char *s, size_t n, int word_start,
                        nr_symbuf *sb);
/* BPE dropout state (bpe.c): each applicable merge is skipped with probability p at each step,
 * the draws from rng. */
typedef struct nr_bpe_drop {
    double p;
    nr_rng rng;
} nr_bpe_drop;

/* BPE-encode one segment, appended to sb; drop == NULL: the plain (deterministic) encoding. */
int nr_bpe_encode_segment(const nlprnn_tokenizer *tok, const char *s, size_t n, int word_start,
                          nr_symbuf *sb, nr_bpe_drop *drop);
int nr_word_encode_segment(const nlprnn_tokenizer *tok, const char *s, size_t n, int word_start,
                           nr_symbuf *sb);

/* Finish a tokenizer whose settings, vocab and merges are filled: ws_id, fingerprint,
 * describe. */
int nr_tokenizer_finish(nlprnn_tokenizer *tok, nlprnn_error *err);

/* ---- training parameters (tokenizer.c), used by trainer.c ---------------------------------- */

struct nlprnn_tokenizer_params {
    int model;
    long long vocab_size, min_count, seed, threads, sample_lines, char_coverage_ppm;
    int max_piece_chars;
    int byte_fallback;
    nr_normcfg norm;
    char *pattern;
};

#endif

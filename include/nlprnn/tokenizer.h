/* nlprnn/tokenizer.h: UTF-8 text -> subword pieces -> ids, and back.
 *
 * Pipeline (one source file per stage under tokenizer/):
 *   1. decode + validate UTF-8 (invalid bytes: error naming the byte offset, or U+FFFD)
 *   2. normalize (NFKC by default; NFC, NFKC+casefold or none), control characters removed,
 *      whitespace runs collapsed to one space, leading/trailing whitespace dropped, optional
 *      Hangul syllable -> conjoining jamo decomposition. Every normalized byte keeps the byte
 *      range of the ORIGINAL text it came from, so offsets always point into the caller's text.
 *   3. pre-tokenize with a PCRE2 (JIT) pattern into segments (Hangul runs, other letter runs,
 *      single digits, emoji, punctuation runs); a blank marker ("___", any run of two or more
 *      underscores, or "[MASK]") is cut out first and always becomes the single id
 *      NLPRNN_ID_MASK.
 *   4. subword model (BPE or word level) turns each segment into pieces. Like SentencePiece, a
 *      segment that follows whitespace (or starts the text) begins with U+2581 "▁", so decoding
 *      is exact: decode(encode(x)) == nlprnn_tokenizer_normalize(x) for text without blank
 *      markers. Characters outside the trained alphabet fall back to byte pieces "<0xNN>".
 *
 * Thread rule: an nlprnn_tokenizer is immutable after load or training and may be shared by any
 * number of threads. An nlprnn_encoding (result + scratch + cache) belongs to one thread at a
 * time; give each thread its own and reuse it across calls (it allocates only while growing).
 *
 * Tokenizer files are versioned and self-describing: magic "NLPRNTOK", format version, a
 * "key=value" text header with every setting (model, normalization, pattern ...), then the
 * pieces and merges, then a CRC32. See docs/tokenizer.md.
 */
#ifndef NLPRNN_TOKENIZER_H
#define NLPRNN_TOKENIZER_H

#include "nlprnn/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- special ids: the same in every tokenizer ---------------------------------------------- */

#define NLPRNN_ID_PAD 0  /**< "<pad>": padding in batches; decodes to nothing */
#define NLPRNN_ID_UNK 1  /**< "<unk>": unknown (only without byte fallback); decodes to U+FFFD */
#define NLPRNN_ID_BOS 2  /**< "<bos>": begin of sequence; decodes to nothing */
#define NLPRNN_ID_EOS 3  /**< "<eos>": end of sequence; decodes to nothing */
#define NLPRNN_ID_MASK 4 /**< "<mask>": a blank marker ("___", "__", "[MASK]"); decodes to "___" */
#define NLPRNN_NUM_SPECIAL_IDS 5 /**< ids 0..4 are the special pieces; byte pieces follow */

/** The word-start marker U+2581 "▁" (UTF-8) that begins pieces following whitespace. */
#define NLPRNN_WORD_START "\xe2\x96\x81"

/* ---- the tokenizer ------------------------------------------------------------------------- */

/** An immutable, thread-shareable tokenizer (settings + vocabulary + model). */
typedef struct nlprnn_tokenizer nlprnn_tokenizer;

/** Load a tokenizer file. On success *out owns a new tokenizer (free with
 *  nlprnn_tokenizer_free). Errors: NLPRNN_E_IO, _MAGIC, _VERSION, _FORMAT (also for a stored
 *  pattern that does not compile: a damaged file), _TRUNCATED, _CHECKSUM, each message naming
 *  the file. */
NLPRNN_API int nlprnn_tokenizer_load(const char *path, nlprnn_tokenizer **out, nlprnn_error *err);

/** Same as nlprnn_tokenizer_load, from a buffer holding the bytes of a tokenizer file (for
 *  example a section of a model file). The buffer is not retained. */
NLPRNN_API int nlprnn_tokenizer_load_memory(const void *buf, size_t n, nlprnn_tokenizer **out,
                                            nlprnn_error *err);

/** Save atomically (temporary file, fsync, rename): a crash never leaves a broken file. */
NLPRNN_API int nlprnn_tokenizer_save(const nlprnn_tokenizer *tok, const char *path,
                                     nlprnn_error *err);

/** Serialize to a new buffer (*buf, *n bytes; free *buf with nlprnn_free). The bytes are exactly
 *  those nlprnn_tokenizer_save writes, so nlprnn_tokenizer_load_memory reads them back. */
NLPRNN_API int nlprnn_tokenizer_save_memory(const nlprnn_tokenizer *tok, void **buf, size_t *n,
                                            nlprnn_error *err);

/** Free a tokenizer. NULL is allowed. */
NLPRNN_API void nlprnn_tokenizer_free(nlprnn_tokenizer *tok);

/** Number of ids (special ids, byte pieces, characters and merged pieces). */
NLPRNN_API int32_t nlprnn_tokenizer_vocab_size(const nlprnn_tokenizer *tok);

/** The piece text of an id ("<pad>", "<0x41>", "▁극장", "에" ...), or NULL when out of range.
 *  The string lives as long as the tokenizer. */
NLPRNN_API const char *nlprnn_tokenizer_piece(const nlprnn_tokenizer *tok, int32_t id);

/** The id of a piece given by its text, or -1 when the vocabulary does not hold it. */
NLPRNN_API int32_t nlprnn_tokenizer_piece_id(const nlprnn_tokenizer *tok, const char *piece);

/** 1 when the piece begins a word (its text starts with "▁"), else 0 (also for special ids,
 *  byte pieces and out-of-range ids). Words are assembled as a word-start piece followed by
 *  every non-word-start piece up to the next word start, mask or special id. */
NLPRNN_API int nlprnn_tokenizer_piece_is_word_start(const nlprnn_tokenizer *tok, int32_t id);

/** 1 for the special ids 0..4 (<pad> <unk> <bos> <eos> <mask>), else 0. */
NLPRNN_API int nlprnn_tokenizer_piece_is_special(const nlprnn_tokenizer *tok, int32_t id);

/** 1 for a byte-fallback piece "<0xNN>", else 0. */
NLPRNN_API int nlprnn_tokenizer_piece_is_byte(const nlprnn_tokenizer *tok, int32_t id);

/** The model kind of a tokenizer: "bpe" or "word". */
NLPRNN_API const char *nlprnn_tokenizer_model_name(const nlprnn_tokenizer *tok);

/** A one-line description of the settings, e.g.
 *  "model=bpe vocab=8000 normalization=nfkc jamo=0 invalid_utf8=error". Lives as long as tok. */
NLPRNN_API const char *nlprnn_tokenizer_describe(const nlprnn_tokenizer *tok);

/** Normalize text exactly as encoding does (stages 1-2, without the internal jamo
 *  decomposition): the form that decode reproduces. *out is NUL-terminated, *out_len excludes
 *  the NUL; free *out with nlprnn_free. Errors: NLPRNN_E_UTF8 with err->offset = byte offset
 *  of the first invalid byte in text and err->line = its 1-based line. */
NLPRNN_API int nlprnn_tokenizer_normalize(const nlprnn_tokenizer *tok, const char *text,
                                          size_t len, char **out, size_t *out_len,
                                          nlprnn_error *err);

/* ---- encoding ------------------------------------------------------------------------------ */

/** A per-thread encoding result plus reusable scratch (buffers, PCRE2 match data, a
 *  segment -> ids cache). Create one per thread and reuse it; it can be used with several
 *  tokenizers (the cache notices the switch). */
typedef struct nlprnn_encoding nlprnn_encoding;

/** A new empty encoding. NLPRNN_E_NOMEM when out of memory. */
NLPRNN_API int nlprnn_encoding_create(nlprnn_encoding **out, nlprnn_error *err);
/** Free an encoding. NULL is allowed. */
NLPRNN_API void nlprnn_encoding_free(nlprnn_encoding *enc);

/** Flags for nlprnn_tokenizer_encode_flags. */
#define NLPRNN_ENCODE_BOS 1u /**< put NLPRNN_ID_BOS first (offsets 0,0) */
#define NLPRNN_ENCODE_EOS 2u /**< put NLPRNN_ID_EOS last (offsets len,len) */

/** Encode text[0..len) (UTF-8, need not be NUL-terminated) into enc, replacing its previous
 *  content. Empty or whitespace-only text gives 0 ids. Errors: NLPRNN_E_UTF8 (invalid UTF-8 or
 *  a NUL byte, under the default policy) with err->offset = byte offset in text and
 *  err->line = 1-based line; NLPRNN_E_NOMEM; NLPRNN_E_LIMIT (len > 2^31 bytes). On error enc
 *  holds 0 ids. */
NLPRNN_API int nlprnn_tokenizer_encode(const nlprnn_tokenizer *tok, const char *text, size_t len,
                                       nlprnn_encoding *enc, nlprnn_error *err);

/** nlprnn_tokenizer_encode with NLPRNN_ENCODE_* flags. */
NLPRNN_API int nlprnn_tokenizer_encode_flags(const nlprnn_tokenizer *tok, const char *text,
                                             size_t len, unsigned flags, nlprnn_encoding *enc,
                                             nlprnn_error *err);

/** Subword regularisation by BPE dropout (Provilkov et al. 2020): encode as
 *  nlprnn_tokenizer_encode_flags, but while each segment is merged, every applicable merge is
 *  skipped with probability `dropout` at each merge step (a fresh draw per pair and step; a
 *  segment is finished when no pair survives a step), so one text gets one of many
 *  segmentations into the same vocabulary. For training on the sampled segmentations (a new
 *  draw every epoch) while inference uses the plain one. The draws come from `seed` alone:
 *  the same text, dropout and seed give the same ids. dropout 0 gives exactly
 *  nlprnn_tokenizer_encode_flags; dropout 1 gives the characters ("▁" and one piece per
 *  character of the alphabet, byte pieces for the others). Any sample decodes to the same text
 *  as the plain encoding, and the offsets mean the same. Errors as nlprnn_tokenizer_encode_flags;
 *  NLPRNN_E_INVALID_ARG when dropout is not in [0, 1] or is > 0 for a word-level tokenizer. The
 *  per-encoding cache is not used when dropout > 0 (each sample is computed). */
NLPRNN_API int nlprnn_tokenizer_encode_sample(const nlprnn_tokenizer *tok, const char *text,
                                              size_t len, unsigned flags, double dropout,
                                              uint64_t seed, nlprnn_encoding *enc,
                                              nlprnn_error *err);

/** Streaming form for very long texts: encode the next part of text[0..len), starting at byte
 *  *pos (0 on the first call), into enc (replacing its content) and advance *pos; call again
 *  while *pos < len. A part is about 1 MiB of text (see docs/tokenizer.md), so enc never holds
 *  more than one part's ids and scratch, whatever len is. The parts' results, concatenated, are
 *  exactly nlprnn_tokenizer_encode_flags of the whole text: same ids, and offsets that count
 *  from text[0] (not from *pos). NLPRNN_ENCODE_BOS goes into the first part, _EOS into the
 *  last. Errors as nlprnn_tokenizer_encode (offsets and lines of invalid UTF-8 count from
 *  text[0]); NLPRNN_E_INVALID_ARG when *pos > len. A part may hold 0 ids (e.g. only spaces). */
NLPRNN_API int nlprnn_tokenizer_encode_part(const nlprnn_tokenizer *tok, const char *text,
                                            size_t len, size_t *pos, unsigned flags,
                                            nlprnn_encoding *enc, nlprnn_error *err);

/** Number of ids in the last encoding. */
NLPRNN_API size_t nlprnn_encoding_size(const nlprnn_encoding *enc);
/** The ids (nlprnn_encoding_size of them); valid until the next encode with enc. Never NULL
 *  for an encoding (also an empty one); NULL only when enc is NULL. */
NLPRNN_API const int32_t *nlprnn_encoding_ids(const nlprnn_encoding *enc);
/** Byte offsets into the ORIGINAL text (never NULL for an encoding, as the ids): 2*size values, begin then end of piece i at [2i],
 *  [2i+1]. A word-start piece begins at its first character (the whitespace before it is not
 *  included). Byte pieces of one character all carry that character's range. */
NLPRNN_API const size_t *nlprnn_encoding_offsets(const nlprnn_encoding *enc);

/* ---- decoding ------------------------------------------------------------------------------ */

/** Decode ids into buf (capacity cap bytes, NUL-terminated when it fits). *needed receives the
 *  length of the decoded text without the NUL (needed may be NULL); when cap <= *needed nothing
 *  useful is in buf and NLPRNN_E_LIMIT is returned, so call again with cap = *needed + 1 (buf may be NULL when cap
 *  is 0). "▁" becomes a space (none at the very start), byte pieces are joined back into UTF-8
 *  (an invalid byte run becomes U+FFFD), <mask> becomes "___", <unk> becomes U+FFFD, <pad>
 *  <bos> <eos> vanish, and jamo are recomposed into syllables when the tokenizer decomposes
 *  them. An id out of range is NLPRNN_E_INVALID_ARG naming its position. */
NLPRNN_API int nlprnn_tokenizer_decode(const nlprnn_tokenizer *tok, const int32_t *ids, size_t n,
                                       char *buf, size_t cap, size_t *needed, nlprnn_error *err);

/** Allocating shortcut: *out (NUL-terminated, free with nlprnn_free), *out_len (may be NULL). */
NLPRNN_API int nlprnn_tokenizer_decode_alloc(const nlprnn_tokenizer *tok, const int32_t *ids,
                                             size_t n, char **out, size_t *out_len,
                                             nlprnn_error *err);

/* ---- training ------------------------------------------------------------------------------ */

/** Training parameters (opaque), set and read by name, as every parameter set of the library
 *  (nlprnn_classifier_params, nlprnn_lm_params, nlprnn_forecaster_params): new parameters never
 *  change the ABI. Names, values and defaults:
 *    model-type        bpe | word                         bpe
 *    vocab-size        total ids incl. specials and bytes, 5..1000000 (training needs at least
 *                      262 with byte fallback: 5 specials + 256 bytes + "▁", 6 without)   8000
 *    min-count         a merge (bpe) or word (word model) needs this many occurrences, >= 1  2
 *    normalization     nfkc | nfc | nfkc_cf | none         nfkc
 *    control-chars     remove | space | keep: control characters other than whitespace
 *                      (tab/newline/CR/VT/FF always act as a space)                       remove
 *    hangul-jamo       0 | 1: decompose Hangul syllables into conjoining jamo before the subword
 *                      model (needs nfkc, nfc or nfkc_cf; training with none fails)       0
 *    invalid-utf8      error | replace (each invalid byte and NUL -> U+FFFD)              error
 *    pattern           PCRE2 pre-tokenization pattern (UTF mode); "" = the default pattern
 *                      (docs/tokenizer.md); compiled when set (NLPRNN_E_REGEX)            ""
 *    seed              >= 0: seed for sample-lines                                        0
 *    threads           1..256: threads for normalization and counting                     1
 *    byte-fallback     1 | 0: rare characters become byte pieces (exact round trip)
 *                      instead of <unk>                                                   1
 *    char-coverage-ppm 1..1000000: parts per million of character occurrences the alphabet
 *                      covers                                                             999500
 *    max-piece-chars   1..256: longest piece in characters                                16
 *    sample-lines      >= 0: train on this many lines chosen at random (seeded); 0 = all  0
 */
typedef struct nlprnn_tokenizer_params nlprnn_tokenizer_params;

/** New training parameters with every default. NLPRNN_E_NOMEM when out of memory. */
NLPRNN_API int nlprnn_tokenizer_params_create(nlprnn_tokenizer_params **out, nlprnn_error *err);
/** Free training parameters. NULL is allowed. */
NLPRNN_API void nlprnn_tokenizer_params_free(nlprnn_tokenizer_params *p);
/** Set one parameter from text ("vocab-size", "8000"). An unknown name or a bad value is
 *  NLPRNN_E_INVALID_ARG naming them; a pattern that does not compile is NLPRNN_E_REGEX with
 *  PCRE2's message and offset. */
NLPRNN_API int nlprnn_tokenizer_params_set(nlprnn_tokenizer_params *p, const char *name,
                                           const char *value, nlprnn_error *err);
/** The current value of a parameter as text (into buf, cap bytes): what was set, or the default
 *  ("bpe", "8000"). The CLI compares the vocabulary size asked for with the size training
 *  achieved (nlprnn_tokenizer_vocab_size): a small corpus can give fewer ids. An unknown name is
 *  NLPRNN_E_INVALID_ARG, a buffer too small NLPRNN_E_LIMIT. */
NLPRNN_API int nlprnn_tokenizer_params_get(const nlprnn_tokenizer_params *p, const char *name,
                                           char *buf, size_t cap, nlprnn_error *err);

/** Train a tokenizer on n texts (texts[i] has lens[i] bytes; lens may be NULL for
 *  NUL-terminated texts). Deterministic: same texts, options and seed give the same tokenizer
 *  byte for byte, whatever the thread count. Errors: NLPRNN_E_UTF8 ("text 12: byte 40: ..."),
 *  NLPRNN_E_EMPTY (no text at all), NLPRNN_E_NOMEM. opts may be NULL for the defaults. */
NLPRNN_API int nlprnn_tokenizer_train_texts(const nlprnn_tokenizer_params *opts,
                                            const char *const *texts, const size_t *lens,
                                            size_t n, nlprnn_tokenizer **out, nlprnn_error *err);

/** Train on files, one text per line ("\n" or "\r\n"), read through zlib's gzopen (so both
 *  ".gz" and plain files work); a UTF-8 byte order mark at the start of a file is skipped. Errors name the file, line and byte:
 *  "reviews.txt.gz:12: byte 40: invalid UTF-8" (err->line = 12, err->offset = 40 = byte offset
 *  within the decompressed file). A ".gz" that ends early or is corrupt is NLPRNN_E_DATA
 *  ("the gzip stream ends early (truncated file)"), never a silent end of the text. */
NLPRNN_API int nlprnn_tokenizer_train_files(const nlprnn_tokenizer_params *opts,
                                            const char *const *paths, size_t n,
                                            nlprnn_tokenizer **out, nlprnn_error *err);

/* ---- deprecated (0.1 names, kept for one release: docs/api.md "Changes in 0.2") ------------ */

/** Deprecated: the old name of nlprnn_tokenizer_params. */
typedef struct nlprnn_tokenizer_params nlprnn_tokenizer_options
    NLPRNN_DEPRECATED("use nlprnn_tokenizer_params");

/** Option identifiers of the deprecated enum functions below (values never change). */
typedef enum nlprnn_tokopt {
    NLPRNN_TOKOPT_MODEL = 1,             /**< "model-type" */
    NLPRNN_TOKOPT_VOCAB_SIZE = 2,        /**< "vocab-size" */
    NLPRNN_TOKOPT_MIN_COUNT = 3,         /**< "min-count" */
    NLPRNN_TOKOPT_NORMALIZATION = 4,     /**< "normalization" */
    NLPRNN_TOKOPT_CONTROL_CHARS = 5,     /**< "control-chars" */
    NLPRNN_TOKOPT_HANGUL_JAMO = 6,       /**< "hangul-jamo" */
    NLPRNN_TOKOPT_INVALID_UTF8 = 7,      /**< "invalid-utf8" */
    NLPRNN_TOKOPT_PATTERN = 8,           /**< "pattern" */
    NLPRNN_TOKOPT_SEED = 9,              /**< "seed" */
    NLPRNN_TOKOPT_THREADS = 10,          /**< "threads" */
    NLPRNN_TOKOPT_BYTE_FALLBACK = 11,    /**< "byte-fallback" */
    NLPRNN_TOKOPT_CHAR_COVERAGE_PPM = 12,/**< "char-coverage-ppm" */
    NLPRNN_TOKOPT_MAX_PIECE_CHARS = 13,  /**< "max-piece-chars" */
    NLPRNN_TOKOPT_SAMPLE_LINES = 14      /**< "sample-lines" */
} nlprnn_tokopt;

#define NLPRNN_TOKMODEL_BPE 0  /**< NLPRNN_TOKOPT_MODEL as an integer: byte-pair encoding */
#define NLPRNN_TOKMODEL_WORD 1 /**< NLPRNN_TOKOPT_MODEL as an integer: word level */
#define NLPRNN_NORM_NFKC 0     /**< NLPRNN_TOKOPT_NORMALIZATION as an integer: NFKC */
#define NLPRNN_NORM_NFC 1      /**< NLPRNN_TOKOPT_NORMALIZATION as an integer: NFC */
#define NLPRNN_NORM_NFKC_CF 2  /**< NLPRNN_TOKOPT_NORMALIZATION as an integer: NFKC + case folding */
#define NLPRNN_NORM_NONE 3     /**< NLPRNN_TOKOPT_NORMALIZATION as an integer: none */

/** Deprecated: nlprnn_tokenizer_params_create (this one gives NULL when out of memory). */
NLPRNN_API nlprnn_tokenizer_params *nlprnn_tokenizer_options_create(void)
    NLPRNN_DEPRECATED("use nlprnn_tokenizer_params_create");
/** Deprecated: nlprnn_tokenizer_params_free (NULL is allowed). */
NLPRNN_API void nlprnn_tokenizer_options_free(nlprnn_tokenizer_params *opts)
    NLPRNN_DEPRECATED("use nlprnn_tokenizer_params_free");
/** Deprecated: nlprnn_tokenizer_params_set with the parameter's name and the value as text
 *  (string-valued parameters take their index here, e.g. NLPRNN_TOKMODEL_WORD). */
NLPRNN_API int nlprnn_tokenizer_options_set_int(nlprnn_tokenizer_params *opts, nlprnn_tokopt opt,
                                                long long value, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_tokenizer_params_set");
/** Deprecated: nlprnn_tokenizer_params_get (string-valued parameters give their index). */
NLPRNN_API int nlprnn_tokenizer_options_get_int(const nlprnn_tokenizer_params *opts,
                                                nlprnn_tokopt opt, long long *value,
                                                nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_tokenizer_params_get");
/** Deprecated: nlprnn_tokenizer_params_set by option number. */
NLPRNN_API int nlprnn_tokenizer_options_set_str(nlprnn_tokenizer_params *opts, nlprnn_tokopt opt,
                                                const char *value, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_tokenizer_params_set");

#ifdef __cplusplus
}
#endif
#endif

/* tests/fuzz/fuzz_tokenizer_load.c: libFuzzer target for reading tokenizer files
 * (nlprnn_tokenizer_load_memory). When the input is long enough, its declared size and CRC32
 * are patched to match (so mutations reach the section parser instead of stopping at the
 * checksum); an odd first byte skips the patch (so the size and checksum checks are fuzzed
 * too). A file that loads must encode and save back to the very same bytes; one that does not
 * must fail with a file-format status, never crash. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nlprnn.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size) {
    nlprnn_tokenizer *tok = NULL;
    nlprnn_error err;
    uint8_t *data = malloc(size ? size : 1);
    if (!data) abort();
    if (size) memcpy(data, in, size);
    if (size >= 24 && !(size & 1)) {
        for (int i = 0; i < 8; i++) data[12 + i] = (uint8_t)((uint64_t)size >> (8 * i));
        uint32_t c = (uint32_t)crc32(0L, data, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) data[size - 4 + i] = (uint8_t)(c >> (8 * i));
    }
    int rc = nlprnn_tokenizer_load_memory(data, size, &tok, &err);
    if (rc) {
        if (rc != NLPRNN_E_MAGIC && rc != NLPRNN_E_VERSION && rc != NLPRNN_E_TRUNCATED &&
            rc != NLPRNN_E_CHECKSUM && rc != NLPRNN_E_FORMAT)
            abort();
        free(data);
        return 0;
    }
    void *buf;
    size_t n;
    if (nlprnn_tokenizer_save_memory(tok, &buf, &n, &err)) abort();
    if (n != size || memcmp(buf, data, n)) abort();
    nlprnn_free(buf);
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    static const char text[] = "극장에 갔다 ___ hello 123 😀";
    if (nlprnn_tokenizer_encode(tok, text, sizeof text - 1, enc, &err)) abort();
    nlprnn_encoding_free(enc);
    nlprnn_tokenizer_free(tok);
    free(data);
    return 0;
}

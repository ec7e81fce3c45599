/* common/error.c: status names and the error record. */
#include <stdio.h>
#include <string.h>

#include "common/common.h"

static const struct { int code; const char *name; const char *text; } status_table[] = {
    {NLPRNN_OK, "NLPRNN_OK", "success"},
    {NLPRNN_E_INVALID_ARG, "NLPRNN_E_INVALID_ARG", "invalid argument"},
    {NLPRNN_E_NOMEM, "NLPRNN_E_NOMEM", "out of memory"},
    {NLPRNN_E_IO, "NLPRNN_E_IO", "input/output error"},
    {NLPRNN_E_UTF8, "NLPRNN_E_UTF8", "invalid UTF-8"},
    {NLPRNN_E_FORMAT, "NLPRNN_E_FORMAT", "malformed file"},
    {NLPRNN_E_VERSION, "NLPRNN_E_VERSION", "unsupported file format version"},
    {NLPRNN_E_CHECKSUM, "NLPRNN_E_CHECKSUM", "checksum mismatch (corrupt file)"},
    {NLPRNN_E_TRUNCATED, "NLPRNN_E_TRUNCATED", "file is truncated"},
    {NLPRNN_E_MAGIC, "NLPRNN_E_MAGIC", "not an nlprnn file of the expected kind"},
    {NLPRNN_E_DATA, "NLPRNN_E_DATA", "malformed data"},
    {NLPRNN_E_REGEX, "NLPRNN_E_REGEX", "invalid regular expression"},
    {NLPRNN_E_LIMIT, "NLPRNN_E_LIMIT", "input exceeds a limit"},
    {NLPRNN_E_UNSUPPORTED, "NLPRNN_E_UNSUPPORTED", "unsupported request"},
    {NLPRNN_E_INTERRUPTED, "NLPRNN_E_INTERRUPTED", "interrupted"},
    {NLPRNN_E_NUMERIC, "NLPRNN_E_NUMERIC", "numeric failure (NaN or infinity)"},
    {NLPRNN_E_EMPTY, "NLPRNN_E_EMPTY", "empty input"},
    {NLPRNN_E_STATE, "NLPRNN_E_STATE", "call made in the wrong state"},
};

const char *nlprnn_status_name(int status) {
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == status) return status_table[i].name;
    return "NLPRNN_E_UNKNOWN";
}

const char *nlprnn_status_text(int status) {
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == status) return status_table[i].text;
    return "unknown status code";
}

void nlprnn_error_clear(nlprnn_error *err) {
    if (!err) return;
    err->code = NLPRNN_OK;
    err->reserved = 0;
    err->line = -1;
    err->offset = -1;
    err->message[0] = '\0';
}

int nr_vfail(nlprnn_error *err, int code, long long line, long long offset, const char *fmt,
             va_list ap) {
    if (!err) return code;
    err->code = code;
    err->reserved = 0;
    err->line = line;
    err->offset = offset;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return code;
}

int nr_fail(nlprnn_error *err, int code, long long line, long long offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    nr_vfail(err, code, line, offset, fmt, ap);
    va_end(ap);
    return code;
}

int nr_fail_prefix(nlprnn_error *err, int code, long long line, long long offset,
                   const char *fmt, ...) {
    if (!err) return code;
    char old[sizeof err->message], pre[sizeof err->message];
    memcpy(old, err->message, sizeof old);
    old[sizeof old - 1] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    err->code = code;
    err->reserved = 0;
    if (line != NR_KEEP) err->line = line;
    if (offset != NR_KEEP) err->offset = offset;
    snprintf(err->message, sizeof err->message, "%s%s", pre, old);
    return code;
}

const char *nlprnn_version_string(void) { return NLPRNN_VERSION_STRING; }
int nlprnn_version_number(void) { return NLPRNN_VERSION_NUMBER; }

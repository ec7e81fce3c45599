/* cli/common.c: exit codes and error reporting for the nlprnn program. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_exit_code(int status) {
    switch (status) {
    case NLPRNN_OK: return CLI_OK;
    case NLPRNN_E_INVALID_ARG: return CLI_EXIT_USAGE;
    case NLPRNN_E_UTF8:
    case NLPRNN_E_DATA:
    case NLPRNN_E_EMPTY: return CLI_EXIT_DATA;
    case NLPRNN_E_IO: return CLI_EXIT_IO;
    case NLPRNN_E_FORMAT:
    case NLPRNN_E_VERSION:
    case NLPRNN_E_CHECKSUM:
    case NLPRNN_E_TRUNCATED:
    case NLPRNN_E_MAGIC:
    case NLPRNN_E_UNSUPPORTED: return CLI_EXIT_MODEL;
    case NLPRNN_E_NOMEM:
    case NLPRNN_E_LIMIT: return CLI_EXIT_LIMIT;
    case NLPRNN_E_INTERRUPTED: return CLI_EXIT_INTERRUPTED;
    default: return CLI_EXIT_FAILURE;
    }
}

int cli_report(const char *cmd, int status, const nlprnn_error *err) {
    const char *msg = err && err->code == status && err->message[0] ? err->message
                                                                      : nlprnn_status_text(status);
    fprintf(stderr, "nlprnn %s: %s (%s)\n", cmd, msg, nlprnn_status_name(status));
    return cli_exit_code(status);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "nlprnn %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'nlprnn %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

/* nlprnn/files.h: writing output files safely.
 *
 * Every file the library writes (models, tokenizers, checkpoints) goes through one writer, and
 * applications (the nlprnn program writes its CSV and SVG files with it) may use it too:
 *
 *  - atomic: the bytes go to a new temporary file PATH.tmp.XXXXXX in the same folder, which is
 *    flushed, fsync'ed and renamed over PATH. Until the commit succeeds the old file is
 *    untouched; a failed or aborted write (a full disk, a crash, a kill) never leaves a
 *    partial file at PATH;
 *  - only a regular file is replaced: when PATH is a symbolic link, a device (/dev/null), a
 *    named pipe, a socket or a folder, the writer refuses with NLPRNN_E_IO and a message that
 *    says so (it would otherwise replace the link or the device node by a regular file);
 *  - permissions: a new file gets mode 0666 minus the process's umask; a replaced file keeps
 *    its permission bits (and its group when the process may set it).
 *
 * nlprnn_output_check() applies the same rule before long work starts, and also refuses an
 * output that is one of the run's inputs or another of its outputs (the same device and inode,
 * whatever the names), so that a mistyped command line never overwrites its own input.
 */
#ifndef NLPRNN_FILES_H
#define NLPRNN_FILES_H

#include <stdio.h>

#include "nlprnn/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An output file being written (opaque; one thread at a time). */
typedef struct nlprnn_output nlprnn_output;

/** Check that path may be written by a run that also reads or writes others[0..n_others)
 *  (NULL and empty entries are skipped): path is absent or a regular file (else NLPRNN_E_IO
 *  naming what it is), and it is not the same file as any of others (compared by device and
 *  inode; for files that do not exist yet, by folder and name), else NLPRNN_E_INVALID_ARG
 *  naming both. Nothing is created or opened. */
NLPRNN_API int nlprnn_output_check(const char *path, const char *const *others, size_t n_others,
                                   nlprnn_error *err);

/** Start writing path atomically (see the top of this header): creates the temporary file.
 *  *out receives the handle (NULL on failure). Errors: NLPRNN_E_IO (path is not a regular file,
 *  or the temporary cannot be created), NLPRNN_E_NOMEM, NLPRNN_E_INVALID_ARG (NULL). */
NLPRNN_API int nlprnn_output_open(const char *path, nlprnn_output **out, nlprnn_error *err);

/** The stream to write the content through (binary mode); NULL for a NULL handle. Do not close
 *  it: nlprnn_output_commit() or nlprnn_output_abort() does. */
NLPRNN_API FILE *nlprnn_output_stream(nlprnn_output *o);

/** Finish: flush, fsync and rename over the path. Any write error on the stream (a full disk)
 *  is reported here as NLPRNN_E_IO naming the path and the cause, and the old file stays as it
 *  was. Frees o in every case. */
NLPRNN_API int nlprnn_output_commit(nlprnn_output *o, nlprnn_error *err);

/** Give up: remove the temporary file, leave the path untouched, free o. NULL is allowed. */
NLPRNN_API void nlprnn_output_abort(nlprnn_output *o);

#ifdef __cplusplus
}
#endif
#endif

/* nlprnn/modelfile.h: inspecting nlprnn model files (*.nrm).
 *
 * Every model kind (classifier, language model, forecaster, checkpoint) is stored in one
 * container: magic, format version, kind, and CRC32-checked sections (configuration, tokenizer,
 * label names, weights as float32/float16/int8). docs/formats.md describes it byte by byte.
 * Loading functions of each model kind refuse a file that is truncated (NLPRNN_E_TRUNCATED),
 * corrupt (NLPRNN_E_CHECKSUM), of a newer format (NLPRNN_E_VERSION), not a model file at all
 * (NLPRNN_E_MAGIC) or of another kind (NLPRNN_E_UNSUPPORTED), with a message that says which.
 */
#ifndef NLPRNN_MODELFILE_H
#define NLPRNN_MODELFILE_H

#include "nlprnn/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Find a shipped model by name: "ko" -> "<dir>/ko.nrm", searching, in order, the folder in the
 *  environment variable NLPRNN_MODEL_DIR; share/nlprnn/models of the prefix this library was
 *  loaded from (PREFIX/lib/libnlprnn.so -> PREFIX/share/nlprnn/models, also for PREFIX/lib/ARCH/
 *  and for a program in PREFIX/bin linked statically), so an install to any prefix finds its
 *  models (a build folder has BUILD/share/nlprnn/models, a link to the source tree's pretrained/,
 *  so no source path is compiled in); $XDG_DATA_HOME/nlprnn/models
 *  (default ~/.local/share/nlprnn/models); and the share/nlprnn/models of the prefix configured
 *  at build time. Writes the path into buf (cap bytes). NLPRNN_E_IO names every folder searched
 *  when none holds it; NLPRNN_E_LIMIT when cap is too small. Names are [A-Za-z0-9_-]+ (anything
 *  else is NLPRNN_E_INVALID_ARG). Every loader that takes a path or a name
 *  (nlprnn_classifier_load, nlprnn_lm_load, ...) finds names this way. */
NLPRNN_API int nlprnn_model_find(const char *name, char *buf, size_t cap, nlprnn_error *err);

/** Validate a model file of any kind (classifier, language model, forecaster, tagger,
 *  translator, checkpoint), given by path or shipped name, and describe it: kind, format version,
 *  size, and for each section its tag, content, encoding, sizes and CRC32, configuration keys,
 *  tensor names with shapes and storage types, label names. A classifier, language model,
 *  forecaster, tagger or translator is also loaded by its own loader (tasks/kinds.c), and a file
 *  that loader refuses is that error (no description). *text receives
 *  NUL-terminated UTF-8 to free with nlprnn_free(). Errors as nlprnn_classifier_load. */
NLPRNN_API int nlprnn_model_file_describe(const char *path_or_name, char **text,
                                          nlprnn_error *err);

/** Deprecated: nlprnn_model_file_describe, which also takes shipped names and checks the file
 *  with its kind's loader. */
NLPRNN_API int nlprnn_model_file_info(const char *path, char **text, nlprnn_error *err)
    NLPRNN_DEPRECATED("use nlprnn_model_file_describe");

#ifdef __cplusplus
}
#endif
#endif

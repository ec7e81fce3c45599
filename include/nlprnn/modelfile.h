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

/** Validate the model file at path and describe it: kind, format version, size, and for each
 *  section its tag, content, encoding, sizes and CRC32, configuration keys, tensor names with
 *  shapes and storage types. *text receives NUL-terminated UTF-8 to free with nlprnn_free(). */
NLPRNN_API int nlprnn_model_file_info(const char *path, char **text, nlprnn_error *err);

#ifdef __cplusplus
}
#endif
#endif

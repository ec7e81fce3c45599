/* nlprnn.h: the one public header of libnlprnn.
 *
 *   text -> tokenizer -> ids -> embedding -> SimpleRNN/LSTM/GRU encoder -> head -> prediction
 *
 * Applications include this file only. The API is split into parts along the pipeline; each part
 * is documented in its own header under nlprnn/. See nlprnn/base.h for the conventions shared by
 * all of them: the nlprnn_ prefix, status codes, the nlprnn_error record and the thread rule.
 * Data-parallel training over MPI is the optional component libnlprnn-mpi (nlprnn/dist.h, not
 * included here).
 */
#ifndef NLPRNN_H
#define NLPRNN_H

#include "nlprnn/base.h"
/* NLPRNN_PARTS: one line per part of the API (keep in pipeline order). */
#include "nlprnn/tokenizer.h"
#include "nlprnn/layers.h"
#include "nlprnn/train.h"
#include "nlprnn/classifier.h"
#include "nlprnn/lm.h"
#include "nlprnn/forecast.h"
#include "nlprnn/tagger.h"
#include "nlprnn/translate.h"
#include "nlprnn/modelfile.h"
#include "nlprnn/files.h"
#include "nlprnn/interop.h"

#endif

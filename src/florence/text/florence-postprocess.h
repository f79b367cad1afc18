/* florence-postprocess.h: from generated text to a typed result, like the reference
 * Florence2Processor.post_process_generation()
 *
 * The parsers reproduce the reference regular expressions by hand, with their quirks
 * (labels starting inside a token such as "unk>car", the leading "</s>" of the first OCR
 * label, dropped odd coordinates, …), and never read outside the input. Coordinates are
 * bin centres in pixels of the original image: fl32(fl32(k + 0.5) * fl32(W / 1000)).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "florence/text/florence-result.h"
#include "florence/text/florence-task.h"

G_BEGIN_DECLS

/* Post-processes TEXT (the decoded output, special tokens kept) for TASK. TASK NULL is
 * handled as an unknown task (pure text, task ""). Invalid UTF-8 in TEXT is replaced by
 * U+FFFD first. IMAGE_W and IMAGE_H are the original image size. Never fails. */
FlorenceResult *florence_postprocess (const FlorenceTaskInfo *task, const char *text, int image_w,
                                      int image_h);

/* The same for a task token; an unknown token is post-processed as pure text and keeps
 * its token in the result. */
FlorenceResult *florence_postprocess_for_token (const char *task_token, const char *text,
                                                int image_w, int image_h);

/* What scores each instance of a result (florence-result.h, "Scores"): the generated ids'
 * places in the text (florence_tokenizer_decode_with_offsets()) and their log-probabilities. */
typedef struct {
  const gsize *offsets;  /* [n_ids + 1]: id i made bytes [offsets[i], offsets[i + 1]) */
  const float *logprobs; /* [n_ids]: NaN for an id without one (the decoder start id) */
  gsize n_ids;
} FlorenceTokenScores;

/* florence_postprocess_for_token(), and with SCORES (NULL: none) every instance scored: the
 * geometric mean of the probabilities of the ids that made its label and its locations (a
 * text line's text and locations; a text answer's text), each id counted once. */
FlorenceResult *florence_postprocess_scored (const char *task_token, const char *text, int image_w,
                                             int image_h, const FlorenceTokenScores *scores);

/* One parser directly, for the given reference parse type. */
FlorenceResult *florence_postprocess_with_type (FlorenceParseType type, const char *task_token,
                                                const char *text, int image_w, int image_h);

/* Dequantizes bin K to pixels on an axis of SIZE pixels: fl32(fl32(k + 0.5) * fl32(size / 1000)).
 */
float florence_postprocess_dequantize (gint64 k, int size);

G_END_DECLS

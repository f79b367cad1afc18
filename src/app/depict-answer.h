/* depict-answer.h: one answer of the model to one task on one photo, as the app shows it
 *
 * The typed FlorenceResult with what was asked (the task and its text or region input) and
 * a line about where it came from ("2.1 s · base · 3 beams", or when it was stored). Made by
 * a run in the session's worker, or read back from the gallery; the overlays, the results
 * pane, Copy and Export all read it. Reference counted and immutable once made, so that it
 * can travel from the worker thread to the main thread and sit in several places at once.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "florence/text/florence-result.h"

G_BEGIN_DECLS

typedef struct {
  char *task;             /* task token, "<OD>" */
  char *text_input;       /* the text or region ("<loc_…>") asked, "" when none */
  FlorenceResult *result; /* never NULL */
  char *info;             /* where it came from, for the person; may be NULL */
  gint64 run_id;          /* its row in the gallery, 0 when it was not stored */
} DepictAnswer;

#define DEPICT_TYPE_ANSWER (depict_answer_get_type ())

GType depict_answer_get_type (void) G_GNUC_CONST;

/* Takes RESULT. TASK NULL: the result's own task. */
DepictAnswer *depict_answer_new (const char *task, const char *text_input, FlorenceResult *result,
                                 const char *info);
DepictAnswer *depict_answer_ref (DepictAnswer *self);
void depict_answer_unref (DepictAnswer *self);

/* The answer as text: the caption or the text read, else one line per box, mask or text
 * region with its label and place. */
char *depict_answer_to_plain_text (const DepictAnswer *self);
/* The result in the shared JSON form (florence_result_to_json), for Copy and Export. */
char *depict_answer_to_json (const DepictAnswer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DepictAnswer, depict_answer_unref)

G_END_DECLS

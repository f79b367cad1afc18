/* depict-results-pane.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "depict-answer.h"
#include "depict-overlay-item.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_RESULTS_PANE (depict_results_pane_get_type ())

G_DECLARE_FINAL_TYPE (DepictResultsPane, depict_results_pane, DEPICT, RESULTS_PANE, GtkWidget)

void depict_results_pane_show_idle (DepictResultsPane *self);
void depict_results_pane_show_idle_with_other_answer (DepictResultsPane *self,
                                                      const char *other_task);
/* What a run under way shows: each line may be NULL. */
typedef struct {
  const char *stage;   /* "Generating…" */
  const char *subject; /* the task and the photo: "Detect Objects · IMG_0042.jpg" */
  const char *detail;  /* "764 of 1 024 tokens · at most 40 s left" */
  const char *batch;   /* "Photo 3 of 12 · about 5 min left" */
  const char *note;    /* why a stage takes long (the one-time preparation) */
  double fraction;     /* of the run done, 0–1; < 0: unknown */
} DepictProgressInfo;

void depict_results_pane_show_progress (DepictResultsPane *self, const DepictProgressInfo *info);
void depict_results_pane_show_busy (DepictResultsPane *self, const char *stage, const char *detail);
const char *depict_results_pane_get_progress_text (DepictResultsPane *self);
void depict_results_pane_show_no_model (DepictResultsPane *self);
void depict_results_pane_show_error (DepictResultsPane *self, const char *title,
                                     const char *description, gboolean can_retry);
/* An error with one way out: BUTTON_LABEL (with a mnemonic) activates ACTION_NAME ("app.models");
 * no button when BUTTON_LABEL is NULL. */
void depict_results_pane_show_error_with_action (DepictResultsPane *self, const char *title,
                                                 const char *description, const char *button_label,
                                                 const char *action_name);
/* ANSWER with its overlay ITEMS (depict_overlay_items_from_result), under TITLE. */
void depict_results_pane_show_answer (DepictResultsPane *self, const char *title,
                                      DepictAnswer *answer, GListModel *items);
const char *depict_results_pane_get_page (DepictResultsPane *self);
const char *depict_results_pane_get_text (DepictResultsPane *self);
DepictOverlayItem *depict_results_pane_get_hover_item (DepictResultsPane *self);
void depict_results_pane_set_hover_item (DepictResultsPane *self, DepictOverlayItem *item);

G_END_DECLS

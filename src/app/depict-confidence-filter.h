/* depict-confidence-filter.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DEPICT_TYPE_CONFIDENCE_FILTER (depict_confidence_filter_get_type ())

G_DECLARE_FINAL_TYPE (DepictConfidenceFilter, depict_confidence_filter, DEPICT, CONFIDENCE_FILTER,
                      GtkWidget)

/* The threshold under which the regions of an answer are hidden from the photo: one per task,
 * kept in SETTINGS' "confidence-thresholds" once set_settings is called. */
DepictConfidenceFilter *depict_confidence_filter_new (void);
void depict_confidence_filter_set_settings (DepictConfidenceFilter *self, GSettings *settings);
/* The answer shown: its task (whose threshold applies) and its overlay items; the control shows
 * only when some item has a score. */
void depict_confidence_filter_set_answer (DepictConfidenceFilter *self, const char *task,
                                          GListModel *items);
/* From 0 (show everything) to 1. Setting it keeps it for the task. */
double depict_confidence_filter_get_threshold (DepictConfidenceFilter *self);
void depict_confidence_filter_set_threshold (DepictConfidenceFilter *self, double threshold);
/* Keeps the DepictOverlayItems without a score and those scored at least the threshold. */
GtkFilter *depict_confidence_filter_get_filter (DepictConfidenceFilter *self);

G_END_DECLS

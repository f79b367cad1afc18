/* depict-window.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "depict-answer.h"
#include "depict-image-view.h"
#include "depict-results-pane.h"
#include "depict-session.h"
#include "depict-task-picker.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_WINDOW (depict_window_get_type ())

G_DECLARE_FINAL_TYPE (DepictWindow, depict_window, DEPICT, WINDOW, AdwApplicationWindow)

/* A window of APPLICATION (a DepictApplication), over its session. */
DepictWindow *depict_window_new (GtkApplication *application);
/* A window over SESSION without an application (tests, tools). */
DepictWindow *depict_window_new_for_session (DepictSession *session);
DepictSession *depict_window_get_session (DepictWindow *self);

/* Photos are added to the list and folders listed, after a check in a worker thread. */
void depict_window_open_files (DepictWindow *self, GFile **files, guint n_files);
gboolean depict_window_drop_files (DepictWindow *self, GSList *files);
/* Shows FILE with ANSWER (NULL: none), without running the model. */
void depict_window_show_file (DepictWindow *self, GFile *file, DepictAnswer *answer);
void depict_window_run (DepictWindow *self);
void depict_window_run_all (DepictWindow *self);
void depict_window_cancel (DepictWindow *self);
gboolean depict_window_get_busy (DepictWindow *self);
void depict_window_add_toast (DepictWindow *self, const char *title);
const char *depict_window_get_visible_page (DepictWindow *self);
void depict_window_show_gallery (DepictWindow *self, gboolean focus_search);

/* For tests and the screenshot tool */
DepictImageView *depict_window_get_image_view (DepictWindow *self);
DepictResultsPane *depict_window_get_results_pane (DepictWindow *self);
DepictTaskPicker *depict_window_get_task_picker (DepictWindow *self);
GListModel *depict_window_get_queue (DepictWindow *self);
GtkWidget *depict_window_get_gallery_view (DepictWindow *self);
/* The answer shown, or NULL. */
DepictAnswer *depict_window_get_answer (DepictWindow *self);

G_END_DECLS

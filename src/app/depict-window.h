/* depict-window.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "depict-image-view.h"
#include "depict-results-pane.h"
#include "depict-task-picker.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_WINDOW (depict_window_get_type ())

G_DECLARE_FINAL_TYPE (DepictWindow, depict_window, DEPICT, WINDOW, AdwApplicationWindow)

DepictWindow *depict_window_new (GtkApplication *application);
void depict_window_open_files (DepictWindow *self, GFile **files, guint n_files);
gboolean depict_window_drop_files (DepictWindow *self, GSList *files);
void depict_window_show_file (DepictWindow *self, GFile *file, JsonNode *result, const char *info);
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

G_END_DECLS

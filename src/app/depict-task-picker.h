/* depict-task-picker.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "florence/text/florence-task.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_TASK_PICKER (depict_task_picker_get_type ())

G_DECLARE_FINAL_TYPE (DepictTaskPicker, depict_task_picker, DEPICT, TASK_PICKER, GtkWidget)

const char *depict_task_picker_get_task (DepictTaskPicker *self);
void depict_task_picker_set_task (DepictTaskPicker *self, const char *token);
const FlorenceTaskInfo *depict_task_picker_get_task_info (DepictTaskPicker *self);
const char *depict_task_picker_get_text (DepictTaskPicker *self);
void depict_task_picker_set_text (DepictTaskPicker *self, const char *text);
void depict_task_picker_set_region_description (DepictTaskPicker *self, const char *description);
void depict_task_picker_focus_input (DepictTaskPicker *self);
gboolean depict_task_picker_get_text_shown (DepictTaskPicker *self);

G_END_DECLS

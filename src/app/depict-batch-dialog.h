/* depict-batch-dialog.h: the question before a folder is tagged — which tasks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* A dialog that asks which tasks to run on the photos of the folder FOLDER_NAME, with the
 * tasks of CHOSEN checked; its responses are "cancel" and "tag" (enabled while a task is
 * checked). */
AdwMessageDialog *depict_batch_dialog_new (GtkWindow *parent, const char *folder_name,
                                           const char *const *chosen);
/* The task tokens checked, in the order of the list. */
GStrv depict_batch_dialog_dup_tasks (AdwMessageDialog *dialog);
/* Checks or unchecks TASK (a token) as a click on its row would. */
void depict_batch_dialog_set_task (AdwMessageDialog *dialog, const char *task, gboolean active);

G_END_DECLS

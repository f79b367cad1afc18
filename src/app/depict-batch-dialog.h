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

/* Where an estimate of a task's time on one photo comes from. */
typedef enum {
  DEPICT_BATCH_ESTIMATE_MEASURED, /* the runs and batches before, on this computer */
  DEPICT_BATCH_ESTIMATE_GPU,      /* a first guess for a graphics card */
  DEPICT_BATCH_ESTIMATE_CPU,      /* a first guess for the processor */
} DepictBatchEstimate;

/* What the dialog says of the work until then is "Counting the photos…"; then N_PHOTOS
 * photos, and (when SECONDS_PER_TASK > 0) about how long the checked tasks take on them. No
 * photo: Tag is not offered. */
void depict_batch_dialog_set_estimate (AdwMessageDialog *dialog, guint n_photos,
                                       double seconds_per_task, DepictBatchEstimate basis);
/* That sentence, as shown. */
const char *depict_batch_dialog_get_estimate (AdwMessageDialog *dialog);

G_END_DECLS

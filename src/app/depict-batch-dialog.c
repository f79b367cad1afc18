/* depict-batch-dialog.c: the question before a folder is tagged — which tasks
 *
 * Tagging a folder runs tasks on every photo in it, which takes a while: before it starts,
 * a dialog (the HIG's pattern for a decision) lists the tasks that need nothing typed or
 * drawn, those chosen last checked, and says what will happen and about how long it takes:
 * photos × checked tasks × a task's time (measured on this computer, or a first guess for
 * the device), stated as approximate. Tag is offered while at least one task is checked
 * and the folder has photos.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "depict-batch-dialog.h"
#include "florence/text/florence-task.h"

#include "depict-window-private.h"

#define CHECKS_KEY "depict-batch-checks"
#define ESTIMATE_KEY "depict-batch-estimate"

typedef struct {
  GtkLabel *label;
  gboolean counted;
  guint n_photos;
  double seconds_per_task; /* <= 0: unknown */
  DepictBatchEstimate basis;
} Estimate;

static void
update_estimate (AdwMessageDialog *dialog, guint n_tasks)
{
  Estimate *estimate = g_object_get_data (G_OBJECT (dialog), ESTIMATE_KEY);
  g_autofree char *text = NULL;

  if (!estimate->counted)
    text = g_strdup (_ ("Counting the photos…"));
  else if (estimate->n_photos == 0)
    text = g_strdup (_ ("There are no photos in this folder."));
  else if (n_tasks == 0 || estimate->seconds_per_task <= 0)
    text =
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u photo.", "%u photos.", estimate->n_photos),
                       estimate->n_photos);
  else
    {
      /* Translators: a count of photos, part of "120 photos × 3 tasks" */
      g_autofree char *photos =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u photo", "%u photos", estimate->n_photos),
                         estimate->n_photos);
      /* Translators: a count of tasks, part of "120 photos × 3 tasks" */
      g_autofree char *tasks =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u task", "%u tasks", n_tasks), n_tasks);
      g_autofree char *all =
        _depict_window_format_duration (estimate->n_photos * n_tasks * estimate->seconds_per_task);
      g_autofree char *each = _depict_window_format_duration (estimate->seconds_per_task);
      const char *basis =
        estimate->basis == DEPICT_BATCH_ESTIMATE_MEASURED ? _ ("as measured on this computer")
        : estimate->basis == DEPICT_BATCH_ESTIMATE_GPU ? _ ("a first guess for the graphics card")
                                                       : _ ("a first guess for the processor");

      /* Translators: "120 photos × 3 tasks: about 1.5 h in all, at about 15 s a task (as
       * measured on this computer). …" */
      text = g_strdup_printf (_ ("%s × %s: about %s in all, at about %s a task (%s). Photos "
                                 "that have these answers already are skipped."),
                              photos, tasks, all, each, basis);
    }
  gtk_label_set_label (estimate->label, text);
}

static void
check_toggled_cb (GtkCheckButton *check, AdwMessageDialog *dialog)
{
  g_auto (GStrv) tasks = depict_batch_dialog_dup_tasks (dialog);
  Estimate *estimate = g_object_get_data (G_OBJECT (dialog), ESTIMATE_KEY);

  adw_message_dialog_set_response_enabled (
    dialog, "tag", tasks[0] != NULL && (!estimate->counted || estimate->n_photos > 0));
  update_estimate (dialog, g_strv_length (tasks));
}

AdwMessageDialog *
depict_batch_dialog_new (GtkWindow *parent, const char *folder_name, const char *const *chosen)
{
  AdwMessageDialog *dialog;
  GtkWidget *box, *list;
  Estimate *estimate;
  GPtrArray *checks = g_ptr_array_new ();
  const FlorenceTaskInfo *tasks;
  gsize n = 0;
  /* Translators: %s is a folder name */
  g_autofree char *heading = g_strdup_printf (_ ("Tag “%s”?"), folder_name);

  g_return_val_if_fail (folder_name != NULL, NULL);

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (
    parent, heading,
    _ ("The chosen tasks run on every photo in this folder and its folders, and the answers "
       "are kept in the gallery. The gallery shows how far it has got and the time left, and "
       "you can pause or stop it.")));
  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), "tag", _ ("_Tag"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "tag", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "tag");
  adw_message_dialog_set_close_response (dialog, "cancel");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  list = gtk_list_box_new ();
  gtk_box_append (GTK_BOX (box), list);
  estimate = g_new0 (Estimate, 1);
  estimate->label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (estimate->label, TRUE);
  gtk_label_set_xalign (estimate->label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (estimate->label), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (estimate->label));
  g_object_set_data_full (G_OBJECT (dialog), ESTIMATE_KEY, estimate, g_free);
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  tasks = florence_task_get_all (&n);
  for (gsize i = 0; i < n; i++)
    {
      const FlorenceTaskInfo *task = &tasks[i];
      GtkWidget *row, *check;

      if (task->input != FLORENCE_TASK_INPUT_NONE)
        continue;
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ (task->name));
      check = gtk_check_button_new ();
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ (task->name), -1);
      g_object_set_data (G_OBJECT (check), "task", (gpointer) task->token);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   chosen != NULL &&
                                     g_strv_contains ((const char *const *) chosen, task->token));
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      gtk_list_box_append (GTK_LIST_BOX (list), row);
      g_ptr_array_add (checks, check);
      g_signal_connect_object (check, "toggled", G_CALLBACK (check_toggled_cb), dialog, 0);
    }
  g_object_set_data_full (G_OBJECT (dialog), CHECKS_KEY, checks,
                          (GDestroyNotify) g_ptr_array_unref);
  adw_message_dialog_set_extra_child (dialog, box);
  check_toggled_cb (NULL, dialog);
  return dialog;
}

GStrv
depict_batch_dialog_dup_tasks (AdwMessageDialog *dialog)
{
  GPtrArray *checks = g_object_get_data (G_OBJECT (dialog), CHECKS_KEY);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (checks != NULL, NULL);
  for (guint i = 0; i < checks->len; i++)
    if (gtk_check_button_get_active (g_ptr_array_index (checks, i)))
      g_strv_builder_add (builder, g_object_get_data (g_ptr_array_index (checks, i), "task"));
  return g_strv_builder_end (builder);
}

void
depict_batch_dialog_set_task (AdwMessageDialog *dialog, const char *task, gboolean active)
{
  GPtrArray *checks = g_object_get_data (G_OBJECT (dialog), CHECKS_KEY);

  g_return_if_fail (checks != NULL);
  for (guint i = 0; i < checks->len; i++)
    if (g_strcmp0 (g_object_get_data (g_ptr_array_index (checks, i), "task"), task) == 0)
      gtk_check_button_set_active (g_ptr_array_index (checks, i), active);
}

void
depict_batch_dialog_set_estimate (AdwMessageDialog *dialog, guint n_photos, double seconds_per_task,
                                  DepictBatchEstimate basis)
{
  Estimate *estimate = g_object_get_data (G_OBJECT (dialog), ESTIMATE_KEY);

  g_return_if_fail (estimate != NULL);
  estimate->counted = TRUE;
  estimate->n_photos = n_photos;
  estimate->seconds_per_task = seconds_per_task;
  estimate->basis = basis;
  check_toggled_cb (NULL, dialog);
}

const char *
depict_batch_dialog_get_estimate (AdwMessageDialog *dialog)
{
  Estimate *estimate = g_object_get_data (G_OBJECT (dialog), ESTIMATE_KEY);

  g_return_val_if_fail (estimate != NULL, NULL);
  return gtk_label_get_label (estimate->label);
}

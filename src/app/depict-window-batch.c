/* depict-window-batch.c: "Run on All Photos" and "Tag Folder", the session's one batch
 *
 * Both ask the session for a batch through the gallery's tagger: the chosen task on the
 * photos of the list, or the batch tasks on a folder. Whichever batch goes on, the window
 * follows it: the photos of the list it works on show their state and answers, the photo
 * shown its progress, the Run on All Photos button how far it has got, and its end is told
 * in a toast (and a notification when the window is not in use).
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-batch-dialog.h"
#include "depict-image-loader.h"
#include "depict-model-error.h"
#include "depict-window-private.h"
#include "florence/engine/florence-device.h"
#include "florence/hub/florence-hub.h"
#include "florence/text/florence-task.h"
#include "image/image-files.h"

/* The longest side of the photo the photo page shows during a batch. */
#define BATCH_THUMBNAIL_SIZE 256

static void
update_run_all_button (DepictWindow *self)
{
  DepictJob *job = self->run_all_job;

  if (self->run_all_button == NULL)
    return; /* disposed */
  if (job != NULL && depict_job_get_total (job) > 0)
    {
      /* Translators: Run on All Photos in progress: the photo it is at, of how many */
      g_autofree char *label = g_strdup_printf (
        _ ("Running: %u of %u"), MIN (depict_job_get_done (job) + 1, depict_job_get_total (job)),
        depict_job_get_total (job));

      gtk_button_set_label (self->run_all_button, label);
    }
  else
    gtk_button_set_label (self->run_all_button, _ ("Run on _All Photos"));
}

/* ---------------------------------------------------------------------------------------- */
/* The photo page during a batch                                                            */

/* Whether the batch the window follows is under way. */
static gboolean
batch_running (DepictWindow *self)
{
  return self->batch != NULL && !depict_job_get_finished (self->batch) &&
         !depict_session_get_batch_paused (self->session);
}

static gboolean
batch_page_shown (DepictWindow *self)
{
  return self->batch_page != NULL &&
         g_strcmp0 (gtk_stack_get_visible_child_name (self->photo_stack), "batch") == 0;
}

static void
batch_thumbnail_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DepictWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = depict_image_loader_load_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->batch_page == NULL)
    return;
  adw_status_page_set_paintable (self->batch_page, GDK_PAINTABLE (texture));
}

/* "Photo 3 of 12 · about 5 min left · 240 photos/h", or NULL before the photos are known. */
static char *
batch_progress_line (DepictJob *job)
{
  GString *text;
  guint done = depict_job_get_done (job), total = depict_job_get_total (job);
  double left = depict_job_get_seconds_left (job);
  double rate = depict_job_get_photos_per_hour (job);

  if (total == 0)
    return NULL;
  text = g_string_new (NULL);
  if (left >= 0)
    {
      g_autofree char *duration = _depict_window_format_duration (left);

      g_string_append_printf (text, _ ("Photo %u of %u · about %s left"), MIN (done + 1, total),
                              total, duration);
    }
  else
    g_string_append_printf (text, _ ("Photo %u of %u"), MIN (done + 1, total), total);
  if (rate > 0)
    {
      g_string_append (text, " · ");
      g_string_append_printf (text, _ ("%.0f photos/h"), rate);
    }
  return g_string_free (text, FALSE);
}

/* With a photo open, a line over it says that a batch goes on, and how far it has got. */
static void
update_batch_strip (DepictWindow *self)
{
  gboolean shown = self->batch_strip != NULL && batch_running (self) && self->current != NULL;
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;

  if (self->batch_strip == NULL)
    return;
  gtk_revealer_set_reveal_child (self->batch_strip, shown);
  if (!shown)
    return;
  line = batch_progress_line (self->batch);
  /* Translators: over the photo open: a batch ("Tagging “Holiday”") and its progress */
  text = line != NULL ? g_strdup_printf (_ ("%s: %s"), depict_job_get_title (self->batch), line)
                      : g_strdup (depict_job_get_title (self->batch));
  gtk_label_set_label (self->batch_strip_label, text);
}

/* The photo being tagged, its task and how far the batch has got. */
static void
update_batch_page (DepictWindow *self)
{
  DepictJob *job = self->batch;
  GFile *file = job != NULL ? depict_job_get_current_file (job) : NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  guint done, total;

  update_batch_strip (self);
  if (!batch_page_shown (self) || job == NULL)
    return;
  done = depict_job_get_done (job);
  total = depict_job_get_total (job);
  adw_status_page_set_title (self->batch_page, depict_job_get_title (job));
  if (file != NULL)
    {
      g_autofree char *name = g_file_get_basename (file);
      const char *token = depict_job_get_current_task (job);
      const FlorenceTaskInfo *task = token != NULL ? florence_task_lookup (token) : NULL;

      if (task != NULL)
        g_string_append_printf (text, _ ("%s · %s"), _ (task->name), name);
      else
        g_string_append (text, name);
    }
  if (total > 0)
    {
      g_autofree char *line = batch_progress_line (job);

      g_string_append_printf (text, "%s%s", text->len > 0 ? "\n" : "", line);
    }
  else
    g_string_append_printf (text, "%s%s", text->len > 0 ? "\n" : "", _ ("Finding the photos…"));
  adw_status_page_set_description (self->batch_page, text->str);
  gtk_progress_bar_set_fraction (self->batch_page_bar, total > 0 ? (double) done / total : 0);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->batch_page_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text->str, -1);

  /* Its thumbnail, once per photo. */
  if (file != NULL &&
      (self->batch_page_file == NULL || !g_file_equal (file, self->batch_page_file)))
    {
      g_set_object (&self->batch_page_file, file);
      g_cancellable_cancel (self->batch_page_cancellable);
      g_clear_object (&self->batch_page_cancellable);
      self->batch_page_cancellable = g_cancellable_new ();
      depict_image_loader_load_async (file, BATCH_THUMBNAIL_SIZE, self->batch_page_cancellable,
                                      batch_thumbnail_cb, g_object_ref (self));
    }
}

void
_depict_window_batch_update_photo_page (DepictWindow *self)
{
  update_batch_strip (self);
  if (self->current != NULL)
    return;
  if (self->batch_page != NULL && batch_running (self))
    {
      gtk_stack_set_visible_child_name (self->photo_stack, "batch");
      update_batch_page (self);
    }
  else
    gtk_stack_set_visible_child_name (self->photo_stack, "empty");
}

static void
create_batch_page (DepictWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *button = gtk_button_new_with_mnemonic (_ ("Show the _Gallery"));

  self->batch_page = ADW_STATUS_PAGE (adw_status_page_new ());
  adw_status_page_set_icon_name (self->batch_page, "view-grid-symbolic");
  self->batch_page_bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_size_request (GTK_WIDGET (self->batch_page_bar), 240, -1);
  gtk_widget_set_halign (GTK_WIDGET (self->batch_page_bar), GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->batch_page_bar));
  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "pill");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.show-gallery");
  gtk_box_append (GTK_BOX (box), button);
  adw_status_page_set_child (self->batch_page, box);
  gtk_stack_add_named (self->photo_stack, GTK_WIDGET (self->batch_page), "batch");

  /* The line over an open photo, beside the zoom buttons. */
  self->batch_strip = GTK_REVEALER (gtk_revealer_new ());
  gtk_revealer_set_transition_type (self->batch_strip, GTK_REVEALER_TRANSITION_TYPE_CROSSFADE);
  gtk_widget_set_halign (GTK_WIDGET (self->batch_strip), GTK_ALIGN_START);
  gtk_widget_set_valign (GTK_WIDGET (self->batch_strip), GTK_ALIGN_END);
  gtk_widget_set_margin_start (GTK_WIDGET (self->batch_strip), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->batch_strip), 12);
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (box, "osd");
  gtk_widget_add_css_class (box, "view-osd");
  self->batch_strip_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_ellipsize (self->batch_strip_label, PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (self->batch_strip_label, 48);
  gtk_widget_set_margin_start (GTK_WIDGET (self->batch_strip_label), 9);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->batch_strip_label));
  button = gtk_button_new_with_mnemonic (_ ("_Show"));
  gtk_widget_set_tooltip_text (button, _ ("Show the Gallery"));
  gtk_widget_add_css_class (button, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.show-gallery");
  gtk_box_append (GTK_BOX (box), button);
  gtk_revealer_set_child (self->batch_strip, box);
  gtk_overlay_add_overlay (GTK_OVERLAY (gtk_widget_get_parent (GTK_WIDGET (self->image_view))),
                           GTK_WIDGET (self->batch_strip));
}

/* ---------------------------------------------------------------------------------------- */
/* Following the batch                                                                      */

static void
photo_started_cb (DepictJob *job, GFile *file, DepictWindow *self)
{
  DepictQueueItem *item = _depict_window_find_item (self, file, NULL);

  if (item == NULL)
    return;
  depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_RUNNING);
  if (item == self->current && self->run_job == NULL)
    {
      _depict_window_show_answer (self, NULL);
      _depict_window_show_progress (self, job);
    }
}

static void
progress_cb (DepictJob *job, GParamSpec *pspec, DepictWindow *self)
{
  if (self->run_job == NULL)
    _depict_window_show_progress (self, job);
  update_batch_page (self);
}

static void
done_cb (DepictJob *job, GParamSpec *pspec, DepictWindow *self)
{
  update_run_all_button (self);
  update_batch_page (self);
}

static void
photo_failed_cb (DepictJob *job, GFile *file, GError *error, DepictWindow *self)
{
  DepictQueueItem *item = _depict_window_find_item (self, file, NULL);

  if (item == NULL)
    return;
  depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_FAILED);
  if (item == self->current && self->run_job == NULL)
    depict_results_pane_show_error (self->results_pane, _ ("The Task Failed"), error->message,
                                    TRUE);
}

/* Its answers are in the gallery (made now, or before): they come back through the gallery's
 * reader, as any stored answer does. */
static void
photo_stored_cb (DepictJob *job, GFile *file, DepictWindow *self)
{
  DepictQueueItem *item = _depict_window_find_item (self, file, NULL);

  if (item == NULL)
    return;
  depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_DONE);
  _depict_window_load_stored_answers (self, item, DEPICT_STORED_ANSWERS_AGAIN);
}

/* What a batch did, in one sentence; NULL when there is nothing to say (paused). */
static char *
batch_message (DepictSession *session, DepictJob *job)
{
  const GError *error = depict_job_get_error (job);
  guint processed = depict_job_get_processed (job);
  guint failed = depict_job_get_failed (job);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return depict_session_get_batch_paused (session)
             ? NULL
             : g_strdup (_ ("Tagging stopped. Start it again to go on where it stopped."));
  if (error != NULL)
    {
      g_autofree char *why = _depict_window_describe_job_error (job, error, NULL);

      return g_strdup_printf (_ ("Tagging stopped: %s"), why);
    }
  if (processed == 0 && failed == 0)
    return g_strdup (_ ("Every photo has an answer to this task already"));
  if (failed > 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Tagged %u photos; %u could not be read",
                                         "Tagged %u photos; %u could not be read", processed),
                            processed, failed);
  return g_strdup_printf (
    g_dngettext (GETTEXT_PACKAGE, "Tagged %u photo", "Tagged %u photos", processed), processed);
}

static void
present_end_toast (DepictWindow *self, const char *message, guint timeout, const char *button,
                   const char *action)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, timeout);
  adw_toast_set_button_label (toast, button);
  adw_toast_set_action_name (toast, action);
  _depict_window_present_toast (self, toast);
  _depict_window_notify_in_background (self, message);
}

static void
finished_cb (DepictJob *job, DepictWindow *self)
{
  g_autofree char *message = batch_message (self->session, job);
  g_autoptr (DepictJob) keep = g_object_ref (job);

  if (job == self->run_all_job)
    g_clear_object (&self->run_all_job);
  /* Photos it had not reached yet are waiting again. */
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->queue)); i++)
    {
      g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->queue), i);

      if (depict_queue_item_get_state (item) == DEPICT_QUEUE_ITEM_RUNNING &&
          (self->run_job == NULL || item != self->current))
        depict_queue_item_set_state (item, depict_queue_item_get_last_task (item) != NULL
                                             ? DEPICT_QUEUE_ITEM_DONE
                                             : DEPICT_QUEUE_ITEM_WAITING);
    }
  g_strfreev (self->batch_failures);
  self->batch_failures = g_strdupv ((char **) depict_job_get_failures (job));
  if (message != NULL && self->batch_failures != NULL && self->batch_failures[0] != NULL)
    /* Which files, in a dialog that stays until it is read. */
    present_end_toast (self, message, 10, _ ("_Details"), "win.show-batch-failures");
  else if (message != NULL && depict_model_error_is_damaged_model (depict_job_get_error (job)))
    /* The model is mended in the Models window; the sentence stays until it is read. */
    present_end_toast (self, message, 0, _ ("Open _Models"), "app.models");
  else if (message != NULL)
    {
      depict_window_add_toast (self, message);
      _depict_window_notify_in_background (self, message);
    }
  if (self->current != NULL && self->run_job == NULL &&
      g_strcmp0 (depict_results_pane_get_page (self->results_pane), "busy") == 0)
    _depict_window_show_current (self);
  update_run_all_button (self);
  _depict_window_update_actions (self);
  _depict_window_batch_update_photo_page (self);
}

static void
follow (DepictWindow *self, DepictJob *batch)
{
  if (self->batch == batch)
    return;
  if (self->batch != NULL)
    g_signal_handlers_disconnect_by_data (self->batch, self);
  g_set_object (&self->batch, batch);
  if (batch == NULL || depict_job_get_finished (batch))
    return;
  g_signal_connect_object (batch, "photo-started", G_CALLBACK (photo_started_cb), self, 0);
  g_signal_connect_object (batch, "notify::stage", G_CALLBACK (progress_cb), self, 0);
  g_signal_connect_object (batch, "notify::n-tokens", G_CALLBACK (progress_cb), self, 0);
  g_signal_connect_object (batch, "notify::current-task", G_CALLBACK (progress_cb), self, 0);
  g_signal_connect_object (batch, "notify::done", G_CALLBACK (progress_cb), self, 0);
  g_signal_connect_object (batch, "notify::done", G_CALLBACK (done_cb), self, 0);
  g_signal_connect_object (batch, "notify::total", G_CALLBACK (done_cb), self, 0);
  g_signal_connect_object (batch, "photo-failed", G_CALLBACK (photo_failed_cb), self, 0);
  g_signal_connect_object (batch, "photo-stored", G_CALLBACK (photo_stored_cb), self, 0);
  g_signal_connect_object (batch, "finished", G_CALLBACK (finished_cb), self, 0);
  g_signal_connect_object (batch, "notify::current-file", G_CALLBACK (progress_cb), self, 0);
}

static void
session_batch_cb (DepictSession *session, GParamSpec *pspec, DepictWindow *self)
{
  follow (self, depict_session_get_batch (session));
  _depict_window_update_actions (self);
  _depict_window_batch_update_photo_page (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Starting one                                                                             */

/* Runs the chosen task on every photo of the list that has no answer to it in the gallery,
 * one after the other; Cancel stops them all. Region tasks need a region per photo and are
 * refused. */
void
depict_window_run_all (DepictWindow *self)
{
  const FlorenceTaskInfo *task;
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *title = NULL;
  const char *text = NULL;
  const char *tasks[2] = { NULL, NULL };
  guint n;

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->queue));
  if (self->run_all_job != NULL || n == 0)
    return;
  if (!depict_session_has_model (self->session))
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "app.models", NULL);
      return;
    }
  task = depict_task_picker_get_task_info (self->task_picker);
  if (task->input == FLORENCE_TASK_INPUT_TEXT)
    {
      g_autofree char *stripped =
        g_strstrip (g_strdup (depict_task_picker_get_text (self->task_picker)));

      if (stripped[0] == '\0')
        {
          depict_window_add_toast (self, task->input_hint != NULL
                                           ? _ (task->input_hint)
                                           : _ ("Type what to look for first"));
          depict_task_picker_focus_input (self->task_picker);
          return;
        }
      text = depict_task_picker_get_text (self->task_picker);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->queue), i);

      g_ptr_array_add (files, depict_queue_item_get_file (item));
    }
  tasks[0] = task->token;
  /* Translators: a batch: a task on the photos of the list, "Caption on 12 photos" */
  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s on %u photo", "%s on %u photos", n),
                           _ (task->name), n);
  self->run_all_job = depict_session_tag (self->session, files, tasks, text, title, &error);
  if (self->run_all_job == NULL)
    {
      if (g_error_matches (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_NO_MODEL) &&
          self->current != NULL)
        depict_results_pane_show_no_model (self->results_pane);
      else
        depict_window_add_toast (self, error->message);
      return;
    }
  g_object_ref (self->run_all_job);
  update_run_all_button (self);
  _depict_window_update_actions (self);
}

static void
batch_dialog_response_cb (AdwMessageDialog *dialog, const char *response, DepictWindow *self)
{
  GFile *folder = g_object_get_data (G_OBJECT (dialog), "folder");
  g_auto (GStrv) tasks = depict_batch_dialog_dup_tasks (dialog);
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "tag") != 0 || tasks[0] == NULL)
    return;
  /* The tasks chosen are the ones offered next time. */
  g_settings_set_strv (depict_session_get_settings (self->session), "batch-tasks",
                       (const char *const *) tasks);
  depict_window_show_gallery (self, FALSE);
  if (depict_session_tag_folder (self->session, folder, &error) != NULL)
    return;
  depict_window_add_toast (self, error->message);
  if (g_error_matches (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_NO_MODEL))
    gtk_widget_activate_action (GTK_WIDGET (self), "app.models", NULL);
}

/* What Tag Folder's question says of the work: the photos counted (off the main thread: a
 * large folder takes a while) and a task's time, measured before or guessed from the
 * device (resolving "automatic" may look at the Vulkan devices) and the model's size. */
typedef struct {
  char *folder;
  char *gallery;
  DepictRunSettings *settings; /* NULL: no model */
  double measured;
  guint n_photos;
  double seconds;
  DepictBatchEstimate basis;
} EstimateData;

static void
estimate_data_free (EstimateData *data)
{
  g_free (data->folder);
  g_free (data->gallery);
  g_clear_pointer (&data->settings, depict_run_settings_free);
  g_free (data);
}

/* A first guess of a task's seconds on a photo with the base model: a graphics card, the
 * processor (the CPU engine, or a software Vulkan device), the plain reference. */
#define GUESS_GPU_SECONDS 2.0
#define GUESS_CPU_SECONDS 15.0
#define GUESS_REFERENCE_SECONDS 120.0

static void
guess_task_seconds (EstimateData *data)
{
  const FlorenceHubModel *base = florence_hub_lookup ("base");
  g_autofree char *selector = NULL;
  FlorenceDeviceKind kind = FLORENCE_DEVICE_CPU;
  int index = -1;
  double size;

  if (florence_device_parse (data->settings->device, &kind, &selector, NULL))
    florence_device_resolve (kind, selector, &kind, &index, NULL);
  data->basis = DEPICT_BATCH_ESTIMATE_CPU;
  data->seconds =
    kind == FLORENCE_DEVICE_CPU_REFERENCE ? GUESS_REFERENCE_SECONDS : GUESS_CPU_SECONDS;
  if (kind == FLORENCE_DEVICE_VULKAN)
    {
      g_autoptr (GPtrArray) devices = florence_device_list (NULL);

      for (guint i = 0; i < devices->len; i++)
        {
          FlorenceDeviceInfo *info = g_ptr_array_index (devices, i);

          if (info->kind == FLORENCE_DEVICE_VULKAN && info->vulkan_index == index &&
              g_strcmp0 (info->type, "cpu") != 0)
            {
              data->basis = DEPICT_BATCH_ESTIMATE_GPU;
              data->seconds = GUESS_GPU_SECONDS;
            }
        }
    }
  /* A larger model takes longer, about as its weights are larger. */
  size = (double) florence_hub_dir_size (data->settings->model_dir);
  if (size > 0)
    data->seconds *= CLAMP (size / base->download_size, 0.1, 10.0);
}

static void
estimate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  EstimateData *data = task_data;
  const char *paths[] = { data->folder, NULL };
  const char *skip[] = { data->gallery, NULL };
  g_autoptr (GPtrArray) photos = NULL;
  GError *error = NULL;

  photos = image_files_collect_skipping (paths, skip, TRUE, NULL, NULL, cancellable, &error);
  if (photos == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  data->n_photos = photos->len;
  if (data->measured > 0)
    {
      data->seconds = data->measured;
      data->basis = DEPICT_BATCH_ESTIMATE_MEASURED;
    }
  else if (data->settings != NULL)
    guess_task_seconds (data);
  g_task_return_boolean (task, TRUE);
}

static void
estimate_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (source);
  EstimateData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not count the photos: %s", error->message);
      return;
    }
  depict_batch_dialog_set_estimate (dialog, data->n_photos, data->seconds, data->basis);
}

static void
estimate (DepictWindow *self, AdwMessageDialog *dialog, GFile *folder)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GTask) task = g_task_new (dialog, cancellable, estimate_done_cb, NULL);
  EstimateData *data = g_new0 (EstimateData, 1);

  data->folder = g_file_get_path (folder);
  data->gallery = depict_session_dup_gallery_path (self->session);
  data->settings = depict_session_read_run_settings (self->session, NULL);
  if (data->settings != NULL)
    data->measured = depict_session_get_task_seconds (self->session, data->settings);
  g_task_set_task_data (task, data, (GDestroyNotify) estimate_data_free);
  /* Closing the question stops the count. */
  g_signal_connect_object (dialog, "destroy", G_CALLBACK (g_cancellable_cancel), cancellable,
                           G_CONNECT_SWAPPED);
  g_task_run_in_thread (task, estimate_thread);
}

void
_depict_window_tag_folder (DepictWindow *self, GFile *folder)
{
  g_auto (GStrv) chosen = depict_session_dup_batch_tasks (self->session);
  g_autofree char *name = g_file_get_basename (folder);
  AdwMessageDialog *dialog;

  if (self->batch_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->batch_dialog));
  dialog = depict_batch_dialog_new (GTK_WINDOW (self), name, (const char *const *) chosen);
  g_object_set_data_full (G_OBJECT (dialog), "folder", g_object_ref (folder), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (batch_dialog_response_cb), self, 0);
  self->batch_dialog = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->batch_dialog);
  if (g_file_peek_path (folder) != NULL)
    estimate (self, dialog, folder);
  gtk_window_present (GTK_WINDOW (dialog));
}

const char *const *
_depict_window_get_batch_failures (DepictWindow *self)
{
  return (const char *const *) self->batch_failures;
}

AdwMessageDialog *
_depict_window_show_batch_failures (DepictWindow *self)
{
  g_autofree char *body = NULL;
  g_autofree char *heading = NULL;
  guint n;

  if (self->batch_failures == NULL || self->batch_failures[0] == NULL)
    return NULL;
  if (self->failures_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->failures_dialog));
  n = g_strv_length (self->batch_failures);
  heading = g_strdup_printf (
    g_dngettext (GETTEXT_PACKAGE, "%u File Could Not Be Read", "%u Files Could Not Be Read", n), n);
  body = g_strjoinv ("\n", self->batch_failures);
  self->failures_dialog =
    ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), heading, body));
  adw_message_dialog_add_response (self->failures_dialog, "close", _ ("_Close"));
  g_object_add_weak_pointer (G_OBJECT (self->failures_dialog), (gpointer *) &self->failures_dialog);
  gtk_window_present (GTK_WINDOW (self->failures_dialog));
  return self->failures_dialog;
}

AdwMessageDialog *
_depict_window_get_batch_dialog (DepictWindow *self)
{
  return self->batch_dialog;
}

void
_depict_window_batch_init (DepictWindow *self)
{
  create_batch_page (self);
  g_signal_connect_object (self->session, "notify::batch", G_CALLBACK (session_batch_cb), self, 0);
  g_signal_connect_object (self->session, "notify::batch-paused", G_CALLBACK (session_batch_cb),
                           self, 0);
  follow (self, depict_session_get_batch (self->session));
  _depict_window_batch_update_photo_page (self);
}

void
_depict_window_batch_dispose (DepictWindow *self)
{
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  follow (self, NULL);
  g_cancellable_cancel (self->batch_page_cancellable);
  g_clear_object (&self->batch_page_cancellable);
  g_clear_object (&self->batch_page_file);
  self->batch_page = NULL;
  self->batch_strip = NULL;
  g_clear_object (&self->run_all_job);
  g_clear_pointer (&self->batch_failures, g_strfreev);
  if (self->failures_dialog != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->failures_dialog),
                                    (gpointer *) &self->failures_dialog);
      gtk_window_destroy (GTK_WINDOW (self->failures_dialog));
      self->failures_dialog = NULL;
    }
  if (self->batch_dialog != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->batch_dialog),
                                    (gpointer *) &self->batch_dialog);
      gtk_window_destroy (GTK_WINDOW (self->batch_dialog));
      self->batch_dialog = NULL;
    }
}

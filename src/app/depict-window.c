/* depict-window.c
 *
 * The main window: the photo list (a flap), the photo with its overlays, the task picker and
 * the results beside it, and the gallery as a second page. Actions live in
 * depict-window-actions.c, drag and drop in depict-window-dnd.c.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-application.h"
#include "depict-image-loader.h"
#include "depict-result-json.h"
#include "depict-window-private.h"
#include "florence/text/florence-task.h"
#include "gallery/gallery-store.h"

G_DEFINE_FINAL_TYPE (DepictWindow, depict_window, ADW_TYPE_APPLICATION_WINDOW)

/* ---------------------------------------------------------------------------------------- */
/* Showing a photo and its result                                                           */

static const char *
task_title (const char *token)
{
  const FlorenceTaskInfo *task = token != NULL ? florence_task_lookup (token) : NULL;

  return task != NULL ? _ (task->name) : "";
}

/* A toggle for each kind of layer the result has. */
static void
update_layer_toggles (DepictWindow *self)
{
  guint present = 0;

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->items)); i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (self->items), i);

      present |= depict_overlay_item_get_layer (item);
    }
  gtk_widget_set_visible (self->boxes_toggle, (present & DEPICT_LAYER_BOXES) != 0);
  gtk_widget_set_visible (self->masks_toggle, (present & DEPICT_LAYER_MASKS) != 0);
  gtk_widget_set_visible (self->text_toggle, (present & DEPICT_LAYER_TEXT) != 0);
  gtk_widget_set_visible (self->layer_toggles, present != 0);
}

static void
update_queue_button (DepictWindow *self)
{
  gboolean photo;

  if (self->queue_button == NULL || self->main_stack == NULL || self->photo_stack == NULL)
    return;
  photo = g_strcmp0 (depict_window_get_visible_page (self), "photo") == 0;
  gtk_widget_set_visible (self->queue_button, photo);
}

static void
page_changed_cb (GObject *stack, GParamSpec *pspec, DepictWindow *self)
{
  update_queue_button (self);
  _depict_window_update_actions (self);
}

/* The task token a result answers: Depict's "task" member, or the reference's key. */
static const char *
result_task_of (JsonNode *result)
{
  const char *task = NULL;
  JsonObject *obj;

  depict_result_json_unwrap (result, &task);
  if (task != NULL || result == NULL || !JSON_NODE_HOLDS_OBJECT (result))
    return task;
  obj = json_node_get_object (result);
  if (json_object_has_member (obj, "task"))
    {
      JsonNode *n = json_object_get_member (obj, "task");

      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
        return json_node_get_string (n);
    }
  return NULL;
}

static void
show_result (DepictWindow *self, JsonNode *result, const char *task, const char *info)
{
  g_autoptr (GListStore) items = NULL;

  g_clear_pointer (&self->result, json_node_unref);
  g_clear_pointer (&self->result_task, g_free);
  if (result != NULL)
    {
      self->result = json_node_ref (result);
      self->result_task = g_strdup (task != NULL ? task : result_task_of (result));
      items = depict_result_json_get_items (result);
    }
  else
    items = g_list_store_new (DEPICT_TYPE_OVERLAY_ITEM);

  g_set_object (&self->items, items);
  depict_image_view_set_items (self->image_view, G_LIST_MODEL (items));
  update_layer_toggles (self);
  /* The picker shows which task this answers. */
  self->showing_result = TRUE;
  if (self->result_task != NULL && florence_task_lookup (self->result_task) != NULL)
    depict_task_picker_set_task (self->task_picker, self->result_task);
  self->showing_result = FALSE;

  if (result != NULL)
    depict_results_pane_show_result (self->results_pane, task_title (self->result_task), info,
                                     result, G_LIST_MODEL (items));
  _depict_window_update_actions (self);
}

/* The empty page offers the model download when no model is installed. */
static void
update_empty_page (DepictWindow *self)
{
  g_autofree char *model = g_settings_get_string (self->settings, "model");
  g_autofree char *dir = depict_inference_find_model_dir (model, NULL, NULL);

  gtk_widget_set_visible (self->empty_no_model, dir == NULL);
}

/* What the results pane shows for a photo without a result: ready (and which other task
 * the shown photo has an answer to), or the way to a model. */
static void
show_ready_state (DepictWindow *self)
{
  g_autofree char *model = g_settings_get_string (self->settings, "model");
  g_autofree char *dir = NULL;
  const char *other =
    self->current != NULL ? depict_queue_item_get_last_task (self->current) : NULL;

  dir = depict_inference_find_model_dir (model, NULL, NULL);
  if (dir == NULL)
    depict_results_pane_show_no_model (self->results_pane);
  else
    depict_results_pane_show_idle_with_other_answer (
      self->results_pane,
      other != NULL && florence_task_lookup (other) != NULL ? task_title (other) : NULL);
}

static void
photo_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DepictWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = depict_image_loader_load_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->current == NULL || depict_queue_item_get_file (self->current) != G_FILE (source))
    return;
  g_clear_object (&self->load_cancellable);
  g_clear_handle_id (&self->stale_photo_timeout, g_source_remove);
  if (texture == NULL)
    {
      depict_image_view_set_texture (self->image_view, NULL);
      depict_queue_item_set_state (self->current, DEPICT_QUEUE_ITEM_FAILED);
      depict_results_pane_show_error (self->results_pane, _ ("This Photo Cannot Be Opened"),
                                      error->message, FALSE);
      _depict_window_update_actions (self);
      return;
    }
  depict_image_view_set_texture (self->image_view, texture);
  _depict_window_update_actions (self);
}

/* The next photo takes a while (a large one): no longer show the previous one, which Run
 * would not use, beside the next one's name. */
static gboolean
stale_photo_cb (gpointer user_data)
{
  DepictWindow *self = user_data;

  self->stale_photo_timeout = 0;
  if (self->load_cancellable != NULL)
    depict_image_view_set_texture (self->image_view, NULL);
  return G_SOURCE_REMOVE;
}

static void
show_item (DepictWindow *self, DepictQueueItem *item)
{
  if (self->current == item)
    return;
  g_set_object (&self->current, item);

  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_handle_id (&self->stale_photo_timeout, g_source_remove);

  if (item == NULL)
    {
      depict_image_view_set_texture (self->image_view, NULL);
      show_result (self, NULL, NULL, NULL);
      gtk_stack_set_visible_child_name (self->photo_stack, "empty");
      update_empty_page (self);
      gtk_window_set_title (GTK_WINDOW (self), _ ("Depict"));
      _depict_window_update_actions (self);
      return;
    }

  gtk_stack_set_visible_child_name (self->photo_stack, "photo");
  gtk_window_set_title (GTK_WINDOW (self), depict_queue_item_get_title (item));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->image_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  depict_queue_item_get_title (item), -1);
  self->load_cancellable = g_cancellable_new ();
  depict_image_loader_load_async (depict_queue_item_get_file (item), 0, self->load_cancellable,
                                  photo_loaded_cb, g_object_ref (self));
  self->stale_photo_timeout = g_timeout_add (150, stale_photo_cb, self);

  if (self->job != NULL &&
      depict_inference_job_get_file (self->job) == depict_queue_item_get_file (item))
    {
      /* Back to the photo being processed: its progress is shown by the job. */
      show_result (self, NULL, NULL, NULL);
      depict_results_pane_show_busy (
        self->results_pane,
        depict_inference_stage_to_string (depict_inference_job_get_stage (self->job)), NULL);
    }
  else
    {
      /* The task stays the one the person chose (Run does what the picker says): the photo
       * shows its answer to that task, if it has one. */
      const char *task = depict_task_picker_get_task (self->task_picker);
      const char *info = NULL;
      JsonNode *result = depict_queue_item_get_result (item, task, &info);

      if (result != NULL)
        show_result (self, result, task, info);
      else
        {
          show_result (self, NULL, NULL, NULL);
          show_ready_state (self);
        }
    }
}

static void
queue_selection_changed_cb (GtkSingleSelection *selection, GParamSpec *pspec, DepictWindow *self)
{
  show_item (self, gtk_single_selection_get_selected_item (selection));
}

/* ---------------------------------------------------------------------------------------- */
/* Queue rows                                                                               */

static void
setup_queue_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *picture = gtk_image_new ();
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *icon = gtk_image_new ();

  gtk_widget_add_css_class (box, "queue-row");
  /* Every thumbnail in the same square, whatever its shape. */
  gtk_image_set_pixel_size (GTK_IMAGE (picture), 48);
  gtk_widget_add_css_class (picture, "queue-thumbnail");
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), picture);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_list_item_set_child (list_item, box);
}

static void
queue_item_changed_cb (DepictQueueItem *item, GParamSpec *pspec, GtkWidget *box)
{
  GtkWidget *picture = gtk_widget_get_first_child (box);
  GtkWidget *icon = gtk_widget_get_last_child (box);
  const char *icon_name = NULL;

  if (depict_queue_item_get_thumbnail (item) != NULL)
    gtk_image_set_from_paintable (GTK_IMAGE (picture),
                                  GDK_PAINTABLE (depict_queue_item_get_thumbnail (item)));
  else
    gtk_image_set_from_icon_name (GTK_IMAGE (picture), "image-x-generic-symbolic");
  g_object_get (item, "icon-name", &icon_name, NULL);
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), icon_name);
  gtk_widget_set_visible (icon, icon_name != NULL);
  g_free ((char *) icon_name);

  /* The state icon in words, for screen readers and as a tooltip. */
  {
    const char *state = NULL;

    switch (depict_queue_item_get_state (item))
      {
      case DEPICT_QUEUE_ITEM_RUNNING:
        state = _ ("Running");
        break;
      case DEPICT_QUEUE_ITEM_DONE:
        state = _ ("Answered");
        break;
      case DEPICT_QUEUE_ITEM_FAILED:
        state = _ ("Cannot be opened or run");
        break;
      case DEPICT_QUEUE_ITEM_WAITING:
      default:
        break;
      }
    gtk_widget_set_tooltip_text (icon, state);
    if (state != NULL)
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, state,
                                      -1);
    else
      gtk_accessible_reset_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL);
  }
}

static void
bind_queue_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  DepictQueueItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *label = gtk_widget_get_next_sibling (gtk_widget_get_first_child (box));

  gtk_label_set_label (GTK_LABEL (label), depict_queue_item_get_title (item));
  gtk_widget_set_tooltip_text (box, depict_queue_item_get_title (item));
  queue_item_changed_cb (item, NULL, box);
  g_signal_connect_object (item, "notify::thumbnail", G_CALLBACK (queue_item_changed_cb), box, 0);
  g_signal_connect_object (item, "notify::state", G_CALLBACK (queue_item_changed_cb), box, 0);
  depict_queue_item_load_thumbnail (item);
}

static void
unbind_queue_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  DepictQueueItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);

  g_signal_handlers_disconnect_by_func (item, queue_item_changed_cb, box);
}

/* ---------------------------------------------------------------------------------------- */
/* Opening files                                                                            */

static DepictQueueItem *
find_in_queue (DepictWindow *self, GFile *file, guint *position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->queue));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->queue), i);

      if (g_file_equal (depict_queue_item_get_file (item), file))
        {
          if (position != NULL)
            *position = i;
          return item;
        }
    }
  return NULL;
}

static gboolean
reveal_queue_cb (gpointer user_data)
{
  DepictWindow *self = user_data;

  if (!gtk_widget_get_mapped (GTK_WIDGET (self->flap)) ||
      gtk_widget_get_width (GTK_WIDGET (self->flap)) <= 0)
    return G_SOURCE_CONTINUE;
  self->reveal_idle = 0;
  if (!adw_flap_get_folded (self->flap))
    adw_flap_set_reveal_flap (self->flap, TRUE);
  return G_SOURCE_REMOVE;
}

/* Adds photos to the list (known ones are not added twice) and shows the first of them. */
static void
add_photos (DepictWindow *self, GFile **files, guint n_files)
{
  guint first = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; i < n_files; i++)
    {
      guint position;

      if (find_in_queue (self, files[i], &position) == NULL)
        {
          g_autoptr (DepictQueueItem) item = depict_queue_item_new (files[i]);

          position = g_list_model_get_n_items (G_LIST_MODEL (self->queue));
          g_list_store_append (self->queue, item);
        }
      if (first == GTK_INVALID_LIST_POSITION)
        first = position;
    }
  if (first != GTK_INVALID_LIST_POSITION)
    {
      gtk_single_selection_set_selected (self->queue_selection, first);
      show_item (self, gtk_single_selection_get_selected_item (self->queue_selection));
    }
  /* The list is worth showing once there is more than one photo: once the window has its
   * size (AdwFlap 1.2 miscomputes a reveal started before its first allocation). */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->queue)) > 1 && self->reveal_idle == 0 &&
      !adw_flap_get_reveal_flap (self->flap))
    self->reveal_idle = g_timeout_add (100, reveal_queue_cb, self);
  adw_view_stack_set_visible_child_name (self->main_stack, "photo");
  _depict_window_update_actions (self);
}

typedef struct {
  DepictWindow *self;
  GFile *folder;
} ScanData;

static void
scan_data_free (ScanData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->folder);
  g_free (data);
}

static void
scan_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  ScanData *data = task_data;
  GError *error = NULL;
  GPtrArray *files = depict_image_loader_list_folder (data->folder, cancellable, &error);

  if (files == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, files, (GDestroyNotify) g_ptr_array_unref);
}

/* Work that ends while the window is not active (a folder tagged, Run on All Photos done)
 * is also told in a notification (HIG: toasts are for the window in use); it goes away when
 * the window is back. */
#define BACKGROUND_NOTIFICATION_ID "background-done"

static void
notify_in_background (DepictWindow *self, const char *message)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  g_autoptr (GNotification) notification = NULL;

  if (app == NULL || gtk_window_is_active (GTK_WINDOW (self)) ||
      !g_application_get_is_registered (G_APPLICATION (app)))
    return;
  notification = g_notification_new (_ ("Depict"));
  g_notification_set_body (notification, message);
  g_application_send_notification (G_APPLICATION (app), BACKGROUND_NOTIFICATION_ID, notification);
}

/* Toasts sit at the bottom of the window, where the zoom and layer buttons are: those move
 * up while a toast is shown (instead of showing through it). */
static void
toast_dismissed_cb (AdwToast *toast, DepictWindow *self)
{
  if (self->n_toasts > 0)
    self->n_toasts--;
  if (self->n_toasts == 0 && self->view_controls != NULL)
    gtk_widget_remove_css_class (self->view_controls, "above-toast");
}

static void
present_toast (DepictWindow *self, AdwToast *toast)
{
  self->n_toasts++;
  gtk_widget_add_css_class (self->view_controls, "above-toast");
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (toast_dismissed_cb), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
tag_all_clicked_cb (AdwToast *toast, gpointer user_data)
{
  GFile *folder = g_object_get_data (G_OBJECT (toast), "folder");
  DepictWindow *self = g_object_get_data (G_OBJECT (toast), "window");

  depict_window_show_gallery (self, FALSE);
  depict_gallery_view_tag_folder (self->gallery_view, folder);
}

static void
scan_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DepictWindow *self = DEPICT_WINDOW (source);
  ScanData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *name = g_file_get_basename (data->folder);
  g_autofree char *message = NULL;
  AdwToast *toast;

  if (files == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        depict_window_add_toast (self, error->message);
      return;
    }
  if (files->len == 0)
    {
      /* Translators: %s is a folder name */
      message = g_strdup_printf (_ ("No photos in “%s”"), name);
      depict_window_add_toast (self, message);
      return;
    }
  add_photos (self, (GFile **) files->pdata, files->len);

  /* A whole folder: offer to tag it in the gallery (batch mode). */
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Added %u photo from “%s”",
                                          "Added %u photos from “%s”", files->len),
                             files->len, name);
  toast = adw_toast_new (message);
  adw_toast_set_button_label (toast, _ ("_Tag All"));
  adw_toast_set_timeout (toast, 8);
  g_object_set_data_full (G_OBJECT (toast), "folder", g_object_ref (data->folder), g_object_unref);
  g_object_set_data (G_OBJECT (toast), "window", self);
  g_signal_connect (toast, "button-clicked", G_CALLBACK (tag_all_clicked_cb), NULL);
  present_toast (self, toast);
}

static void
scan_folder (DepictWindow *self, GFile *folder)
{
  g_autoptr (GTask) task = NULL;
  ScanData *data = g_new0 (ScanData, 1);

  data->self = g_object_ref (self);
  data->folder = g_object_ref (folder);
  task = g_task_new (self, self->scan_cancellable, scan_done_cb, NULL);
  g_task_set_source_tag (task, scan_folder);
  g_task_set_task_data (task, data, (GDestroyNotify) scan_data_free);
  g_task_run_in_thread (task, scan_thread);
}

/* ---------------------------------------------------------------------------------------- */
/* Running a task                                                                           */

static void
update_progress (DepictWindow *self)
{
  g_autofree char *detail = NULL;
  DepictInferenceStage stage;
  guint n_tokens;

  if (self->job == NULL || self->current == NULL ||
      depict_inference_job_get_file (self->job) != depict_queue_item_get_file (self->current))
    return;
  stage = depict_inference_job_get_stage (self->job);
  n_tokens = depict_inference_job_get_n_tokens (self->job);
  if (stage == DEPICT_INFERENCE_STAGE_GENERATING)
    detail =
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u token", "%u tokens", n_tokens), n_tokens);
  depict_results_pane_show_busy (self->results_pane, depict_inference_stage_to_string (stage),
                                 detail);
}

static void
job_progress_cb (DepictInferenceJob *job, GParamSpec *pspec, DepictWindow *self)
{
  update_progress (self);
}

static char *
run_info (DepictInferenceJob *job)
{
  GalleryRun *run = depict_inference_job_get_run (job);
  double seconds = depict_inference_job_get_seconds (job);

  /* Translators: shown under the answer: time taken, model, beams ("2.1 s · base · 3 beams") */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%.1f s · %s · %d beam",
                                       "%.1f s · %s · %d beams", run->num_beams),
                          seconds, run->model_name != NULL ? run->model_name : "", run->num_beams);
}

static gboolean start_run (DepictWindow *self, DepictQueueItem *item, const char *task,
                           const char *text_input);
static void continue_run_all (DepictWindow *self);

static void
run_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DepictWindow) self = user_data;
  DepictInferenceJob *job = DEPICT_INFERENCE_JOB (source);
  g_autoptr (GError) error = NULL;
  DepictQueueItem *item;
  gboolean ok = depict_inference_job_run_finish (job, result, &error);
  gboolean shown;

  item = find_in_queue (self, depict_inference_job_get_file (job), NULL);
  shown = item != NULL && item == self->current;
  if (self->job == job)
    {
      g_clear_object (&self->job);
      g_clear_object (&self->run_cancellable);
    }

  if (!ok)
    {
      if (item != NULL)
        depict_queue_item_set_state (item, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                             ? DEPICT_QUEUE_ITEM_WAITING
                                             : DEPICT_QUEUE_ITEM_FAILED);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          depict_window_add_toast (self, _ ("Stopped"));
          if (shown)
            {
              const char *task = depict_task_picker_get_task (self->task_picker);
              const char *info = NULL;
              JsonNode *previous = depict_queue_item_get_result (item, task, &info);

              if (previous != NULL)
                show_result (self, previous, task, info);
              else
                show_ready_state (self);
            }
        }
      else if (g_error_matches (error, DEPICT_INFERENCE_ERROR, DEPICT_INFERENCE_ERROR_NO_MODEL))
        {
          if (shown)
            depict_results_pane_show_no_model (self->results_pane);
          else
            depict_window_add_toast (self, error->message);
        }
      else if (shown)
        depict_results_pane_show_error (self->results_pane, _ ("The Task Failed"), error->message,
                                        TRUE);
      else
        depict_window_add_toast (self, error->message);
      /* Stopped, or no model: the rest would stop the same way. A photo that cannot be read
       * is skipped. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          g_error_matches (error, DEPICT_INFERENCE_ERROR, DEPICT_INFERENCE_ERROR_NO_MODEL))
        {
          g_clear_pointer (&self->run_all_task, g_free);
          g_hash_table_remove_all (self->run_all_done);
        }
      _depict_window_update_actions (self);
      continue_run_all (self);
      return;
    }

  {
    GalleryRun *run = depict_inference_job_get_run (job);
    g_autofree char *info = run_info (job);
    const GError *store_error = depict_inference_job_get_store_error (job);

    if (item != NULL)
      {
        if (run->result != NULL)
          depict_queue_item_add_result (item, run->task, run->result, info);
        depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_DONE);
      }
    if (shown)
      show_result (self, run->result, run->task, info);
    if (store_error != NULL)
      {
        g_autofree char *message = g_strdup_printf (
          _ ("The answer could not be kept in the gallery: %s"), store_error->message);
        depict_window_add_toast (self, message);
      }
  }
  _depict_window_update_actions (self);
  continue_run_all (self);
}

/* Starts TASK on ITEM in the worker. FALSE (and the reason shown) when it cannot start. */
static gboolean
start_run (DepictWindow *self, DepictQueueItem *item, const char *task, const char *text_input)
{
  g_autoptr (DepictInferenceSettings) settings = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *gallery_path = NULL;

  settings = depict_inference_settings_from_gsettings (self->settings, &error);
  if (settings == NULL)
    {
      if (g_error_matches (error, DEPICT_INFERENCE_ERROR, DEPICT_INFERENCE_ERROR_NO_MODEL))
        depict_results_pane_show_no_model (self->results_pane);
      else
        depict_results_pane_show_error (self->results_pane, _ ("The Task Cannot Run"),
                                        error->message, TRUE);
      return FALSE;
    }

  self->run_cancellable = g_cancellable_new ();
  self->job =
    depict_inference_job_new (settings, depict_queue_item_get_file (item), task, text_input);
  gallery_path = gallery_store_default_path ();
  depict_inference_job_set_gallery (self->job, gallery_path);
  g_signal_connect_object (self->job, "notify::stage", G_CALLBACK (job_progress_cb), self, 0);
  g_signal_connect_object (self->job, "notify::n-tokens", G_CALLBACK (job_progress_cb), self, 0);
  depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_RUNNING);
  update_progress (self);
  depict_inference_job_run_async (self->job, self->run_cancellable, run_done_cb,
                                  g_object_ref (self));
  _depict_window_update_actions (self);
  return TRUE;
}

void
depict_window_run (DepictWindow *self)
{
  g_autofree char *text_input = NULL;
  const FlorenceTaskInfo *task;
  GdkTexture *texture;

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  if (self->job != NULL)
    return;
  if (self->current == NULL)
    {
      depict_window_add_toast (self, _ ("Open a photo first"));
      return;
    }
  /* The photo on screen may still be the previous one (and a region drawn on it). */
  if (self->load_cancellable != NULL)
    {
      depict_window_add_toast (self, _ ("The photo is still loading"));
      return;
    }
  texture = depict_image_view_get_texture (self->image_view);
  task = depict_task_picker_get_task_info (self->task_picker);

  switch (task->input)
    {
    case FLORENCE_TASK_INPUT_TEXT:
      {
        const char *text = depict_task_picker_get_text (self->task_picker);
        g_autofree char *stripped = g_strstrip (g_strdup (text));

        if (stripped[0] == '\0')
          {
            depict_window_add_toast (self, task->input_hint != NULL
                                             ? _ (task->input_hint)
                                             : _ ("Type what to look for first"));
            depict_task_picker_focus_input (self->task_picker);
            return;
          }
        text_input = g_strdup (text);
        g_settings_set_string (self->settings, "last-text-input", text);
      }
      break;

    case FLORENCE_TASK_INPUT_REGION:
      {
        graphene_rect_t region;

        if (texture == NULL || !depict_image_view_get_region (self->image_view, &region))
          {
            depict_window_add_toast (self, _ ("Choose the region first: drag a rectangle on the "
                                              "photo, or focus it and press the arrow keys"));
            return;
          }
        text_input = florence_task_region_input (
          region.origin.x, region.origin.y, region.origin.x + region.size.width,
          region.origin.y + region.size.height, gdk_texture_get_width (texture),
          gdk_texture_get_height (texture));
      }
      break;

    case FLORENCE_TASK_INPUT_NONE:
    default:
      break;
    }

  start_run (self, self->current, task->token, text_input);
}

/* The next photo of the list without an answer to the task being run on all of them. */
static DepictQueueItem *
next_for_run_all (DepictWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->queue));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->queue), i);

      if (depict_queue_item_get_result (item, self->run_all_task, NULL) == NULL &&
          depict_queue_item_get_state (item) != DEPICT_QUEUE_ITEM_FAILED &&
          !g_hash_table_contains (self->run_all_done, item))
        return item;
    }
  return NULL;
}

static void
continue_run_all (DepictWindow *self)
{
  DepictQueueItem *next;

  if (self->run_all_task == NULL)
    return;
  next = next_for_run_all (self);
  if (next != NULL)
    {
      g_hash_table_add (self->run_all_done, next);
      if (start_run (self, next, self->run_all_task, self->run_all_text))
        return;
    }
  else
    {
      guint n = g_hash_table_size (self->run_all_done);
      g_autofree char *message = NULL;

      if (n == 0)
        message = g_strdup (_ ("Every photo has an answer to this task already"));
      else
        message = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "Done: %u photo", "Done: %u photos", n), n);
      depict_window_add_toast (self, message);
      if (n > 0)
        notify_in_background (self, message);
    }
  g_clear_pointer (&self->run_all_task, g_free);
  g_clear_pointer (&self->run_all_text, g_free);
  g_hash_table_remove_all (self->run_all_done);
  _depict_window_update_actions (self);
}

/* Runs the chosen task on every photo of the list that has no answer to it yet, one after
 * the other; Cancel stops them all. Region tasks need a region per photo and are refused. */
void
depict_window_run_all (DepictWindow *self)
{
  const FlorenceTaskInfo *task;
  const char *text = NULL;

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  if (self->job != NULL || g_list_model_get_n_items (G_LIST_MODEL (self->queue)) == 0)
    return;
  task = depict_task_picker_get_task_info (self->task_picker);
  if (task->input == FLORENCE_TASK_INPUT_REGION)
    {
      depict_window_add_toast (
        self, _ ("A region task runs on one photo at a time: choose the region on each"));
      return;
    }
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
  self->run_all_task = g_strdup (task->token);
  self->run_all_text = g_strdup (text);
  g_hash_table_remove_all (self->run_all_done);
  self->run_all_total = 0;
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->queue)); i++)
    {
      g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->queue), i);

      if (depict_queue_item_get_result (item, self->run_all_task, NULL) == NULL &&
          depict_queue_item_get_state (item) != DEPICT_QUEUE_ITEM_FAILED)
        self->run_all_total++;
    }
  continue_run_all (self);
}

void
depict_window_cancel (DepictWindow *self)
{
  g_return_if_fail (DEPICT_IS_WINDOW (self));

  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
}

gboolean
depict_window_get_busy (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), FALSE);
  return self->job != NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Task picker, region, hover                                                               */

static void
task_changed_cb (DepictTaskPicker *picker, GParamSpec *pspec, DepictWindow *self)
{
  const FlorenceTaskInfo *task = depict_task_picker_get_task_info (picker);
  gboolean region = task->input == FLORENCE_TASK_INPUT_REGION;

  depict_image_view_set_region_mode (self->image_view, region);
  gtk_revealer_set_reveal_child (self->region_hint_revealer,
                                 region && !depict_image_view_get_region (self->image_view, NULL));

  /* Each task keeps its own answer: choosing a task shows the answer it gave this photo,
   * if any, without running the model again. */
  if (self->showing_result || self->current == NULL ||
      (self->job != NULL &&
       depict_inference_job_get_file (self->job) == depict_queue_item_get_file (self->current)))
    return;
  {
    const char *info = NULL;
    JsonNode *stored = depict_queue_item_get_result (self->current, task->token, &info);

    if (stored != NULL && stored != self->result)
      show_result (self, stored, task->token, info);
    else if (stored == NULL && self->result != NULL)
      {
        show_result (self, NULL, NULL, NULL);
        show_ready_state (self);
      }
  }
}

static void
region_changed_cb (DepictImageView *view, GParamSpec *pspec, DepictWindow *self)
{
  graphene_rect_t r;
  g_autofree char *text = NULL;
  gboolean has = depict_image_view_get_region (view, &r);

  if (has)
    /* Translators: the chosen region, in pixels: left, top – right, bottom */
    text = g_strdup_printf (_ ("Region: %.0f, %.0f – %.0f, %.0f"), r.origin.x, r.origin.y,
                            r.origin.x + r.size.width, r.origin.y + r.size.height);
  depict_task_picker_set_region_description (self->task_picker, text);
  gtk_revealer_set_reveal_child (self->region_hint_revealer,
                                 depict_image_view_get_region_mode (view) && !has);
}

static void
image_hover_cb (DepictImageView *view, GParamSpec *pspec, DepictWindow *self)
{
  depict_results_pane_set_hover_item (self->results_pane, depict_image_view_get_hover_item (view));
}

static void
pane_hover_cb (DepictResultsPane *pane, GParamSpec *pspec, DepictWindow *self)
{
  depict_image_view_set_hover_item (self->image_view, depict_results_pane_get_hover_item (pane));
}

static void
layers_changed_cb (GSettings *settings, const char *key, DepictWindow *self)
{
  guint layers = 0;

  if (g_settings_get_boolean (settings, "show-boxes"))
    layers |= DEPICT_LAYER_BOXES;
  if (g_settings_get_boolean (settings, "show-masks"))
    layers |= DEPICT_LAYER_MASKS;
  if (g_settings_get_boolean (settings, "show-text"))
    layers |= DEPICT_LAYER_TEXT;
  depict_image_view_set_layers (self->image_view, layers);
}

static void
model_changed_cb (GSettings *settings, const char *key, DepictWindow *self)
{
  const char *page = depict_results_pane_get_page (self->results_pane);

  update_empty_page (self);
  /* A model was just chosen or installed: leave the "no model" page. */
  if (self->current != NULL && (g_str_equal (page, "no-model") || g_str_equal (page, "idle")))
    show_ready_state (self);
}

/* Narrow windows (a phone, half a laptop screen) put the results below the photo. The
 * layout changes after the allocation that finds the new width, never during it. */
static gboolean
apply_layout_cb (gpointer user_data)
{
  DepictWindow *self = user_data;
  GtkPaned *paned;

  self->layout_idle = 0;
  if (self->side_pane == NULL)
    return G_SOURCE_REMOVE;
  paned = GTK_PANED (gtk_widget_get_parent (self->side_pane));
  gtk_orientable_set_orientation (
    GTK_ORIENTABLE (paned), self->narrow ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
  gtk_widget_set_size_request (self->side_pane, self->narrow ? -1 : 340, self->narrow ? 240 : -1);
  return G_SOURCE_REMOVE;
}

static void
depict_window_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  DepictWindow *self = DEPICT_WINDOW (widget);
  gboolean narrow = width < 720;

  GTK_WIDGET_CLASS (depict_window_parent_class)->size_allocate (widget, width, height, baseline);

  if (narrow != self->narrow && self->layout_idle == 0)
    {
      self->narrow = narrow;
      self->layout_idle = g_idle_add (apply_layout_cb, self);
    }
}

/* Back from the model manager: a model may have been installed. */
static void
active_changed_cb (GtkWindow *window, GParamSpec *pspec, DepictWindow *self)
{
  if (gtk_window_is_active (window) && gtk_window_get_application (window) != NULL &&
      g_application_get_is_registered (G_APPLICATION (gtk_window_get_application (window))))
    g_application_withdraw_notification (G_APPLICATION (gtk_window_get_application (window)),
                                         BACKGROUND_NOTIFICATION_ID);
  if (gtk_window_is_active (window) && self->current == NULL)
    update_empty_page (self);
  if (gtk_window_is_active (window) && self->current != NULL &&
      g_strcmp0 (depict_results_pane_get_page (self->results_pane), "no-model") == 0)
    show_ready_state (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Gallery                                                                                  */

static void
gallery_toast_cb (DepictGalleryView *view, const char *message, DepictWindow *self)
{
  depict_window_add_toast (self, message);
  /* Tagging a folder ends while the person is elsewhere: tell them there too. */
  if (!depict_gallery_view_get_tagging (view))
    notify_in_background (self, message);
}

static void
gallery_image_activated_cb (DepictGalleryView *view, gint64 image_id, GFile *file,
                            DepictWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  GalleryStore *store = depict_gallery_view_get_store (view, &error);
  g_autofree char *info = NULL;

  if (store != NULL && image_id > 0)
    runs = gallery_store_list_runs (store, image_id, &error);
  /* The stored answers are shown as they are: the model does not run again. Every task's
   * latest answer is kept (runs come oldest first); the latest of all is shown. */
  depict_window_show_file (self, file, NULL, NULL);
  for (guint i = 0; runs != NULL && i < runs->len; i++)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);
      g_autoptr (GDateTime) created = g_date_time_new_from_unix_local (run->created);
      g_autofree char *date =
        created != NULL ? g_date_time_format (created, "%x %X") : g_strdup ("");

      if (run->result == NULL || run->task == NULL)
        continue;
      g_free (info);
      /* Translators: a stored answer: when it was made, and by which model */
      info = g_strdup_printf (_ ("Stored %s · %s"), date,
                              run->model_name != NULL ? run->model_name : "");
      depict_window_show_file (self, file, run->result, info);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* GObject                                                                                  */

static gboolean
depict_window_close_request (GtkWindow *window)
{
  DepictWindow *self = DEPICT_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  depict_window_cancel (self);
  g_cancellable_cancel (self->scan_cancellable);

  return GTK_WINDOW_CLASS (depict_window_parent_class)->close_request (window);
}

static void
depict_window_dispose (GObject *object)
{
  DepictWindow *self = DEPICT_WINDOW (object);

  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  if (self->scan_cancellable != NULL)
    g_cancellable_cancel (self->scan_cancellable);

  g_clear_handle_id (&self->layout_idle, g_source_remove);
  g_clear_handle_id (&self->reveal_idle, g_source_remove);
  g_clear_handle_id (&self->stale_photo_timeout, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), DEPICT_TYPE_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->queue_selection);
  g_clear_object (&self->queue);
  g_clear_object (&self->current);
  g_clear_object (&self->items);
  g_clear_object (&self->job);
  g_clear_object (&self->run_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->scan_cancellable);
  g_clear_pointer (&self->result, json_node_unref);
  g_clear_pointer (&self->result_task, g_free);
  g_clear_pointer (&self->run_all_task, g_free);
  g_clear_pointer (&self->run_all_text, g_free);
  g_clear_pointer (&self->run_all_done, g_hash_table_unref);

  G_OBJECT_CLASS (depict_window_parent_class)->dispose (object);
}

static void
depict_window_class_init (DepictWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = depict_window_dispose;
  widget_class->size_allocate = depict_window_size_allocate;
  window_class->close_request = depict_window_close_request;

  g_type_ensure (DEPICT_TYPE_IMAGE_VIEW);
  g_type_ensure (DEPICT_TYPE_TASK_PICKER);
  g_type_ensure (DEPICT_TYPE_RESULTS_PANE);
  g_type_ensure (DEPICT_TYPE_GALLERY_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/ui/depict-window.ui");
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, drop_overlay);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, photo_stack);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, queue_list);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, image_view);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, view_controls);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, run_all_button);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, empty_no_model);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, layer_toggles);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, boxes_toggle);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, masks_toggle);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, text_toggle);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, queue_button);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, region_hint_revealer);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, side_pane);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, task_picker);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, results_pane);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, gallery_view);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, drop_revealer);

  _depict_window_class_actions_init (klass);
}

static void
depict_window_init (DepictWindow *self)
{
  GtkListItemFactory *factory;
  g_autofree char *last_task = NULL;
  g_autofree char *last_text = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  if (g_str_has_suffix (APPLICATION_ID, ".Devel"))
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  self->settings = g_settings_new (DEPICT_SCHEMA_ID);
  self->scan_cancellable = g_cancellable_new ();
  self->run_all_done = g_hash_table_new (NULL, NULL);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  /* The photo list */
  self->queue = g_list_store_new (DEPICT_TYPE_QUEUE_ITEM);
  self->queue_selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->queue)));
  gtk_single_selection_set_autoselect (self->queue_selection, TRUE);
  g_signal_connect (self->queue_selection, "notify::selected-item",
                    G_CALLBACK (queue_selection_changed_cb), self);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_queue_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_queue_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_queue_row_cb), self);
  gtk_list_view_set_factory (self->queue_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->queue_list, GTK_SELECTION_MODEL (self->queue_selection));

  /* The task: remembered between runs */
  g_signal_connect (self->task_picker, "notify::task", G_CALLBACK (task_changed_cb), self);
  last_task = g_settings_get_string (self->settings, "last-task");
  depict_task_picker_set_task (self->task_picker, last_task);
  last_text = g_settings_get_string (self->settings, "last-text-input");
  depict_task_picker_set_text (self->task_picker, last_text);
  g_settings_bind (self->settings, "last-task", self->task_picker, "task", G_SETTINGS_BIND_DEFAULT);
  task_changed_cb (self->task_picker, NULL, self);

  /* Hover on the photo <-> the list of results */
  g_signal_connect (self->image_view, "notify::hover-item", G_CALLBACK (image_hover_cb), self);
  g_signal_connect (self->results_pane, "notify::hover-item", G_CALLBACK (pane_hover_cb), self);
  g_signal_connect (self->image_view, "notify::has-region", G_CALLBACK (region_changed_cb), self);

  g_signal_connect_object (self->settings, "changed::show-boxes", G_CALLBACK (layers_changed_cb),
                           self, 0);
  g_signal_connect_object (self->settings, "changed::show-masks", G_CALLBACK (layers_changed_cb),
                           self, 0);
  g_signal_connect_object (self->settings, "changed::show-text", G_CALLBACK (layers_changed_cb),
                           self, 0);
  g_signal_connect_object (self->settings, "changed::model", G_CALLBACK (model_changed_cb), self,
                           0);
  layers_changed_cb (self->settings, NULL, self);

  g_signal_connect (self->gallery_view, "image-activated", G_CALLBACK (gallery_image_activated_cb),
                    self);
  g_signal_connect (self->main_stack, "notify::visible-child", G_CALLBACK (page_changed_cb), self);
  g_signal_connect (self, "notify::is-active", G_CALLBACK (active_changed_cb), self);
  g_signal_connect (self->photo_stack, "notify::visible-child", G_CALLBACK (page_changed_cb), self);
  g_signal_connect (self->gallery_view, "toast", G_CALLBACK (gallery_toast_cb), self);

  _depict_window_actions_init (self);
  _depict_window_dnd_init (self);
  show_item (self, NULL);
  update_empty_page (self);
  update_queue_button (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                               */

DepictWindow *
depict_window_new (GtkApplication *application)
{
  return g_object_new (DEPICT_TYPE_WINDOW, "application", application, NULL);
}

/* Photos are added to the list; folders are listed (in a thread) and their photos added. */
void
depict_window_open_files (DepictWindow *self, GFile **files, guint n_files)
{
  g_autoptr (GPtrArray) photos = g_ptr_array_new ();

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  for (guint i = 0; i < n_files; i++)
    {
      if (g_file_query_file_type (files[i], G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
        scan_folder (self, files[i]);
      else
        g_ptr_array_add (photos, files[i]);
    }
  if (photos->len > 0)
    add_photos (self, (GFile **) photos->pdata, photos->len);
}

/* Shows FILE with a stored RESULT (NULL: none), without running the model. */
void
depict_window_show_file (DepictWindow *self, GFile *file, JsonNode *result, const char *info)
{
  DepictQueueItem *item;

  g_return_if_fail (DEPICT_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  add_photos (self, &file, 1);
  item = find_in_queue (self, file, NULL);
  if (item != NULL && result != NULL)
    {
      const char *task = result_task_of (result);

      depict_queue_item_add_result (item, task != NULL ? task : "", result, info);
      depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_DONE);
      if (item == self->current)
        show_result (self, result, task, info);
    }
}

void
depict_window_add_toast (DepictWindow *self, const char *title)
{
  AdwToast *toast;

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  toast = adw_toast_new (title);
  adw_toast_set_timeout (toast, 5);
  present_toast (self, toast);
}

/* "empty" (nothing opened), "photo" or "gallery" */
const char *
depict_window_get_visible_page (DepictWindow *self)
{
  const char *page;

  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);

  page = adw_view_stack_get_visible_child_name (self->main_stack);
  if (g_strcmp0 (page, "photo") == 0)
    return gtk_stack_get_visible_child_name (self->photo_stack);
  return page;
}

void
depict_window_show_gallery (DepictWindow *self, gboolean focus_search)
{
  g_return_if_fail (DEPICT_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->main_stack, "gallery");
  if (focus_search)
    depict_gallery_view_focus_search (self->gallery_view);
}

DepictImageView *
depict_window_get_image_view (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->image_view;
}

DepictResultsPane *
depict_window_get_results_pane (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->results_pane;
}

DepictTaskPicker *
depict_window_get_task_picker (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->task_picker;
}

GListModel *
depict_window_get_queue (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return G_LIST_MODEL (self->queue);
}

GtkWidget *
depict_window_get_gallery_view (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return GTK_WIDGET (self->gallery_view);
}

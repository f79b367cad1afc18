/* depict-window-actions.c: the window's actions (win.*)
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-window-private.h"

static void
open_response_cb (GtkNativeDialog *dialog, int response, DepictWindow *self)
{
  gboolean tagging = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "tagging"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      g_autoptr (GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      if (tagging && array->len > 0)
        _depict_window_tag_folder (self, g_ptr_array_index (array, 0));
      else
        depict_window_open_files (self, (GFile **) array->pdata, array->len);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

void
_depict_window_open_dialog (DepictWindow *self, gboolean folder_for_tagging)
{
  GtkFileChooserNative *dialog;
  g_autoptr (GtkFileFilter) images = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) all = gtk_file_filter_new ();

  if (folder_for_tagging)
    dialog = gtk_file_chooser_native_new (_ ("Tag Folder"), GTK_WINDOW (self),
                                          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Tag"),
                                          _ ("_Cancel"));
  else
    {
      dialog =
        gtk_file_chooser_native_new (_ ("Open Photos"), GTK_WINDOW (self),
                                     GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Open"), _ ("_Cancel"));
      gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (dialog), TRUE);

      gtk_file_filter_set_name (images, _ ("Photos"));
      gtk_file_filter_add_mime_type (images, "image/*");
      /* Folders too: their photos are added. */
      gtk_file_filter_add_mime_type (images, "inode/directory");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), images);
      gtk_file_filter_set_name (all, _ ("All Files"));
      gtk_file_filter_add_pattern (all, "*");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), all);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_object_set_data (G_OBJECT (dialog), "tagging", GINT_TO_POINTER (folder_for_tagging));
  g_signal_connect (dialog, "response", G_CALLBACK (open_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
open_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  _depict_window_open_dialog (DEPICT_WINDOW (widget), FALSE);
}

static void
tag_folder_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  _depict_window_open_dialog (DEPICT_WINDOW (widget), TRUE);
}

static void
run_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  depict_window_run (DEPICT_WINDOW (widget));
}

static void
run_all_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  depict_window_run_all (DEPICT_WINDOW (widget));
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  depict_window_cancel (DEPICT_WINDOW (widget));
}

static void
zoom_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictWindow *self = DEPICT_WINDOW (widget);

  if (g_str_equal (action_name, "win.zoom-in"))
    depict_image_view_zoom_in (self->image_view);
  else if (g_str_equal (action_name, "win.zoom-out"))
    depict_image_view_zoom_out (self->image_view);
  else if (g_str_equal (action_name, "win.zoom-original"))
    depict_image_view_zoom_to (self->image_view, 1.0);
  else
    depict_image_view_zoom_to_fit (self->image_view);
}

static void
copy_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictWindow *self = DEPICT_WINDOW (widget);
  g_autofree char *text = NULL;

  if (self->answer == NULL)
    return;
  if (g_str_equal (action_name, "win.copy-json"))
    text = depict_answer_to_json (self->answer);
  else
    text = depict_answer_to_plain_text (self->answer);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text);
  depict_window_add_toast (self, _ ("Copied"));
}

gboolean
_depict_window_export_to (DepictWindow *self, GFile *file, gboolean as_text, GError **error)
{
  g_autofree char *contents = NULL;

  g_return_val_if_fail (self->answer != NULL, FALSE);
  contents =
    as_text ? depict_answer_to_plain_text (self->answer) : depict_answer_to_json (self->answer);
  /* Atomic: written to a temporary file, then renamed. */
  return g_file_replace_contents (file, contents, strlen (contents), NULL, FALSE,
                                  G_FILE_CREATE_REPLACE_DESTINATION, NULL, NULL, error);
}

GFile *
_depict_window_export_folder (DepictWindow *self)
{
  g_autoptr (GFile) parent = NULL;
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);

  /* Beside the photo, where a person looks for it; else in Pictures. */
  if (self->current != NULL)
    parent = g_file_get_parent (depict_queue_item_get_file (self->current));
  if (parent != NULL && g_file_is_native (parent))
    return g_steal_pointer (&parent);
  return g_file_new_for_path (pictures != NULL ? pictures : g_get_home_dir ());
}

static void
export_response_cb (GtkNativeDialog *dialog, int response, DepictWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->answer != NULL)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      gboolean as_text =
        g_strcmp0 (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "format"), "text") == 0;
      g_autofree char *name = g_file_get_basename (file);
      g_autoptr (GError) error = NULL;

      /* Text asked for under the JSON name offered: the name follows the format. */
      if (as_text && g_str_has_suffix (name, ".json"))
        {
          g_autoptr (GFile) parent = g_file_get_parent (file);
          g_autofree char *stem = g_strndup (name, strlen (name) - strlen (".json"));
          g_autofree char *text_name = g_strconcat (stem, ".txt", NULL);

          g_object_unref (file);
          file = g_file_get_child (parent, text_name);
        }
      if (!_depict_window_export_to (self, file, as_text, &error))
        {
          g_autofree char *message =
            g_strdup_printf (_ ("The answer could not be saved: %s"), error->message);
          depict_window_add_toast (self, message);
        }
      else
        depict_window_add_toast (self, _ ("Saved"));
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
export_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictWindow *self = DEPICT_WINDOW (widget);
  GtkFileChooserNative *dialog;
  g_autofree char *name = NULL;
  g_autofree char *base = NULL;
  g_autoptr (GFile) folder = NULL;

  if (self->answer == NULL || self->current == NULL)
    return;
  dialog = gtk_file_chooser_native_new (_ ("Export Answer"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Save"), _ ("_Cancel"));
  base = g_strdup (depict_queue_item_get_title (self->current));
  if (strrchr (base, '.') != NULL)
    *strrchr (base, '.') = '\0';
  name = g_strconcat (base, ".json", NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  folder = _depict_window_export_folder (self);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), folder, NULL);
  gtk_file_chooser_add_choice (
    GTK_FILE_CHOOSER (dialog), "format", _ ("Format"), (const char *[]){ "json", "text", NULL },
    (const char *[]){ _ ("JSON (for programs)"), _ ("Text (for people)"), NULL });
  gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (dialog), "format", "json");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect (dialog, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
show_batch_failures_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  _depict_window_show_batch_failures (DEPICT_WINDOW (widget));
}

static void
search_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  depict_window_show_gallery (DEPICT_WINDOW (widget), TRUE);
}

static void
show_page_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictWindow *self = DEPICT_WINDOW (widget);

  if (g_str_equal (action_name, "win.show-gallery"))
    depict_window_show_gallery (self, FALSE);
  else
    adw_view_stack_set_visible_child_name (self->main_stack, "photo");
}

static void
focus_photo_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictWindow *self = DEPICT_WINDOW (widget);

  gtk_widget_grab_focus (GTK_WIDGET (self->image_view));
}

static void
toggle_queue_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictWindow *self = DEPICT_WINDOW (widget);

  adw_flap_set_reveal_flap (self->flap, !adw_flap_get_reveal_flap (self->flap));
}

static void
step_photo_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictWindow *self = DEPICT_WINDOW (widget);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->queue));
  guint pos = gtk_single_selection_get_selected (self->queue_selection);

  if (n == 0 || pos == GTK_INVALID_LIST_POSITION)
    return;
  if (g_str_equal (action_name, "win.next-photo") && pos + 1 < n)
    gtk_single_selection_set_selected (self->queue_selection, pos + 1);
  else if (g_str_equal (action_name, "win.previous-photo") && pos > 0)
    gtk_single_selection_set_selected (self->queue_selection, pos - 1);
}

void
_depict_window_update_actions (DepictWindow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean running = self->run_job != NULL;
  gboolean has_photo = self->current != NULL;
  gboolean has_texture =
    depict_image_view_get_texture (self->image_view) != NULL && self->load_cancellable == NULL;
  gboolean has_answer = self->answer != NULL;
  gboolean batch = self->session != NULL && depict_session_get_batch (self->session) != NULL &&
                   !depict_session_get_batch_paused (self->session);
  gboolean on_photo_page =
    self->main_stack == NULL ||
    g_strcmp0 (adw_view_stack_get_visible_child_name (self->main_stack), "photo") == 0;

  if (self->queue == NULL)
    return; /* disposed */
  /* A run asked for during a batch is done between two of its photos. */
  gtk_widget_action_set_enabled (widget, "win.run", has_photo && has_texture && !running);
  gtk_widget_action_set_enabled (
    widget, "win.run-all", !batch && g_list_model_get_n_items (G_LIST_MODEL (self->queue)) > 0);
  /* Escape stops the run from the photo page; in the gallery it clears the search. */
  gtk_widget_action_set_enabled (widget, "win.cancel",
                                 (running || self->run_all_job != NULL) && on_photo_page);
  /* The photo's keys only on the photo page: there Page Down is the next photo, in the
   * gallery it scrolls the grid. */
  gtk_widget_action_set_enabled (widget, "win.zoom-in", has_texture && on_photo_page);
  gtk_widget_action_set_enabled (widget, "win.zoom-out", has_texture && on_photo_page);
  gtk_widget_action_set_enabled (widget, "win.zoom-fit", has_texture && on_photo_page);
  gtk_widget_action_set_enabled (widget, "win.zoom-original", has_texture && on_photo_page);
  gtk_widget_action_set_enabled (widget, "win.next-photo", has_photo && on_photo_page);
  gtk_widget_action_set_enabled (widget, "win.previous-photo", has_photo && on_photo_page);
  gtk_widget_action_set_enabled (widget, "win.copy-text", has_answer);
  gtk_widget_action_set_enabled (widget, "win.copy-json", has_answer);
  gtk_widget_action_set_enabled (widget, "win.export", has_answer);
}

void
_depict_window_class_actions_init (DepictWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.tag-folder", NULL, tag_folder_action);
  gtk_widget_class_install_action (widget_class, "win.show-batch-failures", NULL,
                                   show_batch_failures_action);
  gtk_widget_class_install_action (widget_class, "win.run", NULL, run_action);
  gtk_widget_class_install_action (widget_class, "win.run-all", NULL, run_all_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-original", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.copy-text", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "win.copy-json", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.show-photo", NULL, show_page_action);
  gtk_widget_class_install_action (widget_class, "win.show-gallery", NULL, show_page_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-queue", NULL, toggle_queue_action);
  gtk_widget_class_install_action (widget_class, "win.focus-photo", NULL, focus_photo_action);
  gtk_widget_class_install_action (widget_class, "win.next-photo", NULL, step_photo_action);
  gtk_widget_class_install_action (widget_class, "win.previous-photo", NULL, step_photo_action);
}

void
_depict_window_actions_init (DepictWindow *self)
{
  static const char *layer_keys[] = { "show-boxes", "show-masks", "show-text" };

  /* Layer toggles are GSettings-backed stateful actions (remembered). They are added to the
   * window's own action map next to the class actions. */
  for (guint i = 0; i < G_N_ELEMENTS (layer_keys); i++)
    {
      g_autoptr (GAction) action = g_settings_create_action (self->settings, layer_keys[i]);

      g_action_map_add_action (G_ACTION_MAP (self), action);
    }
  _depict_window_update_actions (self);
}

/* depict-window-dnd.c: photos and folders dropped on the window, or opened
 *
 * What was given is looked at in a worker thread (a file's type, a folder's photos, whether
 * a file is a photo: each may wait on a slow disk or a network folder), never on the main
 * thread; then the photos join the list, a folder offers to be tagged, and what is not a
 * photo is named.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-window-private.h"
#include "gallery/gallery-tagger.h"
#include "image/image-files.h"

/* ---------------------------------------------------------------------------------------- */
/* Looking at the files, in a thread                                                        */

typedef struct {
  GFile *folder;
  guint n_photos;
} FolderSeen;

typedef struct {
  GPtrArray *given;      /* GFile */
  GPtrArray *photos;     /* GFile, in order: files given, then each folder's photos */
  GArray *folders;       /* FolderSeen */
  GPtrArray *not_photos; /* GFile */
  GPtrArray *errors;     /* char *: a folder that could not be listed, why */
} Check;

static void
check_free (Check *check)
{
  for (guint i = 0; check->folders != NULL && i < check->folders->len; i++)
    g_object_unref (g_array_index (check->folders, FolderSeen, i).folder);
  g_clear_pointer (&check->given, g_ptr_array_unref);
  g_clear_pointer (&check->photos, g_ptr_array_unref);
  g_clear_pointer (&check->folders, g_array_unref);
  g_clear_pointer (&check->not_photos, g_ptr_array_unref);
  g_clear_pointer (&check->errors, g_ptr_array_unref);
  g_free (check);
}

/* A sub-folder the walk could not read: said, and the others are walked. */
static void
check_problem (const char *path, const GError *error, gpointer user_data)
{
  Check *check = user_data;

  g_ptr_array_add (check->errors, g_strdup (error->message));
}

static void
check_folder (Check *check, GFile *folder, GCancellable *cancellable)
{
  g_autofree char *path = g_file_get_path (folder);
  const char *args[] = { path, NULL };
  g_autoptr (GPtrArray) found = NULL;
  g_autoptr (GError) error = NULL;
  FolderSeen seen = { g_object_ref (folder), 0 };

  found = image_files_collect (args, TRUE, check_problem, check, cancellable, &error);
  for (guint i = 0; found != NULL && i < found->len; i++)
    g_ptr_array_add (check->photos, g_file_new_for_path (g_ptr_array_index (found, i)));
  seen.n_photos = found != NULL ? found->len : 0;
  g_array_append_val (check->folders, seen);
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_ptr_array_add (check->errors, g_strdup (error->message));
}

static void
check_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Check *check = task_data;

  for (guint i = 0; i < check->given->len; i++)
    {
      GFile *file = g_ptr_array_index (check->given, i);
      g_autofree char *path = g_file_get_path (file);
      GFileType type = g_file_query_file_type (file, G_FILE_QUERY_INFO_NONE, cancellable);

      if (g_cancellable_is_cancelled (cancellable))
        break;
      if (type == G_FILE_TYPE_DIRECTORY && path != NULL)
        check_folder (check, file, cancellable);
      else if (path != NULL && type == G_FILE_TYPE_REGULAR && image_files_is_photo (path))
        g_ptr_array_add (check->photos, g_object_ref (file));
      else if (path == NULL && type == G_FILE_TYPE_REGULAR)
        /* Not on this computer: its loading says so. */
        g_ptr_array_add (check->photos, g_object_ref (file));
      else
        g_ptr_array_add (check->not_photos, g_object_ref (file));
    }
  g_task_return_boolean (task, !g_cancellable_is_cancelled (cancellable));
}

/* ---------------------------------------------------------------------------------------- */
/* Then, on the main thread                                                                 */

static void
tag_all_clicked_cb (AdwToast *toast, DepictWindow *self)
{
  _depict_window_tag_folder (self, g_object_get_data (G_OBJECT (toast), "folder"));
}

static void
tell_folder (DepictWindow *self, const FolderSeen *seen)
{
  g_autofree char *name = g_file_get_basename (seen->folder);
  g_autofree char *message = NULL;
  AdwToast *toast;

  if (seen->n_photos == 0)
    {
      /* Translators: %s is a folder name */
      message = g_strdup_printf (_ ("No photos in “%s”"), name);
      depict_window_add_toast (self, message);
      return;
    }
  /* A whole folder: offer to tag it in the gallery (batch mode). */
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Added %u photo from “%s”",
                                          "Added %u photos from “%s”", seen->n_photos),
                             seen->n_photos, name);
  toast = adw_toast_new (message);
  adw_toast_set_button_label (toast, _ ("_Tag All"));
  adw_toast_set_timeout (toast, 8);
  g_object_set_data_full (G_OBJECT (toast), "folder", g_object_ref (seen->folder), g_object_unref);
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (tag_all_clicked_cb), self, 0);
  _depict_window_present_toast (self, toast);
}

static void
tell_not_photos (DepictWindow *self, GPtrArray *not_photos)
{
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  if (not_photos->len == 0)
    return;
  name = g_file_get_basename (g_ptr_array_index (not_photos, 0));
  if (not_photos->len == 1)
    /* Translators: %s is a file name */
    message = g_strdup_printf (_ ("“%s” is not a photo Depict can read"), name);
  else
    /* Translators: %s is a file name; %u how many other files were left out with it */
    message = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "“%s” and %u other file are not photos Depict can read",
                   "“%s” and %u other files are not photos Depict can read", not_photos->len - 1),
      name, not_photos->len - 1);
  depict_window_add_toast (self, message);
}

static void
check_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DepictWindow *self = DEPICT_WINDOW (source);
  Check *check = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), NULL))
    return; /* the window closed */
  if (check->photos->len > 0)
    _depict_window_add_photos (self, (GFile **) check->photos->pdata, check->photos->len);
  for (guint i = 0; i < check->errors->len; i++)
    depict_window_add_toast (self, g_ptr_array_index (check->errors, i));
  for (guint i = 0; i < check->folders->len; i++)
    tell_folder (self, &g_array_index (check->folders, FolderSeen, i));
  tell_not_photos (self, check->not_photos);
}

/* Photos are added to the list; folders are listed and their photos added: all after a look
 * in a worker thread. */
void
depict_window_open_files (DepictWindow *self, GFile **files, guint n_files)
{
  g_autoptr (GTask) task = NULL;
  Check *check;

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  if (n_files == 0)
    return;
  check = g_new0 (Check, 1);
  check->given = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_files; i++)
    g_ptr_array_add (check->given, g_object_ref (files[i]));
  check->photos = g_ptr_array_new_with_free_func (g_object_unref);
  check->folders = g_array_new (FALSE, FALSE, sizeof (FolderSeen));
  check->not_photos = g_ptr_array_new_with_free_func (g_object_unref);
  check->errors = g_ptr_array_new_with_free_func (g_free);
  task = g_task_new (self, self->cancellable, check_done_cb, NULL);
  g_task_set_source_tag (task, depict_window_open_files);
  g_task_set_task_data (task, check, (GDestroyNotify) check_free);
  g_task_run_in_thread (task, check_thread);
}

/* ---------------------------------------------------------------------------------------- */
/* Dropping                                                                                 */

void
_depict_window_set_drop_feedback (DepictWindow *self, gboolean active)
{
  gtk_revealer_set_reveal_child (self->drop_revealer, active);
  if (active)
    gtk_widget_add_css_class (GTK_WIDGET (self->toast_overlay), "blurred");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->toast_overlay), "blurred");
}

static GdkDragAction
drop_enter_cb (GtkDropTarget *target, double x, double y, DepictWindow *self)
{
  _depict_window_set_drop_feedback (self, TRUE);
  return GDK_ACTION_COPY;
}

static void
drop_leave_cb (GtkDropTarget *target, DepictWindow *self)
{
  _depict_window_set_drop_feedback (self, FALSE);
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, DepictWindow *self)
{
  _depict_window_set_drop_feedback (self, FALSE);
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  return depict_window_drop_files (self, gdk_file_list_get_files (g_value_get_boxed (value)));
}

/* What a drop of FILES (GSList of GFile) does: see depict_window_open_files(). Returns FALSE
 * when there was nothing to take. */
gboolean
depict_window_drop_files (DepictWindow *self, GSList *files)
{
  g_autoptr (GPtrArray) array = g_ptr_array_new ();

  g_return_val_if_fail (DEPICT_IS_WINDOW (self), FALSE);

  for (GSList *l = files; l != NULL; l = l->next)
    if (G_IS_FILE (l->data))
      g_ptr_array_add (array, l->data);
  if (array->len == 0)
    return FALSE;
  depict_window_open_files (self, (GFile **) array->pdata, array->len);
  return TRUE;
}

void
_depict_window_dnd_init (DepictWindow *self)
{
  GtkDropTarget *target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  g_signal_connect (target, "enter", G_CALLBACK (drop_enter_cb), self);
  g_signal_connect (target, "leave", G_CALLBACK (drop_leave_cb), self);
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}

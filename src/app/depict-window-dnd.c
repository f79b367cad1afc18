/* depict-window-dnd.c: photos and folders dropped on the window
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-window-private.h"

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

/* What a drop of FILES (GSList of GFile) does: photos are added to the list, folders are
 * listed and their photos added. Returns FALSE when there was nothing to take. */
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

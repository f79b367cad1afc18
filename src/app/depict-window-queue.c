/* depict-window-queue.c: the photo list and the photo shown
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-image-loader.h"
#include "image/image-rgb.h"
#include "depict-window-private.h"

/* ---------------------------------------------------------------------------------------- */
/* Rows                                                                                     */

static void
setup_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
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

static const char *
state_description (DepictQueueItemState state)
{
  switch (state)
    {
    case DEPICT_QUEUE_ITEM_RUNNING:
      return _ ("Running");
    case DEPICT_QUEUE_ITEM_DONE:
      return _ ("Answered");
    case DEPICT_QUEUE_ITEM_FAILED:
      return _ ("Cannot be opened or run");
    case DEPICT_QUEUE_ITEM_WAITING:
    default:
      return NULL;
    }
}

static void
item_changed_cb (DepictQueueItem *item, GParamSpec *pspec, GtkWidget *box)
{
  GtkWidget *picture = gtk_widget_get_first_child (box);
  GtkWidget *icon = gtk_widget_get_last_child (box);
  g_autofree char *icon_name = NULL;
  const char *state;

  if (depict_queue_item_get_thumbnail (item) != NULL)
    gtk_image_set_from_paintable (GTK_IMAGE (picture),
                                  GDK_PAINTABLE (depict_queue_item_get_thumbnail (item)));
  else
    gtk_image_set_from_icon_name (GTK_IMAGE (picture), "image-x-generic-symbolic");
  g_object_get (item, "icon-name", &icon_name, NULL);
  gtk_image_set_from_icon_name (GTK_IMAGE (icon), icon_name);
  gtk_widget_set_visible (icon, icon_name != NULL);

  /* The state icon in words, for screen readers and as a tooltip. */
  state = state_description (depict_queue_item_get_state (item));
  gtk_widget_set_tooltip_text (icon, state);
  if (state != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, state,
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  DepictQueueItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *label = gtk_widget_get_next_sibling (gtk_widget_get_first_child (box));

  gtk_label_set_label (GTK_LABEL (label), depict_queue_item_get_title (item));
  gtk_widget_set_tooltip_text (box, depict_queue_item_get_title (item));
  item_changed_cb (item, NULL, box);
  g_signal_connect_object (item, "notify::thumbnail", G_CALLBACK (item_changed_cb), box, 0);
  g_signal_connect_object (item, "notify::state", G_CALLBACK (item_changed_cb), box, 0);
  depict_queue_item_load_thumbnail (item);
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  DepictQueueItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);

  g_signal_handlers_disconnect_by_func (item, item_changed_cb, box);
}

/* ---------------------------------------------------------------------------------------- */
/* The photo shown                                                                          */

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
      /* A file cut short (a copy or download that stopped) says so by name. */
      depict_results_pane_show_error (self->results_pane,
                                      g_error_matches (error, IMAGE_ERROR, IMAGE_ERROR_CORRUPT)
                                        ? _ ("This Photo Is Incomplete or Damaged")
                                        : _ ("This Photo Cannot Be Opened"),
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

void
_depict_window_show_item (DepictWindow *self, DepictQueueItem *item)
{
  if (self->current == item && item != NULL)
    return;
  g_set_object (&self->current, item);

  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_handle_id (&self->stale_photo_timeout, g_source_remove);

  if (item == NULL)
    {
      depict_image_view_set_texture (self->image_view, NULL);
      _depict_window_show_answer (self, NULL);
      _depict_window_batch_update_photo_page (self);
      _depict_window_update_empty_page (self);
      gtk_window_set_title (GTK_WINDOW (self), _ ("Depict"));
      _depict_window_update_actions (self);
      return;
    }

  gtk_stack_set_visible_child_name (self->photo_stack, "photo");
  _depict_window_batch_update_photo_page (self);
  gtk_window_set_title (GTK_WINDOW (self), depict_queue_item_get_title (item));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->image_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  depict_queue_item_get_title (item), -1);
  self->load_cancellable = g_cancellable_new ();
  depict_image_loader_load_async (depict_queue_item_get_file (item), 0, self->load_cancellable,
                                  photo_loaded_cb, g_object_ref (self));
  self->stale_photo_timeout = g_timeout_add (150, stale_photo_cb, self);

  _depict_window_show_current (self);
  /* Answers kept in the gallery come back, however the photo was opened. */
  _depict_window_load_stored_answers (self, item, DEPICT_STORED_ANSWERS_ONCE);
  _depict_window_update_actions (self);
}

static void
selection_changed_cb (GtkSingleSelection *selection, GParamSpec *pspec, DepictWindow *self)
{
  _depict_window_show_item (self, gtk_single_selection_get_selected_item (selection));
}

/* ---------------------------------------------------------------------------------------- */
/* Adding photos                                                                            */

DepictQueueItem *
_depict_window_find_item (DepictWindow *self, GFile *file, guint *position)
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
void
_depict_window_add_photos (DepictWindow *self, GFile **files, guint n_files)
{
  guint first = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; i < n_files; i++)
    {
      guint position;

      if (_depict_window_find_item (self, files[i], &position) == NULL)
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
      _depict_window_show_item (self,
                                gtk_single_selection_get_selected_item (self->queue_selection));
    }
  /* The list is worth showing once there is more than one photo: once the window has its
   * size (AdwFlap 1.2 miscomputes a reveal started before its first allocation). */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->queue)) > 1 && self->reveal_idle == 0 &&
      !adw_flap_get_reveal_flap (self->flap))
    self->reveal_idle = g_timeout_add (100, reveal_queue_cb, self);
  adw_view_stack_set_visible_child_name (self->main_stack, "photo");
  _depict_window_update_actions (self);
}

void
_depict_window_queue_init (DepictWindow *self)
{
  GtkListItemFactory *factory;

  self->queue = g_list_store_new (DEPICT_TYPE_QUEUE_ITEM);
  self->queue_selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->queue)));
  gtk_single_selection_set_autoselect (self->queue_selection, TRUE);
  g_signal_connect (self->queue_selection, "notify::selected-item",
                    G_CALLBACK (selection_changed_cb), self);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), self);
  gtk_list_view_set_factory (self->queue_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->queue_list, GTK_SELECTION_MODEL (self->queue_selection));
}

void
_depict_window_queue_dispose (DepictWindow *self)
{
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_handle_id (&self->reveal_idle, g_source_remove);
  g_clear_handle_id (&self->stale_photo_timeout, g_source_remove);
  if (self->queue_selection != NULL)
    g_signal_handlers_disconnect_by_data (self->queue_selection, self);
  g_clear_object (&self->queue_selection);
  g_clear_object (&self->queue);
  g_clear_object (&self->current);
  g_clear_object (&self->load_cancellable);
}

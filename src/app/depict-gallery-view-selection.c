/* depict-gallery-view-selection.c: the Gallery page's selection mode
 *
 * The Select button (or a right click, or a long press on a photo) selects photos. Remove
 * from Gallery takes them out of the grid at once and out of the gallery when the toast's
 * Undo runs out: removing is reversible and never touches the files, so it is undone rather
 * than confirmed, as the HIG asks. Edit Tags opens depict-gallery-tags.c on one photo.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-gallery-view"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-gallery-tags.h"
#include "depict-gallery-view-private.h"
#include "depict-queue-item.h"

/* ---------------------------------------------------------------------------------------- */
/* Cells                                                                                    */

/* The cell's check box (shown in selection mode) selects its photo alongside the others. */
static void
cell_check_toggled_cb (GtkCheckButton *check, GtkListItem *list_item)
{
  GtkWidget *grid = gtk_widget_get_ancestor (GTK_WIDGET (check), GTK_TYPE_GRID_VIEW);
  GtkSelectionModel *model = grid != NULL ? gtk_grid_view_get_model (GTK_GRID_VIEW (grid)) : NULL;
  guint position = gtk_list_item_get_position (list_item);
  gboolean active = gtk_check_button_get_active (check);

  if (!GTK_IS_MULTI_SELECTION (model) || position == GTK_INVALID_LIST_POSITION ||
      active == gtk_list_item_get_selected (list_item))
    return;
  if (active)
    gtk_selection_model_select_item (model, position, FALSE);
  else
    gtk_selection_model_unselect_item (model, position);
}

static void
cell_selected_cb (GtkListItem *list_item, GParamSpec *pspec, GtkCheckButton *check)
{
  gtk_check_button_set_active (check, gtk_list_item_get_selected (list_item));
}

/* A right click (or a long press) on a photo starts selection mode with it selected. */
static void
cell_select_start (GtkListItem *list_item)
{
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *view = box != NULL ? gtk_widget_get_ancestor (box, DEPICT_TYPE_GALLERY_VIEW) : NULL;
  guint position = gtk_list_item_get_position (list_item);

  if (view == NULL || position == GTK_INVALID_LIST_POSITION)
    return;
  if (!depict_gallery_view_get_selection_mode (DEPICT_GALLERY_VIEW (view)))
    gtk_widget_activate_action (view, "gallery.select", NULL);
  gtk_selection_model_select_item (depict_gallery_view_get_selection (DEPICT_GALLERY_VIEW (view)),
                                   position, FALSE);
}

static void
cell_secondary_cb (GtkGestureClick *gesture, int n_press, double x, double y,
                   GtkListItem *list_item)
{
  cell_select_start (list_item);
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

void
_depict_gallery_view_setup_cell_selection (GtkListItem *list_item, GtkWidget *box, GtkWidget *check)
{
  GtkGesture *secondary = gtk_gesture_click_new ();
  GtkGesture *long_press = gtk_gesture_long_press_new ();

  g_signal_connect (check, "toggled", G_CALLBACK (cell_check_toggled_cb), list_item);
  g_signal_connect (list_item, "notify::selected", G_CALLBACK (cell_selected_cb), check);
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (secondary), GDK_BUTTON_SECONDARY);
  g_signal_connect (secondary, "pressed", G_CALLBACK (cell_secondary_cb), list_item);
  gtk_widget_add_controller (box, GTK_EVENT_CONTROLLER (secondary));
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (long_press), TRUE);
  g_signal_connect_swapped (long_press, "pressed", G_CALLBACK (cell_select_start), list_item);
  gtk_widget_add_controller (box, GTK_EVENT_CONTROLLER (long_press));
}

/* ---------------------------------------------------------------------------------------- */
/* Selection, removing, tags                                                                */

gboolean
_depict_gallery_view_is_removing (DepictGalleryView *self, gint64 image_id)
{
  for (guint i = 0; i < self->removing->len; i++)
    if (g_array_index (self->removing, gint64, i) == image_id)
      return TRUE;
  return FALSE;
}

gboolean
_depict_gallery_view_selecting (DepictGalleryView *self)
{
  return gtk_grid_view_get_model (self->grid_view) == GTK_SELECTION_MODEL (self->selection);
}

/* The image ids of the selected photos. */
static GArray *
selected_ids (DepictGalleryView *self)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GtkBitset) set = NULL;
  GtkBitsetIter iter;
  guint position;

  if (!_depict_gallery_view_selecting (self))
    return ids;
  set = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  for (gboolean more = gtk_bitset_iter_init_first (&iter, set, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr (DepictQueueItem) item =
        g_list_model_get_item (G_LIST_MODEL (self->model), position);
      gint64 *image_id = item != NULL ? g_object_get_data (G_OBJECT (item), "image-id64") : NULL;

      if (image_id != NULL)
        g_array_append_val (ids, *image_id);
    }
  return ids;
}

void
_depict_gallery_view_update_selection (DepictGalleryView *self)
{
  g_autoptr (GArray) ids = selected_ids (self);
  g_autofree char *text = NULL;

  if (ids->len == 0)
    text = g_strdup (_ ("Select photos"));
  else
    /* Translators: how many photos of the gallery are selected */
    text =
      g_strdup_printf (ngettext ("%u photo selected", "%u photos selected", ids->len), ids->len);
  gtk_label_set_label (self->selection_label, text);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.remove", ids->len > 0);
  /* Escape leaves selection mode; outside it, it is the window's (cancelling a run). */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.cancel-selection",
                                 _depict_gallery_view_selecting (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.edit-tags", ids->len == 1);
}

static void
selection_changed_cb (GtkSelectionModel *model, guint position, guint n_items,
                      DepictGalleryView *self)
{
  _depict_gallery_view_update_selection (self);
}

void
_depict_gallery_view_set_selecting (DepictGalleryView *self, gboolean on)
{
  if (on == _depict_gallery_view_selecting (self))
    return;
  gtk_selection_model_unselect_all (GTK_SELECTION_MODEL (self->selection));
  /* A click selects in selection mode, and opens the photo outside it. */
  gtk_grid_view_set_single_click_activate (self->grid_view, !on);
  if (on)
    gtk_grid_view_set_model (self->grid_view, GTK_SELECTION_MODEL (self->selection));
  else
    gtk_grid_view_set_model (self->grid_view, GTK_SELECTION_MODEL (gtk_no_selection_new (
                                                g_object_ref (G_LIST_MODEL (self->model)))));
  gtk_toggle_button_set_active (self->select_button, on);
  gtk_revealer_set_reveal_child (self->selection_revealer, on);
  _depict_gallery_view_update_selection (self);
}

static void
select_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (widget);

  _depict_gallery_view_set_selecting (self, !_depict_gallery_view_selecting (self));
}

static void
cancel_selection_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  _depict_gallery_view_set_selecting (DEPICT_GALLERY_VIEW (widget), FALSE);
}

static void
removal_undo_cb (AdwToast *toast, DepictGalleryView *self)
{
  g_array_set_size (self->removing, 0);
  depict_gallery_view_reload (self);
}

static void
removal_dismissed_cb (AdwToast *toast, DepictGalleryView *self)
{
  if (self->removal_toast == toast)
    g_clear_object (&self->removal_toast);
  depict_gallery_view_forget_removed (self);
}

/* The photos IDS leave the grid at once, and the gallery when their Undo runs out. */
static void
remove_photos (DepictGalleryView *self, GArray *ids)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  g_autofree char *title = NULL;
  guint n = ids->len;

  /* One Undo at a time: what the last one covered goes now. */
  if (self->removal_toast != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->removal_toast, self);
      adw_toast_dismiss (self->removal_toast);
      g_clear_object (&self->removal_toast);
    }
  depict_gallery_view_forget_removed (self);
  g_array_append_vals (self->removing, ids->data, ids->len);
  _depict_gallery_view_set_selecting (self, FALSE);
  for (guint i = g_list_model_get_n_items (G_LIST_MODEL (self->model)); i > 0; i--)
    {
      g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->model), i - 1);
      gint64 *image_id = g_object_get_data (G_OBJECT (item), "image-id64");

      if (image_id != NULL && _depict_gallery_view_is_removing (self, *image_id))
        g_list_store_remove (self->model, i - 1);
    }
  if (g_list_model_get_n_items (G_LIST_MODEL (self->model)) == 0)
    _depict_gallery_view_refresh (self, FALSE);
  if (overlay == NULL)
    {
      depict_gallery_view_forget_removed (self);
      return;
    }
  /* Translators: a toast with an Undo button; the photos' files are not touched */
  title = g_strdup_printf (
    ngettext ("Removed %u photo from the gallery", "Removed %u photos from the gallery", n), n);
  self->removal_toast = adw_toast_new (title);
  g_object_ref (self->removal_toast);
  adw_toast_set_button_label (self->removal_toast, _ ("_Undo"));
  adw_toast_set_priority (self->removal_toast, ADW_TOAST_PRIORITY_HIGH);
  g_signal_connect_object (self->removal_toast, "button-clicked", G_CALLBACK (removal_undo_cb),
                           self, 0);
  g_signal_connect_object (self->removal_toast, "dismissed", G_CALLBACK (removal_dismissed_cb),
                           self, 0);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), self->removal_toast);
}

static void
remove_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (widget);
  g_autoptr (GArray) ids = selected_ids (self);

  if (ids->len > 0)
    remove_photos (self, ids);
}

static void
tags_closed_cb (GtkWindow *window, DepictGalleryView *self)
{
  depict_gallery_view_reload (self);
}

static void
edit_tags_action_cb (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (widget);
  g_autoptr (GArray) ids = selected_ids (self);
  DepictGalleryTags *dialog;

  if (ids->len != 1 || self->session == NULL)
    return;
  dialog = depict_gallery_tags_new (GTK_WINDOW (gtk_widget_get_root (widget)), self->session,
                                    g_array_index (ids, gint64, 0));
  g_signal_connect_object (dialog, "destroy", G_CALLBACK (tags_closed_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
_depict_gallery_view_selection_init (DepictGalleryView *self)
{
  self->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->model)));
  g_signal_connect (self->selection, "selection-changed", G_CALLBACK (selection_changed_cb), self);
  self->removing = g_array_new (FALSE, FALSE, sizeof (gint64));
  _depict_gallery_view_update_selection (self);
}

void
_depict_gallery_view_selection_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "gallery.select", NULL, select_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.cancel-selection", NULL,
                                   cancel_selection_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.remove", NULL, remove_action_cb);
  gtk_widget_class_install_action (widget_class, "gallery.edit-tags", NULL, edit_tags_action_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "gallery.remove", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "gallery.cancel-selection",
                                       NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                               */

/* Removes the photos with image ids IDS (N_IDS of them) from the grid at once, and from the
 * gallery when the Undo of the toast it shows runs out (or at depict_gallery_view_forget_removed).
 */
void
depict_gallery_view_remove (DepictGalleryView *self, const gint64 *ids, guint n_ids)
{
  g_autoptr (GArray) array = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));
  g_array_append_vals (array, ids, n_ids);
  if (n_ids > 0)
    remove_photos (self, array);
}

/* The photos removed whose Undo has not run out leave the gallery now. */
void
depict_gallery_view_forget_removed (DepictGalleryView *self)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store;

  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));

  if (self->removing->len == 0 || self->session == NULL)
    return;
  store = depict_session_get_store (self->session, &error);
  if (store == NULL ||
      !gallery_store_forget_images (store, (const gint64 *) (gpointer) self->removing->data,
                                    self->removing->len, NULL, &error))
    {
      g_autofree char *message = g_strdup_printf (
        /* Translators: removing photos from the gallery failed; the reason follows */
        _ ("The photos could not be removed from the gallery: %s"), error->message);

      _depict_gallery_view_toast (self, message);
    }
  g_array_set_size (self->removing, 0);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    depict_gallery_view_reload (self);
}

gboolean
depict_gallery_view_get_selection_mode (DepictGalleryView *self)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), FALSE);
  return _depict_gallery_view_selecting (self);
}

/* The grid's selection in selection mode (over depict_gallery_view_get_model()). */
GtkSelectionModel *
depict_gallery_view_get_selection (DepictGalleryView *self)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), NULL);
  return GTK_SELECTION_MODEL (self->selection);
}

/* The toast that offers to undo the last removal, while it does; NULL otherwise. */
AdwToast *
depict_gallery_view_get_removal_toast (DepictGalleryView *self)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), NULL);
  return self->removal_toast;
}

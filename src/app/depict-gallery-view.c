/* depict-gallery-view.c
 *
 * Everything processed, as a grid of thumbnails (loaded in worker threads when their cell
 * is bound), searched with the gallery's full-text index over captions, OCR text and tags,
 * filtered by tag, read through the session's one gallery connection; and the session's
 * batch (tagging a folder, Run on All Photos) with a determinate progress bar, pause (stop
 * now, resume later: finished photos are skipped) and cancel. Selection mode (removing
 * photos, editing tags) is depict-gallery-view-selection.c. Nothing moves under the pointer:
 * while it is over the view, new answers wait to be shown and the batch's card stays.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-gallery-view"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "depict-gallery-view-private.h"
#include "depict-queue-item.h"
#include "gallery/gallery-search.h"

#define SEARCH_LIMIT 1000
#define TAG_SCAN_LIMIT 2000
#define THUMBNAIL_CACHE_SIZE 3000
/* Every cell is as wide as its thumbnail, whatever its caption. */
#define CELL_WIDTH 160

G_DEFINE_FINAL_TYPE (DepictGalleryView, depict_gallery_view, GTK_TYPE_WIDGET)

enum { SIGNAL_IMAGE_ACTIVATED, SIGNAL_TOAST, N_SIGNALS };

static guint signals[N_SIGNALS];

void
_depict_gallery_view_toast (DepictGalleryView *self, const char *message)
{
  g_signal_emit (self, signals[SIGNAL_TOAST], 0, message);
}

/* ---------------------------------------------------------------------------------------- */
/* Grid cells                                                                               */

/* The cell's caption is cut after two lines: its tooltip has the name and all of it,
 * wrapped (a plain text tooltip would run across the screen). */
static gboolean
cell_query_tooltip_cb (GtkWidget *box, int x, int y, gboolean keyboard_mode, GtkTooltip *tooltip,
                       gpointer user_data)
{
  const char *text = g_object_get_data (G_OBJECT (box), "tooltip");
  GtkWidget *label;

  if (text == NULL)
    return FALSE;
  label = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 50);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_tooltip_set_custom (tooltip, label);
  return TRUE;
}

static void
setup_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *picture = gtk_image_new ();
  GtkWidget *check = gtk_check_button_new ();
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_add_css_class (box, "gallery-cell");
  gtk_widget_add_css_class (frame, "gallery-thumbnail");
  /* Uniform cells: every thumbnail fits the same square, and the caption wraps and is cut
   * within its width (a label asks for one character, then fills what the cell has). */
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), CELL_WIDTH);
  adw_clamp_set_tightening_threshold (ADW_CLAMP (clamp), CELL_WIDTH);
  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_widget_set_size_request (box, CELL_WIDTH, -1);
  gtk_image_set_pixel_size (GTK_IMAGE (picture), CELL_WIDTH);
  gtk_box_append (GTK_BOX (frame), picture);
  gtk_overlay_set_child (GTK_OVERLAY (overlay), frame);
  gtk_widget_set_halign (check, GTK_ALIGN_END);
  gtk_widget_set_valign (check, GTK_ALIGN_START);
  gtk_widget_add_css_class (check, "selection-mode");
  gtk_widget_add_css_class (check, "gallery-check");
  gtk_widget_set_visible (check, FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), check);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_lines (GTK_LABEL (label), 2);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 1);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), overlay);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_has_tooltip (box, TRUE);
  g_signal_connect (box, "query-tooltip", G_CALLBACK (cell_query_tooltip_cb), NULL);
  _depict_gallery_view_setup_cell_selection (list_item, box, check);
  g_object_set_data (G_OBJECT (box), "picture", picture);
  g_object_set_data (G_OBJECT (box), "check", check);
  g_object_set_data (G_OBJECT (box), "label", label);
  gtk_list_item_set_child (list_item, clamp);
}

static void
remember_thumbnail_cb (DepictQueueItem *item, GParamSpec *pspec, DepictGalleryView *self)
{
  g_autofree char *path = g_file_get_path (depict_queue_item_get_file (item));
  GdkTexture *texture = depict_queue_item_get_thumbnail (item);

  if (path == NULL || texture == NULL)
    return;
  /* Bounded: a huge library scrolled end to end does not keep every thumbnail. */
  if (g_hash_table_size (self->thumbnails) >= THUMBNAIL_CACHE_SIZE)
    g_hash_table_remove_all (self->thumbnails);
  g_hash_table_replace (self->thumbnails, g_steal_pointer (&path), g_object_ref (texture));
}

static void
thumbnail_changed_cb (DepictQueueItem *item, GParamSpec *pspec, GtkImage *picture)
{
  if (depict_queue_item_get_thumbnail (item) != NULL)
    gtk_image_set_from_paintable (picture, GDK_PAINTABLE (depict_queue_item_get_thumbnail (item)));
  else
    gtk_image_set_from_icon_name (picture, "image-x-generic-symbolic");
}

static void
bind_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  DepictQueueItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = adw_clamp_get_child (ADW_CLAMP (gtk_list_item_get_child (list_item)));
  GtkWidget *picture = g_object_get_data (G_OBJECT (box), "picture");
  GtkWidget *label = g_object_get_data (G_OBJECT (box), "label");
  GtkWidget *check = g_object_get_data (G_OBJECT (box), "check");
  DepictGalleryView *self = user_data;
  const char *summary = depict_queue_item_get_summary (item);

  gtk_widget_set_visible (check, gtk_grid_view_get_model (self->grid_view) ==
                                   GTK_SELECTION_MODEL (self->selection));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), gtk_list_item_get_selected (list_item));

  gtk_label_set_label (GTK_LABEL (label), summary != NULL && summary[0] != '\0'
                                            ? summary
                                            : depict_queue_item_get_title (item));
  if (summary != NULL && summary[0] != '\0')
    {
      /* At most a few lines of it. */
      glong n = g_utf8_strlen (summary, -1);
      g_autofree char *start = g_utf8_substring (summary, 0, MIN (n, 280));

      g_object_set_data_full (
        G_OBJECT (box), "tooltip",
        g_strdup_printf ("%s\n%s%s", depict_queue_item_get_title (item), start, n > 280 ? "…" : ""),
        g_free);
    }
  else
    g_object_set_data_full (G_OBJECT (box), "tooltip",
                            g_strdup (depict_queue_item_get_title (item)), g_free);
  thumbnail_changed_cb (item, NULL, GTK_IMAGE (picture));
  g_signal_connect_object (item, "notify::thumbnail", G_CALLBACK (thumbnail_changed_cb), picture,
                           0);
  /* Lazy: only cells that are shown ask for their thumbnail. */
  depict_queue_item_load_thumbnail (item);
}

static void
unbind_cell_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  DepictQueueItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = adw_clamp_get_child (ADW_CLAMP (gtk_list_item_get_child (list_item)));
  GtkWidget *picture = g_object_get_data (G_OBJECT (box), "picture");

  g_signal_handlers_disconnect_by_func (item, thumbnail_changed_cb, picture);
}

/* ---------------------------------------------------------------------------------------- */
/* Store and search                                                                         */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_utf8_collate (*(const char **) a, *(const char **) b);
}

static void
update_tags (DepictGalleryView *self, GalleryStore *store)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const char *selected = NULL;
  g_autofree char *keep = NULL;
  guint position = 0;

  if (gtk_drop_down_get_selected (self->tag_dropdown) > 0)
    {
      selected =
        gtk_string_list_get_string (self->tags, gtk_drop_down_get_selected (self->tag_dropdown));
      keep = g_strdup (selected);
    }

  images = gallery_store_list_images (store, NULL, NULL);
  for (guint i = 0; images != NULL && i < images->len && i < TAG_SCAN_LIMIT; i++)
    {
      GalleryImage *image = g_ptr_array_index (images, i);
      g_autoptr (GPtrArray) tags = gallery_store_list_tags (store, image->id, FALSE, NULL);

      for (guint j = 0; tags != NULL && j < tags->len; j++)
        {
          GalleryTag *tag = g_ptr_array_index (tags, j);

          if (!g_hash_table_contains (seen, tag->name))
            g_hash_table_add (seen, g_strdup (tag->name));
        }
    }
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, seen);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (names, key);
  }
  g_ptr_array_sort (names, compare_names);

  self->updating_tags = TRUE;
  gtk_string_list_splice (self->tags, 1, g_list_model_get_n_items (G_LIST_MODEL (self->tags)) - 1,
                          NULL);
  for (guint i = 0; i < names->len; i++)
    {
      gtk_string_list_append (self->tags, g_ptr_array_index (names, i));
      if (keep != NULL && g_str_equal (keep, g_ptr_array_index (names, i)))
        position = i + 1;
    }
  gtk_drop_down_set_selected (self->tag_dropdown, position);
  gtk_widget_set_visible (GTK_WIDGET (self->tag_dropdown), names->len > 0);
  self->updating_tags = FALSE;
}

static void
show_error (DepictGalleryView *self, const GError *error)
{
  adw_status_page_set_description (self->error_page, error->message);
  /* A damaged file, or no gallery at all, can be moved aside; a newer Depict's, or one
   * that is busy or read-only, is no reason to start again. */
  gboolean start_new =
    g_error_matches (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT) ||
    g_error_matches (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_A_DATABASE);

  gtk_widget_set_visible (self->start_new_button, start_new);
  /* What helps is the suggested action: trying a damaged file again does not. */
  if (start_new)
    {
      gtk_widget_add_css_class (self->start_new_button, "suggested-action");
      gtk_widget_remove_css_class (self->retry_button, "suggested-action");
    }
  else
    {
      gtk_widget_remove_css_class (self->start_new_button, "suggested-action");
      gtk_widget_add_css_class (self->retry_button, "suggested-action");
    }
  _depict_gallery_view_set_selecting (self, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.select", FALSE);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static void
retry_clicked_cb (GtkButton *button, DepictGalleryView *self)
{
  depict_gallery_view_reload (self);
}

/* The damaged gallery file (and its write-ahead log, which belongs to it) is renamed
 * "gallery.db.damaged-DATE", kept for a backup or a rescue; then an empty gallery starts.
 * The process's connection to it is closed first. */
static void
start_new_clicked_cb (GtkButton *button, DepictGalleryView *self)
{
  g_autofree char *path = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autoptr (GError) error = NULL;
  const char *const suffixes[] = { "", "-wal", "-shm" };

  if (self->session == NULL)
    return;
  /* A gallery damaged past its opening is open: only SQLite closes it, before the move. */
  if (!depict_session_close_store (self->session))
    {
      g_signal_emit (self, signals[SIGNAL_TOAST], 0,
                     _ ("The gallery is in use by a run or a batch. Stop it, then try again."));
      return;
    }
  path = depict_session_dup_gallery_path (self->session);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (path, suffixes[i], NULL);
      g_autofree char *to = g_strdup_printf ("%s.damaged-%s%s", path, stamp, suffixes[i]);
      g_autoptr (GFile) source = g_file_new_for_path (from);
      g_autoptr (GFile) target = g_file_new_for_path (to);

      if (!g_file_query_exists (source, NULL))
        continue;
      if (!g_file_move (source, target, G_FILE_COPY_NOFOLLOW_SYMLINKS, NULL, NULL, NULL, &error))
        {
          g_autofree char *message = g_strdup_printf (
            /* Translators: the damaged gallery could not be moved aside; the error follows */
            _ ("The damaged gallery could not be moved aside: %s. Move it away in the file "
               "manager, then try again."),
            error->message);

          g_signal_emit (self, signals[SIGNAL_TOAST], 0, message);
          return;
        }
    }
  {
    g_autofree char *base = g_path_get_basename (path);
    g_autofree char *message =
      /* Translators: %s is the file name the damaged gallery was given */
      g_strdup_printf (_ ("A new gallery was started. The damaged one is kept as “%s.damaged-%s”."),
                       base, stamp);

    g_signal_emit (self, signals[SIGNAL_TOAST], 0, message);
  }
  depict_gallery_view_reload (self);
}

/* The folder of the gallery file, in the file manager. */
static void
folder_clicked_cb (GtkButton *button, DepictGalleryView *self)
{
  g_autofree char *path = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFile) folder = NULL;
  g_autofree char *uri = NULL;

  if (self->session == NULL)
    return;
  path = depict_session_dup_gallery_path (self->session);
  file = g_file_new_for_path (path);
  folder = g_file_get_parent (file);
  uri = g_file_get_uri (folder != NULL ? folder : file);
  gtk_show_uri (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), uri, GDK_CURRENT_TIME);
}

static void
run_search (DepictGalleryView *self, GalleryStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) hits = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  GalleryQuery query = { 0 };
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  guint tag_pos = gtk_drop_down_get_selected (self->tag_dropdown);

  query.text = text[0] != '\0' ? text : NULL;
  query.tag = tag_pos > 0 && tag_pos != GTK_INVALID_LIST_POSITION
                ? gtk_string_list_get_string (self->tags, tag_pos)
                : NULL;
  query.prefix_last = TRUE;
  query.limit = SEARCH_LIMIT;
  hits = gallery_search_run (store, &query, &error);
  if (hits == NULL)
    {
      show_error (self, error);
      return;
    }

  for (guint i = 0; i < hits->len; i++)
    {
      GalleryHit *hit = g_ptr_array_index (hits, i);
      g_autoptr (GFile) file = NULL;
      DepictQueueItem *item;

      if (hit->path == NULL || _depict_gallery_view_is_removing (self, hit->image_id))
        continue;
      file = g_file_new_for_path (hit->path);
      item = depict_queue_item_new (file);
      depict_queue_item_set_summary (item, hit->caption);
      depict_queue_item_set_thumbnail (item, g_hash_table_lookup (self->thumbnails, hit->path));
      g_signal_connect_object (item, "notify::thumbnail", G_CALLBACK (remember_thumbnail_cb), self,
                               0);
      g_object_set_data_full (G_OBJECT (item), "image-id64",
                              g_memdup2 (&hit->image_id, sizeof (gint64)), g_free);
      g_ptr_array_add (items, item);
    }
  g_list_store_splice (self->model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->model)),
                       items->pdata, items->len);

  /* Selection mode is for photos: none, none to select. */
  if (items->len == 0)
    _depict_gallery_view_set_selecting (self, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.select", items->len > 0);
  if (items->len > 0)
    gtk_stack_set_visible_child_name (self->stack, "grid");
  else if (query.text == NULL && query.tag == NULL)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else
    gtk_stack_set_visible_child_name (self->stack, "no-results");
}

/* Searches (and with TAGS, lists the tags again) through the session's connection. */
void
_depict_gallery_view_refresh (DepictGalleryView *self, gboolean tags)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store;

  if (self->session == NULL)
    return;
  store = depict_session_get_store (self->session, &error);
  if (store == NULL)
    {
      show_error (self, error);
      return;
    }
  self->shown_generation = depict_session_get_store_generation (self->session);
  if (tags)
    update_tags (self, store);
  run_search (self, store);
}

static void
search_changed_cb (GtkSearchEntry *entry, DepictGalleryView *self)
{
  _depict_gallery_view_refresh (self, FALSE);
}

static void
search_activated_cb (GtkSearchEntry *entry, DepictGalleryView *self)
{
  /* Enter opens the best match. */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->model)) > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->grid_view), "list.activate-item", "u", 0);
}

/* Escape clears the search (back to the whole gallery). */
static void
search_stopped_cb (GtkSearchEntry *entry, DepictGalleryView *self)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
}

static void
tag_selected_cb (GtkDropDown *dropdown, GParamSpec *pspec, DepictGalleryView *self)
{
  if (!self->updating_tags)
    _depict_gallery_view_refresh (self, FALSE);
}

static void
grid_activated_cb (GtkGridView *grid, guint position, DepictGalleryView *self)
{
  g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->model), position);
  gint64 *image_id;

  if (item == NULL)
    return;
  /* In selection mode, Enter (or a double click) selects or unselects the photo. */
  if (_depict_gallery_view_selecting (self))
    {
      GtkSelectionModel *selection = GTK_SELECTION_MODEL (self->selection);

      if (gtk_selection_model_is_selected (selection, position))
        gtk_selection_model_unselect_item (selection, position);
      else
        gtk_selection_model_select_item (selection, position, FALSE);
      return;
    }
  image_id = g_object_get_data (G_OBJECT (item), "image-id64");
  g_signal_emit (self, signals[SIGNAL_IMAGE_ACTIVATED], 0, image_id != NULL ? *image_id : 0,
                 depict_queue_item_get_file (item));
}

/* ---------------------------------------------------------------------------------------- */
/* The session's batch                                                                      */

static void
update_batch (DepictGalleryView *self)
{
  DepictJob *job = self->batch;
  gboolean paused = self->session != NULL && depict_session_get_batch_paused (self->session);
  guint done, total;
  g_autofree char *text = NULL;
  g_autofree char *detail = NULL;

  /* The card goes when the batch ends, but not from under the pointer (the grid would move
   * up into a click aimed at Pause). */
  if (job != NULL || !self->pointer_inside)
    gtk_revealer_set_reveal_child (self->batch_revealer, job != NULL);
  if (job == NULL)
    return;
  done = depict_job_get_done (job);
  total = depict_job_get_total (job);
  gtk_label_set_label (self->batch_title, depict_job_get_title (job));
  /* Translators: batch progress, "132 of 1 020" photos */
  text = g_strdup_printf (_ ("%'u of %'u"), done, total);
  gtk_progress_bar_set_text (self->batch_progress, text);
  gtk_progress_bar_set_fraction (self->batch_progress, total > 0 ? (double) done / total : 0.0);

  if (paused && depict_job_get_finished (job))
    detail = g_strdup (_ ("Paused. Photos already tagged are kept."));
  else if (total == 0)
    detail = g_strdup (_ ("Looking for photos…"));
  else if (depict_job_get_current_file (job) != NULL)
    {
      g_autofree char *name = g_file_get_basename (depict_job_get_current_file (job));
      double left = depict_job_get_seconds_left (job);

      if (left >= 0)
        /* Translators: the photo being tagged, and the estimated time left in minutes */
        detail = g_strdup_printf (_ ("%s · about %.0f min left"), name, MAX (1.0, left / 60.0));
      else
        detail = g_steal_pointer (&name);
    }
  if (detail != NULL && depict_job_get_photos_per_hour (job) > 0 && !paused)
    {
      /* Translators: tagging speed, "340 photos/h" */
      g_autofree char *rate =
        g_strdup_printf (_ ("%.0f photos/h"), depict_job_get_photos_per_hour (job));
      g_autofree char *with_rate = g_strdup_printf ("%s · %s", detail, rate);

      g_free (detail);
      detail = g_steal_pointer (&with_rate);
    }
  if (detail != NULL)
    gtk_label_set_label (self->batch_detail, detail);

  gtk_button_set_icon_name (self->batch_pause_button, paused ? "media-playback-start-symbolic"
                                                             : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->batch_pause_button),
                               paused ? _ ("Resume") : _ ("Pause"));
}

static void
batch_changed_cb (GObject *object, GParamSpec *pspec, DepictGalleryView *self)
{
  update_batch (self);
}

static void
session_batch_cb (DepictSession *session, GParamSpec *pspec, DepictGalleryView *self)
{
  DepictJob *batch = depict_session_get_batch (session);

  if (self->batch != batch)
    {
      if (self->batch != NULL)
        g_signal_handlers_disconnect_by_data (self->batch, self);
      g_set_object (&self->batch, batch);
      if (batch != NULL)
        g_signal_connect_object (batch, "notify", G_CALLBACK (batch_changed_cb), self, 0);
    }
  update_batch (self);
}

/* Answers were stored: shown when the gallery is in view, else when it comes into view;
 * while the pointer is over it, when the pointer leaves (new photos come first in the grid
 * and would move every cell under it). */
static void
store_changed_cb (DepictSession *session, GParamSpec *pspec, DepictGalleryView *self)
{
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  if (self->pointer_inside)
    self->reload_waiting = TRUE;
  else
    depict_gallery_view_reload (self);
}

static void
pointer_enter_cb (GtkEventControllerMotion *motion, double x, double y, DepictGalleryView *self)
{
  self->pointer_inside = TRUE;
}

static void
pointer_leave_cb (GtkEventControllerMotion *motion, DepictGalleryView *self)
{
  self->pointer_inside = FALSE;
  update_batch (self);
  if (self->reload_waiting && gtk_widget_get_mapped (GTK_WIDGET (self)))
    depict_gallery_view_reload (self);
  self->reload_waiting = FALSE;
}

static void
batch_pause_clicked_cb (GtkButton *button, DepictGalleryView *self)
{
  g_autoptr (GError) error = NULL;

  if (self->session == NULL)
    return;
  if (!depict_session_get_batch_paused (self->session))
    depict_session_pause_batch (self->session);
  else if (depict_session_resume_batch (self->session, &error) == NULL)
    g_signal_emit (self, signals[SIGNAL_TOAST], 0, error->message);
}

static void
batch_cancel_clicked_cb (GtkButton *button, DepictGalleryView *self)
{
  if (self->session != NULL)
    depict_session_stop_batch (self->session);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject                                                                                  */

static void
depict_gallery_view_map (GtkWidget *widget)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (widget);

  GTK_WIDGET_CLASS (depict_gallery_view_parent_class)->map (widget);
  depict_gallery_view_reload (self);
}

static void
depict_gallery_view_dispose (GObject *object)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (object);

  if (self->batch != NULL)
    g_signal_handlers_disconnect_by_data (self->batch, self);
  if (self->removal_toast != NULL)
    g_signal_handlers_disconnect_by_data (self->removal_toast, self);
  g_clear_object (&self->removal_toast);
  /* Closing the window is no Undo. */
  if (self->removing != NULL)
    depict_gallery_view_forget_removed (self);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), DEPICT_TYPE_GALLERY_VIEW);
  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  g_clear_pointer (&self->removing, g_array_unref);
  g_clear_pointer (&self->thumbnails, g_hash_table_unref);
  g_clear_object (&self->tags);
  g_clear_object (&self->batch);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (depict_gallery_view_parent_class)->dispose (object);
}

static void
depict_gallery_view_class_init (DepictGalleryViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_gallery_view_dispose;
  widget_class->map = depict_gallery_view_map;

  /* image-activated (gint64 image_id, GFile *file): open this photo with its stored runs */
  signals[SIGNAL_IMAGE_ACTIVATED] =
    g_signal_new ("image-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_FILE);
  /* toast (const char *message) */
  signals[SIGNAL_TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/ui/depict-gallery-view.ui");
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, box);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, search_entry);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, tag_dropdown);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, batch_revealer);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, batch_title);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, batch_detail);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, batch_pause_button);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, batch_progress);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, stack);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, error_page);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, retry_button);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, folder_button);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, start_new_button);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, select_button);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, selection_revealer);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, selection_label);
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, grid_view);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_stopped_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, grid_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, batch_pause_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, batch_cancel_clicked_cb);

  _depict_gallery_view_selection_class_init (widget_class);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "depict-gallery-view");
}

static void
depict_gallery_view_init (DepictGalleryView *self)
{
  GtkListItemFactory *factory;
  const char *all_tags[] = { _ ("All Tags"), NULL };

  gtk_widget_init_template (GTK_WIDGET (self));

  self->model = g_list_store_new (DEPICT_TYPE_QUEUE_ITEM);
  self->thumbnails = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cell_cb), self);
  gtk_grid_view_set_factory (self->grid_view, factory);
  g_object_unref (factory);
  gtk_grid_view_set_model (self->grid_view, GTK_SELECTION_MODEL (gtk_no_selection_new (
                                              g_object_ref (G_LIST_MODEL (self->model)))));
  {
    GtkEventController *motion = gtk_event_controller_motion_new ();

    g_signal_connect (motion, "enter", G_CALLBACK (pointer_enter_cb), self);
    g_signal_connect (motion, "leave", G_CALLBACK (pointer_leave_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self), motion);
  }
  _depict_gallery_view_selection_init (self);

  self->tags = gtk_string_list_new (all_tags);
  gtk_drop_down_set_model (self->tag_dropdown, G_LIST_MODEL (self->tags));
  gtk_widget_set_visible (GTK_WIDGET (self->tag_dropdown), FALSE);
  g_signal_connect (self->tag_dropdown, "notify::selected", G_CALLBACK (tag_selected_cb), self);
  g_signal_connect (self->retry_button, "clicked", G_CALLBACK (retry_clicked_cb), self);
  g_signal_connect (self->folder_button, "clicked", G_CALLBACK (folder_clicked_cb), self);
  g_signal_connect (self->start_new_button, "clicked", G_CALLBACK (start_new_clicked_cb), self);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                               */

/* The view shows SESSION's gallery and batch (once, before it is shown). */
void
depict_gallery_view_set_session (DepictGalleryView *self, DepictSession *session)
{
  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));
  g_return_if_fail (DEPICT_IS_SESSION (session));
  g_return_if_fail (self->session == NULL);

  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::batch", G_CALLBACK (session_batch_cb), self, 0);
  g_signal_connect_object (session, "notify::batch-paused", G_CALLBACK (session_batch_cb), self, 0);
  g_signal_connect_object (session, "notify::store-generation", G_CALLBACK (store_changed_cb), self,
                           0);
  session_batch_cb (session, NULL, self);
}

void
depict_gallery_view_reload (DepictGalleryView *self)
{
  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));
  _depict_gallery_view_refresh (self, TRUE);
}

/* Searches as if TEXT had been typed and TAG chosen (NULL: all tags). */
void
depict_gallery_view_search (DepictGalleryView *self, const char *text, const char *tag)
{
  guint position = 0;

  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));

  depict_gallery_view_reload (self);
  for (guint i = 1; tag != NULL && i < g_list_model_get_n_items (G_LIST_MODEL (self->tags)); i++)
    if (g_str_equal (gtk_string_list_get_string (self->tags, i), tag))
      position = i;
  self->updating_tags = TRUE;
  gtk_drop_down_set_selected (self->tag_dropdown, position);
  self->updating_tags = FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text != NULL ? text : "");
  _depict_gallery_view_refresh (self, FALSE);
}

void
depict_gallery_view_focus_search (DepictGalleryView *self)
{
  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

GListModel *
depict_gallery_view_get_model (DepictGalleryView *self)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), NULL);
  return G_LIST_MODEL (self->model);
}

const char *
depict_gallery_view_get_page (DepictGalleryView *self)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

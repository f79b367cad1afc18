/* depict-gallery-view.c
 *
 * Everything processed, as a grid of thumbnails (loaded in worker threads when their cell
 * is bound), searched with the gallery's full-text index over captions, OCR text and tags,
 * filtered by tag; and batch tagging of a folder with a determinate progress bar, pause
 * (stop now, resume later: finished photos are skipped) and cancel.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-gallery-view"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "depict-application.h"
#include "depict-gallery-view.h"
#include "depict-inference.h"
#include "depict-queue-item.h"
#include "florence/files/florence-weights-hash.h"
#include "gallery/gallery-search.h"
#include "gallery/gallery-tagger.h"

#define SEARCH_LIMIT 1000
#define TAG_SCAN_LIMIT 2000
#define THUMBNAIL_CACHE_SIZE 3000

struct _DepictGalleryView {
  GtkWidget parent_instance;

  GtkWidget *box;
  GtkSearchEntry *search_entry;
  GtkDropDown *tag_dropdown;
  GtkRevealer *batch_revealer;
  GtkLabel *batch_title;
  GtkLabel *batch_detail;
  GtkButton *batch_pause_button;
  GtkProgressBar *batch_progress;
  GtkStack *stack;
  AdwStatusPage *error_page;
  GtkGridView *grid_view;

  GalleryStore *store;
  GListStore *model;
  GHashTable *thumbnails; /* path → GdkTexture: kept across searches */
  GtkStringList *tags;
  gboolean updating_tags;

  /* Batch tagging */
  GFile *batch_folder;
  GCancellable *batch_cancellable;
  gboolean batch_running;
  gboolean batch_paused;
};

G_DEFINE_FINAL_TYPE (DepictGalleryView, depict_gallery_view, GTK_TYPE_WIDGET)

enum { SIGNAL_IMAGE_ACTIVATED, SIGNAL_TOAST, N_SIGNALS };

static guint signals[N_SIGNALS];

enum { PROP_0, PROP_TAGGING, N_PROPS };

static GParamSpec *properties[N_PROPS];

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
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *picture = gtk_image_new ();
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_add_css_class (box, "gallery-cell");
  gtk_widget_add_css_class (frame, "gallery-thumbnail");
  /* Uniform cells: every thumbnail fits the same square. */
  gtk_image_set_pixel_size (GTK_IMAGE (picture), 160);
  gtk_box_append (GTK_BOX (frame), picture);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_lines (GTK_LABEL (label), 2);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 20);
  gtk_label_set_width_chars (GTK_LABEL (label), 20);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), frame);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_has_tooltip (box, TRUE);
  g_signal_connect (box, "query-tooltip", G_CALLBACK (cell_query_tooltip_cb), NULL);
  gtk_list_item_set_child (list_item, box);
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
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *picture = gtk_widget_get_first_child (gtk_widget_get_first_child (box));
  GtkWidget *label = gtk_widget_get_last_child (box);
  const char *summary = depict_queue_item_get_summary (item);

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
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *picture = gtk_widget_get_first_child (gtk_widget_get_first_child (box));

  g_signal_handlers_disconnect_by_func (item, thumbnail_changed_cb, picture);
}

/* ---------------------------------------------------------------------------------------- */
/* Store and search                                                                         */

GalleryStore *
depict_gallery_view_get_store (DepictGalleryView *self, GError **error)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), NULL);

  if (self->store == NULL)
    self->store = gallery_store_open (NULL, error);
  return self->store;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_utf8_collate (*(const char **) a, *(const char **) b);
}

static void
update_tags (DepictGalleryView *self)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const char *selected = NULL;
  g_autofree char *keep = NULL;
  guint position = 0;

  if (self->store == NULL)
    return;
  if (gtk_drop_down_get_selected (self->tag_dropdown) > 0)
    {
      selected =
        gtk_string_list_get_string (self->tags, gtk_drop_down_get_selected (self->tag_dropdown));
      keep = g_strdup (selected);
    }

  images = gallery_store_list_images (self->store, NULL, NULL);
  for (guint i = 0; images != NULL && i < images->len && i < TAG_SCAN_LIMIT; i++)
    {
      GalleryImage *image = g_ptr_array_index (images, i);
      g_autoptr (GPtrArray) tags = gallery_store_list_tags (self->store, image->id, FALSE, NULL);

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
run_search (DepictGalleryView *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) hits = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  GalleryQuery query = { 0 };
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  guint tag_pos = gtk_drop_down_get_selected (self->tag_dropdown);
  GalleryStore *store = depict_gallery_view_get_store (self, &error);

  if (store == NULL)
    {
      adw_status_page_set_description (self->error_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }

  query.text = text[0] != '\0' ? text : NULL;
  query.tag = tag_pos > 0 && tag_pos != GTK_INVALID_LIST_POSITION
                ? gtk_string_list_get_string (self->tags, tag_pos)
                : NULL;
  query.prefix_last = TRUE;
  query.limit = SEARCH_LIMIT;
  hits = gallery_search_run (store, &query, &error);
  if (hits == NULL)
    {
      adw_status_page_set_description (self->error_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }

  for (guint i = 0; i < hits->len; i++)
    {
      GalleryHit *hit = g_ptr_array_index (hits, i);
      g_autoptr (GFile) file = NULL;
      DepictQueueItem *item;

      if (hit->path == NULL)
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

  if (items->len > 0)
    gtk_stack_set_visible_child_name (self->stack, "grid");
  else if (query.text == NULL && query.tag == NULL)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else
    gtk_stack_set_visible_child_name (self->stack, "no-results");
}

static void
search_changed_cb (GtkSearchEntry *entry, DepictGalleryView *self)
{
  run_search (self);
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
    run_search (self);
}

static void
grid_activated_cb (GtkGridView *grid, guint position, DepictGalleryView *self)
{
  g_autoptr (DepictQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->model), position);
  gint64 *image_id;

  if (item == NULL)
    return;
  image_id = g_object_get_data (G_OBJECT (item), "image-id64");
  g_signal_emit (self, signals[SIGNAL_IMAGE_ACTIVATED], 0, image_id != NULL ? *image_id : 0,
                 depict_queue_item_get_file (item));
}

/* ---------------------------------------------------------------------------------------- */
/* Batch tagging                                                                            */

typedef struct {
  GWeakRef view;
  char *folder;
  DepictInferenceSettings *settings;
  char **tasks;
  GMainContext *context;
} BatchData;

static void
batch_data_free (BatchData *data)
{
  g_weak_ref_clear (&data->view);
  g_free (data->folder);
  depict_inference_settings_free (data->settings);
  g_strfreev (data->tasks);
  g_main_context_unref (data->context);
  g_free (data);
}

typedef struct {
  GWeakRef *view;
  GalleryTaggerProgress progress;
  char *path;
} ProgressUpdate;

static void
set_batch_progress (DepictGalleryView *self, guint done, guint total, const char *detail)
{
  g_autofree char *text = NULL;

  /* Translators: batch progress, "132 of 1 020" photos */
  text = g_strdup_printf (_ ("%'u of %'u"), done, total);
  gtk_progress_bar_set_text (self->batch_progress, text);
  gtk_progress_bar_set_fraction (self->batch_progress, total > 0 ? (double) done / total : 0.0);
  if (detail != NULL)
    gtk_label_set_label (self->batch_detail, detail);
}

static gboolean
progress_update_cb (gpointer user_data)
{
  ProgressUpdate *update = user_data;
  g_autoptr (DepictGalleryView) self = g_weak_ref_get (update->view);
  g_autofree char *detail = NULL;
  g_autofree char *name = NULL;

  if (self == NULL || !self->batch_running)
    return G_SOURCE_REMOVE;
  name = update->path != NULL ? g_path_get_basename (update->path) : NULL;
  if (update->progress.seconds_left >= 0 && name != NULL)
    /* Translators: the photo just finished, and the estimated time left in minutes */
    detail = g_strdup_printf (_ ("%s · about %.0f min left"), name,
                              MAX (1.0, update->progress.seconds_left / 60.0));
  else
    detail = g_strdup (name != NULL ? name : _ ("Starting…"));
  set_batch_progress (self, update->progress.done, update->progress.total, detail);
  return G_SOURCE_REMOVE;
}

static void
progress_update_free (gpointer data)
{
  ProgressUpdate *update = data;

  g_free (update->path);
  g_free (update);
}

/* Called in the tagging thread: hand a copy to the main context. */
static void
tagger_progress_cb (const GalleryTaggerProgress *progress, gpointer user_data)
{
  BatchData *data = user_data;
  ProgressUpdate *update = g_new0 (ProgressUpdate, 1);

  update->view = &data->view;
  update->progress = *progress;
  update->path = g_strdup (progress->current_path);
  update->progress.current_path = NULL;
  g_main_context_invoke_full (data->context, G_PRIORITY_DEFAULT, progress_update_cb, update,
                              progress_update_free);
}

static void
batch_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  BatchData *data = task_data;
  g_autoptr (GalleryStore) store = NULL;
  g_autofree char *weights_hash = NULL;
  GalleryTaggerOptions options = { 0 };
  GalleryTaggerSummary *summary = g_new0 (GalleryTaggerSummary, 1);
  const char *paths[] = { data->folder, NULL };
  GError *error = NULL;

  /* The tagger writes through its own connection; the grid reads through the view's. */
  store = gallery_store_open (NULL, &error);
  if (store == NULL)
    {
      g_free (summary);
      g_task_return_error (task, error);
      return;
    }

  /* Runs are known by the weights, so that depict-cli recognises them (cached on disk). */
  weights_hash = florence_weights_hash_for_dir (data->settings->model_dir, NULL, &error);
  if (weights_hash == NULL)
    {
      g_free (summary);
      g_task_return_error (task, error);
      return;
    }
  options.model_name = data->settings->model_name;
  options.weights_hash = weights_hash;
  options.num_beams = data->settings->num_beams;
  options.max_new_tokens = data->settings->max_new_tokens;
  options.tasks = (const char *const *) data->tasks;
  options.recursive = TRUE;
  options.run_func = depict_inference_gallery_run_func;
  options.run_data = data->settings;
  options.progress_func = tagger_progress_cb;
  options.progress_data = data;

  if (!gallery_tagger_run (store, &options, paths, summary, cancellable, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    summary->cancelled = TRUE;
  if (error != NULL && !summary->cancelled)
    {
      gallery_tagger_summary_clear (summary);
      g_free (summary);
      g_task_return_error (task, error);
      return;
    }
  g_clear_error (&error);
  g_task_return_pointer (task, summary, NULL);
}

static void
update_batch_buttons (DepictGalleryView *self)
{
  gtk_button_set_icon_name (self->batch_pause_button, self->batch_paused
                                                        ? "media-playback-start-symbolic"
                                                        : "media-playback-pause-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->batch_pause_button),
                               self->batch_paused ? _ ("Resume") : _ ("Pause"));
}

static void start_batch (DepictGalleryView *self);

static void
batch_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (source);
  g_autoptr (GError) error = NULL;
  GalleryTaggerSummary *summary = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *message = NULL;

  self->batch_running = FALSE;
  g_clear_object (&self->batch_cancellable);

  if (summary == NULL)
    {
      message = g_strdup_printf (_ ("Tagging stopped: %s"), error->message);
      self->batch_paused = FALSE;
    }
  else if (summary->cancelled && self->batch_paused)
    {
      gtk_label_set_label (self->batch_detail, _ ("Paused. Photos already tagged are kept."));
    }
  else if (summary->cancelled)
    {
      message = g_strdup (_ ("Tagging stopped. Start it again to go on where it stopped."));
    }
  else
    {
      /* Finished before a pause could take effect. */
      self->batch_paused = FALSE;
      if (summary->failed > 0)
        message = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "Tagged %u photos; %u could not be read",
                       "Tagged %u photos; %u could not be read", summary->processed),
          summary->processed, summary->failed);
      else
        message = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "Tagged %u photo", "Tagged %u photos", summary->processed),
          summary->processed);
    }

  if (!self->batch_paused)
    {
      gtk_revealer_set_reveal_child (self->batch_revealer, FALSE);
      g_clear_object (&self->batch_folder);
    }
  update_batch_buttons (self);
  if (summary != NULL)
    {
      gallery_tagger_summary_clear (summary);
      g_free (summary);
    }
  if (message != NULL)
    g_signal_emit (self, signals[SIGNAL_TOAST], 0, message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TAGGING]);
  depict_gallery_view_reload (self);
}

static void
start_batch (DepictGalleryView *self)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GSettings) gsettings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autoptr (GError) error = NULL;
  DepictInferenceSettings *settings;
  BatchData *data;
  g_autofree char *name = NULL;
  g_autofree char *title = NULL;

  settings = depict_inference_settings_from_gsettings (gsettings, &error);
  if (settings == NULL)
    {
      g_signal_emit (self, signals[SIGNAL_TOAST], 0, error->message);
      gtk_widget_activate_action (GTK_WIDGET (self), "app.models", NULL);
      return;
    }

  data = g_new0 (BatchData, 1);
  g_weak_ref_init (&data->view, self);
  data->folder = g_file_get_path (self->batch_folder);
  data->settings = settings;
  data->tasks = g_settings_get_strv (gsettings, "batch-tasks");
  data->context = g_main_context_ref_thread_default ();

  name = g_file_get_basename (self->batch_folder);
  /* Translators: %s is a folder name */
  title = g_strdup_printf (_ ("Tagging “%s”"), name);
  gtk_label_set_label (self->batch_title, title);
  if (!self->batch_paused)
    set_batch_progress (self, 0, 0, _ ("Looking for photos…"));
  self->batch_paused = FALSE;
  self->batch_running = TRUE;
  update_batch_buttons (self);
  gtk_revealer_set_reveal_child (self->batch_revealer, TRUE);

  self->batch_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->batch_cancellable, batch_done_cb, NULL);
  g_task_set_source_tag (task, start_batch);
  /* The summary of a stopped batch still comes back (how far it got). */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, data, (GDestroyNotify) batch_data_free);
  g_task_run_in_thread (task, batch_thread);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TAGGING]);
}

static void
batch_pause_clicked_cb (GtkButton *button, DepictGalleryView *self)
{
  if (self->batch_running)
    depict_gallery_view_pause_tagging (self);
  else
    depict_gallery_view_resume_tagging (self);
}

static void
batch_cancel_clicked_cb (GtkButton *button, DepictGalleryView *self)
{
  self->batch_paused = FALSE;
  if (self->batch_running)
    g_cancellable_cancel (self->batch_cancellable);
  else
    {
      gtk_revealer_set_reveal_child (self->batch_revealer, FALSE);
      g_clear_object (&self->batch_folder);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* GObject                                                                                  */

static void
depict_gallery_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (depict_gallery_view_parent_class)->map (widget);
  depict_gallery_view_reload (DEPICT_GALLERY_VIEW (widget));
}

static void
depict_gallery_view_dispose (GObject *object)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (object);

  if (self->batch_cancellable != NULL)
    g_cancellable_cancel (self->batch_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), DEPICT_TYPE_GALLERY_VIEW);
  g_clear_object (&self->model);
  g_clear_pointer (&self->thumbnails, g_hash_table_unref);
  g_clear_object (&self->tags);
  g_clear_object (&self->batch_folder);
  g_clear_object (&self->batch_cancellable);
  g_clear_pointer (&self->store, gallery_store_close);

  G_OBJECT_CLASS (depict_gallery_view_parent_class)->dispose (object);
}

static void
depict_gallery_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictGalleryView *self = DEPICT_GALLERY_VIEW (object);

  switch (prop_id)
    {
    case PROP_TAGGING:
      g_value_set_boolean (value, self->batch_running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_gallery_view_class_init (DepictGalleryViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_gallery_view_dispose;
  object_class->get_property = depict_gallery_view_get_property;
  widget_class->map = depict_gallery_view_map;

  properties[PROP_TAGGING] =
    g_param_spec_boolean ("tagging", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

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
  gtk_widget_class_bind_template_child (widget_class, DepictGalleryView, grid_view);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_stopped_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, grid_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, batch_pause_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, batch_cancel_clicked_cb);

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

  self->tags = gtk_string_list_new (all_tags);
  gtk_drop_down_set_model (self->tag_dropdown, G_LIST_MODEL (self->tags));
  gtk_widget_set_visible (GTK_WIDGET (self->tag_dropdown), FALSE);
  g_signal_connect (self->tag_dropdown, "notify::selected", G_CALLBACK (tag_selected_cb), self);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                               */

void
depict_gallery_view_reload (DepictGalleryView *self)
{
  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));

  if (depict_gallery_view_get_store (self, NULL) != NULL)
    update_tags (self);
  run_search (self);
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
  run_search (self);
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

void
depict_gallery_view_tag_folder (DepictGalleryView *self, GFile *folder)
{
  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));
  g_return_if_fail (G_IS_FILE (folder));

  if (self->batch_running)
    {
      g_signal_emit (self, signals[SIGNAL_TOAST], 0,
                     _ ("A folder is being tagged already. Wait for it or stop it first."));
      return;
    }
  g_set_object (&self->batch_folder, folder);
  self->batch_paused = FALSE;
  start_batch (self);
}

gboolean
depict_gallery_view_get_tagging (DepictGalleryView *self)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), FALSE);
  return self->batch_running;
}

/* Stops the batch after the run in progress; resuming skips what is done. */
void
depict_gallery_view_pause_tagging (DepictGalleryView *self)
{
  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));

  if (!self->batch_running)
    return;
  self->batch_paused = TRUE;
  g_cancellable_cancel (self->batch_cancellable);
  update_batch_buttons (self);
}

void
depict_gallery_view_resume_tagging (DepictGalleryView *self)
{
  g_return_if_fail (DEPICT_IS_GALLERY_VIEW (self));

  if (self->batch_running || self->batch_folder == NULL)
    return;
  start_batch (self);
}

gboolean
depict_gallery_view_get_paused (DepictGalleryView *self)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_VIEW (self), FALSE);
  return self->batch_paused && !self->batch_running;
}

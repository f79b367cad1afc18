/* test-app-gallery.c: the Gallery page: removing photos (with Undo), editing a photo's tags,
 * cells of one width, dates as a person reads them, nothing moving under the pointer, the
 * first visit after start-up, and starting again from a damaged gallery
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "app-test-util.h"
#include "depict-gallery-date.h"
#include "depict-gallery-tags.h"
#include "depict-application.h"
#include "depict-gallery-view.h"
#include "depict-queue-item.h"
#include "depict-window.h"
#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"
#include "gallery/gallery-store.h"

static const char *const photos[] = { "photo_640x480.png", "photo_1500x1000_q90.jpg",
                                      "palette_200x150.png", "rgba_300x200.png",
                                      "gray_320x200.png" };

typedef struct {
  char *dir;
  char *db;
  DepictSession *session;
  DepictWindow *window;
  DepictGalleryView *view;
  GtkWidget *view_grid;
} Fixture;

static GalleryRun *
make_run (const char *task, const char *json)
{
  g_autoptr (GError) error = NULL;
  GalleryRun *run = gallery_run_new ();

  run->task = g_strdup (task);
  run->result = json_from_string (json, &error);
  g_assert_no_error (error);
  run->model_name = g_strdup ("base");
  run->weights_hash = g_strdup ("0123abcd");
  run->raw_text = g_strdup ("");
  run->num_beams = 3;
  run->max_new_tokens = 1024;
  return run;
}

/* Adds fixture photo INDEX with a run of TASK whose result is JSON; returns its id. */
static gint64
add_photo (Fixture *f, guint index, const char *task, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = app_test_data_path ("preprocess", "images", photos[index], NULL);
  GalleryStore *store = depict_session_get_store (f->session, &error);
  g_autoptr (GalleryRun) run = make_run (task, json);
  gint64 id;

  g_assert_no_error (error);
  id = gallery_store_add_image (store, path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
  return id;
}

static gint64
add_caption (Fixture *f, guint index, const char *caption)
{
  g_autofree char *json = g_strdup_printf ("{\"<CAPTION>\": \"%s\"}", caption);

  return add_photo (f, index, "<CAPTION>", json);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);

  f->dir = g_dir_make_tmp ("depict-gallery-page-XXXXXX", NULL);
  f->db = g_build_filename (f->dir, "gallery.db", NULL);
  f->session = depict_session_new (settings, f->db);
}

static GtkWidget *
find_grid (GtkWidget *widget)
{
  if (GTK_IS_GRID_VIEW (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_grid (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
open_window (Fixture *f)
{
  f->window = depict_window_new_for_session (f->session);
  f->view = DEPICT_GALLERY_VIEW (depict_window_get_gallery_view (f->window));
  f->view_grid = find_grid (GTK_WIDGET (f->view));
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 700);
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (f->window != NULL)
    gtk_window_destroy (GTK_WINDOW (f->window));
  app_test_spin (20);
  g_clear_object (&f->session);
  g_free (f->db);
  g_free (f->dir); /* left for the system's temporary-file cleaning */
}

static gboolean
shows_grid (gpointer data)
{
  return g_strcmp0 (depict_gallery_view_get_page (data), "grid") == 0;
}

static guint
n_shown (Fixture *f)
{
  return g_list_model_get_n_items (depict_gallery_view_get_model (f->view));
}

static guint
n_stored (Fixture *f)
{
  g_autoptr (GPtrArray) images =
    gallery_store_list_images (depict_session_get_store (f->session, NULL), NULL, NULL);

  g_assert_nonnull (images);
  return images->len;
}

static void
show_gallery (Fixture *f)
{
  depict_window_show_gallery (f->window, FALSE);
  app_test_wait (shows_grid, f->view, 10000, "the gallery's grid");
}

static void
select_positions (Fixture *f, const guint *positions, guint n)
{
  GtkSelectionModel *selection = depict_gallery_view_get_selection (f->view);

  if (!depict_gallery_view_get_selection_mode (f->view))
    gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.select", NULL);
  g_assert_true (depict_gallery_view_get_selection_mode (f->view));
  for (guint i = 0; i < n; i++)
    gtk_selection_model_select_item (selection, positions[i], FALSE);
}

/* ------------------------------------------------------------------------------------------ */

static void
test_date (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_local (2027, 1, 10, 12, 0, 0);
  struct {
    int year, month, day, hour, minute;
    const char *expected;
  } cases[] = {
    { 2027, 1, 10, 10, 31, "Today, 10:31" },     { 2027, 1, 9, 18, 2, "Yesterday, 18:02" },
    { 2027, 1, 6, 9, 15, "Wednesday, 09:15" },   { 2026, 12, 7, 10, 31, "7 December 2026" },
    { 2020, 2, 29, 23, 59, "29 February 2020" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GDateTime) when = g_date_time_new_local (
        cases[i].year, cases[i].month, cases[i].day, cases[i].hour, cases[i].minute, 0);
      g_autofree char *text = depict_gallery_date_format (g_date_time_to_unix (when), now);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
answers_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;

  *(GPtrArray **) data =
    depict_session_load_answers_finish (DEPICT_SESSION (source), result, &error);
  g_assert_no_error (error);
}

static gboolean
answers_loaded (gpointer data)
{
  return *(GPtrArray **) data != NULL;
}

/* A stored answer says when it was made as a person reads it, never as "12/07/26". */
static void
test_stored_answer_date (Fixture *f, gconstpointer data)
{
  g_autofree char *path = app_test_data_path ("preprocess", "images", photos[0], NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GPtrArray) answers = NULL;
  DepictAnswer *answer;

  add_caption (f, 0, "A red square.");
  depict_session_load_answers_async (f->session, file, NULL, answers_cb, &answers);
  app_test_wait (answers_loaded, &answers, 10000, "the stored answers");
  g_assert_cmpuint (answers->len, ==, 1);
  answer = g_ptr_array_index (answers, 0);
  g_assert_true (g_str_has_prefix (answer->info, "Stored Today, "));
  g_assert_null (strchr (answer->info, '/'));
}

/* Photos leave the grid at once and the gallery when their Undo runs out; Undo brings them
 * back; their files are never touched. */
static void
test_remove_undo (Fixture *f, gconstpointer data)
{
  const guint two[] = { 0, 2 };
  g_autoptr (GArray) kept = g_array_new (FALSE, FALSE, sizeof (gint64));
  AdwToast *toast;

  add_caption (f, 0, "A red square.");
  add_caption (f, 1, "A yellow building.");
  add_caption (f, 2, "A palette of colours.");
  open_window (f);
  show_gallery (f);
  g_assert_cmpuint (n_shown (f), ==, 3);
  /* Nothing to remove before something is selected. */
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.remove", NULL) &&
                  n_shown (f) != 3);

  /* Escape leaves selection mode, and is the window's outside it. */
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.select", NULL);
  g_assert_true (depict_gallery_view_get_selection_mode (f->view));
  g_assert_true (
    gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.cancel-selection", NULL));
  g_assert_false (depict_gallery_view_get_selection_mode (f->view));
  /* The buttons of selection mode follow the selection (Escape's action, likewise, is
   * enabled in selection mode only). */
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.select", NULL);
  g_assert_false (
    gtk_widget_get_sensitive (app_test_find_button (GTK_WIDGET (f->view), "_Remove from Gallery")));
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.select", NULL);
  /* In selection mode, activating a photo (Enter) selects it rather than opening it. */
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.select", NULL);
  g_signal_emit_by_name (f->view_grid, "activate", 1);
  g_assert_true (gtk_selection_model_is_selected (depict_gallery_view_get_selection (f->view), 1));
  g_assert_cmpstr (depict_window_get_visible_page (f->window), ==, "gallery");
  g_signal_emit_by_name (f->view_grid, "activate", 1);
  g_assert_false (gtk_selection_model_is_selected (depict_gallery_view_get_selection (f->view), 1));

  select_positions (f, two, 2);
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.remove", NULL);
  g_assert_cmpuint (n_shown (f), ==, 1);
  g_assert_false (depict_gallery_view_get_selection_mode (f->view));
  toast = depict_gallery_view_get_removal_toast (f->view);
  g_assert_nonnull (toast);
  g_assert_cmpstr (adw_toast_get_title (toast), ==, "Removed 2 photos from the gallery");
  g_assert_cmpstr (adw_toast_get_button_label (toast), ==, "_Undo");
  /* Still in the gallery while Undo is offered, but not found by a search. */
  g_assert_cmpuint (n_stored (f), ==, 3);
  depict_gallery_view_reload (f->view);
  g_assert_cmpuint (n_shown (f), ==, 1);

  g_signal_emit_by_name (toast, "button-clicked");
  g_assert_cmpuint (n_shown (f), ==, 3);
  g_assert_cmpuint (n_stored (f), ==, 3);

  select_positions (f, two, 2);
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.remove", NULL);
  toast = depict_gallery_view_get_removal_toast (f->view);
  g_assert_nonnull (toast);
  adw_toast_dismiss (toast);
  app_test_spin (50);
  g_assert_cmpuint (n_stored (f), ==, 1);
  g_assert_cmpuint (n_shown (f), ==, 1);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *path = app_test_data_path ("preprocess", "images", photos[i], NULL);

      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }

  /* Removing the last one shows the empty gallery; closing the window is no Undo. */
  select_positions (f, two, 1);
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.remove", NULL);
  g_assert_cmpstr (depict_gallery_view_get_page (f->view), ==, "empty");
  gtk_window_destroy (GTK_WINDOW (f->window));
  f->window = NULL;
  app_test_spin (50);
  g_assert_cmpuint (n_stored (f), ==, 0);
}

static DepictGalleryTags *
find_tags_window (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) window = g_list_model_get_item (toplevels, i);

      if (DEPICT_IS_GALLERY_TAGS (window))
        return DEPICT_GALLERY_TAGS (window);
    }
  return NULL;
}

static gboolean
tags_window_shown (gpointer data)
{
  return find_tags_window () != NULL;
}

/* The first widget under WIDGET of TYPE whose tooltip is TOOLTIP (NULL: any). */
static GtkWidget *
find_widget (GtkWidget *widget, GType type, const char *tooltip)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) &&
      (tooltip == NULL || g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type, tooltip);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
has_tag (GPtrArray *tags, const char *name)
{
  for (guint i = 0; i < tags->len; i++)
    if (g_str_equal (((GalleryTag *) g_ptr_array_index (tags, i))->name, name))
      return TRUE;
  return FALSE;
}

static void collect_cells (GtkWidget *widget, GPtrArray *cells);

typedef struct {
  Fixture *f;
  guint n;
} CellsWanted;

static gboolean
cells_laid_out (gpointer data)
{
  CellsWanted *wanted = data;
  g_autoptr (GPtrArray) cells = g_ptr_array_new ();

  collect_cells (GTK_WIDGET (wanted->f->view), cells);
  if (cells->len < wanted->n)
    return FALSE;
  for (guint i = 0; i < cells->len; i++)
    if (gtk_widget_get_width (g_ptr_array_index (cells, i)) == 0)
      return FALSE;
  return TRUE;
}

/* Waits until the grid has made and placed N cells (a busy machine takes its time). */
static void
wait_for_cells (Fixture *f, guint n)
{
  CellsWanted wanted = { f, n };

  app_test_wait (cells_laid_out, &wanted, 10000, "the grid's cells");
  app_test_spin (50);
}

static void
right_click_first_cell (Fixture *f)
{
  g_autoptr (GPtrArray) cells = g_ptr_array_new ();
  g_autoptr (GListModel) controllers = NULL;
  gboolean clicked = FALSE;

  wait_for_cells (f, 1);
  collect_cells (GTK_WIDGET (f->view), cells);
  controllers = gtk_widget_observe_controllers (g_ptr_array_index (cells, 0));
  for (guint i = 0; i < g_list_model_get_n_items (controllers) && !clicked; i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller) &&
          gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller)) == GDK_BUTTON_SECONDARY)
        {
          g_signal_emit_by_name (controller, "pressed", 1, 10.0, 10.0);
          clicked = TRUE;
        }
    }
  g_assert_true (clicked);
}

/* A person adds a tag and removes the model's; a removed tag stays removed when the photo is
 * tagged again; model debris is never listed. */
static void
test_edit_tags (Fixture *f, gconstpointer data)
{
  const char od[] = "{\"<OD>\": {\"bboxes\": [[1,2,3,4],[5,6,7,8],[1,1,2,2]],"
                    " \"labels\": [\"car\", \"dog\", \"loc_931> eagle eagle\"]}}";
  gint64 id = add_photo (f, 0, "<OD>", od);
  GalleryStore *store = depict_session_get_store (f->session, NULL);
  g_autoptr (GPtrArray) tags = NULL;
  g_autoptr (GalleryRun) again = make_run ("<OD>", od);
  g_auto (GStrv) names = NULL;
  DepictGalleryTags *dialog;
  GtkWidget *entry, *remove;
  g_autoptr (GError) error = NULL;

  open_window (f);
  show_gallery (f);
  /* Edit Tags needs exactly one photo. */
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.select", NULL);
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.edit-tags", NULL) &&
                  find_tags_window () != NULL);
  /* A right click on the photo selects it (in selection mode). */
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.select", NULL);
  g_assert_false (depict_gallery_view_get_selection_mode (f->view));
  right_click_first_cell (f);
  g_assert_true (depict_gallery_view_get_selection_mode (f->view));
  g_assert_true (gtk_selection_model_is_selected (depict_gallery_view_get_selection (f->view), 0));
  gtk_widget_activate_action (GTK_WIDGET (f->view), "gallery.edit-tags", NULL);
  app_test_wait (tags_window_shown, NULL, 5000, "the tags window");
  dialog = find_tags_window ();
  names = depict_gallery_tags_dup_names (dialog);
  g_assert_cmpstrv (names, ((const char *const[]){ "car", "dog", NULL }));
  g_clear_pointer (&names, g_strfreev);

  /* Typed and applied in the entry row. */
  entry = find_widget (GTK_WIDGET (dialog), ADW_TYPE_ENTRY_ROW, NULL);
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), "  Holiday ");
  g_signal_emit_by_name (entry, "apply");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  /* The model's "dog", by its button. */
  remove = find_widget (GTK_WIDGET (dialog), GTK_TYPE_BUTTON, "Remove “dog”");
  g_assert_nonnull (remove);
  g_signal_emit_by_name (remove, "clicked");
  names = depict_gallery_tags_dup_names (dialog);
  g_assert_cmpstrv (names, ((const char *const[]){ "car", "holiday", NULL }));
  /* A blank tag is refused with a sentence. */
  g_assert_false (depict_gallery_tags_add (dialog, "   ", &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_INVALID);

  /* Stored; and tagging the photo again does not bring "dog" back. */
  g_assert_cmpint (gallery_store_add_run (store, id, again, NULL), >, 0);
  tags = gallery_store_list_tags (store, id, FALSE, NULL);
  g_assert_cmpuint (tags->len, ==, 2);
  g_assert_true (has_tag (tags, "car"));
  g_assert_true (has_tag (tags, "holiday"));

  /* Closing it shows the new tag in the gallery's tag filter. */
  gtk_window_destroy (GTK_WINDOW (dialog));
  app_test_spin (50);
  depict_gallery_view_search (f->view, NULL, "holiday");
  g_assert_cmpuint (n_shown (f), ==, 1);
  depict_gallery_view_search (f->view, NULL, "dog");
  g_assert_cmpuint (n_shown (f), ==, 1); /* "dog" is no tag: all photos */
}

/* Every cell is as wide as its thumbnail, whether its caption is a word or a paragraph. */
static void
collect_cells (GtkWidget *widget, GPtrArray *cells)
{
  if (gtk_widget_has_css_class (widget, "gallery-cell"))
    g_ptr_array_add (cells, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_cells (child, cells);
}

static void
test_cell_width (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) cells = g_ptr_array_new ();
  g_autoptr (GString) long_caption = g_string_new (NULL);

  for (guint i = 0; i < 30; i++)
    g_string_append (long_caption, "Averyveryverylongwordwithoutanybreak and more words. ");
  add_caption (f, 0, "A cat.");
  add_caption (f, 1, long_caption->str);
  add_caption (f, 2, "");
  open_window (f);
  show_gallery (f);
  wait_for_cells (f, 3);
  collect_cells (GTK_WIDGET (f->view), cells);
  g_assert_cmpuint (cells->len, ==, 3);
  for (guint i = 0; i < cells->len; i++)
    {
      GtkWidget *cell = g_ptr_array_index (cells, i);
      int minimum, natural;

      gtk_widget_measure (cell, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, &natural, NULL, NULL);
      g_assert_cmpint (natural, ==, 160);
      g_assert_cmpint (gtk_widget_get_width (cell), ==, 160);
    }
}

/* The view's pointer watcher, to pretend that the pointer enters or leaves it. */
static GtkEventController *
find_motion (Fixture *f)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->view));

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_MOTION (controller))
        return GTK_EVENT_CONTROLLER (controller);
    }
  g_assert_not_reached ();
}

/* New answers stored while the pointer is over the gallery wait until it leaves: the
 * newest-first grid does not move under a click. */
static void
test_no_move_under_pointer (Fixture *f, gconstpointer data)
{
  GtkEventController *motion;
  g_autoptr (GObject) first = NULL;
  g_autoptr (GObject) still_first = NULL;

  add_caption (f, 0, "A red square.");
  add_caption (f, 1, "A yellow building.");
  open_window (f);
  show_gallery (f);
  g_assert_cmpuint (n_shown (f), ==, 2);
  first = g_list_model_get_item (depict_gallery_view_get_model (f->view), 0);

  motion = find_motion (f);
  g_signal_emit_by_name (motion, "enter", 10.0, 10.0);

  add_caption (f, 2, "A palette of colours.");
  g_object_notify (G_OBJECT (f->session), "store-generation");
  app_test_spin (100);
  g_assert_cmpuint (n_shown (f), ==, 2);
  still_first = g_list_model_get_item (depict_gallery_view_get_model (f->view), 0);
  g_assert_true (still_first == first);

  g_signal_emit_by_name (motion, "leave");
  g_assert_cmpuint (n_shown (f), ==, 3);
}

static gboolean
no_batch (gpointer data)
{
  return depict_session_get_batch (data) == NULL;
}

static GtkRevealer *
find_batch_card (GtkWidget *widget)
{
  if (GTK_IS_REVEALER (widget) && gtk_revealer_get_child (GTK_REVEALER (widget)) != NULL &&
      gtk_widget_has_css_class (gtk_revealer_get_child (GTK_REVEALER (widget)), "batch-card"))
    return GTK_REVEALER (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkRevealer *found = find_batch_card (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The batch's card does not go from under the pointer when the batch ends (the grid would
 * move up into a click aimed at Pause): it goes when the pointer leaves. */
static void
test_card_stays_under_pointer (Fixture *f, gconstpointer data)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);
  g_autofree char *empty = g_dir_make_tmp ("depict-empty-folder-XXXXXX", NULL);
  g_autoptr (GFile) folder = g_file_new_for_path (empty);
  g_autoptr (GError) error = NULL;
  GtkEventController *motion;
  GtkRevealer *card;

  g_settings_set_string (settings, "model", tiny);
  g_settings_set_string (settings, "device", "cpu-reference");
  add_caption (f, 0, "A red square.");
  open_window (f);
  show_gallery (f);
  card = find_batch_card (GTK_WIDGET (f->view));
  g_assert_nonnull (card);
  motion = find_motion (f);
  g_signal_emit_by_name (motion, "enter", 10.0, 10.0);

  g_assert_nonnull (depict_session_tag_folder (f->session, folder, &error));
  g_assert_no_error (error);
  g_assert_true (gtk_revealer_get_reveal_child (card));
  app_test_wait (no_batch, f->session, 60000, "the batch of an empty folder to end");
  g_assert_true (gtk_revealer_get_reveal_child (card));
  g_signal_emit_by_name (motion, "leave");
  g_assert_false (gtk_revealer_get_reveal_child (card));

  g_settings_reset (settings, "model");
  g_settings_reset (settings, "device");
  g_rmdir (empty);
}

/* The first visit to the Gallery after start-up shows its photos, every time. */
static void
test_first_visit (Fixture *f, gconstpointer data)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);

  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    add_caption (f, i, "A photo.");
  g_clear_object (&f->session);
  for (guint start = 0; start < 20; start++)
    {
      f->session = depict_session_new (settings, f->db);
      open_window (f);
      app_test_spin (start % 4 * 20);
      depict_window_show_gallery (f->window, start % 2 == 0);
      app_test_spin (200);
      if (g_strcmp0 (depict_gallery_view_get_page (f->view), "grid") != 0 ||
          n_shown (f) != G_N_ELEMENTS (photos))
        g_error ("start %u: the gallery shows “%s” with %u photos", start,
                 depict_gallery_view_get_page (f->view), n_shown (f));
      gtk_window_destroy (GTK_WINDOW (f->window));
      f->window = NULL;
      app_test_spin (10);
      g_clear_object (&f->session);
    }
  f->session = depict_session_new (settings, f->db);
}

/* Opens the window on the gallery's error page; its Start a New Gallery button. */
static GtkWidget *
error_page_start_new (Fixture *f)
{
  GtkWidget *button;

  open_window (f);
  depict_window_show_gallery (f->window, FALSE);
  app_test_spin (100);
  g_assert_cmpstr (depict_gallery_view_get_page (f->view), ==, "error");
  button = app_test_find_button (GTK_WIDGET (f->view), "_Start a New Gallery");
  g_assert_nonnull (button);
  return button;
}

/* A file that is no gallery: the error page offers to start a new gallery, which keeps the
 * damaged file, byte for byte, under another name. */
static void
test_start_new (Fixture *f, gconstpointer data)
{
  const char garbage[] = "this is not a SQLite database, but it is somebody's file";
  g_autofree char *contents = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *name;
  GtkWidget *button;
  gboolean kept = FALSE;

  g_assert_true (g_file_set_contents (f->db, garbage, -1, NULL));
  button = error_page_start_new (f);
  g_assert_true (gtk_widget_get_visible (button));
  /* It is what helps, so it is the suggested action; and there is nothing to select. */
  g_assert_true (gtk_widget_has_css_class (button, "suggested-action"));
  g_assert_false (gtk_widget_has_css_class (
    app_test_find_button (GTK_WIDGET (f->view), "_Try Again"), "suggested-action"));
  g_assert_false (gtk_widget_get_sensitive (
    find_widget (GTK_WIDGET (f->view), GTK_TYPE_TOGGLE_BUTTON, "Select Photos")));
  g_signal_emit_by_name (button, "clicked");
  g_assert_cmpstr (depict_gallery_view_get_page (f->view), ==, "empty");
  g_assert_cmpuint (n_stored (f), ==, 0);

  dir = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "gallery.db.damaged-"))
      {
        g_autofree char *path = g_build_filename (f->dir, name, NULL);

        g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
        g_assert_cmpstr (contents, ==, garbage);
        kept = TRUE;
      }
  g_assert_true (kept);
}

/* A gallery that opens but whose pages are damaged (found by the first search): the
 * connection is closed before the file is moved aside, and kept byte for byte. */
static void
test_start_new_damaged_pages (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store = gallery_store_open (f->db, &error);
  g_autofree char *contents = NULL;
  g_autofree char *kept = NULL;
  gint64 root = 0, page_size = 0;
  gsize length = 0;
  GtkWidget *button;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *path = app_test_data_path ("preprocess", "images", photos[i], NULL);
      g_autoptr (GalleryRun) run = make_run ("<CAPTION>", "{\"<CAPTION>\": \"A photo.\"}");
      gint64 id = gallery_store_add_image (store, path, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
    }
  g_assert_true (gallery_store_query_int (
    store, "SELECT rootpage FROM sqlite_schema WHERE name = 'images'", &root, &error));
  g_assert_true (gallery_store_query_int (store, "PRAGMA page_size", &page_size, &error));
  gallery_store_close (store);
  g_assert_true (g_file_get_contents (f->db, &contents, &length, &error));
  for (gint64 i = (root - 1) * page_size; i < root * page_size; i++)
    contents[i] = (char) (i * 131 % 251);
  g_assert_true (g_file_set_contents (f->db, contents, length, &error));

  button = error_page_start_new (f);
  g_assert_true (gtk_widget_get_visible (button));
  g_signal_emit_by_name (button, "clicked");
  g_assert_cmpstr (depict_gallery_view_get_page (f->view), ==, "empty");
  g_assert_cmpuint (n_stored (f), ==, 0);
  {
    g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (dir)) != NULL)
      if (g_str_has_prefix (name, "gallery.db.damaged-") && !g_str_has_suffix (name, "-wal") &&
          !g_str_has_suffix (name, "-shm"))
        {
          g_autofree char *path = g_build_filename (f->dir, name, NULL);
          gsize kept_length = 0;

          g_assert_true (g_file_get_contents (path, &kept, &kept_length, NULL));
          g_assert_cmpuint (kept_length, ==, length);
          g_assert_true (memcmp (kept, contents, length) == 0);
        }
  }
  g_assert_nonnull (kept);
}

/* A gallery that cannot be opened but is no damaged file (here a folder in its place) is no
 * reason to start again: no such button. */
static void
test_start_new_not_offered (Fixture *f, gconstpointer data)
{
  g_autofree char *sub = g_build_filename (f->dir, "folder.db", NULL);
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  GtkWidget *button;

  /* A folder where the file should be: it cannot be opened, and it is not a damaged file. */
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  g_clear_object (&f->session);
  f->session = depict_session_new (settings, sub);
  button = error_page_start_new (f);
  g_assert_false (gtk_widget_get_visible (button));
  g_assert_true (gtk_widget_has_css_class (
    app_test_find_button (GTK_WIDGET (f->view), "_Try Again"), "suggested-action"));
}

int
main (int argc, char *argv[])
{
  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);

  g_test_add_func ("/app/gallery/date", test_date);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/app/gallery/stored-answer-date", test_stored_answer_date);
  ADD ("/app/gallery/remove-undo", test_remove_undo);
  ADD ("/app/gallery/edit-tags", test_edit_tags);
  ADD ("/app/gallery/cell-width", test_cell_width);
  ADD ("/app/gallery/no-move-under-pointer", test_no_move_under_pointer);
  ADD ("/app/gallery/card-stays-under-pointer", test_card_stays_under_pointer);
  ADD ("/app/gallery/first-visit", test_first_visit);
  ADD ("/app/gallery/start-new", test_start_new);
  ADD ("/app/gallery/start-new-damaged-pages", test_start_new_damaged_pages);
  ADD ("/app/gallery/start-new-not-offered", test_start_new_not_offered);
#undef ADD
  return g_test_run ();
}

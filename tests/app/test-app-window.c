/* test-app-window.c: the main flows of the window, under a (virtual) display
 *
 * The empty state; a drop of a photo and of a folder; overlays from a stored result, aligned
 * with the photo at every size and zoom; a task run on the tiny fixture model through the
 * session's worker; cancelling it; the gallery's search and opening a stored result. Every
 * window of this process is a view over one session, as in the app.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Long because every flow needs the same window and session; each flow is a short function, in the
 * order a person meets them.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-batch-dialog.h"
#include "depict-gallery-view.h"
#include "depict-queue-item.h"
#include "depict-window-private.h"
#include "florence/hub/florence-hub.h"
#include "florence/text/florence-task.h"
#include "gallery/gallery-store.h"
#include "gallery/gallery-tagger.h"

/* The process's session, as the application would hold it. */
static DepictSession *session;

static gint64
count_runs (void)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store = depict_session_get_store (session, &error);
  gint64 n;

  g_assert_no_error (error);
  n = gallery_store_count_runs (store, NULL);
  return n;
}

static DepictWindow *
new_window (void)
{
  return app_test_window_new (session);
}

static void
close_window (DepictWindow *window)
{
  app_test_window_close (window);
}

static GFile *
photo_file (const char *name)
{
  g_autofree char *path = app_test_data_path ("preprocess", "images", name, NULL);

  return g_file_new_for_path (path);
}

static gboolean
has_texture (gpointer data)
{
  return depict_image_view_get_texture (depict_window_get_image_view (data)) != NULL;
}

static gboolean
not_busy (gpointer data)
{
  return !depict_window_get_busy (data);
}

static void
use_tiny_model (guint max_new_tokens)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);

  g_settings_set_string (settings, "model", tiny);
  g_settings_set_string (settings, "device", "cpu-reference");
  g_settings_set_int (settings, "beams", 1);
  g_settings_set_int (settings, "max-new-tokens", max_new_tokens);
  g_settings_set_string (settings, "last-task", "<CAPTION>");
}

/* ---------------------------------------------------------------------------------------- */

/* The first widget of type TYPE under WIDGET (itself included) that MATCH accepts, or NULL. */
static GtkWidget *
find_widget (GtkWidget *widget, GType type,
             gboolean (*match) (GtkWidget *widget, gconstpointer data), gconstpointer data)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) && (match == NULL || match (widget, data)))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
label_is (GtkWidget *widget, gconstpointer text)
{
  return g_strcmp0 (gtk_label_get_label (GTK_LABEL (widget)), text) == 0;
}

static gboolean
status_titled (GtkWidget *widget, gconstpointer title)
{
  return g_strcmp0 (adw_status_page_get_title (ADW_STATUS_PAGE (widget)), title) == 0;
}

static gboolean
has_class (GtkWidget *widget, gconstpointer name)
{
  return gtk_widget_has_css_class (widget, name);
}

static gboolean
status_mentions (GtkWidget *widget, gconstpointer text)
{
  const char *description = adw_status_page_get_description (ADW_STATUS_PAGE (widget));

  return gtk_widget_is_drawable (widget) && description != NULL &&
         strstr (description, text) != NULL;
}

static gboolean
gallery_shows_grid (gpointer data)
{
  return g_strcmp0 (depict_gallery_view_get_page (data), "grid") == 0;
}

static void
test_empty_state (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  DepictWindow *window;

  g_settings_set_string (settings, "model", "base");
  window = new_window ();
  g_assert_cmpstr (depict_window_get_visible_page (window), ==, "empty");
  /* No model installed: the empty page already offers the download. */
  {
    GtkWidget *empty =
      find_widget (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE, status_titled, "Drop Photos Here");
    GtkWidget *download = app_test_find_button (empty, "_Download a Model…");
    g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);

    g_autofree char *size = g_format_size (florence_hub_lookup ("base")->download_size);
    g_autofree char *says =
      g_strdup_printf ("No model is installed yet. The base model is a download of %s.", size);

    g_assert_nonnull (download);
    g_assert_true (gtk_widget_is_visible (download));
    /* Its size, written as the Models window writes it */
    g_assert_nonnull (find_widget (empty, GTK_TYPE_LABEL, label_is, says));
    g_settings_set_string (settings, "model", tiny);
    g_assert_false (gtk_widget_is_visible (download));
    g_settings_set_string (settings, "model", "base");
  }
  g_assert_cmpuint (g_list_model_get_n_items (depict_window_get_queue (window)), ==, 0);
  g_assert_false (depict_window_get_busy (window));
  /* Nothing to run on: Run does nothing but say so */
  depict_window_run (window);
  g_assert_false (depict_window_get_busy (window));
  close_window (window);
}

static void
test_task_picker (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *last = NULL;
  DepictWindow *window;
  DepictTaskPicker *picker;
  DepictImageView *view;

  g_settings_set_string (settings, "last-task", "<OCR>");
  window = new_window ();
  picker = depict_window_get_task_picker (window);
  view = depict_window_get_image_view (window);

  /* The last task comes back; a new choice is remembered. */
  g_assert_cmpstr (depict_task_picker_get_task (picker), ==, "<OCR>");
  depict_task_picker_set_task (picker, "<OD>");
  last = g_settings_get_string (settings, "last-task");
  g_assert_cmpstr (last, ==, "<OD>");

  /* The text entry only for tasks that take text; region tasks select on the photo. */
  g_assert_false (depict_task_picker_get_text_shown (picker));
  g_assert_false (depict_image_view_get_region_mode (view));
  depict_task_picker_set_task (picker, "<CAPTION_TO_PHRASE_GROUNDING>");
  g_assert_true (depict_task_picker_get_text_shown (picker));
  g_assert_false (depict_image_view_get_region_mode (view));
  /* Its hint is a whole sentence: a wrapped label under the entry, not a placeholder that
   * the narrow side pane cuts off. */
  {
    const char *hint = florence_task_lookup ("<OPEN_VOCABULARY_DETECTION>")->input_hint;
    GtkWidget *entry = find_widget (GTK_WIDGET (picker), GTK_TYPE_ENTRY, NULL, NULL);

    depict_task_picker_set_task (picker, "<OPEN_VOCABULARY_DETECTION>");
    g_assert_nonnull (hint);
    g_assert_null (gtk_entry_get_placeholder_text (GTK_ENTRY (entry)));
    g_assert_nonnull (find_widget (GTK_WIDGET (picker), GTK_TYPE_LABEL, label_is, hint));
  }
  depict_task_picker_set_task (picker, "<REGION_TO_DESCRIPTION>");
  g_assert_false (depict_task_picker_get_text_shown (picker));
  g_assert_true (depict_image_view_get_region_mode (view));

  /* An unknown task (an old setting) leaves the choice as it is. */
  depict_task_picker_set_task (picker, "<NOT_A_TASK>");
  g_assert_cmpstr (depict_task_picker_get_task (picker), ==, "<REGION_TO_DESCRIPTION>");
  close_window (window);
}

/* A region without a pointer: the arrow keys place a default one, move it and resize it,
 * always inside the photo; the photo is a Tab stop only for region tasks. */
static void
test_region_keyboard (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  GSList one = { photo, NULL };
  DepictWindow *window;
  DepictImageView *view;
  graphene_rect_t r;

  g_settings_set_string (settings, "model", "base");
  g_settings_set_string (settings, "last-task", "<CAPTION>");
  window = new_window ();
  view = depict_window_get_image_view (window);
  depict_window_drop_files (window, &one);
  app_test_wait (has_texture, window, 10000, "the photo to load");

  g_assert_false (gtk_widget_get_focusable (GTK_WIDGET (view)));
  g_assert_false (depict_image_view_nudge_region (view, 1, 0, FALSE));
  /* Choosing a region task in the menu takes the keyboard to the photo. */
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (depict_window_get_task_picker (window)),
                                             "picker.task", "s", "<REGION_TO_DESCRIPTION>"));
  g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (view)));
  g_assert_true (gtk_widget_is_focus (GTK_WIDGET (view)));

  /* The first key places the middle half of the 640×480 photo. */
  g_assert_true (depict_image_view_nudge_region (view, 1, 0, FALSE));
  g_assert_true (depict_image_view_get_region (view, &r));
  g_assert_cmpfloat (r.origin.x, ==, 160);
  g_assert_cmpfloat (r.origin.y, ==, 120);
  g_assert_cmpfloat (r.size.width, ==, 320);
  g_assert_cmpfloat (r.size.height, ==, 240);
  /* Then each step is a fiftieth of the photo: 13 × 10 pixels. */
  depict_image_view_nudge_region (view, 1, 1, FALSE);
  depict_image_view_get_region (view, &r);
  g_assert_cmpfloat (r.origin.x, ==, 173);
  g_assert_cmpfloat (r.origin.y, ==, 130);
  depict_image_view_nudge_region (view, -1, 0, TRUE);
  depict_image_view_get_region (view, &r);
  g_assert_cmpfloat (r.origin.x, ==, 173);
  g_assert_cmpfloat (r.size.width, ==, 307);
  g_assert_cmpfloat (r.size.height, ==, 240);
  /* It stops at the edges. */
  for (int i = 0; i < 100; i++)
    depict_image_view_nudge_region (view, 1, 1, FALSE);
  depict_image_view_get_region (view, &r);
  g_assert_cmpfloat (r.origin.x + r.size.width, ==, 640);
  g_assert_cmpfloat (r.origin.y + r.size.height, ==, 480);
  for (int i = 0; i < 100; i++)
    depict_image_view_nudge_region (view, 1, 1, TRUE);
  depict_image_view_get_region (view, &r);
  g_assert_cmpfloat (r.origin.x + r.size.width, ==, 640);
  g_assert_cmpfloat (r.origin.y + r.size.height, ==, 480);
  for (int i = 0; i < 100; i++)
    depict_image_view_nudge_region (view, -1, -1, TRUE);
  depict_image_view_get_region (view, &r);
  g_assert_cmpfloat (r.size.width, >=, 1);
  g_assert_cmpfloat (r.size.height, >=, 1);

  depict_task_picker_set_task (depict_window_get_task_picker (window), "<CAPTION>");
  g_assert_false (gtk_widget_get_focusable (GTK_WIDGET (view)));
  g_assert_false (depict_image_view_get_region (view, NULL));
  close_window (window);
}

static gboolean
queue_has_eight (gpointer data)
{
  return g_list_model_get_n_items (depict_window_get_queue (data)) == 8;
}

static void
test_drop (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  DepictWindow *window;
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  g_autofree char *folder_path = app_test_data_path ("preprocess", "images", NULL);
  g_autoptr (GFile) folder = g_file_new_for_path (folder_path);
  GSList one = { photo, NULL };
  GSList dir = { folder, NULL };
  GdkTexture *texture;

  /* No model installed: the results pane shows the way to one. */
  g_settings_set_string (settings, "model", "base");
  window = new_window ();

  g_assert_false (depict_window_drop_files (window, NULL));
  g_assert_true (depict_window_drop_files (window, &one));
  app_test_wait (has_texture, window, 10000, "the photo to load");
  g_assert_cmpstr (depict_window_get_visible_page (window), ==, "photo");
  g_assert_cmpuint (g_list_model_get_n_items (depict_window_get_queue (window)), ==, 1);
  texture = depict_image_view_get_texture (depict_window_get_image_view (window));
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 640);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 480);
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                   "no-model");
  {
    g_autofree char *size = g_format_size (florence_hub_lookup ("base")->download_size);

    g_assert_nonnull (find_widget (GTK_WIDGET (depict_window_get_results_pane (window)),
                                   ADW_TYPE_STATUS_PAGE, status_mentions, size));
  }

  /* The same photo again is not added twice; the folder adds its other 7 photos. */
  g_assert_true (depict_window_drop_files (window, &one));
  app_test_spin (100);
  g_assert_cmpuint (g_list_model_get_n_items (depict_window_get_queue (window)), ==, 1);
  g_assert_true (depict_window_drop_files (window, &dir));
  app_test_wait (queue_has_eight, window, 10000, "the folder's photos");
  close_window (window);
}

static void
test_unreadable (void)
{
  DepictWindow *window = new_window ();
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "not-a-photo.jpg", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  GSList one = { file, NULL };
  DepictResultsPane *pane = depict_window_get_results_pane (window);

  g_assert_true (g_file_set_contents (path, "this is no JPEG", -1, NULL));
  g_assert_true (depict_window_drop_files (window, &one));
  /* The error says so in the results pane; no crash, no texture. */
  for (int i = 0; i < 200 && g_strcmp0 (depict_results_pane_get_page (pane), "error") != 0; i++)
    app_test_spin (10);
  g_assert_cmpstr (depict_results_pane_get_page (pane), ==, "error");
  g_assert_null (depict_image_view_get_texture (depict_window_get_image_view (window)));
  /* Running again cannot read it either: no "Try Again" (it would only be greyed out). */
  g_assert_nonnull (app_test_find_button (GTK_WIDGET (pane), "_Try Again"));
  g_assert_false (gtk_widget_get_visible (app_test_find_button (GTK_WIDGET (pane), "_Try Again")));
  close_window (window);
  g_unlink (path);
}

/* The overlay of every box lies where the photo shows that box: the photo is fitted (never
 * enlarged) and centred in the view, so a point (x, y) of the image appears at offset +
 * scale * (x, y). */
static void
assert_aligned (DepictImageView *view, GListModel *items)
{
  double w = gtk_widget_get_width (GTK_WIDGET (view));
  double h = gtk_widget_get_height (GTK_WIDGET (view));
  double scale = MIN (MIN (w / 640.0, h / 480.0), 1.0);
  double ox = (w - 640 * scale) / 2, oy = (h - 480 * scale) / 2;

  g_assert_cmpfloat (w, >, 0);
  g_assert_cmpfloat_with_epsilon (depict_image_view_get_scale (view), scale, 1e-9);
  for (guint i = 0; i < g_list_model_get_n_items (items); i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (items, i);
      float x, y, bw, bh;
      double wx, wy, ix, iy;

      depict_overlay_item_get_bounds (item, &x, &y, &bw, &bh);
      depict_image_view_image_to_widget (view, x, y, &wx, &wy);
      g_assert_cmpfloat_with_epsilon (wx, ox + scale * x, 1e-6);
      g_assert_cmpfloat_with_epsilon (wy, oy + scale * y, 1e-6);
      depict_image_view_widget_to_image (view, wx, wy, &ix, &iy);
      g_assert_cmpfloat_with_epsilon (ix, x, 1e-6);
      g_assert_cmpfloat_with_epsilon (iy, y, 1e-6);
    }
}

static gboolean
window_active (gpointer data)
{
  return gtk_window_is_active (data);
}

static gboolean
view_hovers (gpointer data)
{
  return depict_image_view_get_hover_item (data) ==
         g_object_get_data (G_OBJECT (data), "expected-hover");
}

static void
test_overlay (void)
{
  DepictWindow *window = new_window ();
  DepictImageView *view = depict_window_get_image_view (window);
  DepictResultsPane *pane = depict_window_get_results_pane (window);
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  g_autoptr (DepictAnswer) answer = app_test_answer ("od_two_objects", "stored");
  GPtrArray *labels = answer->result->box_labels;
  GListModel *items;
  g_autoptr (DepictOverlayItem) small = NULL;
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  double cx, cy, wx, wy;
  float x, y, bw, bh;

  /* A stored answer is shown without running the model. */
  depict_window_show_file (window, photo, answer);
  g_assert_false (depict_window_get_busy (window));
  app_test_wait (has_texture, window, 10000, "the photo to load");
  app_test_spin (50);

  items = depict_image_view_get_items (view);
  g_assert_cmpuint (g_list_model_get_n_items (items), ==, answer->result->boxes->len);
  for (guint i = 0; i < g_list_model_get_n_items (items); i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (items, i);

      g_assert_cmpstr (depict_overlay_item_get_label (item), ==, g_ptr_array_index (labels, i));
    }
  g_assert_cmpstr (depict_results_pane_get_page (pane), ==, "results");
  assert_aligned (view, items);

  /* Another window size: still aligned. */
  gtk_window_set_default_size (GTK_WINDOW (window), 700, 900);
  app_test_spin (100);
  assert_aligned (view, items);

  /* Zoomed in: image and overlays move together (same transform both ways). */
  depict_image_view_zoom_in (view);
  depict_image_view_zoom_in (view);
  g_assert_false (depict_image_view_get_fit (view));
  depict_image_view_image_to_widget (view, 320, 240, &cx, &cy);
  g_assert_cmpfloat_with_epsilon (cx, gtk_widget_get_width (GTK_WIDGET (view)) / 2.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (cy, gtk_widget_get_height (GTK_WIDGET (view)) / 2.0, 1e-6);
  depict_image_view_zoom_to_fit (view);
  assert_aligned (view, items);

  /* Hovering the smaller box on the photo picks it (not the large box around it) and
   * highlights its row; hovering a row highlights the box. */
  small = g_list_model_get_item (items, 1);
  depict_overlay_item_get_bounds (small, &x, &y, &bw, &bh);
  depict_image_view_image_to_widget (view, x + bw / 2, y + bh / 2, &wx, &wy);
  g_assert_true (depict_image_view_pick (view, wx, wy) == small);
  depict_image_view_set_hover_item (view, small);
  g_assert_true (depict_results_pane_get_hover_item (pane) == small);
  depict_results_pane_set_hover_item (pane, NULL);
  g_assert_null (depict_image_view_get_hover_item (view));

  /* Without a pointer: moving the keyboard focus onto a row highlights its box too. */
  {
    GtkWidget *list = find_widget (GTK_WIDGET (pane), GTK_TYPE_LIST_BOX, NULL, NULL);
    GtkWidget *row = GTK_WIDGET (gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), 1));

    /* Focus events reach an active window only (the X server says when it is). */
    gtk_window_present (GTK_WINDOW (window));
    app_test_wait (window_active, window, 10000, "the window to be active");
    g_assert_true (gtk_widget_grab_focus (row));
    g_object_set_data (G_OBJECT (view), "expected-hover", small);
    app_test_wait (view_hovers, view, 5000, "the row's box to be highlighted");
    gtk_widget_grab_focus (GTK_WIDGET (depict_window_get_task_picker (window)));
    gtk_widget_child_focus (GTK_WIDGET (depict_window_get_task_picker (window)),
                            GTK_DIR_TAB_FORWARD);
    g_object_set_data (G_OBJECT (view), "expected-hover", NULL);
    app_test_wait (view_hovers, view, 5000, "no box to be highlighted");
    /* Presenting may have resized the view: where the box is now. */
    depict_image_view_image_to_widget (view, x + bw / 2, y + bh / 2, &wx, &wy);
  }

  /* Layers: with boxes hidden, nothing is picked. */
  g_settings_set_boolean (settings, "show-boxes", FALSE);
  g_assert_cmpuint (depict_image_view_get_layers (view) & DEPICT_LAYER_BOXES, ==, 0);
  g_assert_null (depict_image_view_pick (view, wx, wy));
  g_settings_set_boolean (settings, "show-boxes", TRUE);
  g_assert_true (depict_image_view_pick (view, wx, wy) == small);

  close_window (window);
}

/* An answer that found nothing says so, whatever its kind; an answer to a text task says
 * what it was asked. */
static void
test_empty_and_asked (void)
{
  DepictWindow *window = new_window ();
  DepictResultsPane *pane = depict_window_get_results_pane (window);
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  g_autoptr (DepictAnswer) nothing = app_test_answer ("ocr_region_no_locs", NULL);
  g_autoptr (DepictAnswer) grounding = NULL;
  g_autofree char *title = NULL;

  g_assert_cmpint (nothing->result->kind, ==, FLORENCE_RESULT_QUADS);
  depict_window_show_file (window, photo, nothing);
  g_assert_cmpstr (depict_results_pane_get_page (pane), ==, "results");
  g_assert_cmpstr (depict_results_pane_get_text (pane), ==, "Nothing was found.");

  grounding =
    depict_answer_new (NULL, "the wizard", app_test_postprocess_result ("grounding_no_locs"), NULL);
  title = _depict_window_answer_title (grounding);
  g_assert_nonnull (strstr (title, "“the wizard”"));
  depict_task_picker_set_text (depict_window_get_task_picker (window), "red square");
  depict_window_show_file (window, photo, grounding);
  g_assert_nonnull (find_widget (GTK_WIDGET (pane), GTK_TYPE_LABEL, label_is, title));
  /* The picker shows the text this answer was asked, not the one typed last. */
  g_assert_cmpstr (depict_task_picker_get_text (depict_window_get_task_picker (window)), ==,
                   "the wizard");

  /* A mask of "the wizard" is named so, where the model gave it no label. */
  {
    g_autoptr (DepictAnswer) mask =
      depict_answer_new ("<REFERRING_EXPRESSION_SEGMENTATION>", "the wizard",
                         app_test_postprocess_result ("res_one_polygon"), NULL);
    g_autoptr (DepictOverlayItem) item = NULL;
    GListModel *items;

    depict_window_show_file (window, photo, mask);
    items = depict_image_view_get_items (depict_window_get_image_view (window));
    g_assert_cmpuint (g_list_model_get_n_items (items), ==, 1);
    item = g_list_model_get_item (items, 0);
    g_assert_cmpstr (depict_overlay_item_get_label (item), ==, "the wizard");
    g_assert_cmpstr (depict_task_picker_get_text (depict_window_get_task_picker (window)), ==,
                     "the wizard");
  }
  close_window (window);
}

static void
text_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  char **text = user_data;
  g_autoptr (GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, &error);
  g_assert_no_error (error);
}

static gboolean
text_arrived (gpointer data)
{
  return *(char **) data != NULL;
}

static char *
read_clipboard (GtkWidget *widget)
{
  char *text = NULL;

  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (widget), NULL, text_read_cb, &text);
  app_test_wait (text_arrived, &text, 5000, "the clipboard");
  return text;
}

/* Copy as JSON gives the result in the one JSON form; Copy as Text the boxes with their
 * coordinates. */
static void
test_copy (void)
{
  DepictWindow *window = new_window ();
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  g_autoptr (DepictAnswer) answer = app_test_answer ("od_two_objects", NULL);
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = florence_result_to_json (answer->result, TRUE);
  g_autoptr (FlorenceResult) copied = NULL;
  g_autoptr (GError) error = NULL;

  depict_window_show_file (window, photo, answer);
  app_test_wait (has_texture, window, 10000, "the photo to load");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.copy-json", NULL));
  json = read_clipboard (GTK_WIDGET (window));
  g_assert_cmpstr (json, ==, expected);
  copied = florence_result_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (copied->boxes->len, ==, 2);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.copy-text", NULL));
  text = read_clipboard (GTK_WIDGET (window));
  g_assert_true (g_str_has_prefix (text, "car: 34, 160 – 597, 372\n"));

  /* A toast lifts the zoom buttons out of its way (they showed through it). */
  {
    GtkWidget *controls =
      find_widget (GTK_WIDGET (window), GTK_TYPE_BOX, has_class, "view-controls");

    g_assert_nonnull (controls);
    depict_window_add_toast (window, "A toast");
    g_assert_true (gtk_widget_has_css_class (controls, "above-toast"));
  }

  /* With a result and its buttons the results pane still fits a phone-wide window
   * (360 pixels, the window's own width-request). */
  {
    int min = 0;

    gtk_widget_measure (GTK_WIDGET (depict_window_get_results_pane (window)),
                        GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
    g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                     "results");
    g_assert_cmpint (min, <=, 300);
  }
  close_window (window);
}

static void
test_run_tiny (void)
{
  g_autofree char *case_path =
    app_test_data_path ("models", "tiny", "cases", "caption_greedy", "expected.json", NULL);
  g_autoptr (JsonNode) expected = app_test_load_json (case_path);
  JsonObject *post =
    json_object_get_object_member (json_node_get_object (expected), "post_processed");
  const char *caption = json_object_get_string_member (post, "<CAPTION>");
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  DepictWindow *window;
  DepictResultsPane *pane;
  GSList one = { photo, NULL };
  g_autoptr (DepictQueueItem) item = NULL;
  gint64 before = count_runs ();

  g_assert_cmpint (
    json_object_get_int_member (json_node_get_object (expected), "num_generated_tokens"), ==, 20);
  use_tiny_model (20);
  window = new_window ();
  pane = depict_window_get_results_pane (window);
  g_assert_cmpstr (depict_task_picker_get_task (depict_window_get_task_picker (window)), ==,
                   "<CAPTION>");

  depict_window_drop_files (window, &one);
  app_test_wait (has_texture, window, 10000, "the photo to load");
  g_assert_cmpstr (depict_results_pane_get_page (pane), ==, "idle");

  depict_window_run (window);
  g_assert_true (depict_window_get_busy (window));
  g_assert_cmpstr (depict_results_pane_get_page (pane), ==, "busy");
  app_test_wait (not_busy, window, 120000, "the tiny model to run");

  g_assert_cmpstr (depict_results_pane_get_page (pane), ==, "results");
  g_assert_cmpstr (depict_results_pane_get_text (pane), ==, caption);
  /* The typed result, as the model made it, is what is shown. */
  g_assert_cmpint (depict_window_get_answer (window)->result->kind, ==, FLORENCE_RESULT_TEXT);
  g_assert_cmpstr (depict_window_get_answer (window)->result->text, ==, caption);
  item = g_list_model_get_item (depict_window_get_queue (window), 0);
  g_assert_cmpint (depict_queue_item_get_state (item), ==, DEPICT_QUEUE_ITEM_DONE);
  /* A caption has nothing to draw. */
  g_assert_cmpuint (
    g_list_model_get_n_items (depict_image_view_get_items (depict_window_get_image_view (window))),
    ==, 0);

  /* The run is kept in the gallery, and says it loaded the model (this process's first). */
  g_assert_cmpint (count_runs (), ==, before + 1);
  g_assert_nonnull (strstr (depict_window_get_answer (window)->info, "loading the model"));
  g_assert_cmpint (depict_window_get_answer (window)->run_id, >, 0);
  close_window (window);
}

static gboolean
shows_results (gpointer data)
{
  return g_strcmp0 (depict_results_pane_get_page (depict_window_get_results_pane (data)),
                    "results") == 0;
}

/* A photo opened again (here by a drop, in a new window) shows what the gallery kept for it,
 * without running the model. */
static void
test_stored_answers_on_open (void)
{
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  GSList one = { photo, NULL };
  DepictWindow *window;
  DepictAnswer *answer;
  g_autoptr (DepictQueueItem) item = NULL;

  use_tiny_model (20);
  window = new_window ();
  depict_window_drop_files (window, &one);
  app_test_wait (shows_results, window, 10000, "the stored caption");
  g_assert_false (depict_window_get_busy (window));
  answer = depict_window_get_answer (window);
  g_assert_cmpstr (answer->task, ==, "<CAPTION>");
  g_assert_cmpint (answer->result->kind, ==, FLORENCE_RESULT_TEXT);
  g_assert_cmpint (answer->run_id, >, 0);
  g_assert_true (g_str_has_prefix (answer->info, "Stored "));
  g_assert_cmpstr (depict_results_pane_get_text (depict_window_get_results_pane (window)), ==,
                   answer->result->text);
  item = g_list_model_get_item (depict_window_get_queue (window), 0);
  g_assert_cmpint (depict_queue_item_get_state (item), ==, DEPICT_QUEUE_ITEM_DONE);
  close_window (window);
}

static gboolean
all_answered_anew (gpointer data)
{
  GListModel *queue = data;
  gint64 before = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (queue), "runs-before"));

  for (guint i = 0; i < g_list_model_get_n_items (queue); i++)
    {
      g_autoptr (DepictQueueItem) item = g_list_model_get_item (queue, i);
      DepictAnswer *answer = depict_queue_item_get_answer (item, "<CAPTION>");

      if (depict_queue_item_get_state (item) != DEPICT_QUEUE_ITEM_DONE || answer == NULL ||
          answer->run_id <= before)
        return FALSE;
    }
  return TRUE;
}

static void
note_run_all_button_cb (DepictJob *batch, GParamSpec *pspec, DepictWindow *window)
{
  g_autofree char *label = NULL;

  if (depict_job_get_done (batch) >= depict_job_get_total (batch))
    return;
  label = g_strdup_printf ("Running: %u of 3", depict_job_get_done (batch) + 1);
  if (app_test_find_button (GTK_WIDGET (window), label) != NULL)
    g_object_set_data (G_OBJECT (window), "counted", GINT_TO_POINTER (TRUE));
}

/* "Run on All Photos": every photo of the list gets an answer, one run each. */
static void
test_run_all (void)
{
  g_autoptr (GFile) a = photo_file ("photo_640x480.png");
  g_autoptr (GFile) b = photo_file ("palette_200x150.png");
  g_autoptr (GFile) c = photo_file ("gray_320x200.png");
  GSList files[3] = { { a, &files[1] }, { b, &files[2] }, { c, NULL } };
  DepictWindow *window;
  GListModel *queue;
  gint64 runs;

  use_tiny_model (5);
  window = new_window ();
  queue = depict_window_get_queue (window);
  depict_window_drop_files (window, files);
  app_test_wait (has_texture, window, 10000, "the photo to load");
  g_assert_cmpuint (g_list_model_get_n_items (queue), ==, 3);

  runs = count_runs ();
  depict_window_run_all (window);
  g_assert_true (depict_window_get_busy (window));
  /* Its button says how far it has got. */
  g_signal_connect_after (depict_session_get_batch (session), "notify::done",
                          G_CALLBACK (note_run_all_button_cb), window);
  app_test_wait (not_busy, window, 120000, "the runs on all photos");
  g_assert_true (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (window), "counted")));
  g_assert_nonnull (app_test_find_button (GTK_WIDGET (window), "Run on _All Photos"));
  g_assert_cmpint (count_runs (), ==, runs + 3);
  /* Each photo of the list has the answer just stored (run ids grow). */
  g_object_set_data (G_OBJECT (queue), "runs-before", GINT_TO_POINTER ((int) runs));
  app_test_wait (all_answered_anew, queue, 10000, "the answers of Run on All Photos");
  /* Again: the gallery has them all, nothing runs. */
  runs = count_runs ();
  depict_window_run_all (window);
  app_test_wait (not_busy, window, 120000, "the second pass");
  g_assert_cmpint (count_runs (), ==, runs);

  /* Going from photo to photo keeps the chosen task (Run does what the picker shows): a
   * photo without an answer to it shows none, and its caption comes back with its task. */
  depict_task_picker_set_task (depict_window_get_task_picker (window), "<OD>");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.next-photo", NULL);
  /* Until the next photo is loaded the previous one may still be on screen: Run waits. */
  depict_window_run (window);
  g_assert_false (depict_window_get_busy (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.previous-photo", NULL);
  g_assert_cmpstr (depict_task_picker_get_task (depict_window_get_task_picker (window)), ==,
                   "<OD>");
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                   "idle");
  /* ... and says where the answer it has is. */
  g_assert_nonnull (find_widget (GTK_WIDGET (depict_window_get_results_pane (window)),
                                 ADW_TYPE_STATUS_PAGE, status_mentions, "“Caption”"));
  depict_task_picker_set_task (depict_window_get_task_picker (window), "<CAPTION>");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.next-photo", NULL);
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                   "results");

  /* The photo keys act on the photo page only: in the gallery, Page Down scrolls the grid
   * instead of changing the photo out of sight. */
  {
    g_autofree char *title = g_strdup (gtk_window_get_title (GTK_WINDOW (window)));

    depict_window_show_gallery (window, FALSE);
    gtk_widget_activate_action (GTK_WIDGET (window), "win.previous-photo", NULL);
    g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, title);
    gtk_widget_activate_action (GTK_WIDGET (window), "win.show-photo", NULL);
    gtk_widget_activate_action (GTK_WIDGET (window), "win.previous-photo", NULL);
    g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), !=, title);
  }
  close_window (window);
}

static DepictResultsPane *progress_pane;

static gboolean
progress_says (gpointer text)
{
  return strstr (depict_results_pane_get_progress_text (progress_pane), text) != NULL;
}

static gboolean
view_scaled (gpointer view)
{
  return depict_image_view_get_texture (view) != NULL &&
         gtk_widget_get_width (GTK_WIDGET (view)) > 101 &&
         gtk_widget_get_height (GTK_WIDGET (view)) > 101;
}

static void
test_cancel (void)
{
  /* A photo without stored answers (the gallery keeps those of the tests before). */
  g_autoptr (GFile) photo = photo_file ("small_37x101.png");
  GSList one = { photo, NULL };
  DepictWindow *window;
  DepictResultsPane *pane;
  g_autoptr (DepictQueueItem) item = NULL;

  /* The tiny model never ends on its own: 1024 tokens unless stopped. */
  use_tiny_model (1024);
  window = new_window ();
  pane = depict_window_get_results_pane (window);
  progress_pane = pane;
  depict_window_drop_files (window, &one);
  app_test_wait (has_texture, window, 10000, "the photo to load");

  /* A small photo is shown at its size, never enlarged into blur. */
  app_test_wait (view_scaled, depict_window_get_image_view (window), 10000, "the photo to fit");
  g_assert_cmpfloat (depict_image_view_get_scale (depict_window_get_image_view (window)), ==, 1.0);

  depict_window_run (window);
  g_assert_true (depict_window_get_busy (window));
  /* While it runs, the pane names the task and the photo, the tokens out of the limit, and
   * (once the rate is known) the longest time left. */
  app_test_wait (progress_says, (gpointer) "of 1024 tokens · at most", 60000,
                 "the tokens and the time left");
  {
    const char *text = depict_results_pane_get_progress_text (pane);

    g_assert_nonnull (strstr (text, "Caption · small_37x101.png"));
    g_assert_nonnull (strstr (text, "Generating"));
  }
  depict_window_cancel (window);
  app_test_wait (not_busy, window, 60000, "the run to stop");
  g_assert_cmpstr (depict_results_pane_get_page (pane), ==, "idle");
  item = g_list_model_get_item (depict_window_get_queue (window), 0);
  g_assert_cmpint (depict_queue_item_get_state (item), ==, DEPICT_QUEUE_ITEM_WAITING);
  close_window (window);
}

/* A task chosen while a run goes on stays chosen when the run ends; the answer waits under
 * its own task. */
static void
test_picker_stays (void)
{
  g_autoptr (GFile) photo = photo_file ("small_37x101.png");
  GSList one = { photo, NULL };
  DepictWindow *window;
  DepictTaskPicker *picker;
  g_autoptr (DepictQueueItem) item = NULL;

  use_tiny_model (20);
  window = new_window ();
  picker = depict_window_get_task_picker (window);
  depict_window_drop_files (window, &one);
  app_test_wait (has_texture, window, 10000, "the photo to load");
  depict_window_run (window);
  g_assert_true (depict_window_get_busy (window));
  depict_task_picker_set_task (picker, "<OD>");
  app_test_wait (not_busy, window, 120000, "the caption run");
  g_assert_cmpstr (depict_task_picker_get_task (picker), ==, "<OD>");
  item = g_list_model_get_item (depict_window_get_queue (window), 0);
  g_assert_nonnull (depict_queue_item_get_answer (item, "<CAPTION>"));
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                   "idle");
  depict_task_picker_set_task (picker, "<CAPTION>");
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                   "results");
  close_window (window);
}

static gboolean
gallery_shows_error (gpointer data)
{
  return g_strcmp0 (depict_gallery_view_get_page (data), "error") == 0;
}

/* A gallery that cannot be opened says why and offers what can be done. */
static void
test_gallery_error (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *dir = g_dir_make_tmp ("depict-bad-gallery-XXXXXX", NULL);
  g_autoptr (DepictSession) bad = depict_session_new (settings, dir);
  DepictWindow *window = depict_window_new_for_session (bad);
  GtkWidget *view = depict_window_get_gallery_view (window);
  g_autofree char *path = depict_session_dup_gallery_path (bad);

  gtk_window_present (GTK_WINDOW (window));
  depict_window_show_gallery (window, FALSE);
  app_test_wait (gallery_shows_error, view, 10000, "the gallery's error page");
  g_assert_cmpstr (path, ==, dir);
  g_assert_nonnull (app_test_find_button (view, "_Show the Gallery’s Folder"));
  g_signal_emit_by_name (app_test_find_button (view, "_Try Again"), "clicked");
  g_assert_cmpstr (depict_gallery_view_get_page (DEPICT_GALLERY_VIEW (view)), ==, "error");
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (20);
  g_rmdir (dir);
}

/* Export opens beside the photo and writes the answer as JSON or as text. */
static void
test_export (void)
{
  DepictWindow *window = new_window ();
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  g_autoptr (GFile) parent = g_file_get_parent (photo);
  g_autoptr (DepictAnswer) answer = app_test_answer ("od_two_objects", NULL);
  g_autofree char *dir = g_dir_make_tmp ("depict-export-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "answer.txt", NULL);
  g_autoptr (GFile) out = g_file_new_for_path (path);
  g_autoptr (GFile) folder = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *written = NULL;

  depict_window_show_file (window, photo, answer);
  folder = _depict_window_export_folder (window);
  g_assert_true (g_file_equal (folder, parent));

  g_assert_true (_depict_window_export_to (window, out, TRUE, &error));
  g_assert_no_error (error);
  expected = depict_answer_to_plain_text (depict_window_get_answer (window));
  g_assert_true (g_file_get_contents (path, &written, NULL, NULL));
  g_assert_cmpstr (written, ==, expected);
  g_clear_pointer (&expected, g_free);
  g_clear_pointer (&written, g_free);
  g_assert_true (_depict_window_export_to (window, out, FALSE, &error));
  expected = depict_answer_to_json (depict_window_get_answer (window));
  g_assert_true (g_file_get_contents (path, &written, NULL, NULL));
  g_assert_cmpstr (written, ==, expected);
  g_unlink (path);
  g_rmdir (dir);
  close_window (window);
}

/* Quit (Ctrl+Q) keeps the window's size, as closing it does. */
static void
test_quit_keeps_size (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autoptr (DepictApplication) app = depict_application_new ();
  g_autoptr (GError) error = NULL;
  DepictWindow *window;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = new_window ();
  gtk_window_set_application (GTK_WINDOW (window), GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 910, 640);
  app_test_spin (50);
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  app_test_spin (50);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 910);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 640);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

static void
test_no_model (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autoptr (GError) error = NULL;
  g_autoptr (DepictRunSettings) s = NULL;
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");

  g_settings_set_string (settings, "model", "/nonexistent/model");
  s = depict_session_read_run_settings (session, &error);
  g_assert_null (s);
  g_assert_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_NO_MODEL);
  g_clear_error (&error);
  g_settings_set_string (settings, "model", "large-ft");
  s = depict_session_read_run_settings (session, &error);
  g_assert_null (s);
  g_assert_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_NO_MODEL);
  g_clear_error (&error);
  /* Nothing is queued without a model; the sentence says where to get one. */
  g_assert_null (depict_session_run (session, photo, "<CAPTION>", NULL, &error));
  g_assert_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_NO_MODEL);
  g_assert_nonnull (strstr (error->message, "Models"));
  g_assert_false (depict_session_get_busy (session));
}

static gboolean
gallery_has (gpointer data)
{
  DepictGalleryView *view = data;
  return g_list_model_get_n_items (depict_gallery_view_get_model (view)) > 0;
}

static gboolean
shows_answer (gpointer data)
{
  return depict_window_get_answer (data) != NULL;
}

static void
test_gallery_search (void)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store = depict_session_get_store (session, &error);
  g_autoptr (GalleryRun) run = gallery_run_new ();
  g_autoptr (GalleryRun) od = gallery_run_new ();
  g_autofree char *path = app_test_data_path ("preprocess", "images", "photo_640x480.png", NULL);
  g_autoptr (FlorenceResult) caption = app_test_postprocess_result ("caption_basic");
  g_autoptr (FlorenceResult) boxes = app_test_postprocess_result ("od_two_objects");
  const char *text = caption->text;
  DepictWindow *window;
  DepictGalleryView *view;
  gint64 image_id;
  guint n_all;
  g_autoptr (GFile) file = g_file_new_for_path (path);

  /* A photo processed earlier: a caption, then objects. */
  g_assert_no_error (error);
  image_id = gallery_store_add_image (store, path, NULL, &error);
  g_assert_no_error (error);
  run->task = g_strdup ("<CAPTION>");
  run->model_name = g_strdup ("tiny");
  run->weights_hash = g_strdup ("");
  run->num_beams = 1;
  run->max_new_tokens = 20;
  run->raw_text = g_strdup (text);
  run->result = florence_result_to_json_node (caption);
  g_assert_cmpint (gallery_store_add_run (store, image_id, run, &error), >, 0);
  od->task = g_strdup ("<OD>");
  od->model_name = g_strdup ("tiny");
  od->weights_hash = g_strdup ("");
  od->num_beams = 1;
  od->max_new_tokens = 20;
  od->raw_text = g_strdup ("");
  od->result = florence_result_to_json_node (boxes);
  g_assert_cmpint (gallery_store_add_run (store, image_id, od, &error), >, 0);
  g_assert_no_error (error);
  {
    g_autoptr (GPtrArray) all = gallery_store_list_images (store, NULL, NULL);

    n_all = all->len;
  }

  window = new_window ();
  view = DEPICT_GALLERY_VIEW (depict_window_get_gallery_view (window));
  depict_window_show_gallery (window, TRUE);
  app_test_spin (50);
  g_assert_cmpstr (depict_window_get_visible_page (window), ==, "gallery");

  /* Words of the caption find it; other words find nothing. */
  depict_gallery_view_search (view, "yellow building", NULL);
  app_test_wait (gallery_has, view, 5000, "the search results");
  g_assert_cmpuint (g_list_model_get_n_items (depict_gallery_view_get_model (view)), ==, 1);
  g_assert_cmpstr (depict_gallery_view_get_page (view), ==, "grid");
  depict_gallery_view_search (view, "zebra", NULL);
  g_assert_cmpuint (g_list_model_get_n_items (depict_gallery_view_get_model (view)), ==, 0);
  g_assert_cmpstr (depict_gallery_view_get_page (view), ==, "no-results");
  /* Escape in the search entry clears the search: the whole gallery again. */
  g_signal_emit_by_name (find_widget (GTK_WIDGET (view), GTK_TYPE_SEARCH_ENTRY, NULL, NULL),
                         "stop-search");
  app_test_wait (gallery_shows_grid, view, 5000, "the search to be cleared");
  /* A tag from the objects */
  depict_gallery_view_search (view, NULL, "car");
  g_assert_cmpuint (g_list_model_get_n_items (depict_gallery_view_get_model (view)), ==, 1);
  /* No filter: every photo of the gallery (earlier tests of this run added some). */
  depict_gallery_view_search (view, NULL, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (depict_gallery_view_get_model (view)), ==, n_all);

  /* Opening it shows the photo with the latest stored answer, without running the model. */
  depict_task_picker_set_task (depict_window_get_task_picker (window), "<OCR>");
  g_signal_emit_by_name (view, "image-activated", image_id, file);
  g_assert_false (depict_window_get_busy (window));
  g_assert_cmpstr (depict_window_get_visible_page (window), ==, "photo");
  app_test_wait (shows_answer, window, 10000, "the stored answers");
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                   "results");
  g_assert_cmpuint (
    g_list_model_get_n_items (depict_image_view_get_items (depict_window_get_image_view (window))),
    ==, 2);
  g_assert_cmpstr (depict_task_picker_get_task (depict_window_get_task_picker (window)), ==,
                   "<OD>");

  /* Each task keeps its answer: the caption comes back when its task is chosen, a task
   * without an answer shows none, and nothing runs. */
  depict_task_picker_set_task (depict_window_get_task_picker (window), "<CAPTION>");
  g_assert_false (depict_window_get_busy (window));
  g_assert_cmpstr (depict_results_pane_get_text (depict_window_get_results_pane (window)), ==,
                   text);
  g_assert_cmpuint (
    g_list_model_get_n_items (depict_image_view_get_items (depict_window_get_image_view (window))),
    ==, 0);
  depict_task_picker_set_task (depict_window_get_task_picker (window), "<OCR>");
  g_assert_false (depict_window_get_busy (window));
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), !=,
                   "results");
  depict_task_picker_set_task (depict_window_get_task_picker (window), "<OD>");
  g_assert_cmpuint (
    g_list_model_get_n_items (depict_image_view_get_items (depict_window_get_image_view (window))),
    ==, 2);
  close_window (window);
}

static gboolean
not_tagging (gpointer data)
{
  DepictJob *batch = depict_session_get_batch (session);

  return batch == NULL || depict_job_get_finished (batch);
}

static gboolean
batch_bar_shown (gpointer data)
{
  GtkWidget *view = data;
  GtkWidget *revealer = find_widget (view, GTK_TYPE_REVEALER, NULL, NULL);

  return gtk_revealer_get_reveal_child (GTK_REVEALER (revealer));
}

static void
copy_photo (const char *name, const char *dir)
{
  g_autoptr (GFile) src = photo_file (name);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GFile) dest = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  g_file_copy (src, dest, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Tag Folder: the session's batch through the gallery's tagger, shown in the gallery with
 * its progress; a second pass finds it all done; a paused batch resumes where it stopped and
 * ends with every photo tagged once. */
static gboolean
has_batch_failures (gpointer window)
{
  const char *const *failures = _depict_window_get_batch_failures (window);

  return failures != NULL && failures[0] != NULL;
}

static void
test_tag_folder (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  const char *tasks[] = { "<CAPTION>", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("depict-tag-XXXXXX", &error);
  g_autoptr (GFile) folder = NULL;
  DepictWindow *window;
  GtkWidget *view;
  DepictJob *batch;
  gint64 before, after;

  g_assert_no_error (error);
  folder = g_file_new_for_path (dir);
  copy_photo ("palette_200x150.png", dir);
  copy_photo ("gray_320x200.png", dir);
  copy_photo ("small_37x101.png", dir);
  /* A JPEG cut off after its first bytes: it cannot be read. */
  {
    g_autofree char *broken = g_build_filename (dir, "broken.jpg", NULL);

    g_assert_true (g_file_set_contents (broken, "\xff\xd8\xff\xe0\x00\x10JFIF\x00", 11, NULL));
  }
  /* Settings no other test of this process uses: the runs are new to the shared gallery. */
  use_tiny_model (6);
  before = count_runs ();

  window = new_window ();
  view = depict_window_get_gallery_view (window);
  depict_window_show_gallery (window, FALSE);

  /* Tag Folder first asks which tasks, those chosen last checked; Tag needs one. */
  g_settings_reset (settings, "batch-tasks");
  _depict_window_tag_folder (window, folder);
  {
    AdwMessageDialog *dialog = _depict_window_get_batch_dialog (window);
    g_auto (GStrv) offered = NULL;
    g_auto (GStrv) chosen = NULL;

    g_assert_nonnull (dialog);
    offered = depict_batch_dialog_dup_tasks (dialog);
    g_assert_true (g_strv_equal ((const char *const *) offered, gallery_tagger_default_tasks ()));
    for (guint i = 0; offered[i] != NULL; i++)
      depict_batch_dialog_set_task (dialog, offered[i], FALSE);
    g_assert_false (adw_message_dialog_get_response_enabled (dialog, "tag"));
    depict_batch_dialog_set_task (dialog, "<CAPTION>", TRUE);
    g_assert_true (adw_message_dialog_get_response_enabled (dialog, "tag"));
    g_assert_null (depict_session_get_batch (session));
    adw_message_dialog_response (dialog, "tag");
    /* It runs what was chosen, and offers it next time. */
    chosen = g_settings_get_strv (settings, "batch-tasks");
    g_assert_true (g_strv_equal ((const char *const *) chosen, tasks));
  }
  batch = depict_session_get_batch (session);
  g_assert_nonnull (batch);
  /* Shown at once, with what it is. */
  g_assert_true (batch_bar_shown (view));
  g_assert_nonnull (find_widget (view, GTK_TYPE_LABEL, label_is, depict_job_get_title (batch)));
  app_test_wait (not_tagging, NULL, 120000, "the folder to be tagged");
  after = count_runs ();
  g_assert_cmpint (after - before, ==, 3);
  /* The file it could not read is named, in a dialog the end toast's Details opens. */
  app_test_wait (has_batch_failures, window, 10000, "the batch's failures");
  g_assert_nonnull (strstr (_depict_window_get_batch_failures (window)[0], "broken.jpg"));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-batch-failures", NULL);
  g_assert_nonnull (window->failures_dialog);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (window->failures_dialog), "broken.jpg"));
  gtk_window_destroy (GTK_WINDOW (window->failures_dialog));
  /* The grid shows what was stored. */
  app_test_wait (gallery_has, view, 5000, "the tagged photos in the grid");
  g_assert_cmpuint (
    g_list_model_get_n_items (depict_gallery_view_get_model (DEPICT_GALLERY_VIEW (view))), >=, 3);

  /* Again: nothing left to do. */
  depict_session_tag_folder (session, folder, &error);
  g_assert_no_error (error);
  app_test_wait (not_tagging, NULL, 120000, "the second pass");
  g_assert_cmpint (count_runs (), ==, after);

  /* A new photo, paused at once, then resumed: tagged exactly once. */
  copy_photo ("rgba_300x200.png", dir);
  /* A transaction holds the gallery: the batch stores nothing before the pause, however long
   * this thread waits for a core on a busy machine. */
  g_assert_true (gallery_store_begin (depict_session_get_store (session, NULL), NULL));
  depict_session_tag_folder (session, folder, &error);
  g_assert_no_error (error);
  depict_session_pause_batch (session);
  gallery_store_rollback (depict_session_get_store (session, NULL));
  app_test_wait (not_tagging, NULL, 120000, "the batch to pause");
  g_assert_true (depict_session_get_batch_paused (session));
  g_assert_nonnull (depict_session_get_batch (session));
  g_assert_cmpint (count_runs (), <=, after + 1);
  batch = depict_session_resume_batch (session, &error);
  g_assert_no_error (error);
  g_assert_nonnull (batch);
  g_assert_false (depict_session_get_batch_paused (session));
  app_test_wait (not_tagging, NULL, 120000, "the resumed batch");
  g_assert_null (depict_session_get_batch (session));
  g_assert_cmpint (count_runs (), ==, after + 1);

  close_window (window);
}

int
main (int argc, char *argv[])
{
  int status;

  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);
  session = app_test_session_new ();

  g_test_add_func ("/app/window/empty-state", test_empty_state);
  g_test_add_func ("/app/window/task-picker", test_task_picker);
  g_test_add_func ("/app/window/region-keyboard", test_region_keyboard);
  g_test_add_func ("/app/window/drop", test_drop);
  g_test_add_func ("/app/window/unreadable", test_unreadable);
  g_test_add_func ("/app/window/overlay", test_overlay);
  g_test_add_func ("/app/window/copy", test_copy);
  g_test_add_func ("/app/window/export", test_export);
  g_test_add_func ("/app/window/gallery-error", test_gallery_error);
  g_test_add_func ("/app/window/empty-and-asked", test_empty_and_asked);
  g_test_add_func ("/app/window/no-model", test_no_model);
  g_test_add_func ("/app/window/run-tiny", test_run_tiny);
  g_test_add_func ("/app/window/stored-answers-on-open", test_stored_answers_on_open);
  g_test_add_func ("/app/window/run-all", test_run_all);
  g_test_add_func ("/app/window/cancel", test_cancel);
  g_test_add_func ("/app/window/picker-stays", test_picker_stays);
  g_test_add_func ("/app/window/gallery-search", test_gallery_search);
  g_test_add_func ("/app/window/tag-folder", test_tag_folder);
  g_test_add_func ("/app/window/quit-keeps-size", test_quit_keeps_size);
  status = g_test_run ();
  g_assert_finalize_object (session);
  return status;
}

/* test-app-screenshot.c: renders the main window with results on a sample photo to PNGs
 *
 * Writes depict-screenshot-<name>.png into $DEPICT_SCREENSHOT_DIR (the build dir; nothing
 * generated is committed) and checks that each has the window's size and is not blank. Run
 * it and look at the pictures: they are how the app looks, light and dark.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-batch-dialog.h"
#include "depict-help.h"
#include "depict-model-manager.h"
#include "depict-gallery-tags.h"
#include "depict-gallery-view.h"
#include "depict-window-private.h"
#include "gallery/gallery-store.h"

#define WIDTH 1200
#define HEIGHT 760

static gboolean
has_texture (gpointer data)
{
  return depict_image_view_get_texture (depict_window_get_image_view (data)) != NULL;
}

/* Renders a widget's current frame to a PNG (GtkSnapshot → GskRenderer → texture). A widget
 * that changes (a run's progress) has no frame between a change and its next drawing: then
 * the next frame is waited for. */
static GdkTexture *
render_window (GtkWidget *window)
{
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  int w = gtk_widget_get_width (window), h = gtk_widget_get_height (window);
  g_autoptr (GskRenderNode) node = NULL;

  for (guint attempt = 0; node == NULL && attempt < 200; attempt++)
    {
      g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (window);
      g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();

      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
      if (node == NULL)
        g_main_context_iteration (NULL, TRUE);
    }
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
}

static void
save_and_check (GtkWidget *window, const char *name)
{
  const char *dir = g_getenv ("DEPICT_SCREENSHOT_DIR");
  g_autofree char *file = g_strdup_printf ("depict-screenshot-%s.png", name);
  g_autofree char *path = g_build_filename (dir != NULL ? dir : g_get_tmp_dir (), file, NULL);
  g_autoptr (GdkTexture) texture = render_window (window);
  g_autofree guchar *pixels = NULL;
  gsize stride;
  guint distinct = 0;
  guint32 first = 0;
  int w, h;

  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  g_assert_cmpint (w, ==, gtk_widget_get_width (window));
  g_assert_cmpint (h, ==, gtk_widget_get_height (window));

  /* Not blank: the photo and the overlays give many colours. */
  stride = (gsize) w * 4;
  pixels = g_malloc (stride * h);
  gdk_texture_download (texture, pixels, stride);
  for (int y = 0; y < h; y += 7)
    for (int x = 0; x < w; x += 7)
      {
        guint32 p;

        memcpy (&p, pixels + y * stride + x * 4, 4);
        if (x == 0 && y == 0)
          first = p;
        else if (p != first)
          distinct++;
      }
  g_assert_cmpuint (distinct, >, 1000);

  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Screenshot: %s", path);
  g_print ("# screenshot %s\n", path);
}

static void
show_sample (DepictWindow *window, const char *case_name, const char *photo)
{
  g_autofree char *path = app_test_data_path ("preprocess", "images", photo, NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (DepictAnswer) answer = app_test_answer (case_name, "1.8 s · base · 3 beams");

  depict_window_show_file (window, file, answer);
  app_test_wait (has_texture, window, 10000, "the photo");
  app_test_spin (400);
}

/* The gallery keeps the fixture case's answer for the photo, as if Depict had run it. */
static void
store_answer (DepictSession *session, const char *photo, const char *case_name)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store = depict_session_get_store (session, &error);
  g_autofree char *path = app_test_data_path ("preprocess", "images", photo, NULL);
  g_autoptr (GalleryRun) run = gallery_run_new ();
  g_autoptr (FlorenceResult) result = app_test_postprocess_result (case_name);
  gint64 id;

  g_assert_no_error (error);
  id = gallery_store_add_image (store, path, NULL, &error);
  g_assert_no_error (error);
  run->result = florence_result_to_json_node (result);
  run->task = g_strdup (result->task);
  run->model_name = g_strdup ("base");
  run->weights_hash = g_strdup ("");
  run->raw_text = g_strdup ("");
  run->num_beams = 3;
  run->max_new_tokens = 1024;
  g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
}

static gboolean
shows_stored_answer (gpointer window)
{
  DepictResultsPane *pane = depict_window_get_results_pane (window);

  DepictAnswer *answer = depict_window_get_answer (window);

  return g_strcmp0 (depict_results_pane_get_page (pane), "results") == 0 && answer != NULL &&
         answer->run_id > 0;
}

static gboolean
batch_counted (gpointer dialog)
{
  return strstr (depict_batch_dialog_get_estimate (dialog), "…") == NULL;
}

static gboolean
batch_page_has_photo (gpointer window)
{
  DepictWindow *self = window;
  const char *text = adw_status_page_get_description (self->batch_page);

  return g_strcmp0 (depict_window_get_visible_page (window), "batch") == 0 && text != NULL &&
         strstr (text, "Photo ") != NULL &&
         adw_status_page_get_paintable (self->batch_page) != NULL;
}

static void
test_screenshots (void)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autoptr (DepictSession) session = app_test_session_new ();
  DepictWindow *window;

  g_settings_set_string (settings, "last-task", "<OD>");
  window = depict_window_new_for_session (session);
  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  gtk_window_present (GTK_WINDOW (window));
  app_test_spin (300);
  save_and_check (GTK_WIDGET (window), "empty");

  /* Files dragged over the window */
  _depict_window_set_drop_feedback (window, TRUE);
  app_test_spin (600);
  save_and_check (GTK_WIDGET (window), "drop");
  _depict_window_set_drop_feedback (window, FALSE);

  show_sample (window, "od_two_objects", "photo_640x480.png");
  depict_image_view_set_hover_item (
    depict_window_get_image_view (window),
    g_list_model_get_item (depict_image_view_get_items (depict_window_get_image_view (window)), 1));
  app_test_spin (200);
  save_and_check (GTK_WIDGET (window), "objects");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  app_test_spin (400);
  save_and_check (GTK_WIDGET (window), "objects-dark");

  show_sample (window, "res_one_polygon", "photo_640x480.png");
  save_and_check (GTK_WIDGET (window), "mask-dark");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  /* A busy photo: many objects of many classes, overlapping, some at the edges. */
  {
    g_autofree char *path = app_test_data_path ("preprocess", "images", "photo_640x480.png", NULL);
    g_autoptr (GFile) file = g_file_new_for_path (path);
    g_autoptr (FlorenceResult) result =
      florence_result_new (FLORENCE_RESULT_BOXES, "<OD>", 640, 480);
    g_autoptr (DepictAnswer) answer = NULL;
    const char *labels[] = { "car",  "wheel", "wheel",  "person", "head",
                             "sun",  "roof",  "house",  "hill",   "sky",
                             "road", "cloud", "person", "tree",   "traffic light" };
    const FlorenceBox boxes[] = {
      { 80, 280, 240, 370 },  { 95, 340, 130, 375 },  { 190, 340, 225, 375 },
      { 440, 230, 490, 420 }, { 445, 235, 480, 275 }, { 500, 40, 560, 100 },
      { 290, 150, 480, 260 }, { 280, 150, 500, 330 }, { 0, 250, 640, 480 },
      { 0, 0, 640, 240 },     { 0, 380, 640, 480 },   { 20, 20, 200, 90 },
      { 600, 300, 640, 420 }, { 560, 180, 640, 320 }, { 0, 0, 30, 120 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
      florence_result_add_box (result, labels[i], &boxes[i]);
    answer = depict_answer_new ("<OD>", NULL, g_steal_pointer (&result), "1.8 s · base · 3 beams");
    depict_window_show_file (window, file, answer);
    app_test_spin (400);
    save_and_check (GTK_WIDGET (window), "objects-busy");
  }

  show_sample (window, "ocr_region_two_lines", "photo_640x480.png");
  save_and_check (GTK_WIDGET (window), "ocr");

  /* A region task with its region chosen on the photo */
  depict_task_picker_set_task (depict_window_get_task_picker (window), "<REGION_TO_DESCRIPTION>");
  depict_image_view_set_region (depict_window_get_image_view (window),
                                &GRAPHENE_RECT_INIT (100, 150, 260, 160));
  app_test_spin (800);
  save_and_check (GTK_WIDGET (window), "region");

  /* The gallery, with a few photos processed before */
  {
    const char *photos[] = { "photo_640x480.png", "photo_1500x1000_q90.jpg", "palette_200x150.png",
                             "rgba_300x200.png", "gray_320x200.png" };
    const char *cases[] = { "caption_basic", "detailed_caption_unicode", "ocr_plain",
                            "od_two_objects", "region_to_description" };

    for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
      store_answer (session, photos[i], cases[i]);
    depict_window_show_gallery (window, TRUE);
    app_test_spin (1500);
    save_and_check (GTK_WIDGET (window), "gallery");

    /* Photos selected, removed with an Undo offered, and a photo's tags being edited */
    {
      DepictGalleryView *view = DEPICT_GALLERY_VIEW (depict_window_get_gallery_view (window));
      GtkSelectionModel *selection = depict_gallery_view_get_selection (view);
      GListModel *toplevels = gtk_window_get_toplevels ();
      GtkWidget *tags = NULL;
      AdwToast *toast;

      gtk_widget_activate_action (GTK_WIDGET (view), "gallery.select", NULL);
      gtk_selection_model_select_item (selection, 0, FALSE);
      gtk_selection_model_select_item (selection, 2, FALSE);
      app_test_spin (600);
      save_and_check (GTK_WIDGET (window), "gallery-select");
      gtk_widget_activate_action (GTK_WIDGET (view), "gallery.remove", NULL);
      app_test_spin (600);
      save_and_check (GTK_WIDGET (window), "gallery-removed");
      toast = depict_gallery_view_get_removal_toast (view);
      g_assert_nonnull (toast);
      g_signal_emit_by_name (toast, "button-clicked");
      adw_toast_dismiss (toast);
      app_test_spin (400);

      gtk_widget_activate_action (GTK_WIDGET (view), "gallery.select", NULL);
      gtk_selection_model_select_item (selection, 1, FALSE);
      gtk_widget_activate_action (GTK_WIDGET (view), "gallery.edit-tags", NULL);
      app_test_spin (600);
      for (guint i = 0; i < g_list_model_get_n_items (toplevels) && tags == NULL; i++)
        {
          g_autoptr (GObject) toplevel = g_list_model_get_item (toplevels, i);

          if (DEPICT_IS_GALLERY_TAGS (toplevel))
            tags = GTK_WIDGET (toplevel);
        }
      g_assert_nonnull (tags);
      save_and_check (tags, "gallery-tags");
      gtk_window_destroy (GTK_WINDOW (tags));
      gtk_widget_activate_action (GTK_WIDGET (view), "gallery.select", NULL);
      app_test_spin (200);
    }
  }

  /* A photo of the gallery opened with Open (not from the Gallery): its stored answer is shown
   * at once, marked as stored, and nothing runs. */
  {
    g_autofree char *path = app_test_data_path ("preprocess", "images", "rgba_300x200.png", NULL);
    GFile *files[] = { g_file_new_for_path (path) };

    store_answer (session, "rgba_300x200.png", "caption_basic");
    depict_window_show_gallery (window, FALSE);
    depict_task_picker_set_task (depict_window_get_task_picker (window), "<CAPTION>");
    depict_window_open_files (window, files, 1);
    g_object_unref (files[0]);
    app_test_wait (shows_stored_answer, window, 10000, "the stored answer");
    g_assert_false (depict_window_get_busy (window));
    app_test_spin (400);
    save_and_check (GTK_WIDGET (window), "answer-recalled");
  }

  /* An answer that found nothing says so. */
  {
    g_autofree char *path = app_test_data_path ("preprocess", "images", "photo_640x480.png", NULL);
    g_autoptr (GFile) file = g_file_new_for_path (path);
    g_autoptr (DepictAnswer) answer = depict_answer_new (
      "<OCR_WITH_REGION>", NULL,
      florence_result_new (FLORENCE_RESULT_QUADS, "<OCR_WITH_REGION>", 640, 480), "0.4 s · base");

    depict_window_show_file (window, file, answer);
    app_test_wait (has_texture, window, 10000, "the photo");
    app_test_spin (400);
    g_assert_nonnull (strstr (
      depict_results_pane_get_text (depict_window_get_results_pane (window)), "Nothing was found"));
    save_and_check (GTK_WIDGET (window), "answer-empty");
  }

  /* A folder being tagged with the tiny fixture model (slow settings, so that it is caught
   * in the middle), then paused. */
  {
    g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);
    g_autofree char *images = app_test_data_path ("preprocess", "images", NULL);
    g_autoptr (GFile) folder = g_file_new_for_path (images);
    g_autoptr (GError) error = NULL;

    g_settings_set_string (settings, "model", tiny);
    g_settings_set_string (settings, "device", "cpu-reference");
    g_settings_set_int (settings, "beams", 3);
    g_settings_set_int (settings, "max-new-tokens", 40);
    g_autoptr (DepictJob) batch = NULL;

    /* First the question: which tasks. */
    _depict_window_tag_folder (window, folder);
    g_assert_nonnull (_depict_window_get_batch_dialog (window));
    /* With its estimate: photos × tasks × a task's time. */
    app_test_wait (batch_counted, _depict_window_get_batch_dialog (window), 30000,
                   "the photos to be counted");
    app_test_spin (400);
    save_and_check (GTK_WIDGET (_depict_window_get_batch_dialog (window)), "tag-folder");
    adw_message_dialog_response (_depict_window_get_batch_dialog (window), "tag");
    g_assert_no_error (error);
    /* Held here: the session lets go of a batch that ends before it is paused (a fast machine). */
    batch = g_object_ref (depict_session_get_batch (session));
    app_test_spin (2500);
    save_and_check (GTK_WIDGET (window), "tagging");
    /* The photo page of a window with no photo open follows the batch. */
    {
      DepictWindow *other = depict_window_new_for_session (session);

      gtk_window_set_default_size (GTK_WINDOW (other), WIDTH, HEIGHT);
      gtk_window_present (GTK_WINDOW (other));
      app_test_wait (batch_page_has_photo, other, 30000, "the photo being tagged");
      app_test_spin (400);
      save_and_check (GTK_WIDGET (other), "tagging-photo-page");
      gtk_window_destroy (GTK_WINDOW (other));
    }
    /* Over the photo open, a line with the batch's progress. */
    gtk_widget_activate_action (GTK_WIDGET (window), "win.show-photo", NULL);
    app_test_spin (600);
    save_and_check (GTK_WIDGET (window), "tagging-photo-open");
    depict_window_show_gallery (window, FALSE);
    depict_session_pause_batch (session);
    while (!depict_job_get_finished (batch))
      g_main_context_iteration (NULL, TRUE);
    app_test_spin (200);
    save_and_check (GTK_WIDGET (window), "paused");
  }

  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
pane_shows_error (gpointer window)
{
  return g_strcmp0 (depict_results_pane_get_page (depict_window_get_results_pane (window)),
                    "error") == 0;
}

static gboolean
window_idle (gpointer window)
{
  return !depict_window_get_busy (window);
}

/* Failures that say what helps: a photo cut short, a damaged model folder; and Help. */
static void
test_error_screenshots (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autoptr (DepictSession) session = app_test_session_new ();
  g_autofree char *dir = g_dir_make_tmp ("depict-shots-XXXXXX", NULL);
  g_autofree char *half = app_test_write_half_jpeg (dir);
  g_autofree char *model = app_test_damaged_model_dir ();
  g_autofree char *photo = app_test_data_path ("preprocess", "images", "gray_320x200.png", NULL);
  g_autoptr (GFile) half_file = g_file_new_for_path (half);
  g_autoptr (GFile) photo_file = g_file_new_for_path (photo);
  GSList one = { half_file, NULL };
  DepictWindow *window;
  GtkWindow *help;

  g_settings_set_string (settings, "model", model);
  g_settings_set_string (settings, "device", "cpu-reference");
  g_settings_set_int (settings, "beams", 1);
  g_settings_set_int (settings, "max-new-tokens", 4);
  g_settings_set_string (settings, "last-task", "<CAPTION>");
  window = depict_window_new_for_session (session);
  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  gtk_window_present (GTK_WINDOW (window));
  depict_window_drop_files (window, &one);
  app_test_wait (pane_shows_error, window, 20000, "the incomplete photo's notice");
  app_test_spin (400);
  save_and_check (GTK_WIDGET (window), "photo-incomplete");

  one.data = photo_file;
  depict_window_drop_files (window, &one);
  app_test_wait (has_texture, window, 10000, "the photo");
  depict_window_run (window);
  app_test_wait (window_idle, window, 60000, "the damaged model to fail");
  app_test_spin (400);
  save_and_check (GTK_WIDGET (window), "model-damaged");

  help = depict_help_show (GTK_WINDOW (window));
  app_test_spin (600);
  save_and_check (GTK_WIDGET (help), "help");
  gtk_window_destroy (help);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (50);
  g_settings_reset (settings, "model");
  g_settings_reset (settings, "device");
  g_unlink (half);
  g_rmdir (dir);
  app_test_remove_model_dir (model);
}

static gboolean
manager_idle (gpointer data)
{
  return !depict_model_manager_is_busy (data);
}

/* The Models window offline: a download that failed says why, and what to do; then a model
 * folder in use. */
static void
test_models_screenshots (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *models = g_dir_make_tmp ("depict-models-XXXXXX", NULL);
  g_autofree char *folder = g_dir_make_tmp ("my-florence-XXXXXX", NULL);
  const char *files[] = { "config.json", "model.safetensors", "tokenizer.json" };
  DepictModelManager *manager;

  g_setenv ("HF_ENDPOINT", "http://127.0.0.1:1", TRUE);
  g_setenv ("DEPICT_MODELS_DIR", models, TRUE);
  g_settings_set_string (settings, "model", "base");
  manager = depict_model_manager_new (NULL, settings);
  gtk_window_set_default_size (GTK_WINDOW (manager), 620, 700);
  gtk_window_present (GTK_WINDOW (manager));
  depict_model_manager_download (manager, "base");
  app_test_wait (manager_idle, manager, 60000, "the download to fail");
  app_test_spin (300);
  save_and_check (GTK_WIDGET (manager), "models-offline");

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (folder, files[i], NULL);

      g_assert_true (g_file_set_contents (path, "{}", -1, NULL));
    }
  g_assert_true (depict_model_manager_use_folder (manager, folder));
  app_test_spin (300);
  save_and_check (GTK_WIDGET (manager), "models-folder");
  gtk_window_destroy (GTK_WINDOW (manager));
  g_settings_reset (settings, "model");
  g_unsetenv ("HF_ENDPOINT");
}

/* A gallery file that is damaged: what happened, and what can be done. */
static void
test_damaged_gallery_screenshot (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *dir = g_dir_make_tmp ("depict-damaged-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "gallery.db", NULL);
  g_autoptr (DepictSession) session = NULL;
  DepictWindow *window;

  g_assert_true (g_file_set_contents (db, "not a gallery at all", -1, NULL));
  session = depict_session_new (settings, db);
  window = depict_window_new_for_session (session);
  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  gtk_window_present (GTK_WINDOW (window));
  depict_window_show_gallery (window, FALSE);
  app_test_spin (800);
  save_and_check (GTK_WIDGET (window), "gallery-damaged");
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (50);
}

int
main (int argc, char *argv[])
{
  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);

  g_test_add_func ("/app/screenshot", test_screenshots);
  g_test_add_func ("/app/screenshot/models", test_models_screenshots);
  g_test_add_func ("/app/screenshot/damaged-gallery", test_damaged_gallery_screenshot);
  g_test_add_func ("/app/screenshot/errors", test_error_screenshots);
  return g_test_run ();
}
